import Foundation
import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

private let sec: Int64 = 1_000_000_000
private let t0: Int64 = 1_700_000_000 * sec

private func rec(_ t: Int64, _ len: UInt32 = 100, _ label: ProtocolLabel = .udp) -> PacketRecord {
    PacketRecord(timestampNs: t, length: len, captured: min(len, 64), label: label)
}

/// Feeds `records` to `session` in batches of `batch`.
private func feed(_ session: inout SeriesSession, _ records: [PacketRecord], batch: Int = 64) {
    records.withUnsafeBufferPointer { all in
        var i = 0
        while i < all.count {
            let n = min(batch, all.count - i)
            session.add(UnsafeBufferPointer(rebasing: all[i..<(i + n)]))
            i += n
        }
    }
}

/// Every row `forEachInterval` hands out.
private func rows(_ session: SeriesSession) throws -> [IntervalStats] {
    var out: [IntervalStats] = []
    try session.forEachInterval { out.append($0) }
    return out
}

@Suite struct SeriesSessionTests {
    /// A file session whose store holds 4 intervals in memory: 200 intervals with packets go to the
    /// temporary file in runs, then late packets (for intervals now in the file, and before the
    /// anchor) are merged back while the rows stream out, and every packet is in its own interval.
    @Test func lateAndSpilledIntervalsMergeIntoTheRightRows() throws {
        var s = SeriesSession(
            intervalNs: sec, align: .first, late: .binned, keepChart: false, keepIntervals: true, memoryLimit: 4)
        // Packets in every other interval 0, 2, ..., 398; then late ones into 10, 11 and -2.
        var records = (0..<200).map { rec(t0 + Int64($0) * 2 * sec + 5, 100) }
        records += [rec(t0 + 10 * sec + 7, 1000), rec(t0 + 11 * sec + 5, 2000), rec(t0 - 2 * sec + 5, 3000)]
        records.append(rec(t0 + 398 * sec + 9, 100))  // in order again: the last interval
        feed(&s, records, batch: 7)
        s.finish()
        #expect(s.stored.spilledCount >= 196 && s.stored.inMemoryCount <= 4)
        #expect(s.spillProblem == nil)
        #expect(s.intervalRange == -2...398)
        #expect(s.rowCount == 401)
        let all = try rows(s)
        #expect(all.map(\.index) == Array(-2...398))
        #expect(all.reduce(0) { $0 + $1.packets } == UInt64(records.count))
        let byIndex = Dictionary(uniqueKeysWithValues: all.map { ($0.index, $0) })
        #expect(byIndex[10]?.packets == 2 && byIndex[10]?.bytes == 1100 && byIndex[10]?.maxLength == 1000)
        #expect(byIndex[11]?.packets == 1 && byIndex[11]?.bytes == 2000)
        #expect(byIndex[-2]?.packets == 1 && byIndex[-2]?.startNs == t0 + 5 - 2 * sec)
        #expect(byIndex[-1]?.isEmpty == true && byIndex[1]?.isEmpty == true)
        #expect(byIndex[398]?.packets == 2)
        #expect(all.allSatisfy { $0.startNs == t0 + 5 + $0.index * sec })
        // Rows can be streamed again (the file is read back, not consumed).
        #expect(try rows(s) == all)
        #expect(s.analyzer.summary.latePackets == 0)
    }

    /// A capture that runs backwards (as after `mergecap -a` of two files, or `cat` of two pcaps):
    /// every packet is late. With a 4-interval memory limit the late intervals go to temporary
    /// files in sorted runs, 16 runs of a level merge into one, and the rows still hold every packet
    /// in its own interval, twice-counted intervals added up.
    @Test func backwardsCaptureSpillsItsLateIntervalsInRuns() throws {
        var s = SeriesSession(
            intervalNs: sec, align: .first, late: .binned, keepChart: true, keepIntervals: true, memoryLimit: 4)
        var records = [rec(t0 + 1000 * sec, 10)]
        records += (0..<1000).map { rec(t0 + Int64(999 - $0) * sec + 1, 100) }
        records += (0..<50).map { rec(t0 + Int64($0) * 20 * sec + 2, 1000) }  // again: same intervals
        feed(&s, records, batch: 3)
        s.finish()
        #expect(s.lateRuns.contains { $0.level >= 1 })
        #expect(Dictionary(grouping: s.lateRuns, by: \.level).values.allSatisfy { $0.count < 16 })
        #expect(s.lateRuns.allSatisfy { $0.store.inMemoryCount == 0 && $0.store.spilledCount > 0 })
        #expect(s.spillProblem == nil)
        let all = try rows(s)
        // The first packet is the anchor: the others are 1 to 1000 intervals before it.
        #expect(all.map(\.index) == Array(-1000...0))
        #expect(all.reduce(0) { $0 + $1.packets } == UInt64(records.count))
        let wrong = all.filter { row in
            let second = row.index + 1000
            let again: UInt64 = second % 20 == 0 && second < 1000 ? 1 : 0
            let bytes: UInt64 = second == 1000 ? 10 : 100 + again * 1000
            return row.packets != (second == 1000 ? 1 : 1 + again) || row.bytes != bytes
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(3).map { ($0.index, $0.packets, $0.bytes) })")
        #expect(s.chart.intervals == 1001)
    }

