import Foundation
import PacketCapture
import PacketRecords
import ReaderCrossCheck
import TestSupport
import Testing

/// File names as tcpdump makes them for -C/-W, and strftime patterns as for -G.
@Suite struct FileNamerTests {
    private func names(_ namer: FileNamer, _ n: Int, at seconds: [Int64]? = nil) -> [String] {
        var namer = namer
        return (0..<n).map { namer.next(epochSeconds: seconds?[$0] ?? 1_700_000_000) }
    }

    @Test func numberedAsTcpdumpC() {
        #expect(names(FileNamer(pattern: "f.pcap", ring: nil), 4) == ["f.pcap", "f.pcap1", "f.pcap2", "f.pcap3"])
    }

    @Test func aRingIsZeroPaddedAndReused() {
        #expect(names(FileNamer(pattern: "f", ring: 3), 5) == ["f0", "f1", "f2", "f0", "f1"])
        #expect(names(FileNamer(pattern: "f", ring: 11), 2) == ["f00", "f01"])
        #expect(names(FileNamer(pattern: "f", ring: 10), 1) == ["f0"])
        // Compressing: names are not reused while an older file of that name may be compressing.
        #expect(names(FileNamer(pattern: "f", ring: 2, wraps: false), 3) == ["f0", "f1", "f2"])
    }

    @Test func strftimePatternsNumberOnlyARepeatedName() {
        let namer = FileNamer(pattern: "cap-%s.pcap", ring: 3)
        let got = names(namer, 4, at: [1_700_000_000, 1_700_000_000, 1_700_000_002, 1_700_000_004])
        #expect(got == ["cap-1700000000.pcap", "cap-1700000000.pcap1", "cap-1700000002.pcap", "cap-1700000004.pcap"])
    }
}

/// The rotating writer on real captures, read back by libpcap and by our reader.
@Suite struct RotatingWriterTests {
    /// The largest capture in the corpus that libpcap reads whole.
    private func source() throws -> (path: String, records: [PacketRecord]) {
        let dir = try #require(TestPaths.conformanceCaptures)
        let path = dir.appendingPathComponent("pcpp_650HttpResponses.pcap").path
        let reading = ReaderCrossCheck.libpcap(path)
        #expect(!reading.failed && reading.records.count > 500)
        return (path, reading.records)
    }

    private func files(in dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted {
            ($0.count, $0) < ($1.count, $1)  // f, f1, f2, ..., f10
        }.map { dir.appendingPathComponent($0).path }
    }

    @Test(arguments: [WritePlan.Format.pcap, .pcapng])
    func sizeRotationSplitsAtRecordBoundaries(_ format: WritePlan.Format) throws {
        let (path, records) = try source()
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var plan = WritePlan(path: dir.appendingPathComponent("part").path, format: format)
        plan.rotateBytes = 64 << 10
        let capture = try PcapCapture.openFile(path)
        try capture.startWriting(plan)
        _ = try capture.run(stop: StopFlag()) { _ in true }
        try capture.finishWriting()
        let parts = try files(in: dir)
        #expect(parts.count > 3)
        var joined: [PacketRecord] = []
        for (i, part) in parts.enumerated() {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: part)[.size] as? Int)
            #expect(size <= 64 << 10, "\(part): \(size) bytes")
            if i < parts.count - 1 { #expect(size > (64 << 10) - 1600, "\(part) closed early: \(size) bytes") }
            #expect(ReaderCrossCheck.disagreement(part) == nil, "\(part)")
            let reading = ReaderCrossCheck.libpcap(part)
            #expect(!reading.failed, "\(part)")
            joined += reading.records
        }
        #expect(joined == records)
    }

    @Test func aRingKeepsTheNewestFiles() throws {
        let (path, records) = try source()
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var plan = WritePlan(path: dir.appendingPathComponent("ring").path)
        plan.rotateBytes = 64 << 10
        plan.maxFiles = 3
        let capture = try PcapCapture.openFile(path)
        try capture.startWriting(plan)
        _ = try capture.run(stop: StopFlag()) { _ in true }
        try capture.finishWriting()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["ring0", "ring1", "ring2"])
        // Together, the three files hold the newest packets, in order, up to the last one.
        let kept = names.map { ReaderCrossCheck.libpcap(dir.appendingPathComponent($0).path).records }
        #expect(kept.allSatisfy { !$0.isEmpty })
        let flat = kept.sorted { $0[0].timestampNs < $1[0].timestampNs }.flatMap { $0 }
        #expect(flat.count < records.count)
        #expect(flat == Array(records.suffix(flat.count)))
    }

    @Test(arguments: [WritePlan.Compression.gzip, .zstd])
    func closedFilesAreCompressed(_ compression: WritePlan.Compression) throws {
        let tool = try requireTool(compression.rawValue)
        let (path, records) = try source()
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var plan = WritePlan(path: dir.appendingPathComponent("z").path)
        plan.rotateBytes = 128 << 10
        plan.compression = compression
        let capture = try PcapCapture.openFile(path)
        try capture.startWriting(plan)
        _ = try capture.run(stop: StopFlag()) { _ in true }
        try capture.finishWriting()
        let names = try files(in: dir).map { URL(fileURLWithPath: $0).lastPathComponent }
        #expect(names.count > 2)
        #expect(names.allSatisfy { $0.hasSuffix(compression.suffix) }, "\(names)")
        var joined: [PacketRecord] = []
        for name in names {
            let plain = dir.appendingPathComponent(String(name.dropLast(compression.suffix.count)) + ".pcap")
            let r = try shell("'\(tool)' -dc '\(dir.appendingPathComponent(name).path)' > '\(plain.path)'")
            #expect(r.status == 0, "\(r.stderr)")
            joined += ReaderCrossCheck.libpcap(plain.path).records
        }
        #expect(joined == records)
    }
}

/// pcapng output read back by libpcap, by our reader and by the test's own independent parser.
@Suite struct PcapngWriterTests {
    @Test func sll2RecordsGetOneInterfacePerIndex() throws {
        let dir = try #require(TestPaths.conformanceCaptures)
        let source = dir.appendingPathComponent("pcpp_sll2.pcap").path
        let out = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let path = out.appendingPathComponent("x.pcapng").path
        var plan = WritePlan(path: path, format: .pcapng)
        plan.interfaceNames = [20: "eth-test"]
        let capture = try PcapCapture.openFile(source)
        try capture.startWriting(plan)
        _ = try capture.run(stop: StopFlag()) { _ in true }
        try capture.finishWriting()
        let fixture = try PcapFixture(contentsOf: path)
        #expect(fixture.format == .pcapng && fixture.nanosecond && fixture.error == nil)
        #expect(fixture.linkType == 276)
        #expect(ReaderCrossCheck.disagreement(path) == nil)
        #expect(ReaderCrossCheck.libpcap(path).records == ReaderCrossCheck.libpcap(source).records)
        let tshark = try requireTool("tshark")
        let r = try run(tshark, ["-r", path, "-T", "fields", "-e", "frame.interface_name"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdoutLines.isEmpty && r.stdoutLines.allSatisfy { $0 == "eth-test" }, "\(r.stdout)")
    }
}
