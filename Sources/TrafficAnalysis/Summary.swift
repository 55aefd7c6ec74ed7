public import PacketRecords
public import PacketWire

/// Packet sizes in power-of-two buckets, the ones tshark's `plen` tree uses:
/// 0–19, 20–39, 40–79, 80–159, 160–319, 320–639, 640–1279, 1280–2559, 2560–5119, 5120 and more.
public struct SizeDistribution: Sendable, Equatable {
    /// Lower bound of each bucket (inclusive); the last bucket has no upper bound.
    public static let lowerBounds: [UInt32] = [0, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120]
    /// `lowerBounds.count`, as a literal: the per-packet path must not touch a lazy global.
    public static var bucketCount: Int { 10 }

    private var counts = ProtocolCounters()

    public init() {}

    /// The bucket a wire length falls in.
    @inlinable
    public static func bucket(for length: UInt32) -> Int {
        let q = UInt64(length / 20)
        return min(bucketCount - 1, 64 - q.leadingZeroBitCount)
    }

    @inlinable
    public mutating func add(length: UInt32) { addCount(1, bucket: Self.bucket(for: length)) }

    @usableFromInline
    mutating func addCount(_ n: UInt64, bucket: Int) { counts.add(n, at: bucket) }

    /// Adds every bucket of `other`.
    mutating func add(_ other: SizeDistribution) { counts.add(other.counts) }

    /// Packets in bucket `i`.
    public subscript(bucket i: Int) -> UInt64 { counts[i] }

    /// `(lower, upper, packets)` for each bucket, upper inclusive, nil for the open last bucket.
    public var buckets: [(lower: UInt32, upper: UInt32?, packets: UInt64)] {
        (0..<Self.bucketCount).map { i in
            let upper: UInt32? = i + 1 < Self.bucketCount ? Self.lowerBounds[i + 1] - 1 : nil
            return (Self.lowerBounds[i], upper, counts[i])
        }
    }
}

/// The whole capture at a glance: time span, totals, rates, sizes, protocols and losses.
///
/// Constant size (a few hundred bytes) however many packets it has seen. `drops` is set by the
/// caller from the capture (libpcap statistics, the ring); the analyzer never sees a capture.
public struct Summary: Sendable, Equatable, TallyFigures {
    /// Packets, bytes and lengths, per protocol too.
    public var tally = Tally()
    /// Earliest and latest timestamp seen (nanoseconds since the epoch); nil before any packet.
    public var firstNs: Int64? { packets == 0 ? nil : earliest }
    public var lastNs: Int64? { packets == 0 ? nil : latest }
    /// Plain values on the per-packet path (no optional unwrapping); meaningful once packets > 0.
    @usableFromInline var earliest: Int64 = .max
    @usableFromInline var latest: Int64 = .min
    public var sizes = SizeDistribution()
    /// Packets whose timestamp is earlier than the packet before them (in arrival order).
    public var outOfOrder: UInt64 = 0
    /// Rows printed as they close (`SeriesAnalyzer.LatePackets.counted`): packets whose interval was
    /// already closed (printed) when they arrived, and their wire bytes. They are counted in the
    /// `latePackets` of the row being built, not in any interval's `packets`. Zero with `.binned`,
    /// where every packet lands in its own interval.
    public var latePackets: UInt64 = 0
    public var lateBytes: UInt64 = 0
    /// Packets in no interval because their offset from the anchor does not fit in 64-bit
    /// nanoseconds (about 292 years: a bogus timestamp).
    public var beyondLimitPackets: UInt64 = 0
    public var beyondLimitBytes: UInt64 = 0
    /// What the capture lost: set by the caller.
    public var drops = DropCounters.zero

    @usableFromInline
    var previousNs: Int64 = .min

    public init() {}

    /// Counts one packet.
    @inlinable
    public mutating func add(_ r: PacketRecord) {
        let t = r.timestampNs
        if tally.packets != 0 && t < previousNs { outOfOrder &+= 1 }
        if t < earliest { earliest = t }
        if t > latest { latest = t }
        previousNs = t
        tally.count(length: r.length, captured: r.captured, label: r.decoded.label)
        sizes.add(length: r.length)
    }

    /// Counts a run of packets tallied by `SeriesAnalyzer.add(_:)`: packets in arrival order, the
    /// first at `firstNs` (not earlier than the packet before the run), the last at `lastNs`.
    mutating func add(_ run: RunTally, firstNs: Int64, lastNs: Int64) {
        if firstNs < earliest { earliest = firstNs }
        if lastNs > latest { latest = lastNs }
        previousNs = lastNs
        tally.add(run.tally)
        sizes.add(run.sizes)
    }

    /// Counts every record of a batch.
    public mutating func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        for r in batch { add(r) }
    }

    /// `lastNs - firstNs`, 0 before two packets.
    public var durationNs: Int64 {
        guard let f = firstNs, let l = lastNs else { return 0 }
        let (d, o) = l.subtractingReportingOverflow(f)
        return o ? .max : d
    }

    /// Mean wire length, nil before any packet.
    public var meanLength: Double? { packets == 0 ? nil : Double(bytes) / Double(packets) }

    /// Packets per second over `durationNs`; nil when the duration is zero.
    public var packetsPerSecond: Double? {
        durationNs > 0 ? Double(packets) * 1e9 / Double(durationNs) : nil
    }

    /// Wire bits per second over `durationNs`; nil when the duration is zero.
    public var bitsPerSecond: Double? {
        durationNs > 0 ? Double(bytes) * 8e9 / Double(durationNs) : nil
    }

    /// The protocols with at least one packet.
    public var protocols: ProtocolSet { protocolPackets.nonZeroLabels }
}

/// What a run of packets adds to an interval and to the summary, tallied in a local value so the
/// per-packet work touches neither (see `SeriesAnalyzer.add(_:)`).
struct RunTally {
    var tally = Tally()
    var sizes = SizeDistribution()

    @inline(__always)
    mutating func add(_ r: PacketRecord) {
        tally.count(length: r.length, captured: r.captured, label: r.decoded.label)
        sizes.add(length: r.length)
    }
}
