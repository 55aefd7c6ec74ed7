public import PacketWire

/// What a set of packets adds up to: packets, wire and captured bytes, smallest and largest wire
/// length, packets and bytes per protocol. An interval, the whole-capture summary and a run of
/// packets being tallied (`SeriesAnalyzer.add(_:)`) each count with one of these, so the
/// per-packet counting lives here only. A plain value: copying it is a memcpy.
public struct Tally: Sendable, Equatable {
    public var packets: UInt64 = 0
    /// Sum of wire lengths.
    public var bytes: UInt64 = 0
    /// Sum of captured lengths.
    public var capturedBytes: UInt64 = 0
    /// Smallest and largest wire length; 0 when there are no packets.
    public var minLength: UInt32 = 0
    public var maxLength: UInt32 = 0
    /// Packets and bytes per protocol, indexed by `ProtocolLabel.rawValue`.
    public var protocolPackets = ProtocolCounters()
    public var protocolBytes = ProtocolCounters()

    public init() {}

    /// Counts one packet.
    @inlinable @inline(__always)
    public mutating func count(length: UInt32, captured: UInt32, label: ProtocolLabel) {
        if packets == 0 {
            minLength = length
            maxLength = length
        } else {
            if length < minLength { minLength = length }
            if length > maxLength { maxLength = length }
        }
        packets &+= 1
        bytes &+= UInt64(length)
        capturedBytes &+= UInt64(captured)
        let slot = Int(label.rawValue)
        protocolPackets.add(1, at: slot)
        protocolBytes.add(UInt64(length), at: slot)
    }

    /// Adds another tally's packets.
    public mutating func add(_ other: Tally) {
        guard other.packets > 0 else { return }
        if packets == 0 {
            minLength = other.minLength
            maxLength = other.maxLength
        } else {
            if other.minLength < minLength { minLength = other.minLength }
            if other.maxLength > maxLength { maxLength = other.maxLength }
        }
        packets &+= other.packets
        bytes &+= other.bytes
        capturedBytes &+= other.capturedBytes
        protocolPackets.add(other.protocolPackets)
        protocolBytes.add(other.protocolBytes)
    }
}

/// A value that counts with a `Tally` (an interval, the summary) and shows the tally's figures as
/// its own properties: `interval.packets` is `interval.tally.packets`.
public protocol TallyFigures {
    var tally: Tally { get set }
}

extension TallyFigures {
    /// Packets counted.
    @inlinable public var packets: UInt64 {
        get { tally.packets }
        set { tally.packets = newValue }
    }
    /// Sum of wire lengths.
    @inlinable public var bytes: UInt64 {
        get { tally.bytes }
        set { tally.bytes = newValue }
    }
    /// Sum of captured lengths.
    @inlinable public var capturedBytes: UInt64 {
        get { tally.capturedBytes }
        set { tally.capturedBytes = newValue }
    }
    /// Smallest wire length; 0 when there are no packets.
    @inlinable public var minLength: UInt32 {
        get { tally.minLength }
        set { tally.minLength = newValue }
    }
    /// Largest wire length; 0 when there are no packets.
    @inlinable public var maxLength: UInt32 {
        get { tally.maxLength }
        set { tally.maxLength = newValue }
    }
    /// Packets per protocol, indexed by `ProtocolLabel.rawValue`.
    @inlinable public var protocolPackets: ProtocolCounters {
        get { tally.protocolPackets }
        set { tally.protocolPackets = newValue }
    }
    /// Wire bytes per protocol, indexed by `ProtocolLabel.rawValue`.
    @inlinable public var protocolBytes: ProtocolCounters {
        get { tally.protocolBytes }
        set { tally.protocolBytes = newValue }
    }
}
