import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

private let sec: Int64 = 1_000_000_000
private let t0: Int64 = 1_700_000_000 * sec + 123_456_789

private func rec(_ t: Int64, _ len: UInt32 = 100, _ label: ProtocolLabel = .tcp) -> PacketRecord {
    PacketRecord(timestampNs: t, length: len, captured: min(len, 64), label: label)
}

@Suite struct SeriesAnalyzerTests {
    @Test func binsAnchoredAtFirstPacketWithEdgesAndEmptyIntervals() {
        var a = SeriesAnalyzer(intervalNs: sec)
        a.add(rec(t0, 60))
        a.add(rec(t0 + sec / 2, 100))
        a.add(rec(t0 + sec, 1500))  // exactly on the edge: interval 1
        a.add(rec(t0 + 3 * sec - 1, 40))  // last nanosecond of interval 2
        a.add(rec(t0 + 5 * sec, 70))  // exactly 5 s after the first: interval 5 (tshark drops it; we keep it)
        let series = a.finish()
        #expect(series.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(series.map(\.packets) == [2, 1, 1, 0, 0, 1])
        #expect(series.map(\.bytes) == [160, 1500, 40, 0, 0, 70])
        #expect(series.map(\.startNs) == (0..<6).map { t0 + Int64($0) * sec })
        #expect(series.map(\.offsetNs) == (0..<6).map { Int64($0) * sec })
        #expect(series[0].minLength == 60 && series[0].maxLength == 100 && series[0].meanLength == 80)
        #expect(series[0].bitsPerSecond == 1280)
        #expect(series[3].isEmpty && series[3].minLength == 0 && series[3].meanLength == nil)
        #expect(series[0].capturedBytes == 60 + 64)
        #expect(a.anchorNs == t0)
        #expect(a.summary.packets == 5 && a.summary.latePackets == 0)
    }

    @Test func onePacketIsOneInterval() {
        var a = SeriesAnalyzer(intervalNs: sec)
        a.add(rec(t0, 1234, .udp))
        let series = a.finish()
        #expect(series.count == 1)
        #expect(series[0].index == 0 && series[0].startNs == t0 && series[0].packets == 1)
        #expect(series[0].minLength == 1234 && series[0].maxLength == 1234 && series[0].meanLength == 1234)
        #expect(series[0].protocolPackets[.udp] == 1)
    }

    @Test func noPacketsNoIntervals() {
        var a = SeriesAnalyzer(intervalNs: sec)
        #expect(a.finish().isEmpty)
        #expect(a.closeIntervals(through: t0).isEmpty)
        #expect(a.anchorNs == nil)
    }

    @Test func allPacketsAtOneTimestampGiveOneInterval() {
        var a = SeriesAnalyzer(intervalNs: sec)
        for _ in 0..<10 { a.add(rec(t0)) }
        let series = a.finish()
        #expect(series.count == 1 && series[0].packets == 10)
    }

    @Test func perProtocolSplit() {
        var a = SeriesAnalyzer(intervalNs: sec)
        a.add(rec(t0, 60, .tcp))
        a.add(rec(t0 + 1, 80, .udp))
        a.add(rec(t0 + 2, 1500, .tcp))
        a.add(rec(t0 + sec, 42, .arp))
        let s = a.finish()
        #expect(s[0].protocolPackets[.tcp] == 2 && s[0].protocolBytes[.tcp] == 1560)
        #expect(s[0].protocolPackets[.udp] == 1 && s[0].protocolBytes[.udp] == 80)
        #expect(s[0].protocolPackets[.arp] == 0)
        #expect(s[0].protocols == ProtocolSet([.tcp, .udp]))
        #expect(s[1].protocolPackets[.arp] == 1 && s[1].protocolBytes[.arp] == 42)
        #expect(a.protocolsSeen == ProtocolSet([.arp, .tcp, .udp]))
        #expect(a.summary.protocolBytes[.tcp] == 1560)
    }

