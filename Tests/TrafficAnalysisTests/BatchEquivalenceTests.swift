import PacketRecords
import PacketWire
import TestSupport
import Testing
import TrafficAnalysis

/// `SeriesAnalyzer.add(batch)` tallies runs of in-order packets of one interval before counting
/// them; these tests check it gives exactly what adding the same records one by one gives, on
/// streams made to hit every branch: runs that cross interval edges, packets going backwards
/// (into an open interval, into a closed one, before the anchor), gaps of empty intervals, a
/// timestamp too far to be binned, and batches cut at arbitrary places; with late packets binned
/// aside (files) and counted in the row being built (live).
@Suite struct BatchEquivalenceTests {
    static func stream(seed: UInt64, count: Int, intervalNs: Int64) -> [PacketRecord] {
        var rng = SplitMix(state: seed)
        var t: Int64 = 1_700_000_000_000_000_000
        var out: [PacketRecord] = []
        for _ in 0..<count {
            var stamp: Int64? = nil  // a one-off time that does not move the stream on
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<80: t += Int64.random(in: 0...(intervalNs / 8), using: &rng)  // same or next interval
            case 80..<88: t -= Int64.random(in: 0...(intervalNs / 2), using: &rng)  // small reordering
            case 88..<92:
                // late, or before the anchor
                stamp = t - Int64.random(in: 0...(intervalNs * 40), using: &rng)
            case 92..<98: t += Int64.random(in: 0...(intervalNs * 30), using: &rng)  // a gap
            case 98: stamp = Int64.min + Int64.random(in: 0...1000, using: &rng)  // too far: not binned
            default: break  // the same timestamp again
            }
            let len = UInt32.random(in: 0...9000, using: &rng)
            let label = ProtocolLabel.allCases.randomElement(using: &rng)!
            out.append(PacketRecord(timestampNs: stamp ?? t, length: len, captured: min(len, 96), label: label))
        }
        return out
    }

    /// Adds `records` to a fresh analyzer in batches whose sizes `cut` picks (or, with `cut` nil,
    /// one by one with `add(_: PacketRecord)`), taking the closed intervals after each batch, and
    /// returns what came out.
    static func run(
        _ records: [PacketRecord], intervalNs: Int64, window: Int, cut: ((Int) -> Int)?,
        late: SeriesAnalyzer.LatePackets = .binned
    ) -> (summary: Summary, intervals: [IntervalStats], late: [IntervalStats]) {
        var a = SeriesAnalyzer(intervalNs: intervalNs, late: late, windowIntervals: window)
        var out: [IntervalStats] = []
        guard let cut else {
            for r in records {
                a.add(r)
                a.takeClosed { out.append($0) }
            }
            a.finish { out.append($0) }
            return (a.summary, out, a.takeLate())
        }
        records.withUnsafeBufferPointer { all in
            var i = 0
            var b = 0
            while i < all.count {
                let n = max(1, min(cut(b), all.count - i))
                a.add(UnsafeBufferPointer(rebasing: all[i..<(i + n)]))
                a.takeClosed { out.append($0) }
                i += n
                b += 1
            }
        }
        a.finish { out.append($0) }
        return (a.summary, out, a.takeLate())
    }

    @Test(arguments: [(UInt64(1), Int64(1_000_000_000), 8), (2, 1_000_000, 3), (3, 250_000_000, 1), (4, 7, 16)])
    func batchesCountExactlyLikeSingleRecords(seed: UInt64, intervalNs: Int64, window: Int) {
        let records = Self.stream(seed: seed, count: 20_000, intervalNs: intervalNs)
        for late in [SeriesAnalyzer.LatePackets.binned, .counted] {
            check(records, seed: seed, intervalNs: intervalNs, window: window, late: late)
        }
    }

    func check(
        _ records: [PacketRecord], seed: UInt64, intervalNs: Int64, window: Int, late: SeriesAnalyzer.LatePackets
    ) {
        let single = Self.run(records, intervalNs: intervalNs, window: window, cut: nil, late: late)
        let ones = Self.run(records, intervalNs: intervalNs, window: window, cut: { _ in 1 }, late: late)
        var rng = SplitMix(state: seed &* 31)
        let sizes = (0..<records.count).map { _ in Int.random(in: 1...700, using: &rng) }
        let batched = Self.run(records, intervalNs: intervalNs, window: window, cut: { sizes[$0] }, late: late)
        let whole = Self.run(records, intervalNs: intervalNs, window: window, cut: { _ in records.count }, late: late)

        // The stream really exercises the paths the tally has to agree with.
        #expect(single.summary.outOfOrder > 100)
        #expect(single.summary.beyondLimitPackets > 0)
        let allHold = single.intervals.allSatisfy { $0.holdsSomething }
        #expect(allHold)
        let indices = single.intervals.map(\.index)
        #expect(indices == indices.sorted() && Set(indices).count == indices.count)
        // Every packet is somewhere: in an interval, aside as late, counted late, or too far to bin.
        let binned = (single.intervals + single.late).reduce(0) { $0 + $1.packets }
        #expect(binned + single.summary.latePackets + single.summary.beyondLimitPackets == UInt64(records.count))
        if late == .binned {
            #expect(single.late.count > 10 && single.summary.latePackets == 0)
        } else {
            #expect(single.late.isEmpty && single.summary.latePackets > 10)
            let counted = single.intervals.reduce(0) { $0 + $1.latePackets }
            #expect(counted == single.summary.latePackets)
        }

        #expect(ones.summary == single.summary)
        #expect(ones.intervals == single.intervals)
        #expect(batched.summary == single.summary)
        #expect(whole.summary == single.summary)
        #expect(batched.intervals == single.intervals)
        #expect(whole.intervals == single.intervals)
        #expect(ones.late == single.late && batched.late == single.late && whole.late == single.late)
    }
}
