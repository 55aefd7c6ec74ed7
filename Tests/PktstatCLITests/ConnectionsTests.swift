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