    @Test func clockAlignment() {
        var a = SeriesAnalyzer(intervalNs: sec, align: .clock)
        a.add(rec(1_700_000_000 * sec + 700_000_000))
        a.add(rec(1_700_000_001 * sec + 200_000_000))
        a.add(rec(1_700_000_001 * sec))  // exactly on the wall-clock second, reordered but open
        let s = a.finish()
        #expect(a.anchorNs == 1_700_000_000 * sec)
        #expect(s.map(\.startNs) == [1_700_000_000 * sec, 1_700_000_001 * sec])
        #expect(s.map(\.packets) == [1, 2])

        var m = SeriesAnalyzer(intervalNs: 60 * sec, align: .clock)
        m.add(rec(1_700_000_039 * sec))
        #expect(m.finish()[0].startNs == 1_699_999_980 * sec)  // 1_700_000_039 rounded down to a minute

        var neg = SeriesAnalyzer(intervalNs: sec, align: .clock)
        neg.add(rec(-1_500_000_000))
        #expect(neg.anchorNs == -2 * sec)
    }

    @Test func outOfOrderInsideTheWindowIsCounted() {
        var a = SeriesAnalyzer(intervalNs: sec, windowIntervals: 4)
        a.add(rec(t0))
        a.add(rec(t0 + 3 * sec + 5))
        a.add(rec(t0 + sec + 5))  // interval 1 is still open
        let s = a.finish()
        #expect(s.map(\.packets) == [1, 1, 0, 1])
        #expect(a.summary.outOfOrder == 1 && a.summary.latePackets == 0)
    }

    @Test func earlierThanTheFirstPacketGoesIntoAnIntervalBeforeTheAnchor() {
        var a = SeriesAnalyzer(intervalNs: sec)
        a.add(rec(t0, 100))
        a.add(rec(t0 - 1, 77))
        a.add(rec(t0 - 3 * sec, 50))
        let s = a.finish()
        #expect(s.count == 1 && s[0].packets == 1)
        let late = a.takeLate()
        #expect(late.map(\.index) == [-3, -1])
        #expect(late.map(\.bytes) == [50, 77])
        #expect(late.map(\.startNs) == [t0 - 3 * sec, t0 - sec])
        #expect(a.summary.latePackets == 0 && a.lateIntervalCount == 0)
        #expect(a.summary.packets == 3 && a.summary.firstNs == t0 - 3 * sec)
    }

    @Test func earlierThanTheFirstPacketCountedLiveIsLateInTheRowBeingBuilt() {
        var a = SeriesAnalyzer(intervalNs: sec, late: .counted)
        a.add(rec(t0, 100))
        a.add(rec(t0 - 1, 77))
        let s = a.finish()
        #expect(s.count == 1 && s[0].packets == 1 && s[0].latePackets == 1)
        #expect(a.summary.latePackets == 1 && a.summary.lateBytes == 77)
        #expect(a.takeLate().isEmpty)
    }

    @Test func packetsForClosedIntervalsAreBinnedAside() {
        var a = SeriesAnalyzer(intervalNs: sec, windowIntervals: 2)
        a.add(rec(t0))
        a.add(rec(t0 + 5 * sec))  // closes intervals 0 ... 3
        a.add(rec(t0 + 2 * sec, 33))  // interval 2 is closed
        a.add(rec(t0 + 4 * sec + 1))  // interval 4 is still open
        var taken: [IntervalStats] = []
        a.takeClosed { taken.append($0) }
        #expect(taken.map(\.index) == [0])  // 1 ... 3 are empty: implicit
        #expect(a.closedBelow == 4)
        let rest = a.finish()
        #expect(rest.map(\.index) == [4, 5])
        #expect(rest.map(\.packets) == [1, 1])
        // After finish, intervals up to the last one are closed: an old packet goes aside too.
        a.add(rec(t0 + 5 * sec, 44))
        #expect(a.finish().isEmpty)
        let late = a.takeLate()
        #expect(late.map(\.index) == [2, 5] && late.map(\.bytes) == [33, 44])
        #expect(a.summary.latePackets == 0)
    }

