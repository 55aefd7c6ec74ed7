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
/// the capture start instead of the first packet.
///
/// **Only intervals that hold something are handed out.** `takeClosed`, `closeIntervals` and
/// `finish` hand out, in index order, the closed intervals that hold packets, drops or late
/// packets; every interval below `closedBelow` is closed, and the ones not handed out are empty
/// (zeros). A run of empty intervals is never stored nor visited one by one: whoever prints rows
/// makes them while writing (`IntervalFiller`). So time and memory follow the packets and the
/// intervals that hold them, never the span: two packets 65 days apart cost what two packets one
/// second apart cost. (The array forms, for tests and small series, do fill the gaps.)
///
/// **Open window and out-of-order packets.** Only the newest `windowIntervals` intervals are open.
/// A packet for an interval beyond the window closes the oldest ones. A packet whose timestamp is
/// earlier than the packets before it is counted into its interval if that interval is still open
/// (small reorderings, as between capture CPUs). If its interval is already closed, or lies before
/// the anchor (a negative index), what happens depends on `late`:
/// - `.binned` (a file, whose rows are printed at the end): it is counted in its own interval, kept
///   aside until `takeLate()`, for the caller to merge with the intervals it kept. Every packet
///   lands in the interval its timestamp falls in, whatever the order.
/// - `.counted` (rows printed as their interval closes): the interval was already printed, so the
///   packet is counted in `latePackets` of the oldest open interval (the row being built) and in
///   `summary.latePackets`/`lateBytes`.
/// A packet so far from the anchor that its offset does not fit in 64-bit nanoseconds (about 292
/// years; only a bogus pcapng timestamp) is counted in `summary.beyondLimitPackets`.
///
/// **Memory bound.** The analyzer holds `windowIntervals` open intervals (the default window holds
/// at most 16,384 of them, 7.8 MB, and a 1 s interval needs 8, under 4 KB), the closed, not yet
/// taken intervals that hold something (take them after each batch: at most one per packet of the
/// batch), and with `.binned` one interval per interval that received late packets.
public struct SeriesAnalyzer: Sendable {
    /// Where interval 0 starts.
    public enum Alignment: String, Sendable, Equatable, CaseIterable {
        /// At the first packet's timestamp (tshark, Wireshark).
        case first
        /// At a multiple of the interval since the Unix epoch.
        case clock
    }

    /// Where a packet goes whose interval was closed already (see the type's documentation).
    public enum LatePackets: Sendable, Equatable {
        /// Into its own interval, kept aside until `takeLate()`: rows printed at the end.
        case binned
        /// Into `latePackets` of the row being built: rows printed as their interval closes.
        case counted
    }

