import Foundation
import PacketFile
import PacketRecords
import TestSupport
import Testing

/// Files of 2 MiB or more are read ahead on a helper thread in 1 MiB chunks; records that span
/// chunks are gathered on the side. The same bytes through a pipe (read directly, no helper) must
/// give the same records and the same error, wherever the file is cut.
@Suite struct ReadAheadTests {
    static func bigPcap() -> [UInt8] {
        var file = PcapBytes(snapLength: 0)
        var random = SplitMix(state: 7)
        for i in 0..<9000 {
            // Mostly small and full-size frames, now and then one close to the 256 KiB maximum.
            let size = i % 1500 == 77 ? 250_000 : Int.random(in: 42...1514, using: &random)
            file.record(seconds: UInt32(i), fraction: UInt32(i % 1_000_000), data: udpFrame(size: size))
        }
        return file.bytes
    }

    static func bigPcapng() -> [UInt8] {
        var file = PcapngBytes()
        file.interface(tsresol: 9)
        var random = SplitMix(state: 9)
        for i in 0..<9000 {
            let size = i % 1500 == 77 ? 250_000 : Int.random(in: 42...1514, using: &random)
            if i % 700 == 5 { file.block(4) { b in b.u32(0) } }
            file.enhanced(ticks: UInt64(i) * 1_000_003, data: udpFrame(size: size))
        }
        return file.bytes
    }

    @Test(arguments: ["pcap", "pcapng"])
    func sameAsReadingDirectly(_ format: String) {
        let bytes = format == "pcap" ? Self.bigPcap() : Self.bigPcapng()
        #expect(bytes.count > 8 << 20)
        let pipes = PipeInputTests()
        var random = SplitMix(state: UInt64(bytes.count))
        var cuts = [bytes.count, bytes.count - 1, 2 << 20, (2 << 20) + 3, (3 << 20) - 5, (3 << 20) + 16, (4 << 20) + 1]
        for _ in 0..<6 { cuts.append(Int.random(in: (2 << 20)...bytes.count, using: &random)) }
        for cut in cuts {
            let prefix = Array(bytes.prefix(cut))
            let ahead = readAll(prefix, in: pipes.dir)
            let direct = readAll(path: pipes.fifo(prefix, chunk: 100_000))
            #expect(ahead.records.count == direct.records.count, "\(format) cut at \(cut)")
            #expect(ahead.records == direct.records, "\(format) cut at \(cut)")
            #expect(ahead.error == direct.error, "\(format) cut at \(cut)")
            #expect((ahead.error == nil) == (cut == bytes.count), "\(format) cut at \(cut)")
        }
    }

    @Test func stoppingEarlyEndsTheHelperThread() throws {
        let dir = ScratchDirectory()
        let path = dir.write(Self.bigPcap())
        for _ in 0..<50 {
            let reader = try CaptureFileReader(path: path)
            let n = try reader.read { _ in false }
            #expect(n == 512)
        }
    }
}
