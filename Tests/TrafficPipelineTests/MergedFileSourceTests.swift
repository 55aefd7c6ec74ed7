import Foundation
import PacketRecords
import PacketWire
import TestSupport
import Testing
import TrafficPipeline

/// `MergedFileSource` on real files: the merge equals `mergecap`'s, with few files open at once
/// (suspended and reopened mid-file, gzip and zstd among them); a damaged file in the middle is
/// reported by name and the rest still counts; time windows equal `editcap -A/-B` slices, and
/// whole files outside the window are skipped without being read (a damaged middle that would be
/// an error if read proves it).
@Suite struct MergedFileSourceTests {
    let dir = TestPaths.temporaryDirectory()
    /// The captures, in a folder of their own (mergecap's output goes beside it).
    var parts: URL {
        let url = dir.appendingPathComponent("parts")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The tools these tests compare with; a missing one fails the test, naming its package.
    static func requireTools() throws { for tool in ["mergecap", "editcap", "gzip", "zstd"] { try requireTool(tool) } }

    /// `files` captures of `perFile` UDP packets whose times interleave: packet j of file i at
    /// 1,700,000,000 s + (j * files + i) ms, so the merge takes one packet from each in turn.
    func interleaved(files: Int, perFile: Int, stepMs: UInt32 = 1) throws -> [String] {
        try (0..<files).map { i in
            var b = PcapBuilder()
            for j in 0..<perFile {
                let ms = UInt32(j * files + i) * stepMs
                let frame = PcapBuilder.udpFrame(sport: UInt16(1000 + i), payload: j % 50)
                b.add(seconds: 1_700_000_000 + ms / 1000, fraction: ms % 1000 * 1000, bytes: frame)
            }
            let url = parts.appendingPathComponent(String(format: "part%03d.pcap", i))
            try b.write(to: url)
            return url.path
        }
    }

    func read(_ source: MergedFileSource) -> (records: [PacketRecord], error: (any Error)?) {
        var out: [PacketRecord] = []
        do {
            try source.stream(stop: StopFlag(), opened: { _ in }) { batch in
                out.append(contentsOf: batch)
                return true
            }
        } catch {
            return (out, error)
        }
        return (out, nil)
    }

    func fileRecords(_ path: String) throws -> [PacketRecord] {
        var out: [PacketRecord] = []
        try FileSource(path: path).stream(stop: StopFlag(), opened: { _ in }) { batch in
            out.append(contentsOf: batch)
            return true
        }
        return out
    }

    func mergecap(_ files: [String]) throws -> String {
        let out = dir.appendingPathComponent("mergecap-\(files.count).pcap").path
        let r = try run(TestPaths.tool("mergecap")!, ["-F", "pcap", "-w", out] + files)
        #expect(r.status == 0, "\(r.stderr)")
        return out
    }

    @Test func mergeEqualsMergecap() throws {
        try Self.requireTools()
        let files = try interleaved(files: 3, perFile: 700)
        let merged = read(MergedFileSource(paths: files.reversed()))
        #expect(merged.error == nil)
        #expect(merged.records.count == 2100)
        #expect(merged.records == (try fileRecords(try mergecap(files))))
    }

    @Test func fewOpenFilesSuspendAndReopenMidFile() throws {
        try Self.requireTools()
        // 300 files of 600 packets: each holds 436 records at a time, so every file is suspended
        // and reopened in its middle; a third are gzip and a third zstd.
        var files = try interleaved(files: 300, perFile: 600)
        let expected = try fileRecords(try mergecap(files))
        for (i, f) in files.enumerated() where i % 3 != 0 {
            let tool = i % 3 == 1 ? "gzip" : "zstd"
            #expect(try shell("\(tool) -q \(tool == "zstd" ? "--rm " : "")'\(f)'").status == 0)
            files[i] = f + (tool == "gzip" ? ".gz" : ".zst")
        }
        var source = MergedFileSource(paths: [parts.path])
        source.maxOpenFiles = 8
        let merged = read(source)
        #expect(merged.error == nil, "\(String(describing: merged.error))")
        #expect(merged.records.count == 180_000)
        #expect(firstMismatch(merged.records, expected) == nil)
    }

    @Test func aDamagedFileIsNamedAndTheRestCounts() throws {
        try Self.requireTools()
        let files = try interleaved(files: 3, perFile: 400)
        let all = try fileRecords(try mergecap(files))
        // Cut the middle file inside a record: its first packets count, then it ends.
        let data = try Data(contentsOf: URL(fileURLWithPath: files[1]))
        try data.prefix(data.count / 2 + 5).write(to: URL(fileURLWithPath: files[1]))
        let kept = try fileRecords(files[0]).count + fileRecords(files[2]).count
        let merged = read(MergedFileSource(paths: files))
        let error = try #require(merged.error as? MultiFileError)
        #expect(error.failures.map(\.path) == [files[1]])
        #expect(error.description.hasPrefix(files[1] + ": truncated dump file"))
        #expect(merged.records.count > kept && merged.records.count < all.count)
        #expect(Set(merged.records.map(\.decoded.srcPort)).count == 3)
    }

    @Test func windowEqualsEditcapSlice() throws {
        try Self.requireTools()
        let files = try interleaved(files: 4, perFile: 500, stepMs: 7)
        let all = try mergecap(files)
        // Bounds on a packet's exact time and between packets.
        let since: Int64 = 1_700_000_002_107_000_000
        let until: Int64 = 1_700_000_009_500_500_000
        let slice = dir.appendingPathComponent("slice.pcap").path
        let r = try run(TestPaths.tool("editcap")!, ["-A", "1700000002.107", "-B", "1700000009.5005", all, slice])
        #expect(r.status == 0, "\(r.stderr)")
        let merged = read(MergedFileSource(paths: files, window: TimeWindow(sinceNs: since, untilNs: until)))
        #expect(merged.error == nil)
        let expected = try fileRecords(slice)
        #expect(!expected.isEmpty && expected.count < 2000)
        #expect(merged.records == expected)
    }

    /// A rotated run of 5 files of 1,500 packets, one every 60 ms from 100 s apart (837 KB
    /// each), whose middles are damaged except file 2's (a record claiming more than any snap
    /// length after 300 packets): reading one of them through is an error.
    func rotatedWithDamagedMiddles() throws -> [String] {
        try (0..<5).map { i in
            var b = PcapBuilder()
            for j in 0..<1500 {
                if j == 300 && i != 2 {
                    b.put32(1_700_000_000)
                    b.put32(0)
                    b.put32(0x7FFF_FFFF)
                    b.put32(0x7FFF_FFFF)
                    continue
                }
                let ms = UInt32(i * 100_000 + j * 60)
                b.add(
                    seconds: 1_700_000_000 + ms / 1000, fraction: ms % 1000 * 1000,
                    bytes: PcapBuilder.udpFrame(payload: 500 + j % 7))
            }
            // The records after the damage, and the end of the file, are whole: the tail parses.
            let url = dir.appendingPathComponent("rot\(i).pcap")
            try b.write(to: url)
            return url.path
        }
    }

    @Test func filesOutsideTheWindowAreNotReadThrough() throws {
        let files = try rotatedWithDamagedMiddles()
        // Reading them all is an error for four files; a window inside file 2 skips files 0 and 1
        // by their tails and 3 and 4 by their first packets.
        let whole = read(MergedFileSource(paths: files))
        #expect((whole.error as? MultiFileError)?.failures.count == 4)
        let since: Int64 = 1_700_000_200_000_000_000
        let until: Int64 = 1_700_000_230_000_000_000
        let windowed = read(MergedFileSource(paths: files, window: TimeWindow(sinceNs: since, untilNs: until)))
        #expect(windowed.error == nil, "\(String(describing: windowed.error))")
        #expect(windowed.records.count == 500)  // 30 s at one packet every 60 ms
        #expect(windowed.records.allSatisfy { $0.timestampNs >= since && $0.timestampNs < until })
    }
}

/// Where two record lists first differ (nil if equal): a cheap check for long lists, where
/// `#expect(a == b)` would print a quadratic diff.
func firstMismatch(_ a: [PacketRecord], _ b: [PacketRecord]) -> Int? {
    if let i = (0..<min(a.count, b.count)).first(where: { a[$0] != b[$0] }) { return i }
    return a.count == b.count ? nil : min(a.count, b.count)
}

@Suite struct TimeBoundTests {
    let now: Int64 = 1_700_000_000_000_000_000

