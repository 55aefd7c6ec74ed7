import Foundation
import TestSupport
import Testing

/// Many files as one capture, time windows and compressed files, through the built binary and
/// against the real tools: `analyze a b c`, `flows a b c` and `sniff -r a -r b -r c` equal the same commands on
/// `mergecap -w all a b c` (pcapng, which keeps nanoseconds); 10,000 small files read under
/// `ulimit -n 256`; `--since/--until` equal the `editcap -A/-B` slice; a damaged file in the
/// middle is named, the rest counts and the status is 1.
@Suite("many files")
struct MultiFileTests {
    let dir = TestPaths.temporaryDirectory()
    /// The tools these tests compare with; a missing one fails the test, naming its package.
    static func requireTools() throws { for tool in ["mergecap", "editcap", "gzip", "zstd"] { try requireTool(tool) } }

    /// loopback-mixed.pcap (10,140 packets) dealt round-robin into `count` files, so that their
    /// times interleave; two of them compressed when `compress`.
    func dealt(_ count: Int, compress: Bool) throws -> [String] {
        let source = try PcapFixture(contentsOf: TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path)
        var builders = (0..<count).map { _ in
            PcapBuilder(linkType: UInt32(source.linkType), snapLength: UInt32(source.snapLength), nanosecond: true)
        }
        for (i, p) in source.packets.enumerated() {
            let ns = p.timestampNanoseconds ?? 0
            builders[i % count].add(
                seconds: UInt32(ns / 1_000_000_000), fraction: UInt32(ns % 1_000_000_000), bytes: p.bytes,
                originalLength: UInt32(p.origLen))
        }
        var paths: [String] = []
        for (i, b) in builders.enumerated() {
            let url = dir.appendingPathComponent("part\(i).pcap")
            try b.write(to: url)
            paths.append(url.path)
        }
        if compress {
            #expect(try shell("gzip '\(paths[1])' && zstd -q --rm '\(paths[2])'").status == 0)
            paths[1] += ".gz"
            paths[2] += ".zst"
        }
        return paths
    }

    func mergecap(_ files: [String]) throws -> String {
        let out = dir.appendingPathComponent("all.pcap").path
        // mergecap reads gzip itself; zstd it does not (Wireshark 4.0), so decompress that one.
        var plain = files
        for (i, f) in files.enumerated() where f.hasSuffix(".zst") {
            plain[i] = dir.appendingPathComponent("unzstd.pcap").path
            #expect(try shell("zstd -dqc '\(f)' > '\(plain[i])'").status == 0)
        }
        let r = try run(TestPaths.tool("mergecap")!, ["-w", out] + plain)  // pcapng: nanoseconds kept
        #expect(r.status == 0, "\(r.stderr)")
        return out
    }

    @Test func analyzeAndSniffOfSeveralFilesEqualMergecap() throws {
        try Self.requireTools()
        let files = try dealt(3, compress: true)
        let all = try mergecap(files)
        for args in [
            ["--interval", "0.1", "--format", "csv"], ["--by", "protocol", "--format", "csv"], ["--summary"],
        ] {
            let merged = try pktstat(["analyze"] + files + args)
            let reference = try pktstat(["analyze", all] + args)
            #expect(merged.status == 0, "\(merged.stderr)")
            #expect(merged.stdout == reference.stdout, "\(args)")
        }
        let flows = try pktstat(["flows", "--format", "csv"] + files)
        #expect(flows.status == 0, "\(flows.stderr)")
        #expect(flows.stdoutLines.count > 10)
        #expect(flows.stdout == (try pktstat(["flows", all, "--format", "csv"])).stdout)
        let rows = try pktstat(["sniff", "--format", "csv"] + files.flatMap { ["-r", $0] })
        #expect(rows.status == 0, "\(rows.stderr)")
        #expect(rows.stdoutLines.count == 10_141)
        #expect(rows.stdout == (try pktstat(["sniff", "-r", all, "--format", "csv"])).stdout)
        #expect(rows.stderr.contains("reading from file \(files[0]) and 2 more"))
    }

