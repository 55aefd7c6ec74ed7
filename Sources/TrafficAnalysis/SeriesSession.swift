public import PacketRecords

/// The analysis state of one run, composed for the CLI: the series (`SeriesAnalyzer`), the closed
/// intervals kept until the end (`IntervalStore`, which spills to a temporary file), the late
/// packets, and the chart (`ChartBuffer`). No printing: rows are handed to closures, problems are
/// returned as values.
///
/// Two ways to use it:
/// - **Rows at the end** (`analyze` a file; `late: .binned`, `keepIntervals`): add every batch,
///   `finish()`, then `forEachInterval` streams every row from the first interval to the last,
///   empty ones made on the fly, late packets merged into the intervals their timestamps fall in
///   (intervals in the temporary file included). Memory follows neither the packets nor the span:
///   at most `memoryLimit` kept intervals and a quarter as many late ones are in memory, the rest in
///   temporary files.
/// - **Rows as they close** (`sniff --interval`; `late: .counted`): pass a closure to `collect`,
///   `close(through:)` and `finish` and it sees every row, empty ones included, as its interval
///   closes; a packet for a row already printed is counted in `latePackets` of the row being
///   built.
///
/// The chart sees each interval that holds something once, in order (empty ones are implicit
/// zeros); with `.binned`, at `finish()`, after the late packets are merged.
public struct SeriesSession {
    public var analyzer: SeriesAnalyzer
    public private(set) var chart: ChartBuffer
    public let keepChart: Bool
    /// Whether the closed intervals are kept for `forEachInterval`.
    public let keepIntervals: Bool
    /// Closed intervals that hold something, in index order.
    public let stored: IntervalStore
    /// `.binned` late packets: sorted runs of intervals, each taken from the analyzer when it holds
    /// `memoryLimit / 4` of them and written to its own temporary file, merged when read. A run has a
    /// level: 16 runs of one level are merged into one of the next, so there are few runs to merge
    /// (at most 15 a level) and each interval is rewritten only a few times.
    public private(set) var lateRuns: [(level: Int, store: IntervalStore)] = []
    private let memoryLimit: Int
    /// Rows handed to the closures so far (rows as they close).
    private var rows: IntervalFiller?
    /// Reused between batches so taking intervals allocates nothing in the steady state.
    private var scratch: [IntervalStats] = []
    private var finished = false

    /// - Parameters:
    ///   - chart: the chart reduction to fill (e.g. `ChartBuffer(line: .auto)`), when `keepChart`.
    ///   - memoryLimit: intervals kept in memory before the store writes them to its temporary file.
    public init(
        intervalNs: Int64, align: SeriesAnalyzer.Alignment, start: Int64? = nil,
        late: SeriesAnalyzer.LatePackets, keepChart: Bool, keepIntervals: Bool, chart: ChartBuffer = ChartBuffer(),
        memoryLimit: Int = IntervalStore.defaultMemoryLimit
    ) {
        self.chart = chart
        analyzer = SeriesAnalyzer(intervalNs: intervalNs, align: align, start: start, late: late)
        self.keepChart = keepChart
        self.keepIntervals = keepIntervals
        stored = IntervalStore(memoryLimit: memoryLimit)
        self.memoryLimit = max(1, memoryLimit)
    }

    /// With `.binned` the chart waits for the late packets, so the intervals are kept for it too.
    private var storing: Bool { keepIntervals || (keepChart && analyzer.late == .binned) }
    private var chartAsTheyClose: Bool { keepChart && analyzer.late == .counted }

    /// Counts a batch; `body` sees the rows it closes (rows as they close).
    public mutating func add(_ batch: UnsafeBufferPointer<PacketRecord>, _ body: ((IntervalStats) -> Void)? = nil) {
        analyzer.add(batch)
        if keepChart { chart.add(batch) }
        collect(body)
    }

    /// Takes the intervals the analyzer closed; `body` sees every row up to `closedBelow`.
    public mutating func collect(_ body: ((IntervalStats) -> Void)? = nil) {
        var closed = takeScratch()
        analyzer.takeClosed { closed.append($0) }
        hand(&closed, body)
        if analyzer.lateIntervalCount >= max(1, memoryLimit / 4) { takeLateRun() }
    }

    /// Closes the intervals that end by `timeNs` (live: now minus the capture's delay).
    public mutating func close(through timeNs: Int64, _ body: ((IntervalStats) -> Void)? = nil) {
        var closed = takeScratch()
        analyzer.closeIntervals(through: timeNs) { closed.append($0) }
        hand(&closed, body)
    }

