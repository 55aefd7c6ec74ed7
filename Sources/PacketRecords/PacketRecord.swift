public import PacketWire

/// One packet, as pktstat keeps it: what the analysis and the writers need, nothing else.
/// A plain value (no references), so arrays of records are copied with memcpy.
public struct PacketRecord: Sendable, Equatable {
    /// Capture time, nanoseconds since the Unix epoch.
    public var timestampNs: Int64
    /// Original length on the wire (pcap `orig_len`).
    public var length: UInt32
    /// Bytes captured (pcap `incl_len`), at most the snap length.
    public var captured: UInt32
    /// Protocol label, addresses and ports.
    public var decoded: Decoded

    public init(timestampNs: Int64, length: UInt32, captured: UInt32, decoded: Decoded) {
        self.timestampNs = timestampNs
        self.length = length
        self.captured = captured
        self.decoded = decoded
    }

    public init(timestampNs: Int64, length: UInt32, captured: UInt32, label: ProtocolLabel) {
        var d = Decoded()
        d.label = label
        self.init(timestampNs: timestampNs, length: length, captured: captured, decoded: d)
    }

    public var label: ProtocolLabel { decoded.label }

    /// The IP-layer bytes of the packet (IP header and payload, as RFC 7012's `octetDeltaCount`
    /// counts them): the outermost IP header's length field, at most the wire length. Without
    /// an IP header, or when the field says 0 (TSO captures, jumbograms), the wire length.
    @inlinable
    public var ipBytes: UInt32 {
        let field = UInt32(decoded.ipLengthField)
        guard field != 0 else { return length }
        let total = decoded.ipVersion == 6 ? field &+ 40 : field
        return Swift.min(total, length)
    }
}

/// Nanosecond timestamps from (seconds, fraction) as libpcap hands them.
public enum Timestamp {
    public static let nanosPerSecond: Int64 = 1_000_000_000

    /// Combines seconds and a sub-second fraction (`fractionScale` units per second: 10^6 or 10^9)
    /// into nanoseconds, saturating instead of overflowing on absurd values.
    @inlinable
    public static func nanoseconds(seconds: Int64, fraction: Int64, fractionScale: Int64) -> Int64 {
        let fracNs = fractionScale == nanosPerSecond ? fraction : fraction &* (nanosPerSecond / max(1, fractionScale))
        let (s, o1) = seconds.multipliedReportingOverflow(by: nanosPerSecond)
        if o1 { return seconds < 0 ? .min : .max }
        let (t, o2) = s.addingReportingOverflow(fracNs)
        if o2 { return fracNs < 0 ? .min : .max }
        return t
    }
}