    @Test func tenThousandFilesUnderALowDescriptorLimit() throws {
        let folder = dir.appendingPathComponent("ring")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var whole = PcapBuilder()
        for i in 0..<10_000 {
            var b = PcapBuilder()
            for j in 0..<3 {
                // Files overlap in time: file i's packets at i, i + 5,000 and i + 10,000 ms.
                let ms = UInt32(i + j * 5000)
                let frame = PcapBuilder.udpFrame(payload: j)
                b.add(seconds: 1_700_000_000 + ms / 1000, fraction: ms % 1000 * 1000, bytes: frame)
            }
            try b.write(to: folder.appendingPathComponent(String(format: "f%05d.pcap", i)))
        }
        for j in 0..<3 {
            for i in 0..<10_000 {
                let ms = UInt32(i + j * 5000)
                let frame = PcapBuilder.udpFrame(payload: j)
                whole.add(seconds: 1_700_000_000 + ms / 1000, fraction: ms % 1000 * 1000, bytes: frame)
            }
        }
        // The same packets in one file (out of time order: analyze bins each where it belongs).
        let wholeFile = dir.appendingPathComponent("whole.pcap")
        try whole.write(to: wholeFile)
        let r = try run(
            "/bin/sh",
            ["-c", "ulimit -n 256 && exec '\(TestPaths.binary)' analyze '\(folder.path)' --interval 0.5 --format csv"],
            timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let reference = try pktstat(["analyze", wholeFile.path, "--interval", "0.5", "--format", "csv"])
        #expect(r.stdout == reference.stdout)
        #expect(csvRows(r.stdout).reduce(0) { $0 + Int($1["packets"] ?? "0")! } == 30_000)
    }

    @Test func windowsEqualEditcapSlices() throws {
        try Self.requireTools()
        let files = try dealt(2, compress: false)
        let all = try mergecap(files)
        let slice = dir.appendingPathComponent("slice.pcap").path
        // 2026-11-23T12:00:42.9Z is 1795435242.9 s; the window ends at a packet's exact time.
        let e = try run(TestPaths.tool("editcap")!, ["-A", "1795435242.9", "-B", "1795435243.199552432", all, slice])
        #expect(e.status == 0, "\(e.stderr)")
        let window = ["--since", "2026-11-23T13:00:42.9+01:00", "--until", "1795435243.199552432"]
        let reference = try pktstat(["sniff", "-r", slice, "--format", "csv"])
        #expect(reference.stdoutLines.count > 100)
        let sniffed = try pktstat(["sniff", "--format", "csv"] + files.flatMap { ["-r", $0] } + window)
        #expect(sniffed.status == 0, "\(sniffed.stderr)")
        #expect(sniffed.stdout == reference.stdout)
        let analyzed = try pktstat(["analyze"] + files + window + ["--format", "csv", "--interval", "0.05"])
        #expect(analyzed.stdout == (try pktstat(["analyze", slice, "--format", "csv", "--interval", "0.05"])).stdout)
        let backwards = try pktstat(["analyze", all, "--since", "1795435243", "--until", "1795435242"])
        #expect(backwards.status == 64)
        #expect(backwards.stderr.contains("--until must be later than --since"))
        let badTime = try pktstat(["analyze", all, "--since", "yesterday"])
        #expect(badTime.status == 64)
    }

    @Test func filtersSayTheyReadOneUncompressedFile() throws {
        try Self.requireTools()
        let files = try dealt(3, compress: true)
        let several = try pktstat(["analyze", files[0], files[2], "--filter", "udp"])
        #expect(several.status == 1)
        #expect(several.stderr.contains("a filter or -w reads one file"), "\(several.stderr)")
        let packed = try pktstat(["sniff", "-r", files[1], "udp"])
        #expect(packed.status == 1)
        #expect(
            packed.stderr.contains("is gzip-compressed: a filter or -w reads it through libpcap"), "\(packed.stderr)")
        #expect(try pktstat(["sniff", "-r", files[0], "--format", "csv", "udp"]).status == 0)
    }

    /// A gzip stream on a pipe whose writer stays open: every packet is printed while the writer
    /// still holds the pipe (decompressed data is handed over before a read that would wait).
    @Test func aCompressedPipeIsReadAsItArrives() throws {
        let fifo = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let mixed = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path
        let writer = try Spawned("/bin/sh", ["-c", "exec > '\(fifo)'; gzip -c '\(mixed)'; exec sleep 30"])
        let reader = try Spawned(TestPaths.binary, ["sniff", "-r", fifo, "--format", "csv", "-l"])
        func lines() -> Int { reader.stdout.utf8.count(where: { $0 == 0x0A }) }
        let all = reader.waitFor(timeout: 20) { _ in lines() == 10_141 }
        #expect(all, "lines before the writer closed: \(lines())")
        writer.signal(SIGKILL)
        _ = writer.finish(timeout: 10)
        let r = reader.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func aDamagedFileInTheMiddleIsNamedAndTheRestCounts() throws {
        let files = try dealt(3, compress: false)
        let data = try Data(contentsOf: URL(fileURLWithPath: files[1]))
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: files[1]))
        let r = try pktstat(["analyze", "--summary", "--format", "json"] + files)
        #expect(r.status == 1)
        #expect(r.stderr.contains("error: \(files[1]): truncated dump file"), "\(r.stderr)")
        #expect(r.stderr.contains("1 of 3 files could not be read to the end"))
        let object = try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any]
        let packets = (object?["packets"] as? Int) ?? 0
        #expect(packets > 10_140 * 2 / 3 && packets < 10_140, "\(packets)")
        let missing = try pktstat(["analyze", files[0], dir.appendingPathComponent("gone.pcap").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("gone.pcap: no such file"))
        #expect(!missing.stdout.isEmpty, "the file that exists still counts")
    }
}
