/// Makes the rows of a series from the intervals that hold something: hands out every interval in
/// order, making the empty ones between them on the fly. A run of empty intervals is a count here,
/// never stored, so printing a 65-day gap at 1 s costs the rows written and nothing else.
public struct IntervalFiller: Sendable {
    public let anchorNs: Int64
    public let intervalNs: Int64
    /// The next interval to hand out.
    public private(set) var next: Int64

    public init(anchorNs: Int64, intervalNs: Int64, from first: Int64 = 0) {
        self.anchorNs = anchorNs
        self.intervalNs = intervalNs
        self.next = first
    }

    /// Hands out the empty intervals from `next` up to, not including, `index`.
    public mutating func fill(upTo index: Int64, _ body: (IntervalStats) throws -> Void) rethrows {
        while next < index {
            let k = next
            next += 1
            try body(Self.empty(index: k, anchorNs: anchorNs, intervalNs: intervalNs))
        }
    }

    /// Hands out the empty intervals before `s`, then `s` (skipped if it is before `next`).
    public mutating func emit(_ s: IntervalStats, _ body: (IntervalStats) throws -> Void) rethrows {
        guard s.index >= next else { return }
        try fill(upTo: s.index, body)
        next = s.index + 1
        try body(s)
    }

    /// Interval `k` with nothing in it; its start saturates at `Int64.max`/`min`.
    public static func empty(index k: Int64, anchorNs: Int64, intervalNs: Int64) -> IntervalStats {
        let (off, o1) = k.multipliedReportingOverflow(by: intervalNs)
        let (start, o2) = anchorNs.addingReportingOverflow(off)
        let saturated: Int64 = k < 0 ? .min : .max
        return IntervalStats(index: k, startNs: (o1 || o2) ? saturated : start, intervalNs: intervalNs)
    }
}
