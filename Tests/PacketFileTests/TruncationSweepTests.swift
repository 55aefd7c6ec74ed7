import Foundation
import PacketFile
import PacketRecords
import TestSupport
import Testing

/// Every prefix of a valid file must either deliver a prefix of its records and then throw, or
/// succeed with a prefix (when the cut falls between records) — never trap, never invent records.
@Suite struct TruncationSweepTests {
    static func samples() -> [(String, [UInt8])] {
        var pcapLE = PcapBytes(snapLength: 80)
        pcapLE.record(seconds: 1, fraction: 2, data: udpFrame(size: 100))
        pcapLE.record(seconds: 3, fraction: 4, data: arpFrame())
        pcapLE.record(seconds: 5, fraction: 6, data: udpFrame(size: 61))

        var pcapBE = PcapBytes(bigEndian: true, nanosecond: true)
        pcapBE.record(seconds: 1, fraction: 2, data: udpFrame())
        pcapBE.record(seconds: 3, fraction: 4, data: arpFrame())

        var ngLE = PcapngBytes()
        ngLE.block(4) { b in b.u32(0) }
        ngLE.interface(snapLength: 96, tsresol: 9, tsoffset: 5)
        ngLE.enhanced(ticks: 10, data: udpFrame(size: 90), length: 200)
        ngLE.simple(data: arpFrame(), length: 42)
        ngLE.obsolete(ticks: 20, data: udpFrame())
        ngLE.block(5) { b in
            b.u32(0)
            b.u64(0)
        }

        var ngBE = PcapngBytes(bigEndian: true)
        ngBE.interface(tsresol: 0x88)
        ngBE.enhanced(ticks: 300, data: udpFrame())
        ngBE.section(minor: 2)
        ngBE.interface(tsresol: 0x88)
        ngBE.enhanced(ticks: 301, data: arpFrame())

        var samples = [
            ("pcap-le-us", pcapLE.bytes), ("pcap-be-ns", pcapBE.bytes), ("pcapng-le", ngLE.bytes),
            ("pcapng-be", ngBE.bytes),
        ]
        // A few real captures too, when the corpus is there (small ones: every prefix is read).
        for name in [
            "pcpp_nanosecs_big_endian.pcap", "gopacket_be_test010.pcapng", "gopacket_le_test012.pcapng",
            "tcpdump_ospf3_auth.pcapng",
        ] {
            if let data = FileManager.default.contents(atPath: Corpus.directory.appendingPathComponent(name).path),
                data.count <= 8192
            {
                samples.append((name, [UInt8](data)))
            }
        }
        return samples
    }

    @Test(arguments: samples())
    func everyPrefixIsSafe(_ name: String, _ bytes: [UInt8]) {
        let dir = ScratchDirectory()
        let full = readAll(bytes, in: dir)
        #expect(full.error == nil, "\(name): \(full.error.map(String.init(describing:)) ?? "")")
        #expect(!full.records.isEmpty)
        var errors = 0
        for length in 0..<bytes.count {
            let outcome = readAll(path: dir.write(Array(bytes.prefix(length)), name: "prefix"))
            #expect(outcome.records.count <= full.records.count)
            #expect(Array(full.records.prefix(outcome.records.count)) == outcome.records, "\(name) cut at \(length)")
            if outcome.error != nil { errors += 1 }
        }
        #expect(errors > 0)
    }
}

/// Random damage (deterministic): bytes overwritten anywhere in a valid file. The reader must
/// deliver records or an error, never trap or hang.
@Suite struct MutationSweepTests {
    @Test(arguments: TruncationSweepTests.samples().prefix(4))
    func damagedFilesNeverTrap(_ name: String, _ bytes: [UInt8]) {
        let dir = ScratchDirectory()
        var random = SplitMix(state: UInt64(bytes.count))
        let interesting: [UInt8] = [0, 1, 3, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x4D, 0x3C, 0x2B, 0x1A]
        for round in 0..<400 {
            var damaged = bytes
            for _ in 0..<(1 + round % 4) {
                let at = Int.random(in: 0..<damaged.count, using: &random)
                damaged[at] =
                    Bool.random(using: &random)
                    ? interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            }
            let outcome = readAll(path: dir.write(damaged, name: "damaged"))
            // Whatever came out is bounded by the file: no record captures more than it holds.
            #expect(outcome.records.allSatisfy { Int($0.captured) <= damaged.count }, "\(name) round \(round)")
        }
    }
}
