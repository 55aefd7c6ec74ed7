import PacketRecords
import PacketWire
import TestSupport
import Testing

@testable import TrafficAnalysis

private let sec: Int64 = 1_000_000_000
private let t0: Int64 = 1_700_000_000 * sec

private func rec(_ t: Int64, _ len: UInt32, _ label: ProtocolLabel = .tcp) -> PacketRecord {
    PacketRecord(timestampNs: t, length: len, captured: min(len, 96), label: label)
}

@Suite struct ChartBufferTests {
    @Test func smallCapturesAreExact() {
        var c = ChartBuffer(exactLimit: 10)
        for i in 0..<10 { c.add(rec(t0 + Int64(i) * sec, UInt32(100 + i), i % 2 == 0 ? .tcp : .udp)) }
        #expect(c.isExact)
        let marks = c.pointMarks(fromNs: t0, toNs: t0 + 10 * sec, xColumns: 100, yMax: 200, yRows: 100, maxMarks: 5)
        #expect(marks.count == 10)  // exact marks ignore the budget: there are at most exactLimit
        #expect(marks.allSatisfy { $0.low == $0.high && $0.count == 1 })
        #expect(marks.prefix(5).allSatisfy { $0.label == .tcp })
        c.add(rec(t0 + 11 * sec, 60))
        #expect(!c.isExact)
        #expect(c.packets == 11 && c.firstNs == t0 && c.lastNs == t0 + 11 * sec && c.maxLength == 109)
        #expect(c.protocolPackets[.tcp] == 6)
    }

    @Test func reducedMarksCoverEveryPacket() {
        var c = ChartBuffer(columns: 64, exactLimit: 0)
        var rng = SplitMix(state: 3)
        var lengths: [UInt32] = []
        for i in 0..<100_000 {
            let len = UInt32(40 + rng.next() % 1500)
            lengths.append(len)
            c.add(rec(t0 + Int64(i) * 10_000, len, .udp))
        }
        #expect(c.columnNs >= 1)
        let marks = c.pointMarks(fromNs: t0, toNs: t0 + sec, xColumns: 32, yMax: 1600, yRows: 160, maxMarks: 100_000)
        #expect(marks.reduce(0) { $0 + $1.count } == 100_000)
        #expect(marks.map(\.low).min() == lengths.min() && marks.map(\.high).max() == lengths.max())
        // Dense random sizes: one run per column.
        #expect(marks.count == 32)
        let coarse = c.pointMarks(fromNs: t0, toNs: t0 + sec, xColumns: 32, yMax: 1600, yRows: 160, maxMarks: 10)
        #expect(coarse.count == 32 && coarse.reduce(0) { $0 + $1.count } == 100_000)
    }

    @Test func gapsBetweenSizesAreKept() {
        var c = ChartBuffer(columns: 16, exactLimit: 0)
        for i in 0..<1000 { c.add(rec(t0 + Int64(i), i % 2 == 0 ? 64 : 1500)) }
        let marks = c.pointMarks(fromNs: t0, toNs: t0 + 1000, xColumns: 1, yMax: 1600, yRows: 300, maxMarks: 100)
        #expect(marks.count == 2)  // two separate runs: 64 and 1500, nothing painted between
        // Runs are length rows (8 bytes wide here) clipped to the column's smallest and largest length.
        #expect(marks[0].low == 64 && marks[0].high < 72)
        #expect(marks[1].low > 1490 && marks[1].high == 1500)
    }

    @Test func outOfOrderAndHugeSpansStayBounded() {
        var c = ChartBuffer(columns: 32, exactLimit: 0)
        c.add(rec(t0, 100))
        for i in 1...1000 { c.add(rec(t0 - Int64(i) * 1_000_000, 200)) }  // going backwards
        c.add(rec(t0 + 3600 * sec, 300))
        c.add(rec(.max, 400))
        c.add(rec(.min, 500))
        c.add(rec(0, UInt32.max))
        #expect(c.packets == 1005)
        let marks = c.pointMarks(
            fromNs: c.firstNs, toNs: c.lastNs, xColumns: 10, yMax: Double(UInt32.max), yRows: 10, maxMarks: 1000)
        #expect(marks.reduce(0) { $0 + $1.count } == 1005)
    }

