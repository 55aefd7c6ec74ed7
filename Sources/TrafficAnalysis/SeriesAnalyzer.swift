public import PacketRecords
import PacketWire

/// Turns a stream of records into a series of fixed-length intervals and a whole-capture summary.
/// Pure: no I/O, no clock, no threads. Feed it records (one by one or in the ring's batches), take
/// the intervals that are complete, print them, repeat.
///
/// **Bins.** Interval `k` covers `[anchor + k*interval, anchor + (k+1)*interval)`. With
/// `.first` alignment the anchor is the first packet's timestamp (as `tshark -z io,stat` and
/// Wireshark do), so a packet exactly `interval` after the first one opens interval 1. With
/// `.clock` the anchor is the first timestamp rounded down to a multiple of the interval since
/// the Unix epoch (whole seconds, whole minutes, ...). `start` (live capture) anchors the series at
/// the capture start instead of the first packet, so idle intervals before the first packet appear
/// too. Every interval between the first and the last one is handed out, empty ones with zeros.
///
/// **Open window and out-of-order packets.** Only the newest `windowIntervals` intervals are open.
/// A packet for an interval beyond the window closes the oldest ones. A packet whose timestamp is
/// earlier than the packets before it is counted into its interval if that interval is still open
/// (so small reorderings, as between capture CPUs, are harmless). If its interval is already
/// closed, or lies before the series start (before the anchor), it is counted as *late*: in
/// `summary.latePackets`/`lateBytes` and in the summary totals, never in an interval, and nothing
/// already handed out changes. A packet more than `maxIntervals` intervals after the anchor (a bogus
/// timestamp decades away) is counted in `summary.beyondLimitPackets` instead of producing
/// billions of empty intervals.
///
/// **Memory bound.** Memory does not grow with packets. The analyzer holds `windowIntervals` open
/// intervals (464 bytes each; the default window holds at most 16,384 of them, 7.6 MB, and a 1 s
/// interval needs 8, under 4 KB) plus the closed, not yet taken intervals that had packets.
/// Taking the closed intervals after each batch (`takeClosed`, `closeIntervals`) keeps that
/// backlog to at most one per packet of the batch. Runs of empty intervals are never stored: they
/// are produced one at a time while they are handed out. So a one-hour capture at 1 ms (3.6
/// million intervals) streams through the default 2,000-interval window in under 1 MB; only a
/// caller that keeps every interval pays per interval.
public struct SeriesAnalyzer: Sendable {
    /// Where interval 0 starts.
    public enum Alignment: Sendable, Equatable {
        /// At the first packet's timestamp (tshark, Wireshark).
        case first
        /// At a multiple of the interval since the Unix epoch.
        case clock
    }

    public let intervalNs: Int64
    public let alignment: Alignment
    /// How many intervals are open at once: how far back a reordered packet may reach.
    public let windowIntervals: Int
    /// Intervals past the anchor after which packets are no longer binned.
    public let maxIntervals: Int64
    /// Start of interval 0; nil until the first packet (or set by `start`).
    public private(set) var anchorNs: Int64?
    /// The whole-capture summary, updated with every packet. Set `summary.drops` from the capture.
    public var summary = Summary()

    /// Open intervals: interval `k` lives in `slots[k % windowIntervals]` while
    /// `base <= k < base + windowIntervals`. A slot whose `index` differs from `k` is unused.
    private var slots: [IntervalStats]
    /// Every interval below `base` is closed.
    private var base: Int64 = 0
    /// The highest interval that holds a packet or drops; -1 before any.
    private var top: Int64 = -1
    /// Closed intervals with packets or drops, not yet taken, in index order.
    private var outbox: [IntervalStats] = []
    /// Every interval below `taken` has been handed out.
    private var taken: Int64 = 0
    /// The interval of the previous packet, so a run of packets in one interval skips the division.
    private var cacheStart: Int64 = .max
    private var cacheEnd: Int64 = .min
    private var cacheSlot = 0
    /// Cumulative drop counters at the previous `recordDrops`, and drops waiting for an interval.
    private var dropsSeen = DropCounters.zero
    private var pendingDrops = DropCounters.zero

    /// The default window: enough intervals to cover 2 s of reordering, at least 8, at most 16,384.
    public static func defaultWindow(intervalNs: Int64) -> Int {
        let i = max(1, intervalNs)
        let want = 2_000_000_000 / i + (2_000_000_000 % i == 0 ? 0 : 1)
        return Int(min(16_384, max(8, want)))
    }

