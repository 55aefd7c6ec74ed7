/// A question to the history: which dimension, at which resolution, over which span, how many
/// names per bucket.
public struct HistoryQuery: Sendable {
    public var dimension: HistoryDimension = .interface
    /// nil: chosen by the span (up to 2 days: hourly; up to 62 days: daily; longer: monthly).
    public var resolution: HistoryResolution?
    /// Epoch seconds; nil: from the oldest row / to the newest.
    public var since: Int64?
    public var until: Int64?
    /// Names per bucket (the rest summed as `other`).
    public var top = 10

    public init() {}

    /// The resolution and the span [since, until) the query reads, given what the store holds.
    public func resolved(_ store: HistoryStore) throws(HistoryError) -> (HistoryResolution, Int64, Int64) {
        if let resolution {
            let span = try store.span(resolution)
            return (resolution, since ?? span?.0 ?? 0, until ?? (span.map { resolution.next($0.1) } ?? 0))
        }
        if let since, let until {
            let length = until - since
            let r: HistoryResolution = length <= 2 * 86400 ? .hour : length <= 62 * 86400 ? .day : .month
            return (r, since, until)
        }
        // No span given: the last 30 days of daily rows (vnstat -d), or what there is.
        guard let (_, newest) = try store.span(.day) else { return (.day, 0, 0) }
        let end = until ?? HistoryResolution.day.next(newest)
        return (.day, since ?? end - 30 * 86400, end)
    }

    public struct Row: Sendable, Equatable {
        public var start: Int64
        /// Seconds in the bucket (a month's own length).
        public var seconds: Int64
        public var name: String
        public var counts: HistoryCounts

        public var bitsPerSecond: UInt64 { counts.bytes * 8 / UInt64(max(1, seconds)) }
    }

    /// The rows: per bucket, the `top` names by bytes and, when more were stored, `other` with the
    /// rest (and what the store already folded there).
    public func run(_ store: HistoryStore) throws(HistoryError) -> (HistoryResolution, [Row]) {
        let (r, from, to) = try resolved(store)
        let stored = try store.rows(r, dimension, since: from, until: to)
        var out: [Row] = []
        var i = 0
        while i < stored.count {
            let start = stored[i].start
            var j = i
            while j < stored.count && stored[j].start == start { j += 1 }
            let seconds = r.next(start) - start
            var other = HistoryCounts()
            var kept = 0
            var hasOther = false
            for row in stored[i..<j] {
                if row.name != "other" && kept < top {
                    out.append(Row(start: start, seconds: seconds, name: row.name, counts: row.counts))
                    kept += 1
                } else {
                    other.add(row.counts)
                    hasOther = true
                }
            }
            if hasOther { out.append(Row(start: start, seconds: seconds, name: "other", counts: other)) }
            i = j
        }
        return (r, out)
    }

    /// The 95th percentile of the 5-minute rates (bits per second, all interfaces), as billing
    /// computes it: every 5-minute interval from the first to the last with traffic (or over
    /// since/until when given), silent ones as 0, sorted, the value at rank ceil(0.95 n). nil
    /// without 5-minute rows in the span.
    public func percentile95(_ store: HistoryStore) throws(HistoryError) -> Percentile? {
        let r = HistoryResolution.fiveMinutes
        let rows = try store.rows(r, .interface, since: since ?? .min, until: until ?? .max)
        guard let first = rows.first?.start, let last = rows.last?.start else { return nil }
        var bytes: [Int64: UInt64] = [:]
        for row in rows { bytes[row.start, default: 0] += row.counts.bytes }
        let from = since.map { r.bucket($0 + 299) } ?? first
        let to = until.map { r.bucket($0 - 1) } ?? last
        var rates: [UInt64] = []
        var t = from
        while t <= to {
            rates.append((bytes[t] ?? 0) * 8 / 300)
            t += 300
        }
        guard !rates.isEmpty else { return nil }
        rates.sort()
        let rank = (rates.count * 95 + 99) / 100
        return Percentile(since: from, until: to + 300, intervals: rates.count, bitsPerSecond: rates[rank - 1])
    }

    public struct Percentile: Sendable, Equatable {
        public var since: Int64
        public var until: Int64
        public var intervals: Int
        public var bitsPerSecond: UInt64
    }
}