    /// Two packets 65 days apart at 1 s: rows are a count until written; a summary-only session
    /// keeps nothing, and the chart sees only the two intervals that hold packets.
    @Test func emptyRunsAreGeneratedNotStored() throws {
        let gap: Int64 = 65 * 86_400
        var s = SeriesSession(intervalNs: sec, align: .first, late: .binned, keepChart: true, keepIntervals: true)
        feed(&s, [rec(t0), rec(t0 + gap * sec + 1)])
        s.finish()
        #expect(s.stored.count == 2 && s.stored.spilledCount == 0)
        #expect(s.rowCount == UInt64(gap) + 1)
        #expect(s.chart.intervals == 2)
        var n: Int64 = 0
        var packets: UInt64 = 0
        var ordered = true
        try s.forEachInterval { row in
            if row.index != n { ordered = false }
            n += 1
            packets += row.packets
        }
        #expect(n == gap + 1 && packets == 2 && ordered)

        var summaryOnly = SeriesSession(
            intervalNs: sec, align: .first, late: .binned, keepChart: false, keepIntervals: false)
        feed(&summaryOnly, [rec(t0), rec(t0 + gap * sec + 1), rec(t0 + 5)])
        summaryOnly.finish()
        #expect(summaryOnly.stored.count == 0 && summaryOnly.analyzer.summary.packets == 3)
    }

    /// Live: rows come out as their interval closes, idle ones with zeros; a packet for a row
    /// already printed is counted in `late_packets` of the row being built, and in the summary.
    @Test func liveLatePacketsAreCountedInTheRowBeingBuilt() {
        var s = SeriesSession(
            intervalNs: sec, align: .first, start: t0, late: .counted, keepChart: true, keepIntervals: false)
        var printed: [IntervalStats] = []
        feed(&s, [rec(t0 + 1, 60), rec(t0 + sec / 2, 70)])
        s.close(through: t0 + 3 * sec) { printed.append($0) }  // rows 0, 1, 2 printed
        #expect(printed.map(\.index) == [0, 1, 2] && printed.map(\.packets) == [2, 0, 0])
        feed(&s, [rec(t0 + sec + 3, 80), rec(t0 + 3 * sec + 1, 90)])  // row 1 is printed: late
        s.collect { printed.append($0) }
        s.finish { printed.append($0) }
        #expect(printed.map(\.index) == [0, 1, 2, 3])
        #expect(printed[3].packets == 1 && printed[3].latePackets == 1 && printed[3].bytes == 90)
        #expect(s.analyzer.summary.latePackets == 1 && s.analyzer.summary.lateBytes == 80)
        #expect(s.analyzer.summary.packets == 4)
        #expect(s.chart.intervals == 2)  // rows 0 and 3 hold something; 1 and 2 are implicit zeros
    }

    @Test func storeSpillsInRunsAndReadsBackInOrder() throws {
        let store = IntervalStore(memoryLimit: 3)
        for k in stride(from: Int64(0), to: 20, by: 2) {
            var s = IntervalStats(index: k, startNs: t0 + k * sec, intervalNs: sec)
            s.count(length: UInt32(k + 40), captured: 40, label: .tcp)
            store.append(s)
        }
        #expect(store.count == 10 && store.spilledCount == 9 && store.inMemoryCount == 1)
        var seen: [Int64] = []
        try store.forEach { seen.append($0.index) }
        #expect(seen == Array(stride(from: Int64(0), to: 20, by: 2)))
        var bytes: [UInt64] = []
        try store.forEach { bytes.append($0.bytes) }
        #expect(bytes == seen.map { UInt64($0 + 40) })
    }

    /// A temporary folder that does not exist: the intervals stay in memory and the problem is a
    /// value the caller shows; the rows are complete anyway.
    @Test func spillProblemIsReturnedNotPrinted() throws {
        let store = IntervalStore(memoryLimit: 2, directory: "/nonexistent-pktstat-\(getpid())")
        for k in Int64(0)..<5 { store.append(IntervalStats(index: k, startNs: k, intervalNs: 1)) }
        #expect(store.spillProblem?.contains("cannot create a temporary file in /nonexistent-pktstat") == true)
        #expect(store.spilledCount == 0 && store.count == 5)
        var n = 0
        try store.forEach { _ in n += 1 }
        #expect(n == 5)
    }

    @Test func fillerMakesEmptyRowsBetweenTheOnesThatHoldSomething() {
        var f = IntervalFiller(anchorNs: t0, intervalNs: sec, from: -1)
        var out: [IntervalStats] = []
        var a = IntervalStats(index: 2, startNs: t0 + 2 * sec, intervalNs: sec)
        a.count(length: 10, captured: 10, label: .arp)
        f.emit(a) { out.append($0) }
        f.emit(a) { out.append($0) }  // already handed out: skipped
        f.fill(upTo: 5) { out.append($0) }
        #expect(out.map(\.index) == [-1, 0, 1, 2, 3, 4])
        #expect(out.map(\.packets) == [0, 0, 0, 1, 0, 0])
        #expect(out.map(\.startNs) == (-1...4).map { t0 + $0 * sec })
        #expect(IntervalFiller.empty(index: .max / 2, anchorNs: t0, intervalNs: sec).startNs == .max)
    }
}