    /// One interval of `bytes` at `index` (1 s intervals from t0).
    private func interval(_ index: Int64, _ bytes: UInt64, intervalNs: Int64 = sec) -> IntervalStats {
        var s = IntervalStats(index: index, startNs: t0 + index * intervalNs, intervalNs: intervalNs)
        s.tally.count(length: UInt32(bytes), captured: 0, label: .udp)
        return s
    }

    @Test func missingIntervalsAreZeros() {
        var c = ChartBuffer()
        for (i, b) in [(0, 100), (1, 200), (5, 300)] as [(Int64, UInt64)] { c.add(interval: interval(i, b)) }
        let line = c.line()
        #expect(line.intervalsPerBin == 1 && line.binNs == sec)
        #expect(line.points.map(\.bytes) == [100, 200, 0, 0, 0, 300])
        #expect(line.points.map(\.timeNs) == (0..<6).map { t0 + $0 * sec + sec / 2 })
    }

    @Test func aWeekOfOneSecondIntervalsStaysBoundedAndKeepsTheBytes() {
        var c = ChartBuffer()
        var total: UInt64 = 0
        // Every 97th second of a week holds packets; the others are never handed over.
        for i in stride(from: Int64(0), to: 7 * 86_400, by: 97) {
            c.add(interval: interval(i, UInt64(1000 + i % 500)))
            total += UInt64(1000 + i % 500)
        }
        #expect(c.lineBins.sums.count <= c.lineBins.maxBins)
        let line = c.line()
        #expect(line.points.count <= 1000)
        #expect(line.intervalsPerBin == 1000)  // 1, 2, 5, 10, ... the first with at most 1,000 bins
        #expect(line.binNs == 1000 * sec)
        let sum = line.points.reduce(0.0) { $0 + $1.bytes } * Double(line.intervalsPerBin)
        #expect(abs(sum - Double(total)) < 1)
    }

    @Test func autoPicksARoundIntervalForAtMostAThousandPoints() {
        var c = ChartBuffer(line: .auto)
        var total: UInt64 = 0
        for i in stride(from: Int64(0), to: 7 * 86_400, by: 10) {
            c.add(rec(t0 + i * sec, 500))
            total += 500
        }
        #expect(c.lineBins.sums.count <= c.lineBins.maxBins)
        let line = c.line()
        #expect(line.binNs == 900 * sec)  // 10 min gives 1,009 bins; 15 min gives 673
        #expect(line.points.count <= 1000 && line.points.count >= 600)
        #expect(line.intervalNs == 0)
        // Whole bins hold 90 packets; bins at the ends are scaled, not low.
        #expect(line.points.filter { !$0.scaled }.allSatisfy { $0.bytes == 90 * 500 })
        #expect(line.points.filter(\.scaled).allSatisfy { abs($0.bytes - 45_000) <= 45_000 * 0.15 })
        // Short captures get fine round bins: 2 s of packets every ms → 2 ms... 5 ms bins.
        var short = ChartBuffer(line: .auto)
        for i in 0..<2000 { short.add(rec(t0 + Int64(i) * 1_000_000, 100)) }
        let fine = short.line()
        #expect(fine.binNs == 2_000_000 && fine.points.count <= 1000)
    }

    @Test func aSparseCaptureGetsNoMoreBinsThanPackets() {
        var c = ChartBuffer(line: .auto)
        for i in 0..<33 { c.add(rec(t0 + Int64(i) * 250_000_000, 60)) }  // 8 s, a packet each 250 ms
        let line = c.line()
        // 17 bins of 500 ms; the last holds one packet at its start and is merged into the 16th.
        #expect(line.binNs == 500_000_000 && line.points.count == 16)
    }