    @Test(
        arguments: [
            ("1700000000", 1_700_000_000_000_000_000),
            ("1700000000.25", 1_700_000_000_250_000_000),
            ("0.000000001", 1),
            ("2023-11-14T22:13:20Z", 1_700_000_000_000_000_000),
            ("2023-11-14T22:13:20.5Z", 1_700_000_000_500_000_000),
            ("2023-11-14 23:13:20+01:00", 1_700_000_000_000_000_000),
            ("2023-11-14T17:13:20.000000001-05:00", 1_700_000_000_000_000_001),
            ("-2h", 1_700_000_000_000_000_000 - 7_200_000_000_000),
            ("-1.5m", 1_700_000_000_000_000_000 - 90_000_000_000),
            ("-1d", 1_700_000_000_000_000_000 - 86_400_000_000_000),
            ("-500ms", 1_700_000_000_000_000_000 - 500_000_000),
        ] as [(String, Int64)])
    func parses(text: String, ns: Int64) throws {
        #expect(try TimeBound.parse(text, nowNs: now) == ns)
    }

    @Test(arguments: ["", "yesterday", "-2", "-2x", "2023-13-01T00:00:00Z", "2023-11-14T22:13:20", "1.2.3", "-h"])
    func rejects(text: String) {
        #expect(throws: TimeBoundError.self) { try TimeBound.parse(text, nowNs: now) }
    }

    @Test func windowKeepsSinceAndLeavesOutUntil() {
        let w = TimeWindow(sinceNs: 10, untilNs: 20)
        #expect(!w.contains(9) && w.contains(10) && w.contains(19) && !w.contains(20))
        #expect(TimeWindow().isEverything && TimeWindow().contains(.min))
    }
}
