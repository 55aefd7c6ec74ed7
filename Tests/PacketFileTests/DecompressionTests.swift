import Foundation
import PacketFile
import PacketRecords
import TestSupport
import Testing

/// Compressed captures, made by the real `gzip` and `zstd`, read by our reader: the same records
/// and the same error as the uncompressed file, for every capture we have; several members or
/// frames; large files through the read-ahead thread; cut and damaged compressed data; and
/// readers suspended and resumed (`lseek`, or decompressing again up to the place).
@Suite struct DecompressionTests {
    let dir = ScratchDirectory()

    /// The tools these tests compare with; a missing one fails the test, naming its package.
    static func requireTools() throws { for tool in ["gzip", "zstd"] { try requireTool(tool) } }

    static var corpus: [String] {
        var files: [URL] = []
        let fm = FileManager.default
        for folder in [TestPaths.captures] + (TestPaths.conformanceCaptures.map { [$0] } ?? []) {
            let names = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
            files += names.filter { !$0.hasSuffix(".csv") && !$0.hasSuffix(".md") && $0 != "EXPECT_ERROR" }
                .map { folder.appendingPathComponent($0) }
        }
        return files.map(\.path).sorted()
    }

    func compress(_ path: String, _ tool: String, name: String? = nil) throws -> String {
        let base = URL(fileURLWithPath: path).lastPathComponent
        let out = dir.url.appendingPathComponent(name ?? (base + "." + tool)).path
        let r = try shell("\(tool) -c < '\(path)' > '\(out)'")
        #expect(r.status == 0, "\(r.stderr)")
        return out
    }

    func sameOutcome(_ a: ReadOutcome, _ b: ReadOutcome) -> Bool {
        a.records == b.records && a.error?.description == b.error?.description && a.linkType == b.linkType
            && a.snapLength == b.snapLength
    }

    @Test func everyCaptureReadsTheSameCompressed() throws {
        try Self.requireTools()
        #expect(Self.corpus.count > 20)
        for path in Self.corpus {
            let plain = readAll(path: path)
            for tool in ["gzip", "zstd"] {
                let packed = readAll(path: try compress(path, tool))
                #expect(sameOutcome(plain, packed), "\(tool) \(path): \(String(describing: packed.error))")
            }
        }
    }

    /// A file of `count` packets whose payloads compress poorly (so the compressed file is large).
    func bigCapture(_ count: Int) throws -> String {
        var b = PcapBuilder()
        var rng = SplitMix(state: 42)
        for i in 0..<count {
            var frame = PcapBuilder.udpFrame(payload: 200 + i % 900)
            for j in 42..<frame.count { frame[j] = UInt8(truncatingIfNeeded: rng.next()) }
            b.add(seconds: 1_700_000_000 + UInt32(i / 100), fraction: UInt32(i % 100) * 10_000, bytes: frame)
        }
        let path = dir.url.appendingPathComponent("big.pcap").path
        try b.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func largeFilesDecompressAhead() throws {
        try Self.requireTools()
        let path = try bigCapture(6000)
        let plain = readAll(path: path)
        #expect(plain.records.count == 6000 && plain.error == nil)
        for tool in ["gzip", "zstd"] {
            let packed = try compress(path, tool)
            let size = try FileManager.default.attributesOfItem(atPath: packed)[.size] as? Int ?? 0
            #expect(size > 1024 * 1024, "big enough to be read ahead")
            let reader = try CaptureFileReader(path: packed)
            #expect(reader.compression == tool)
            #expect(sameOutcome(plain, readAll(path: packed)))
        }
    }

    @Test func membersAndFramesFollowOneAnother() throws {
        try Self.requireTools()
        let path = try bigCapture(500)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let half = dir.write(Array(bytes.prefix(bytes.count / 2 + 7)), name: "a")
        let rest = dir.write(Array(bytes.dropFirst(bytes.count / 2 + 7)), name: "b")
        for tool in ["gzip", "zstd"] {
            let a = try compress(half, tool, name: "a.\(tool)")
            let b = try compress(rest, tool, name: "b.\(tool)")
            let joined = dir.url.appendingPathComponent("joined.\(tool)").path
            #expect(try shell("cat '\(a)' '\(b)' > '\(joined)'").status == 0)
            #expect(sameOutcome(readAll(path: path), readAll(path: joined)), "\(tool)")
        }
    }

    @Test func cutAndDamagedDataKeepWhatCameBefore() throws {
        try Self.requireTools()
        let path = try bigCapture(3000)
        let all = readAll(path: path).records
        for tool in ["gzip", "zstd"] {
            let packed = try Data(contentsOf: URL(fileURLWithPath: try compress(path, tool)))
            let cut = readAll(Array(packed.prefix(packed.count / 2)), in: dir)
            #expect(cut.error?.kind == .truncated, "\(tool): \(String(describing: cut.error))")
            #expect(cut.error?.description.contains("\(tool) data ends") == true || cut.error?.kind == .truncated)
            #expect(!cut.records.isEmpty && cut.records.count < all.count)
            #expect(Array(all.prefix(cut.records.count)) == cut.records)

            var damaged = Array(packed)
            for i in stride(from: packed.count / 2, to: packed.count / 2 + 64, by: 1) { damaged[i] ^= 0x5A }
            let bad = readAll(damaged, in: dir)
            #expect(bad.error != nil, "\(tool): damage is noticed")
            #expect(bad.records.count < all.count)
            #expect(Array(all.prefix(bad.records.count)) == bad.records)
        }
    }

    /// Reads `path` a few records at a time, suspending the reader after every read.
    func readSuspending(_ path: String, step: Int) throws -> [PacketRecord] {
        let reader = try CaptureFileReader(path: path)
        let buffer = UnsafeMutableBufferPointer<PacketRecord>.allocate(capacity: step)
        defer { buffer.deallocate() }
        var out: [PacketRecord] = []
        while true {
            let n = try reader.read(into: buffer)
            if n == 0 { break }
            out += buffer.prefix(n)
            reader.suspend()
        }
        #expect(reader.isAtEnd)
        return out
    }

    @Test func suspendedReadersGoOnWhereTheyWere() throws {
        try Self.requireTools()
        let path = try bigCapture(3000)
        let all = readAll(path: path).records
        for file in [path, try compress(path, "gzip"), try compress(path, "zstd")] {
            #expect(try readSuspending(file, step: 700) == all, "\(file)")
        }
        let ng = TestPaths.captures.appendingPathComponent("pcapng-tsresol9.pcapng").path
        #expect(try readSuspending(ng, step: 1) == readAll(path: ng).records)
    }

    @Test func lastTimestampFromTheTail() throws {
        var checked = 0
        for path in Self.corpus {
            let outcome = readAll(path: path)
            guard outcome.error == nil, let last = outcome.records.last,
                let reader = try? CaptureFileReader(path: path)
            else { continue }
            // nil (pcapng, or a tail that does not parse) only means the file is read instead.
            guard let tail = reader.lastTimestampFromTail() else { continue }
            #expect(tail == last.timestampNs, "\(path)")
            checked += 1
        }
        #expect(checked > 20)
        let big = try bigCapture(6000)
        let last = readAll(path: big).records.last?.timestampNs
        #expect(try CaptureFileReader(path: big).lastTimestampFromTail() == last)
    }
}