    @Test func packetsForPrintedIntervalsAreCountedInTheRowBeingBuilt() {
        var a = SeriesAnalyzer(intervalNs: sec, late: .counted, windowIntervals: 2)
        a.add(rec(t0))
        a.add(rec(t0 + 5 * sec))  // closes intervals 0 ... 3
        a.add(rec(t0 + 2 * sec, 33))  // interval 2 is closed: late, into interval 4 (the oldest open)
        let rows = a.finish()
        #expect(rows.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(rows.map(\.packets) == [1, 0, 0, 0, 0, 1])
        #expect(rows.map(\.latePackets) == [0, 0, 0, 0, 1, 0])
        #expect(a.summary.latePackets == 1 && a.summary.lateBytes == 33)
    }

    @Test func liveClosingYieldsIntervalsAsTheyCompleteIncludingIdleOnes() {
        var a = SeriesAnalyzer(intervalNs: sec, start: t0, late: .counted)
        #expect(a.anchorNs == t0)
        #expect(a.closeIntervals(through: t0 + sec - 1).isEmpty)  // interval 0 not complete yet
        a.add(rec(t0 + 10))
        var rows = a.closeIntervals(through: t0 + sec)  // exactly the end of interval 0
        #expect(rows.map(\.index) == [0] && rows[0].packets == 1)
        rows = a.closeIntervals(through: t0 + 3 * sec + 500)  // idle: two empty intervals
        #expect(rows.map(\.index) == [1, 2] && rows.allSatisfy(\.isEmpty))
        a.add(rec(t0 + 2 * sec))  // interval 2 already printed: late
        a.add(rec(t0 + 3 * sec + 1))
        #expect(a.summary.latePackets == 1)
        rows = a.finish()
        #expect(rows.map(\.index) == [3] && rows[0].packets == 1 && rows[0].latePackets == 1)
        // Before any packet, with no start, nothing can close.
        var b = SeriesAnalyzer(intervalNs: sec)
        #expect(b.closeIntervals(through: t0).isEmpty)
    }

    @Test func liveStartBeforeTheFirstPacketGivesLeadingEmptyIntervals() {
        var a = SeriesAnalyzer(intervalNs: sec, start: t0)
        a.add(rec(t0 + 2 * sec + 1))
        #expect(a.finish().map(\.packets) == [0, 0, 1])
    }

    @Test func dropsGoIntoTheOpenInterval() {
        var a = SeriesAnalyzer(intervalNs: sec, start: t0)
        a.add(rec(t0))
        a.recordDrops(cumulative: DropCounters(kernel: 3, interface: 0, ring: 1), atTimeNs: t0 + 10)
        _ = a.closeIntervals(through: t0 + sec)
        a.recordDrops(cumulative: DropCounters(kernel: 5, interface: 1, ring: 1), atTimeNs: t0 + sec + 10)
        let rows = a.closeIntervals(through: t0 + 2 * sec)
        #expect(rows.map(\.drops) == [DropCounters(kernel: 2, interface: 1, ring: 0)])
        #expect(a.summary.drops == DropCounters(kernel: 5, interface: 1, ring: 1))
        // The first interval carried the first increase.
        var b = SeriesAnalyzer(intervalNs: sec, start: t0)
        b.recordDrops(cumulative: DropCounters(kernel: 4), atTimeNs: t0 + 1)
        #expect(b.finish().map(\.drops.kernel) == [4])
    }