    /// Closes the last intervals; with `.binned`, takes the late packets and draws the chart.
    public mutating func finish(_ body: ((IntervalStats) -> Void)? = nil) {
        var closed = takeScratch()
        analyzer.finish { closed.append($0) }
        hand(&closed, body)
        guard !finished else { return }
        finished = true
        takeLateRun()
        if keepChart && analyzer.late == .binned {
            // Read back from memory or the temporary file; a read error leaves the line short.
            var c = chart
            try? forEachHolding { c.add(interval: $0) }
            chart = c
        }
    }

    private mutating func takeScratch() -> [IntervalStats] {
        var closed: [IntervalStats] = []
        swap(&closed, &scratch)
        return closed
    }

    private mutating func hand(_ closed: inout [IntervalStats], _ body: ((IntervalStats) -> Void)?) {
        for s in closed {
            if chartAsTheyClose { chart.add(interval: s) }
            if storing { stored.append(s) }
        }
        if let body, let anchor = analyzer.anchorNs {
            var filler = rows ?? IntervalFiller(anchorNs: anchor, intervalNs: analyzer.intervalNs)
            for s in closed { filler.emit(s, body) }
            filler.fill(upTo: analyzer.closedBelow, body)
            rows = filler
        }
        closed.removeAll(keepingCapacity: true)
        scratch = closed
    }

    /// Moves the analyzer's late intervals into a new run, and merges runs that fill a level.
    private mutating func takeLateRun() {
        let taken = analyzer.takeLate()
        guard !taken.isEmpty else { return }
        firstLateIndex = min(firstLateIndex, taken[0].index)
        let run = IntervalStore(memoryLimit: memoryLimit)
        for s in taken { run.append(s) }
        run.finishRun()
        lateRuns.append((0, run))
        while lateRuns.count >= 16, let level = lateRuns.last?.level,
            lateRuns.suffix(16).allSatisfy({ $0.level == level })
        {
            let merged = IntervalStore(memoryLimit: memoryLimit)
            // On a read error the merged run stays short: the rows lack those late packets.
            try? Self.merge(lateRuns.suffix(16).map(\.store)) { merged.append($0) }
            merged.finishRun()
            lateRuns.removeLast(16)
            lateRuns.append((level + 1, merged))
        }
    }

    /// The lowest late interval: below 0 when a packet came before the anchor.
    private var firstLateIndex: Int64 = .max

    /// Hands out the intervals of sorted `stores` in index order, those of one index added up.
    static func merge(_ stores: [IntervalStore], _ body: (IntervalStats) throws -> Void) throws {
        let cursors = stores.map { $0.makeCursor() }
        var heads = try cursors.map { try $0.next() }
        while true {
            var low = Int64.max
            var any = false
            for case let h? in heads where h.index <= low {
                low = h.index
                any = true
            }
            guard any else { return }
            var merged: IntervalStats?
            for i in heads.indices {
                guard let h = heads[i], h.index == low else { continue }
                if merged == nil { merged = h } else { merged!.add(h) }
                heads[i] = try cursors[i].next()
            }
            try body(merged!)
        }
    }

    // MARK: rows at the end

    /// The first and last interval of the series after `finish()`: from interval 0 (or the earliest
    /// late packet's, before the anchor) to the last one closed; nil without packets.
    public var intervalRange: ClosedRange<Int64>? {
        guard analyzer.anchorNs != nil, analyzer.closedBelow > 0 else { return nil }
        return min(0, firstLateIndex)...(analyzer.closedBelow - 1)
    }

    /// Rows `forEachInterval` hands out (the `wide` layout), known after `finish()`.
    public var rowCount: UInt64 {
        guard let r = intervalRange else { return 0 }
        return UInt64(r.upperBound - r.lowerBound) + 1
    }

    /// Why the temporary file could not be used, if it could not (the intervals stayed in memory).
    public var spillProblem: String? { stored.spillProblem ?? lateRuns.lazy.compactMap(\.store.spillProblem).first }

    /// Hands out every interval from the first to the last (`intervalRange`) in order, empty ones
    /// made on the fly, late packets merged into their intervals. Throws what `body` throws, or
    /// `AnalysisError.intervalFileUnreadable`.
    public func forEachInterval(_ body: (IntervalStats) throws -> Void) throws {
        guard let range = intervalRange, let anchor = analyzer.anchorNs else { return }
        var filler = IntervalFiller(anchorNs: anchor, intervalNs: analyzer.intervalNs, from: range.lowerBound)
        try forEachHolding { try filler.emit($0, body) }
        try filler.fill(upTo: range.upperBound + 1, body)
    }

    /// Hands out, in order, every interval that holds something: the kept ones merged with the late
    /// runs (the same index: one interval, everything in it counted).
    public func forEachHolding(_ body: (IntervalStats) throws -> Void) throws {
        if lateRuns.isEmpty {
            try stored.forEach(body)
        } else {
            try Self.merge([stored] + lateRuns.map(\.store), body)
        }
    }
}
