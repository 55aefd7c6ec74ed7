import PacketRecords
import PacketWire
@testable import TrafficAnalysis
import TestSupport
import Testing

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
        let marks = c.pointMarks(fromNs: c.firstNs, toNs: c.lastNs, xColumns: 10, yMax: Double(UInt32.max), yRows: 10, maxMarks: 1000)
        #expect(marks.reduce(0) { $0 + $1.count } == 1005)
    }

    @Test func lineKeepsPeaks() {
        var c = ChartBuffer(columns: 8, exactLimit: 0)
        var a = SeriesAnalyzer(intervalNs: sec / 100)
        for i in 0..<1000 { a.add(rec(t0 + Int64(i) * sec / 100, i == 500 ? 9000 : 100)) }
        a.finish { c.add(interval: $0) }
        #expect(c.intervals == 1000 && c.maxIntervalBytes == 9000)
        let points = c.linePoints(fromNs: t0, toNs: t0 + 10 * sec, xColumns: 4)
        #expect(points.contains { $0.bytes == 9000 })
        #expect(points.count <= 4 * 4)
    }

    @Test func foldPairs() {
        #expect(ChartBuffer.foldPairs(0b1001_0110) == 0b1111)
        #expect(ChartBuffer.foldPairs(0b0000_0011) == 0b1)
        #expect(ChartBuffer.foldPairs(UInt64.max) == 0xFFFF_FFFF)
        #expect(ChartBuffer.foldPairs(1 << 63) == 1 << 31)
    }
}