    /// - Parameters:
    ///   - intervalNs: interval length in nanoseconds (> 0; see `IntervalSpec`).
    ///   - align: `.first` (default) or `.clock`.
    ///   - start: anchor the series at this time (live capture start) instead of the first packet.
    ///   - windowIntervals: open intervals (default `defaultWindow`); at least 1.
    ///   - maxIntervals: intervals after the anchor past which packets are not binned (default 10^7:
    ///     about 2.8 h at 1 ms, 116 days at 1 s).
    public init(
        intervalNs: Int64, align: Alignment = .first, start: Int64? = nil,
        windowIntervals: Int? = nil, maxIntervals: Int64 = 10_000_000
    ) {
        precondition(intervalNs > 0, "interval must be positive (parse it with IntervalSpec)")
        self.intervalNs = intervalNs
        self.alignment = align
        let w = max(1, windowIntervals ?? Self.defaultWindow(intervalNs: intervalNs))
        self.windowIntervals = w
        self.maxIntervals = max(1, maxIntervals)
        slots = Array(repeating: IntervalStats(index: -1, startNs: 0, intervalNs: intervalNs), count: w)
        if let start { anchorNs = anchor(for: start) }
    }

    /// The protocols seen so far: the `packets_<P>`/`bytes_<P>` columns of the series.
    public var protocolsSeen: ProtocolSet { summary.protocols }

    // MARK: adding packets

    /// Counts one record into its interval and into the summary.
    @inlinable
    public mutating func add(_ r: PacketRecord) {
        summary.add(r)
        bin(r)
    }

