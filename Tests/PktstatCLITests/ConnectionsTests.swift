import Foundation
import TestSupport
import Testing

@Suite("flows --format zeek")
struct ConnectionsTests {
    @Test func zeekLogOfALoopbackCapture() throws {
        let r = try pktstat([
            "flows", "--format", "zeek", TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdoutLines
        #expect(lines.first == "#separator \\x09")
        #expect(lines.contains("#path\tconn"))
        #expect(lines.last?.hasPrefix("#close\t") == true)
        let rows = lines.filter { !$0.hasPrefix("#") }
        #expect(rows.contains { $0.contains("\ttcp\t") && $0.contains("\tSF\t") })
        #expect(rows.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 24 })
    }

    @Test func connectionsNeedAFormatThatHasThem() throws {
        let capture = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path
        let table = try pktstat(["flows", "--connections", capture])
        #expect(table.status == 64)
        #expect(table.stderr.contains("--format zeek"))
        let ports = try pktstat(["flows", "--server-ports", "53/udp", capture])
        #expect(ports.status == 64)
        let bad = try pktstat(["flows", "--format", "zeek", "--server-ports", "53", capture])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("PORT/PROTOCOL"))
    }

    @Test func csvAndJSONWithTheConnectionModel() throws {
        let capture = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path
        let csv = try pktstat(["flows", "--connections", "--format", "csv", capture])
        #expect(csv.status == 0)
        #expect(csv.stdoutLines.first?.hasPrefix("ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto") == true)
        let json = try pktstat(["flows", "--connections", "--format", "json", "--local-nets", "127.0.0.0/8", capture])
        #expect(json.status == 0)
        #expect(json.stdoutLines.allSatisfy { $0.contains("\"local_orig\":true") })
    }

    /// `--filter` and `--since/--until` with the connection model: the same records as on a copy
    /// that tcpdump filtered (`-w`) or editcap cut (`-A`, `-B`) first. uids differ by position,
    /// so rows are compared from `id.orig_h` on.
    @Test func filterAndTimeWindowAsOnACopyCutFirst() throws {
        let corpus = try #require(TestPaths.conformanceCaptures, "../shared/conformance/captures is missing")
        let capture = corpus.appendingPathComponent("pcpp_650HttpResponses.pcap").path
        let tcpdump = try requireTool("tcpdump")
        let editcap = try requireTool("editcap")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func rows(_ r: RunResult) -> [String] {
            r.stdoutLines.filter { !$0.hasPrefix("#") }.map {
                $0.split(separator: "\t").dropFirst(2).joined(separator: "\t")
            }
            .sorted()
        }
        let filtered = dir.appendingPathComponent("filtered.pcap").path
        let filter = "tcp port 80 and (host 10.0.0.1 or net 172.16.0.0/12) and not tcp[13] == 0x18"
        #expect(try run(tcpdump, ["-r", capture, "-w", filtered, filter]).status == 0)
        let ours = try pktstat(["flows", "--format", "zeek", "--filter", filter, capture])
        #expect(ours.status == 0, "\(ours.stderr)")
        let reference = rows(try pktstat(["flows", "--format", "zeek", filtered]))
        #expect(!reference.isEmpty && rows(ours) == reference)
        let cut = dir.appendingPathComponent("cut.pcap").path
        let cutting = try run(
            editcap, ["-A", "2014-10-19 19:18:00", "-B", "2014-10-19 19:20:00", capture, cut],
            environment: ["TZ": "UTC"])
        #expect(cutting.status == 0, "\(cutting.stderr)")
        let window = try pktstat([
            "flows", "--format", "zeek", "--since", "2014-10-19T19:18:00Z", "--until", "2014-10-19T19:20:00Z", capture,
        ])
        let all = rows(try pktstat(["flows", "--format", "zeek", capture]))
        let inWindow = rows(try pktstat(["flows", "--format", "zeek", cut]))
        #expect(!inWindow.isEmpty && inWindow.count < all.count && rows(window) == inWindow)
        let bad = try pktstat(["flows", "--format", "zeek", "--filter", "tcp and", capture])
        #expect(bad.status == 1 && bad.stderr.hasPrefix("error: bad filter expression") && bad.stdout.isEmpty)
    }

    /// Every public Zeek conformance pair passes (`../shared/conformance/check-zeek`: tunnels,
    /// fragments and link layers included); the test fails when the checker or python3 is missing.
    @Test func zeekConformancePairs() throws {
        let checker = TestPaths.packageRoot.deletingLastPathComponent().appendingPathComponent(
            "shared/conformance/check-zeek")
        try #require(FileManager.default.fileExists(atPath: checker.path), "\(checker.path) is missing")
        let python = try requireTool("python3", package: "python3")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [checker.path, TestPaths.binary]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("zeek conformance: ") && text.contains(" passed, 0 failed"), "\(text)")
    }
}
