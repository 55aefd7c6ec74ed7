import Foundation
import TestSupport
import Testing

/// `flows --max-flows` bounds memory in every mode, not only when rows stream out: a sort with
/// `--top`, `--by host` and a table keep what their answer needs (a heap, groups spilled to a
/// temporary file), never every flow that left the table. Run through the built binary on a
/// generated scan (a flow and a host per spoofed source), measured with `/usr/bin/time -f %M`
/// (peak RSS) next to the streaming mode in the same run: when flows that leave are kept until
/// the end (as they were), these modes take several times the streaming mode's memory.
@Suite("flows: memory bounded in every mode")
struct FlowsMemoryTests {
    /// 400,000 UDP packets from random spoofed sources to one server (each its own flow and host),
    /// among 100,000 packets of conversations between 8 hosts.
    static let scan = scanCapture(packets: 500_000)

    /// Four in five packets from random spoofed sources, the rest conversations between 8 hosts.
    static func scanCapture(packets: Int) -> URL {
        var rng = SplitMix(state: 7)
        var b = PcapBuilder()
        var spoofed = PcapBuilder.udpFrame(dst: [192, 0, 2, 1], dport: 80, payload: 4)
        let talk = (0..<8).map { i in
            PcapBuilder.udpFrame(
                src: [10, 0, 0, UInt8(i + 1)], dst: [10, 0, 0, UInt8((i + 3) % 8 + 1)], sport: 443,
                dport: UInt16(40000 + i), payload: 400 + 100 * i)
        }
        let start: UInt32 = 1_700_000_000
        for i in 0..<packets {
            let t = (seconds: start + UInt32(i / 10_000), fraction: UInt32(i % 10_000) * 100)
            if i % 5 == 4 {
                b.add(seconds: t.seconds, fraction: t.fraction, bytes: talk[Int(rng.next() % 8)])
                continue
            }
            let r = rng.next()
            for k in 0..<4 { spoofed[26 + k] = UInt8(truncatingIfNeeded: r >> (8 * k)) }
            spoofed[34] = UInt8(truncatingIfNeeded: r >> 32)
            spoofed[35] = UInt8(truncatingIfNeeded: r >> 40)
            b.add(seconds: t.seconds, fraction: t.fraction, bytes: spoofed)
        }
        let url = TestPaths.temporaryDirectory().appendingPathComponent("scan.pcap")
        try? b.write(to: url)
        return url
    }

    /// Runs `pktstat ARGS | wc -l` and returns (peak RSS in KiB, status, stderr without the time
    /// line, lines printed).
    static func measured(_ args: [String]) throws -> (kib: Int, status: Int32, stderr: String, lines: Int) {
        let quoted = ([TestPaths.binary] + args).map { "'\($0)'" }.joined(separator: " ")
        let r = try shell("set -o pipefail; /usr/bin/time -f 'TIME %M' \(quoted) | wc -l", timeout: 300)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let time = try #require(lines.last { $0.hasPrefix("TIME ") }, "\(r.stderr)")
        let rest = lines.filter { !$0.hasPrefix("TIME ") && !$0.hasPrefix("Command exited") }.joined(separator: "\n")
        let count = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        return (Int(time.dropFirst(5)) ?? .max, r.status, rest, count)
    }

    /// Each mode within 1.5 times the streaming mode's peak, and the rows it should print.
    @Test func sortTopByHostAndTableStayNearTheStreamingPeak() throws {
        let base = ["flows", Self.scan.path, "--max-flows", "10000"]
        let streaming = try Self.measured(base + ["--format", "csv"])
        #expect(streaming.status == 0, "\(streaming.stderr)")
        #expect(streaming.lines > 400_000)
        #expect(streaming.stderr.hasSuffix("flows evicted (--max-flows reached)"), "\(streaming.stderr)")
        let modes: [(args: [String], lines: Int)] = [
            (["--sort", "bytes", "--top", "10", "--format", "csv"], 11),
            (["--by", "host", "--top", "10", "--format", "csv"], 11),
            (["--by", "host", "--top", "10"], 11),
            (["--format", "table", "--top", "10"], 11),
        ]
        for mode in modes {
            let m = try Self.measured(base + mode.args)
            #expect(m.status == 0, "\(mode.args): \(m.stderr)")
            #expect(m.lines == mode.lines, "\(mode.args)")
            #expect(
                m.kib * 2 <= streaming.kib * 3,
                "\(mode.args): peak RSS \(m.kib) KiB, streaming \(streaming.kib) KiB")
        }
    }

    /// Without a usable temporary directory the rows stay in memory: the same output, a warning.
    @Test func withoutATemporaryFileTheRowsStayInMemory() throws {
        let file = Self.scanCapture(packets: 60_000).path
        for mode in [["--sort", "bytes"], ["--by", "host"], []] {
            let args = ["flows", file, "--max-flows", "100", "--format", "table"] + mode
            let quoted = ([TestPaths.binary] + args).map { "'\($0)'" }.joined(separator: " ")
            let spilled = try pktstat(args)
            let kept = try shell("TMPDIR=/nonexistent/pktstat-test \(quoted)")
            #expect(spilled.status == 0 && kept.status == 0, "\(kept.stderr)")
            #expect(spilled.stdoutData == kept.stdoutData, "\(mode)")
            #expect(!spilled.stderr.contains("warning"), "\(spilled.stderr)")
            #expect(
                kept.stderr.hasPrefix(
                    "warning: cannot create a temporary file in /nonexistent/pktstat-test: No such file or directory; "
                        + "rows were kept in memory\n"), "\(kept.stderr)")
        }
    }
}
