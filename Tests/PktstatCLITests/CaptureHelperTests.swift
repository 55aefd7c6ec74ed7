import Foundation
import TestSupport
import Testing

/// The Debian package's layout in a temporary folder (root): `bin/pktstat` without capabilities
/// and `lib/pktstat/pktstat-capture`, a copy with `cap_net_raw,cap_net_admin=ep`, mode 0750 and a
/// group. `nobody` with that group as a supplementary one captures on lo through the copy; `nobody`
/// without it gets the permission error and still reads files.
/// `scripts/test-package` does the same with the real package.
@Suite("capture helper", .serialized, .enabled(if: TestPaths.isRoot, "needs root"))
struct CaptureHelperTests {
    /// runuser; setcap is run by name in `layout`. Both required: a missing one fails every test.
    let runuser: String

    init() throws {
        try requireTool("setcap")
        runuser = try requireTool("runuser")
    }

    /// A group `nobody` is not in, for the copy.
    static let group = "voice"

    /// Makes the layout; returns the folder and the plain binary's path.
    func layout(capabilities: Bool = true) throws -> (URL, String) {
        let dir = TestPaths.temporaryDirectory()
        let bin = dir.appendingPathComponent("bin/pktstat")
        let helper = dir.appendingPathComponent("lib/pktstat/pktstat-capture")
        for url in [bin, helper] {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        // Copied by cp, not in this process: a copy written here would leave its descriptor open
        // while other tests fork, and an exec of it would fail with ETXTBSY (Text file busy).
        var steps = [
            "cp '\(TestPaths.binary)' '\(bin.path)'", "cp '\(TestPaths.binary)' '\(helper.path)'",
            "chmod -R a+rX '\(dir.path)'", "chmod 0755 '\(bin.path)'",
            "chown root:\(Self.group) '\(helper.path)'", "chmod 0750 '\(helper.path)'",
        ]
        if capabilities { steps.append("setcap cap_net_raw,cap_net_admin=ep '\(helper.path)'") }
        let r = try shell(steps.joined(separator: " && "))
        #expect(r.status == 0, "\(r.stderr)")
        return (dir, bin.path)
    }

    /// Runs a live capture of 3 datagrams on lo as nobody (with `groups` as supplementary groups),
    /// sending datagrams until it ends (at most 300, 20 s).
    func captureAsNobody(_ binary: String, groups: [String]) throws -> RunResult {
        let port = Int.random(in: 7500...12499)
        let args =
            ["-u", "nobody"] + groups.flatMap { ["-G", $0] } + [
                "--", binary, "sniff", "-i", "lo", "-c", "3",
                "--duration", "20s", "--format", "csv", "udp", "dst", "port", "\(port)",
            ]
        let p = try Spawned(runuser, args)
        for _ in 0..<300 where p.process.isRunning {
            try sendLoopbackUDP(count: 1, port: port)
            p.waitFor(timeout: 0.05) { !$0.process.isRunning }
        }
        return p.finish(timeout: 30)
    }

    @Test func aGroupMemberCapturesThroughTheCopy() throws {
        let (dir, bin) = try layout()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try captureAsNobody(bin, groups: [Self.group])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(csvRows(r.stdout).filter { $0["src"] == "127.0.0.1" }.count == 3)
        #expect(r.stderr.contains("3 packets captured"))
    }

    /// `serve` through the copy (setpriv execs, then the hand-over execs: one pid): it counts what
    /// it captured, and once it serves it holds no capability in any set.
    @Test func aGroupMemberServesThroughTheCopyWithoutCapabilities() throws {
        guard let setpriv = TestPaths.tool("setpriv") else {
            Issue.record("setpriv (util-linux) is missing")
            return
        }
        let (dir, bin) = try layout()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 7500...12499)
        let p = try Spawned(
            setpriv,
            [
                "--reuid=nobody", "--regid=nogroup", "--groups=\(Self.group)", "--", bin, "serve", "-i", "lo",
                "--listen", "127.0.0.1:0", "udp", "dst", "port", "\(port)",
            ])
        defer {
            p.signal(SIGTERM)
            _ = p.finish(timeout: 5)
        }
        let up = p.waitFor(timeout: 20) { $0.stderr.contains("serving on ") || !$0.process.isRunning }
        #expect(up && p.process.isRunning, "\(p.stderr)")
        let pid = p.process.processIdentifier
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        #expect(exe.hasSuffix("lib/pktstat/pktstat-capture"), "handed over: \(exe)")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        for key in ["CapEff:", "CapPrm:", "CapInh:", "CapAmb:"] {
            let line = status.split(separator: "\n").first { $0.hasPrefix(key) } ?? "missing"
            #expect(line.hasSuffix("0000000000000000"), "\(line)")
        }
        let served = p.stderr.split(separator: "\n").first { $0.contains("serving on ") } ?? ""
        let url = served.replacingOccurrences(of: "serving on ", with: "") + "metrics"
        try sendLoopbackUDP(count: 5, port: port)
        var metrics = ""
        for _ in 0..<50 {
            metrics = try shell("curl -s '\(url)'").stdout
            if metrics.contains("pktstat_packets_total{interface=\"lo\",protocol=\"UDP\"} 5") { break }
            usleep(100_000)
        }
        #expect(metrics.contains("pktstat_packets_total{interface=\"lo\",protocol=\"UDP\"} 5"), "\(metrics)")
    }

    @Test func anOutsiderGetsThePermissionError() throws {
        let (dir, bin) = try layout()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try captureAsNobody(bin, groups: [])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot capture on lo: permission denied"))
        #expect(r.stderr.contains("CAP_NET_RAW"))
    }

    /// A copy without capabilities (setcap failed) is not handed over to forever: one try, then
    /// the permission error.
    @Test func aCopyWithoutCapabilitiesEndsInThePermissionError() throws {
        let (dir, bin) = try layout(capabilities: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try captureAsNobody(bin, groups: [Self.group])
        #expect(r.status == 1)
        #expect(r.stderr.contains("permission denied"))
    }

    @Test func anOutsiderReadsFiles() throws {
        let (dir, bin) = try layout()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("loopback-mixed.pcap")
        let source = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap")
        try FileManager.default.copyItem(at: source, to: file)
        _ = try shell("chmod 0644 '\(file.path)'")
        let r = try run(
            runuser, ["-u", "nobody", "--", bin, "sniff", "-r", file.path, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!csvRows(r.stdout).isEmpty)
    }
}