    @Test func batchesEqualSingleAdds() {
        let records = (0..<1000).map { i in
            rec(t0 + Int64(i) * 7_000_000, UInt32(40 + i % 1400), ProtocolLabel.allCases[i % 17])
        }
        var one = SeriesAnalyzer(intervalNs: 100_000_000)
        for r in records { one.add(r) }
        var batch = SeriesAnalyzer(intervalNs: 100_000_000)
        records.withUnsafeBufferPointer { batch.add($0) }
        var array = SeriesAnalyzer(intervalNs: 100_000_000)
        array.add(contentsOf: records)
        let s1 = one.finish()
        #expect(s1 == batch.finish())
        #expect(s1 == array.finish())
        #expect(s1.count == 70)
        #expect(s1.reduce(0) { $0 + $1.packets } == 1000)
        #expect(one.summary == batch.summary)
    }

    @Test func backlogStaysBoundedWhenTakenAfterEachBatch() {
        // 1,000,000 packets over 100,000 intervals of 1 ms, taken after each batch of 10,000.
        var a = SeriesAnalyzer(intervalNs: 1_000_000)
        var batch: [PacketRecord] = []
        batch.reserveCapacity(10_000)
        var intervals = 0
        var packets: UInt64 = 0
        var lastIndex: Int64 = -1
        var ordered = true  // every interval holds packets here, so none is skipped
        for i in 0..<1_000_000 {
            batch.append(rec(t0 + Int64(i) * 100_000, 60))
            if batch.count == 10_000 {
                a.add(contentsOf: batch)
                batch.removeAll(keepingCapacity: true)
                a.takeClosed { s in
                    intervals += 1
                    packets += s.packets
                    if s.index != lastIndex + 1 { ordered = false }
                    lastIndex = s.index
                }
            }
        }
        a.finish { s in
            intervals += 1
            packets += s.packets
            if s.index != lastIndex + 1 { ordered = false }
            lastIndex = s.index
        }
        #expect(intervals == 100_000 && packets == 1_000_000 && ordered)
    }

    @Test func longGapsAreNeverVisited() {
        // 65 days of empty 1 µs intervals (5.6 * 10^12) between three packets: only the three
        // intervals that hold packets come out, at once; the gap is `closedBelow`.
        var a = SeriesAnalyzer(intervalNs: 1_000)
        let gap: Int64 = 65 * 86_400 * sec
        a.add(rec(t0))
        a.add(rec(t0 + gap))
        a.add(rec(t0 + 2 * gap))
        var out: [IntervalStats] = []
        a.takeClosed { out.append($0) }
        a.finish { out.append($0) }
        #expect(out.map(\.index) == [0, gap / 1_000, 2 * gap / 1_000])
        #expect(a.closedBelow == 2 * gap / 1_000 + 1)
    }

    @Test func absurdTimestampsNeverCrashOrExplode() {
        var a = SeriesAnalyzer(intervalNs: sec)
        a.add(rec(t0))
        a.add(rec(.max))
        a.add(rec(.min))
        a.add(rec(0))
        a.add(rec(t0 + 1))
        var s: [IntervalStats] = []
        a.finish { s.append($0) }  // sparse: the gap to .max is never visited
        #expect(s.map(\.packets) == [1, 1])
        #expect(a.summary.beyondLimitPackets == 1)  // .min: its offset does not fit in 64 bits
        // 0 is before the anchor; t0 + 1 is in interval 0, closed by the window moving to .max.
        #expect(a.takeLate().map(\.index) == [-t0 / sec - 1, 0])
        #expect(a.summary.packets == 5)

        var b = SeriesAnalyzer(intervalNs: sec, align: .clock)
        b.add(rec(.min))
        b.add(rec(.max))
        b.add(rec(.min + 1))
        var n = 0
        b.finish { _ in n += 1 }
        #expect(n == 1)

        var c = SeriesAnalyzer(intervalNs: .max)
        c.add(rec(.min))
        c.add(rec(.max))
        #expect(c.finish().count >= 1)
        _ = c.closeIntervals(through: .max)
        _ = c.closeIntervals(through: .min)
    }
}
