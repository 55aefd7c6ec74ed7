import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

@Suite struct SummaryTests {
    @Test func emptySummary() {
        let s = Summary()
        #expect(s.packets == 0 && s.firstNs == nil && s.lastNs == nil && s.durationNs == 0)
        #expect(s.meanLength == nil && s.bitsPerSecond == nil && s.packetsPerSecond == nil)
    }

    @Test func totalsRatesAndSizes() {
        var s = Summary()
        let sec: Int64 = 1_000_000_000
        s.add(PacketRecord(timestampNs: 10 * sec, length: 60, captured: 60, label: .tcp))
        s.add(PacketRecord(timestampNs: 12 * sec, length: 1514, captured: 96, label: .udp))
        s.add(PacketRecord(timestampNs: 11 * sec, length: 19, captured: 19, label: .tcp))
        s.add(PacketRecord(timestampNs: 14 * sec, length: 5120, captured: 96, label: .arp))
        #expect(s.packets == 4)
        #expect(s.bytes == 60 + 1514 + 19 + 5120)
        #expect(s.capturedBytes == 60 + 96 + 19 + 96)
        #expect(s.firstNs == 10 * sec && s.lastNs == 14 * sec && s.durationNs == 4 * sec)
        #expect(s.minLength == 19 && s.maxLength == 5120)
        #expect(s.outOfOrder == 1)
        #expect(s.packetsPerSecond == 1.0)
        #expect(s.bitsPerSecond == Double(s.bytes) * 8 / 4)
        #expect(s.protocolPackets[.tcp] == 2 && s.protocolBytes[.tcp] == 79)
        #expect(s.protocols == ProtocolSet([.arp, .tcp, .udp]))
        #expect(s[bucket: 0] == 1)  // 19
        #expect(s.sizes[bucket: 0] == 1)
        #expect(s.sizes[bucket: 2] == 1)  // 60 in 40–79
        #expect(s.sizes[bucket: 7] == 1)  // 1514 in 1280–2559
        #expect(s.sizes[bucket: 9] == 1)  // 5120 and up
    }

    @Test(
        arguments: [
            (0, 0), (19, 0), (20, 1), (39, 1), (40, 2), (79, 2), (80, 3), (159, 3), (160, 4), (319, 4),
            (320, 5), (639, 5), (640, 6), (1279, 6), (1280, 7), (2559, 7), (2560, 8), (5119, 8), (5120, 9),
            (65535, 9), (UInt32.max, 9),
        ] as [(UInt32, Int)])
    func sizeBuckets(length: UInt32, bucket: Int) {
        #expect(SizeDistribution.bucket(for: length) == bucket)
        let b = SizeDistribution.buckets(SizeDistribution())[bucket]
        #expect(length >= b.lower)
        if let upper = b.upper { #expect(length <= upper) }
    }
}

extension Summary {
    fileprivate subscript(bucket i: Int) -> UInt64 { sizes[bucket: i] }
}

extension SizeDistribution {
    fileprivate static func buckets(_ d: SizeDistribution) -> [(lower: UInt32, upper: UInt32?, packets: UInt64)] {
        d.buckets
    }
}