    @Test func aPartialLastIntervalIsARateNotADrop() throws {
        // 1,000 bytes every 10 ms for 10.7 s: 100,000 bytes in each whole second.
        var a = SeriesAnalyzer(intervalNs: sec)
        var c = ChartBuffer()
        for i in 0..<1070 {
            let r = rec(t0 + Int64(i) * 10_000_000, 1000)
            a.add(r)
            c.add(r)
        }
        a.finish { c.add(interval: $0) }
        let line = c.line()
        #expect(line.points.count == 11)
        #expect(line.points.dropLast().allSatisfy { $0.bytes == 100_000 && !$0.scaled })
        let last = try #require(line.points.last)
        #expect(last.scaled)
        #expect(abs(last.bytes - 100_000) < 100_000 * 0.03, "last interval drawn at \(last.bytes)")

        // A sliver (50 ms of the last second) is merged with the second before it.
        var c2 = ChartBuffer(line: .auto)
        for i in 0..<1005 { c2.add(rec(t0 + Int64(i) * 10_000_000, 1000)) }
        let l2 = c2.line(maxPoints: 12)
        #expect(l2.binNs == sec)
        let tail = try #require(l2.points.last)
        #expect(tail.scaled && abs(tail.bytes - 100_000) < 100_000 * 0.03, "tail drawn at \(tail.bytes)")
    }

    @Test func lengthHistogram() {
        var c = ChartBuffer()
        for i in 0..<1000 { c.add(rec(t0 + Int64(i), UInt32(60 + i % 1400))) }
        for _ in 0..<3 { c.add(rec(t0, 32_768)) }
        c.add(rec(t0, 100_000))
        #expect(c.packets(longerThan: 1514) == 4)
        #expect(c.packets(longerThan: 32_767) == 4 && c.packets(longerThan: 32_768) == 1)
        #expect(c.length(atFraction: 0.5) == 60 + 501)  // the 502nd of 1,004
        #expect(c.length(atFraction: 1) == 100_000)
    }

    @Test func autoLineSurvivesAbsurdTimestamps() {
        var c = ChartBuffer(line: .auto)
        c.add(rec(.max, 400))
        c.add(rec(.min, 500))
        c.add(rec(0, 600))
        for i in 1...1000 { c.add(rec(t0 - Int64(i) * 1_000_000, 200)) }
        #expect(c.lineBins.sums.count <= c.lineBins.maxBins)
        let line = c.line()
        #expect(line.points.count <= 1000)
        #expect(line.points.allSatisfy { $0.bytes.isFinite })
    }

    @Test func autoLineTakesPacketsInReverseOrder() {
        var c = ChartBuffer(line: .auto)
        for i in (0..<200_000).reversed() { c.add(rec(t0 + Int64(i) * 1_000_000, 100)) }
        #expect(c.lineBins.sums.count <= c.lineBins.maxBins)
        let line = c.line()
        #expect(line.binNs == 200_000_000 && line.points.count == 1000)
        // No spare bins drawn in front: every bin holds its 200 packets (the last one, which ends a
        // packet gap before its end, scaled by 200 / 199).
        #expect(line.points.dropLast().allSatisfy { $0.bytes == 20_000 && !$0.scaled })
        #expect(line.points.last.map { $0.scaled && abs($0.bytes - 20_000) < 200 } == true)
    }

    @Test func foldPairs() {
        #expect(ChartBuffer.foldPairs(0b1001_0110) == 0b1111)
        #expect(ChartBuffer.foldPairs(0b0000_0011) == 0b1)
        #expect(ChartBuffer.foldPairs(UInt64.max) == 0xFFFF_FFFF)
        #expect(ChartBuffer.foldPairs(1 << 63) == 1 << 31)
    }
}
