public import PacketWire

/// One interval of a series: what arrived in `[startNs, startNs + intervalNs)`.
///
/// A plain value with inline per-protocol rows (no references), 472 bytes.
public struct IntervalStats: Sendable, Equatable, TallyFigures {
    /// The interval number: 0 is the first interval of the series (the one holding the anchor).
    public var index: Int64
    /// Interval start, nanoseconds since the Unix epoch.
    public var startNs: Int64
    /// Interval length in nanoseconds.
    public var intervalNs: Int64
    /// What arrived: packets, bytes, lengths, per protocol.
    public var tally = Tally()
    /// Drops attributed to this interval (see `SeriesAnalyzer.recordDrops`); zero unless the caller
    /// reports drops.
    public var drops = DropCounters.zero
    /// Live rows: packets that arrived while this interval was being built, for intervals already
    /// printed (see `SeriesAnalyzer.LatePackets.counted`); they are not in `packets`.
    public var latePackets: UInt64 = 0

    public init(index: Int64, startNs: Int64, intervalNs: Int64) {
        self.index = index
        self.startNs = startNs
        self.intervalNs = intervalNs
    }

    /// Counts one packet into this interval.
    @inlinable
    public mutating func count(length: UInt32, captured: UInt32, label: ProtocolLabel) {
        tally.count(length: length, captured: captured, label: label)
    }

    public var isEmpty: Bool { packets == 0 }

    /// Packets, drops or late packets: an interval worth keeping (the others are implicit zeros).
    public var holdsSomething: Bool { packets != 0 || !drops.isZero || latePackets != 0 }

    /// Adds what `other` (the same interval, counted elsewhere: late packets) holds.
    public mutating func add(_ other: IntervalStats) {
        tally.add(other.tally)
        drops.add(other.drops)
        latePackets &+= other.latePackets
    }

    /// Interval end (exclusive), saturating at `Int64.max`.
    public var endNs: Int64 {
        let (e, o) = startNs.addingReportingOverflow(intervalNs)
        return o ? .max : e
    }

    /// Nanoseconds from the start of the series' first interval: `index * intervalNs`.
    public var offsetNs: Int64 { index.multipliedReportingOverflow(by: intervalNs).partialValue }

    /// Mean wire length, nil when the interval is empty.
    public var meanLength: Double? { packets == 0 ? nil : Double(bytes) / Double(packets) }

    /// Wire bits per second over the whole interval (`bytes * 8 / interval`).
    public var bitsPerSecond: Double { Double(bytes) * 8e9 / Double(intervalNs) }

    /// Packets per second over the whole interval.
    public var packetsPerSecond: Double { Double(packets) * 1e9 / Double(intervalNs) }

    /// The protocols with at least one packet here.
    public var protocols: ProtocolSet { protocolPackets.nonZeroLabels }
}