    public let intervalNs: Int64
    public let alignment: Alignment
    public let late: LatePackets
    /// How many intervals are open at once: how far back a reordered packet may reach.
    public let windowIntervals: Int
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
    /// The array forms fill the gaps from here (every interval below was taken).
    private var filledBelow: Int64 = 0
    /// `.binned`: the late packets, in the intervals their timestamps fall in.
    private var lateIntervals: [Int64: IntervalStats] = [:]
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
    ///   - late: where packets for closed intervals go (default `.binned`).
    ///   - windowIntervals: open intervals (default `defaultWindow`); at least 1.
    public init(
        intervalNs: Int64, align: Alignment = .first, start: Int64? = nil, late: LatePackets = .binned,
        windowIntervals: Int? = nil
    ) {
        precondition(intervalNs > 0, "interval must be positive (parse it with IntervalSpec)")
        self.intervalNs = intervalNs
        self.alignment = align
        self.late = late
        let w = max(1, windowIntervals ?? Self.defaultWindow(intervalNs: intervalNs))
        self.windowIntervals = w
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
        guard let k = index(of: t) else {
            summary.beyondLimitPackets &+= 1
            summary.beyondLimitBytes &+= UInt64(r.length)
            return
        }
        guard k >= base else {
            arrivedLate(r, interval: k)
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
        k = max(base, min(k, base + Int64(windowIntervals) - 1))
        let s = open(k)
        slots[s].drops.add(pendingDrops)
        pendingDrops = .zero
    }

    // MARK: taking intervals

    /// Every interval below this index is closed; those not handed out are empty.
    public var closedBelow: Int64 { base }

    /// Hands out, in order, the intervals already closed by the window moving on that hold packets,
    /// drops or late packets, without closing any more. Call it after each batch to keep memory
    /// bounded. Empty intervals are not handed out (see `closedBelow`).
    public mutating func takeClosed(_ body: (IntervalStats) throws -> Void) rethrows {
        var used = 0
        defer {
            if used == outbox.count { outbox.removeAll(keepingCapacity: true) } else { outbox.removeFirst(used) }
        }
        while used < outbox.count {
            let stats = outbox[used]
            used += 1
            try body(stats)
        }
        filledBelow = base
    }

    /// Closes every interval that ends at or before `timeNs` (the newest time no earlier packet can
    /// still arrive: in a live capture, "now" minus the capture's buffering delay) and hands out
    /// the closed intervals not yet taken that hold something. Live series call this on a timer;
    /// idle intervals are the gap up to `closedBelow`.
    public mutating func closeIntervals(through timeNs: Int64, _ body: (IntervalStats) throws -> Void) rethrows {
        if let a = anchorNs {
            let (d, o) = timeNs.subtractingReportingOverflow(a)
            if !o, d > 0 {
                let complete = d / intervalNs
                if complete > base { slide(to: complete) }
            }
        }
        try takeClosed(body)
    }

    /// `closeIntervals(through:_:)` as an array of every interval closed since the previous take,
    /// empty ones included (a live tick closes a few intervals; tests).
    public mutating func closeIntervals(through timeNs: Int64) -> [IntervalStats] {
        let from = filledBelow
        var out: [IntervalStats] = []
        closeIntervals(through: timeNs) { out.append($0) }
        return filled(out, from: from)
    }

    /// Closes every open interval up to the last one holding a packet (or drops) and hands out the
    /// intervals not yet taken that hold something. Packets added afterwards for those intervals
    /// are late.
    public mutating func finish(_ body: (IntervalStats) throws -> Void) rethrows {
        if top >= base { slide(to: top + 1) }
        try takeClosed(body)
    }

    /// `finish(_:)` as an array of every interval closed since the previous take, empty ones
    /// included: for tests and small series (the gaps cost one interval each here). `.binned` late
    /// packets are not in it (see `takeLate`).
    public mutating func finish() -> [IntervalStats] {
        let from = filledBelow
        var out: [IntervalStats] = []
        finish { out.append($0) }
        return filled(out, from: from)
    }

    /// `.binned`: the intervals that received late packets (their interval was closed, or lies
    /// before the anchor), in index order, holding only those packets; the table is emptied.
    /// Merge them with the intervals taken before (`IntervalStats.add`).
    public mutating func takeLate() -> [IntervalStats] {
        let out = lateIntervals.values.sorted { $0.index < $1.index }
        lateIntervals.removeAll()
        return out
    }

    /// Intervals waiting in the `.binned` late table.
    public var lateIntervalCount: Int { lateIntervals.count }

    /// `sparse` with the empty intervals from `from` up to `closedBelow` put in.
    private func filled(_ sparse: [IntervalStats], from: Int64) -> [IntervalStats] {
        guard let a = anchorNs else { return sparse }
        var filler = IntervalFiller(anchorNs: a, intervalNs: intervalNs, from: from)
        var out: [IntervalStats] = []
        for s in sparse { filler.emit(s) { out.append($0) } }
        filler.fill(upTo: base) { out.append($0) }
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

    /// The interval holding `t` (negative before the anchor), or nil before there is an anchor or
    /// when `t - anchor` does not fit in 64 bits.
    @usableFromInline
    func index(of t: Int64) -> Int64? {
        guard let a = anchorNs else { return nil }
        let (d, o) = t.subtractingReportingOverflow(a)
        if o { return nil }
        let k = Self.floorDiv(d, intervalNs)
        // Room for `top + 1` and `base + window` without overflow.
        return k < Int64.max / 2 ? k : nil
    }

    /// A packet for a closed interval `k` (or one before the anchor): see `LatePackets`.
    private mutating func arrivedLate(_ r: PacketRecord, interval k: Int64) {
        switch late {
        case .binned:
            let fresh = empty(k)
            lateIntervals[k, default: fresh].count(length: r.length, captured: r.captured, label: r.decoded.label)
        case .counted:
            summary.latePackets &+= 1
            summary.lateBytes &+= UInt64(r.length)
            let s = open(base)
            slots[s].latePackets &+= 1
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && a < 0) ? q - 1 : q
    }

    private func empty(_ k: Int64) -> IntervalStats {
        IntervalFiller.empty(index: k, anchorNs: anchorNs ?? 0, intervalNs: intervalNs)
    }

    /// Makes interval `k` (>= base) open and returns its slot, sliding the window
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
                if slots[s].holdsSomething { outbox.append(slots[s]) }
                slots[s].index = -1
            }
            k += 1
        }
        base = newBase
        cacheStart = .max
        cacheEnd = .min
    }
}
