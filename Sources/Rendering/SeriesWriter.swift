import PacketWire
public import TrafficAnalysis

/// One row per interval (`wide`, with `packets_<P>`/`bytes_<P>` columns) or one row per interval
/// and protocol (`byProtocol`, the long format of `--by protocol`).
public enum SeriesLayout: Sendable, Equatable {
    case wide, byProtocol
}

/// Writes interval series as CSV, JSON lines or a human table into a caller-owned byte buffer
/// (the CLI does the printing). Rows can be written as intervals close: nothing is buffered here.
///
/// CSV (RFC 4180; the contract of `analyze --interval 1 --format csv`), wide layout:
/// `time,offset,packets,bytes,bits_per_second,min_length,mean_length,max_length`, then with
/// `includeDrops` (live rows) `kernel_drops,interface_drops,ring_drops,late_packets`, then
/// `packets_<P>,bytes_<P>` for each protocol of `protocols`, in `ProtocolLabel` order.
/// `late_packets`: packets that arrived while this row was being built for intervals already
/// printed (they are in no row's `packets`).
/// - `time`: interval start, epoch seconds with exactly 9 fractional digits.
/// - `offset`: seconds from the first interval's start; a whole number (`0`, `1`) when the interval
///   is whole seconds, else the shortest exact decimal (`0.25`).
/// - `bits_per_second`: wire bits over the interval length; `mean_length` bytes per packet; both
///   exact to 3 decimals, trailing zeros dropped.
/// - `min_length`, `mean_length`, `max_length` are empty cells for an empty interval.
///
/// By protocol: `time,offset,protocol,packets,bytes,bits_per_second,mean_length`, one row per
/// interval and protocol of `protocols`, zeros included (so every interval has the same rows).
///
/// JSON: one object per line with the same names; `time` is a number with 9 decimals and `time_ns`
/// the exact integer; empty lengths are `null`; wide rows carry `"protocols":{"TCP":{"packets":…,
/// "bytes":…},…}` with the protocols that have packets in that interval (so `protocols` need not
/// be known in advance) and, with `includeDrops`, `"drops":{"kernel":…,"interface":…,"ring":…}`
/// and `"late_packets":…` after it (`jsonInterval` describes the object).
///
/// Table, with `includeDrops`: one `DROPS` column (kernel + interface + ring) and `LATE`, so that a
/// live table with a few protocols fits 120 columns.
public struct SeriesWriter: Sendable {
    public var format: TextFormat
    public var layout: SeriesLayout
    /// The protocol columns (CSV, table) and the rows of the `byProtocol` layout. Usually
    /// `analyzer.protocolsSeen` once the capture is read, or `.all` when rows are written live.
    public var protocols: ProtocolSet
    /// Adds the drops attributed to each interval (live capture).
    public var includeDrops: Bool

    public init(format: TextFormat, layout: SeriesLayout = .wide, protocols: ProtocolSet, includeDrops: Bool = false) {
        self.format = format
        self.layout = layout
        self.protocols = protocols
        self.includeDrops = includeDrops
    }

