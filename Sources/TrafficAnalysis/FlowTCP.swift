import PacketWire

/// What a flow's TCP flags tell of its connection, for the live views (`top`, `serve`): Zeek's
/// `conn_state` and the handshake's round trip, from the flags each side sent and the times of
/// the SYN, the SYN-ACK and the ACK. The exact model, with sequence numbers, payload and history,
/// is the connection model of `flows --format zeek` (`ConnectionTracker`); this one costs a byte
/// OR per packet, and the handshake's time where the table keeps details (`FlowStorage.swift`).
extension Flow {
    enum Handshake {
        /// The src sent a SYN (without ACK); `handshakeMicros` holds its time.
        static let syn: UInt8 = 1
        /// The dst answered it with a SYN-ACK.
        static let synAck: UInt8 = 2
        /// The src acknowledged the SYN-ACK: `handshakeMicros` holds the round trip.
        static let done: UInt8 = 4
    }

    /// TCP: the handshake's round trip (SYN to the ACK of the SYN-ACK), in nanoseconds, to the
    /// microsecond; nil until the handshake completed, and for other protocols.
    public var initialRTTNanos: Int64? {
        handshake & Handshake.done != 0 ? Int64(handshakeMicros) * 1000 : nil
    }

    /// TCP: Zeek's `conn_state` as the flags seen so far tell it (each side's state from its SYN,
    /// FIN and RST; payload is not counted, so REJ after two resets is decided by PSH), with the
    /// flow's src as originator; nil for other protocols and before any flags were captured.
    public var tcpState: ConnState? {
        guard key.label == .tcp, srcTCPFlags | dstTCPFlags != 0 else { return nil }
        let established = srcTCPFlags & TCPFlags.syn != 0 && dstTCPFlags & TCPFlags.syn != 0
        let os = Self.endpointState(srcTCPFlags, packets: srcPackets, established: established, isOrig: true)
        let rs = Self.endpointState(dstTCPFlags, packets: dstPackets, established: established, isOrig: false)
        let noPayload = (srcTCPFlags | dstTCPFlags) & TCPFlags.psh == 0
        let origOnlySynRst = srcTCPFlags & ~(TCPFlags.syn | TCPFlags.rst) == 0
        return ConnectionTracker.tcpState(os: os, rs: rs, noPayload: noPayload, origOnlySynRst)
    }

    static func endpointState(_ flags: UInt8, packets: UInt64, established: Bool, isOrig: Bool) -> TCPState {
        if packets == 0 { return .inactive }
        if flags & TCPFlags.rst != 0 { return .reset }
        if flags & TCPFlags.fin != 0 { return .closed }
        if flags & TCPFlags.syn != 0 {
            if established { return .established }
            return isOrig && flags & TCPFlags.ack == 0 ? .synSent : .synAckSent
        }
        return .partial
    }
}

/// TCP flag bits, as the flags byte of the header has them.
public enum TCPFlags {
    public static let fin: UInt8 = 0x01
    public static let syn: UInt8 = 0x02
    public static let rst: UInt8 = 0x04
    public static let psh: UInt8 = 0x08
    public static let ack: UInt8 = 0x10
    public static let urg: UInt8 = 0x20
    public static let ece: UInt8 = 0x40
    public static let cwr: UInt8 = 0x80
}
