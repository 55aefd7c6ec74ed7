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
///   (intervals in the temporary file included). Memory follows the packets and the intervals that
///   hold them, never the span.
/// - **Rows as they close** (`sniff --interval`; `late: .counted`): pass a closure to `collect`,
///   `close(through:)` and `finish` and it sees every row, empty ones included, as its interval
///   closes; a packet for a row already printed is counted in `latePackets` of the row being
///   built.
///
/// The chart sees each interval that holds something once, in order (empty ones are implicit
/// zeros); with `.binned`, at `finish()`, after the late packets are merged.
public struct SeriesSession {
    public var analyzer: SeriesAnalyzer
    public private(set) var chart = ChartBuffer()
    public let keepChart: Bool
    /// Whether the closed intervals are kept for `forEachInterval`.
    public let keepIntervals: Bool
    /// Closed intervals that hold something, in index order.
    public let stored: IntervalStore
    /// `.binned` late packets, taken at `finish()`, in index order.
    public private(set) var late: [IntervalStats] = []
    /// Rows handed to the closures so far (rows as they close).
    private var rows: IntervalFiller?
    /// Reused between batches so taking intervals allocates nothing in the steady state.
    private var scratch: [IntervalStats] = []
    private var finished = false

    /// - Parameters:
    ///   - memoryLimit: intervals kept in memory before the store writes them to its temporary file.
    public init(
        intervalNs: Int64, align: SeriesAnalyzer.Alignment, start: Int64? = nil,
        late: SeriesAnalyzer.LatePackets, keepChart: Bool, keepIntervals: Bool,
        memoryLimit: Int = IntervalStore.defaultMemoryLimit
    ) {
        analyzer = SeriesAnalyzer(intervalNs: intervalNs, align: align, start: start, late: late)
        self.keepChart = keepChart
        self.keepIntervals = keepIntervals
        stored = IntervalStore(memoryLimit: memoryLimit)
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
        late = analyzer.takeLate()
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

    // MARK: rows at the end

    /// The first and last interval of the series after `finish()`: from interval 0 (or the earliest
    /// late packet's, before the anchor) to the last one closed; nil without packets.
    public var intervalRange: ClosedRange<Int64>? {
        guard analyzer.anchorNs != nil, analyzer.closedBelow > 0 else { return nil }
        return min(0, late.first?.index ?? 0)...(analyzer.closedBelow - 1)
    }

    /// Rows `forEachInterval` hands out (the `wide` layout), known after `finish()`.
    public var rowCount: UInt64 {
        guard let r = intervalRange else { return 0 }
        return UInt64(r.upperBound - r.lowerBound) + 1
    }

    /// Why the temporary file could not be used, if it could not (the intervals stayed in memory).
    public var spillProblem: String? { stored.spillProblem }

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
    /// ones (the same index: one interval, both counted).
    public func forEachHolding(_ body: (IntervalStats) throws -> Void) throws {
        var i = 0
        try stored.forEach { s in
            while i < late.count, late[i].index < s.index {
                try body(late[i])
                i += 1
            }
            var merged = s
            if i < late.count, late[i].index == s.index {
                merged.add(late[i])
                i += 1
            }
            try body(merged)
        }
        while i < late.count {
            try body(late[i])
            i += 1
        }
    }
}