    /// Counts every record of a batch (a slice of the ring, a block read from a file).
    ///
    /// Same result as adding the records one by one, faster: a run of records in arrival order
    /// that all fall into the interval of the previous packet (nearly every record of a batch,
    /// unless the interval is tiny) is tallied in a local `RunTally`, then added to the summary
    /// and to the interval once per run. Records that start a new interval, go backwards in time
    /// or fall outside the open window take the one-by-one path.
    public mutating func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        var i = 0
        let n = batch.count
        while i < n {
            let first = batch[i]
            let t0 = first.timestampNs
            guard t0 >= cacheStart, t0 < cacheEnd, summary.packets > 0, t0 >= summary.previousNs else {
                add(first)
                i &+= 1
                continue
            }
            var run = RunTally()
            run.add(first)
            var last = t0
            i &+= 1
            while i < n {
                let r = batch[i]
                let t = r.timestampNs
                guard t >= last, t < cacheEnd else { break }
                run.add(r)
                last = t
                i &+= 1
            }
            summary.add(run, firstNs: t0, lastNs: last)
            slots[cacheSlot].tally.add(run.tally)
        }
    }

    /// Counts every record of an array.
    public mutating func add(contentsOf records: [PacketRecord]) {
        records.withUnsafeBufferPointer { add($0) }
    }

    @usableFromInline
    mutating func bin(_ r: PacketRecord) {
        let t = r.timestampNs
        if t >= cacheStart && t < cacheEnd {
            slots[cacheSlot].count(length: r.length, captured: r.captured, label: r.decoded.label)
            return
        }
        if anchorNs == nil { anchorNs = anchor(for: t) }
        guard let k = index(of: t), k >= base else {
            summary.latePackets &+= 1
            summary.lateBytes &+= UInt64(r.length)
            return
        }
        guard k < maxIntervals else {
            summary.beyondLimitPackets &+= 1
            summary.beyondLimitBytes &+= UInt64(r.length)
            return
        }
        let s = open(k)
        slots[s].count(length: r.length, captured: r.captured, label: r.decoded.label)
        cacheSlot = s
        cacheStart = slots[s].startNs
        cacheEnd = slots[s].endNs
    }

    /// Attributes capture losses to the series. Pass the capture's cumulative counters (libpcap's
    /// `ps_drop`/`ps_ifdrop`, the ring's dropped count) and the time they were read; the increase
    /// since the previous call goes into the open interval holding `atTimeNs` (the oldest open
    /// interval if that one is closed, the newest if it is beyond the window; before the first
    /// interval exists it waits for it). `summary.drops` becomes `cumulative`.
    public mutating func recordDrops(cumulative: DropCounters, atTimeNs: Int64) {
        let delta = cumulative.since(dropsSeen)
        dropsSeen = cumulative
        summary.drops = cumulative
        pendingDrops.add(delta)
        guard !pendingDrops.isZero, anchorNs != nil else { return }
        var k = index(of: atTimeNs) ?? base
        k = max(base, min(k, base + Int64(windowIntervals) - 1, maxIntervals - 1))
        guard k >= base else { return }
        let s = open(k)
        slots[s].drops.add(pendingDrops)
        pendingDrops = .zero
    }

    // MARK: taking intervals

    /// Hands out, in order, the intervals already closed by the window moving on (empty ones
    /// included), without closing any more. Call it after each batch to keep memory bounded.
    public mutating func takeClosed(_ body: (IntervalStats) throws -> Void) rethrows {
        var used = 0
        defer {
            if used == outbox.count { outbox.removeAll(keepingCapacity: true) } else { outbox.removeFirst(used) }
        }
        while taken < base {
            if used < outbox.count, outbox[used].index == taken {
                let stats = outbox[used]
                used += 1
                taken += 1
                try body(stats)
            } else {
                let stats = empty(taken)
                taken += 1
                try body(stats)
            }
        }
    }

    /// Closes every interval that ends at or before `timeNs` (the newest time no earlier packet can
    /// still arrive: in a live capture, "now" minus the capture's buffering delay) and hands out,
    /// in order, every closed interval not yet taken, empty ones included. Live series call this
    /// on a timer to print each interval as it closes; idle intervals come out as zero rows.
    public mutating func closeIntervals(through timeNs: Int64, _ body: (IntervalStats) throws -> Void) rethrows {
        if let a = anchorNs {
            let (d, o) = timeNs.subtractingReportingOverflow(a)
            if !o, d > 0 {
                let complete = min(d / intervalNs, maxIntervals)
                if complete > base { slide(to: complete) }
            }
        }
        try takeClosed(body)
    }

    /// `closeIntervals(through:_:)`, collected into an array (a live tick closes a few intervals).
    public mutating func closeIntervals(through timeNs: Int64) -> [IntervalStats] {
        var out: [IntervalStats] = []
        closeIntervals(through: timeNs) { out.append($0) }
        return out
    }

    /// Closes every open interval up to the last one holding a packet (or drops) and hands out all
    /// intervals not yet taken. Packets added afterwards for those intervals count as late.
    public mutating func finish(_ body: (IntervalStats) throws -> Void) rethrows {
        if top >= base { slide(to: top + 1) }
        try takeClosed(body)
    }

    /// `finish(_:)`, collected into an array.
    public mutating func finish() -> [IntervalStats] {
        var out: [IntervalStats] = []
        finish { out.append($0) }
        return out
    }

    // MARK: internals

    private func anchor(for t: Int64) -> Int64 {
        switch alignment {
        case .first:
            return t
        case .clock:
            let (a, o) = Self.floorDiv(t, intervalNs).multipliedReportingOverflow(by: intervalNs)
            return o ? t : a
        }
    }

    /// The interval holding `t`, or nil when `t` is before the anchor. Saturates far in the future.
    @usableFromInline
    func index(of t: Int64) -> Int64? {
        guard let a = anchorNs else { return nil }
        let (d, o) = t.subtractingReportingOverflow(a)
        if o { return t < a ? nil : .max }
        return d < 0 ? nil : d / intervalNs
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && a < 0) ? q - 1 : q
    }

    private func empty(_ k: Int64) -> IntervalStats {
        let a = anchorNs ?? 0
        let (off, o1) = k.multipliedReportingOverflow(by: intervalNs)
        let (start, o2) = a.addingReportingOverflow(off)
        return IntervalStats(index: k, startNs: (o1 || o2) ? .max : start, intervalNs: intervalNs)
    }

    /// Makes interval `k` (>= base, < maxIntervals) open and returns its slot, sliding the window
    /// forward if `k` is beyond it.
    private mutating func open(_ k: Int64) -> Int {
        let w = Int64(windowIntervals)
        if k >= base + w { slide(to: k - w + 1) }
        let s = Int(k % w)
        if slots[s].index != k {
            var fresh = empty(k)
            if !pendingDrops.isZero {
                fresh.drops = pendingDrops
                pendingDrops = .zero
            }
            slots[s] = fresh
        }
        if k > top { top = k }
        return s
    }

    /// Closes every interval below `newBase`: those with packets or drops go to the outbox.
    private mutating func slide(to newBase: Int64) {
        guard newBase > base else { return }
        let w = Int64(windowIntervals)
        var k = base
        let last = min(newBase, base + w)
        while k < last {
            let s = Int(k % w)
            if slots[s].index == k {
                if !slots[s].isEmpty || !slots[s].drops.isZero { outbox.append(slots[s]) }
                slots[s].index = -1
            }
            k += 1
        }
        base = newBase
        cacheStart = .max
        cacheEnd = .min
    }
}