    /// The header line (CSV, table); nothing for JSON.
    public func writeHeader(into out: inout [UInt8]) {
        switch (format, layout) {
        case (.csv, .wide):
            out.append(ascii: "time,offset,packets,bytes,bits_per_second,min_length,mean_length,max_length")
            if includeDrops { out.append(ascii: ",kernel_drops,interface_drops,ring_drops,late_packets") }
            for p in protocols {
                out.append(ascii: ",packets_")
                out.append(ascii: p.asciiName)
                out.append(ascii: ",bytes_")
                out.append(ascii: p.asciiName)
            }
            out.append(UInt8(ascii: "\n"))
        case (.csv, .byProtocol):
            out.append(ascii: "time,offset,protocol,packets,bytes,bits_per_second,mean_length\n")
        case (.json, _):
            break
        case (.table, .wide):
            Self.right("OFFSET", 10, into: &out)
            Self.right("PACKETS", 11, into: &out)
            Self.right("BYTES", 15, into: &out)
            Self.right("BIT/S", 9, into: &out)
            Self.right("MIN", 7, into: &out)
            Self.right("MEAN", 9, into: &out)
            Self.right("MAX", 7, into: &out)
            if includeDrops {
                Self.right("DROPS", 8, into: &out)
                Self.right("LATE", 6, into: &out)
            }
            for p in protocols { Self.right(p.name, Self.protocolWidth(p), into: &out) }
            out.append(UInt8(ascii: "\n"))
        case (.table, .byProtocol):
            Self.right("OFFSET", 10, into: &out)
            out.append(ascii: "  PROTOCOL")
            Self.right("PACKETS", 11, into: &out)
            Self.right("BYTES", 15, into: &out)
            Self.right("BIT/S", 9, into: &out)
            Self.right("MEAN", 9, into: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// One interval: one line (wide) or one line per protocol (by protocol).
    public func write(_ s: IntervalStats, into out: inout [UInt8]) {
        switch (format, layout) {
        case (.csv, .wide): csvWide(s, into: &out)
        case (.csv, .byProtocol): for p in protocols { csvLong(s, p, into: &out) }
        case (.json, .wide): jsonWide(s, into: &out)
        case (.json, .byProtocol): for p in protocols { jsonLong(s, p, into: &out) }
        case (.table, .wide): tableWide(s, into: &out)
        case (.table, .byProtocol): for p in protocols { tableLong(s, p, into: &out) }
        }
    }

    /// Header and every interval.
    public func write(_ series: [IntervalStats], into out: inout [UInt8]) {
        writeHeader(into: &out)
        for s in series { write(s, into: &out) }
    }

    // MARK: CSV

    private func csvWide(_ s: IntervalStats, into out: inout [UInt8]) {
        out.append(timestampNs: s.startNs)
        out.append(UInt8(ascii: ","))
        Self.offset(s, into: &out)
        out.append(UInt8(ascii: ","))
        out.append(decimal: s.packets)
        out.append(UInt8(ascii: ","))
        out.append(decimal: s.bytes)
        out.append(UInt8(ascii: ","))
        Self.bitsPerSecond(bytes: s.bytes, intervalNs: s.intervalNs, into: &out)
        out.append(UInt8(ascii: ","))
        if s.packets > 0 { out.append(decimal: UInt64(s.minLength)) }
        out.append(UInt8(ascii: ","))
        if s.packets > 0 { out.appendRatio(UInt128(s.bytes), UInt128(s.packets)) }
        out.append(UInt8(ascii: ","))
        if s.packets > 0 { out.append(decimal: UInt64(s.maxLength)) }
        if includeDrops {
            out.append(UInt8(ascii: ","))
            out.append(decimal: s.drops.kernel)
            out.append(UInt8(ascii: ","))
            out.append(decimal: s.drops.interface)
            out.append(UInt8(ascii: ","))
            out.append(decimal: s.drops.ring)
            out.append(UInt8(ascii: ","))
            out.append(decimal: s.latePackets)
        }
        for p in protocols {
            out.append(UInt8(ascii: ","))
            out.append(decimal: s.protocolPackets[p])
            out.append(UInt8(ascii: ","))
            out.append(decimal: s.protocolBytes[p])
        }
        out.append(UInt8(ascii: "\n"))
    }

    private func csvLong(_ s: IntervalStats, _ p: ProtocolLabel, into out: inout [UInt8]) {
        let packets = s.protocolPackets[p]
        let bytes = s.protocolBytes[p]
        out.append(timestampNs: s.startNs)
        out.append(UInt8(ascii: ","))
        Self.offset(s, into: &out)
        out.append(UInt8(ascii: ","))
        out.append(ascii: p.asciiName)
        out.append(UInt8(ascii: ","))
        out.append(decimal: packets)
        out.append(UInt8(ascii: ","))
        out.append(decimal: bytes)
        out.append(UInt8(ascii: ","))
        Self.bitsPerSecond(bytes: bytes, intervalNs: s.intervalNs, into: &out)
        out.append(UInt8(ascii: ","))
        if packets > 0 { out.appendRatio(UInt128(bytes), UInt128(packets)) }
        out.append(UInt8(ascii: "\n"))
    }

    // MARK: JSON

    private func jsonCommon(_ s: IntervalStats, into out: inout [UInt8]) {
        out.append(ascii: "{\"time\":")
        out.append(timestampNs: s.startNs)
        out.append(ascii: ",\"time_ns\":")
        out.append(decimal: s.startNs)
        out.append(ascii: ",\"offset\":")
        Self.offset(s, into: &out)
    }

    private func jsonWide(_ s: IntervalStats, into out: inout [UInt8]) {
        Self.jsonInterval(s, includeDrops: includeDrops, into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// One interval as one JSON object, without a newline: the object of `analyze --format json`
    /// (wide) and, with `includeDrops`, of live rows and of `serve` (`/api/v1/series`, each event of
    /// the stream), so every JSON interval has the same keys with the same value formats.
    ///
    /// `{"time":…,"time_ns":…,"offset":…,"packets":…,"bytes":…,"bits_per_second":…,"min_length":…,
    /// "mean_length":…,"max_length":…,"protocols":{…}}` then, with `includeDrops`,
    /// `"drops":{"kernel":…,"interface":…,"ring":…},"late_packets":…`, then what `more` appends
    /// (each member with its leading comma; `serve` adds `"interval_seconds"`). `time` is the
    /// interval's start in epoch seconds with exactly 9 decimals and `time_ns` the same as an exact
    /// integer; `offset` seconds from the first interval's start (a whole number when the interval
    /// is whole seconds, else the shortest exact decimal); `packets`, `bytes` (wire lengths) and
    /// `min_length`, `max_length` integers; `bits_per_second` (wire bits over the interval length)
    /// and `mean_length` (bytes per packet) exact to 3 decimals with trailing zeros dropped, so an
    /// integer when they are whole; the three lengths are `null` when the interval has no packets;
    /// `protocols` has a member per protocol with packets, `{"packets":…,"bytes":…}`, in label
    /// order; `drops` are the packets lost (kernel, interface, ring) attributed to this interval and
    /// `late_packets` those that arrived after their own interval was written. Without drops the
    /// object is a prefix of the one with them.
    public static func jsonInterval(
        _ s: IntervalStats, includeDrops: Bool, into out: inout [UInt8], more: (inout [UInt8]) -> Void = { _ in }
    ) {
        out.append(ascii: "{\"time\":")
        out.append(timestampNs: s.startNs)
        out.append(ascii: ",\"time_ns\":")
        out.append(decimal: s.startNs)
        out.append(ascii: ",\"offset\":")
        Self.offset(s, into: &out)
        out.append(ascii: ",\"packets\":")
        out.append(decimal: s.packets)
        out.append(ascii: ",\"bytes\":")
        out.append(decimal: s.bytes)
        out.append(ascii: ",\"bits_per_second\":")
        Self.bitsPerSecond(bytes: s.bytes, intervalNs: s.intervalNs, into: &out)
        out.append(ascii: ",\"min_length\":")
        if s.packets > 0 { out.append(decimal: UInt64(s.minLength)) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"mean_length\":")
        if s.packets > 0 { out.appendRatio(UInt128(s.bytes), UInt128(s.packets)) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"max_length\":")
        if s.packets > 0 { out.append(decimal: UInt64(s.maxLength)) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"protocols\":")
        out.appendProtocolsJSON(packets: s.protocolPackets, bytes: s.protocolBytes)
        if includeDrops {
            out.append(ascii: ",\"drops\":{\"kernel\":")
            out.append(decimal: s.drops.kernel)
            out.append(ascii: ",\"interface\":")
            out.append(decimal: s.drops.interface)
            out.append(ascii: ",\"ring\":")
            out.append(decimal: s.drops.ring)
            out.append(ascii: "},\"late_packets\":")
            out.append(decimal: s.latePackets)
        }
        more(&out)
        out.append(UInt8(ascii: "}"))
    }

    private func jsonLong(_ s: IntervalStats, _ p: ProtocolLabel, into out: inout [UInt8]) {
        let packets = s.protocolPackets[p]
        let bytes = s.protocolBytes[p]
        jsonCommon(s, into: &out)
        out.append(ascii: ",\"protocol\":\"")
        out.append(ascii: p.asciiName)
        out.append(ascii: "\",\"packets\":")
        out.append(decimal: packets)
        out.append(ascii: ",\"bytes\":")
        out.append(decimal: bytes)
        out.append(ascii: ",\"bits_per_second\":")
        Self.bitsPerSecond(bytes: bytes, intervalNs: s.intervalNs, into: &out)
        out.append(ascii: ",\"mean_length\":")
        if packets > 0 { out.appendRatio(UInt128(bytes), UInt128(packets)) } else { out.append(ascii: "null") }
        out.append(ascii: "}\n")
    }

    // MARK: table

    private func tableWide(_ s: IntervalStats, into out: inout [UInt8]) {
        var cell: [UInt8] = []
        Self.offset(s, into: &cell)
        Self.right(cell, 10, into: &out)
        Self.rightNumber(s.packets, 11, into: &out)
        Self.rightNumber(s.bytes, 15, into: &out)
        cell.removeAll(keepingCapacity: true)
        cell.appendSI(s.bitsPerSecond)
        Self.right(cell, 9, into: &out)
        if s.packets > 0 {
            Self.rightNumber(UInt64(s.minLength), 7, into: &out)
            cell.removeAll(keepingCapacity: true)
            cell.appendRatio(UInt128(s.bytes), UInt128(s.packets), decimals: 1)
            Self.right(cell, 9, into: &out)
            Self.rightNumber(UInt64(s.maxLength), 7, into: &out)
        } else {
            Self.right("-", 7, into: &out)
            Self.right("-", 9, into: &out)
            Self.right("-", 7, into: &out)
        }
        if includeDrops {
            Self.rightNumber(s.drops.kernel &+ s.drops.interface &+ s.drops.ring, 8, into: &out)
            Self.rightNumber(s.latePackets, 6, into: &out)
        }
        for p in protocols { Self.rightNumber(s.protocolPackets[p], Self.protocolWidth(p), into: &out) }
        out.append(UInt8(ascii: "\n"))
    }

    private func tableLong(_ s: IntervalStats, _ p: ProtocolLabel, into out: inout [UInt8]) {
        let start = out.count
        var cell: [UInt8] = []
        Self.offset(s, into: &cell)
        Self.right(cell, 10, into: &out)
        out.append(ascii: "  ")
        out.append(ascii: p.asciiName)
        out.pad(from: start, to: 20)
        let packets = s.protocolPackets[p]
        let bytes = s.protocolBytes[p]
        Self.rightNumber(packets, 11, into: &out)
        Self.rightNumber(bytes, 15, into: &out)
        cell.removeAll(keepingCapacity: true)
        cell.appendSI(Double(bytes) * 8e9 / Double(s.intervalNs))
        Self.right(cell, 9, into: &out)
        cell.removeAll(keepingCapacity: true)
        if packets > 0 {
            cell.appendRatio(UInt128(bytes), UInt128(packets), decimals: 1)
        } else {
            cell.append(UInt8(ascii: "-"))
        }
        Self.right(cell, 9, into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    // MARK: cells

    /// `offset`: whole seconds when the interval is whole seconds, else the exact decimal.
    static func offset(_ s: IntervalStats, into out: inout [UInt8]) {
        let ns = s.offsetNs
        if s.intervalNs % 1_000_000_000 == 0 {
            out.append(decimal: ns / 1_000_000_000)
        } else {
            out.appendSeconds(ns: ns)
        }
    }

    /// `bytes * 8 / interval` in bits per second, exact to 3 decimals.
    static func bitsPerSecond(bytes: UInt64, intervalNs: Int64, into out: inout [UInt8]) {
        out.appendRatio(UInt128(bytes) * 8_000_000_000, UInt128(max(1, intervalNs)))
    }

    static func protocolWidth(_ p: ProtocolLabel) -> Int { max(8, p.name.utf8.count + 2) }

    /// Appends `cell` right-aligned in a column `width` bytes wide (at least one space before it).
    static func right(_ cell: some Collection<UInt8>, _ width: Int, into out: inout [UInt8]) {
        let pad = max(1, width - cell.count)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
        out.append(contentsOf: cell)
    }

    static func right(_ text: String, _ width: Int, into out: inout [UInt8]) {
        right(Array(text.utf8), width, into: &out)
    }

    static func rightNumber(_ v: UInt64, _ width: Int, into out: inout [UInt8]) {
        var cell: [UInt8] = []
        cell.append(decimal: v)
        right(cell, width, into: &out)
    }
}

extension Array where Element == UInt8 {
    /// `{"TCP":{"packets":N,"bytes":N},...}` for every protocol with packets, in label order:
    /// the `protocols` object of the JSON series rows and of the JSON summary.
    mutating func appendProtocolsJSON(packets: ProtocolCounters, bytes: ProtocolCounters) {
        append(UInt8(ascii: "{"))
        var first = true
        for p in ProtocolLabel.allCases where packets[p] != 0 {
            if !first { append(UInt8(ascii: ",")) }
            first = false
            append(UInt8(ascii: "\""))
            append(ascii: p.asciiName)
            append(ascii: "\":{\"packets\":")
            append(decimal: packets[p])
            append(ascii: ",\"bytes\":")
            append(decimal: bytes[p])
            append(UInt8(ascii: "}"))
        }
        append(UInt8(ascii: "}"))
    }
}
