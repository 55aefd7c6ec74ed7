import PacketWire

/// The part of a flow that `FlowTable` keeps for every flow and that packets update: the key,
/// the orientation, each side's TCP flags and the handshake's state, the name ids, the times and
/// the frame counters. 104 bytes (a million flows in 99 MiB): `flows` on a scan of spoofed
/// sources keeps every flow of the file.
struct FlowCore {
    var key: FlowKey
    var srcIsB: Bool
    var srcTCPFlags: UInt8 = 0
    var dstTCPFlags: UInt8 = 0
    /// `Flow.Handshake` bits; the times are in `FlowDetail`.
    var handshake: UInt8 = 0
    var srcName: UInt32 = 0
    var dstName: UInt32 = 0
    var serverName: UInt32 = 0
    var first: Int64
    var last: Int64
    var srcPackets: UInt64 = 0
    var srcBytes: UInt64 = 0
    var dstPackets: UInt64 = 0
    var dstBytes: UInt64 = 0

    init(key: FlowKey, senderIsB: Bool, at ts: Int64) {
        self.key = key
        srcIsB = senderIsB
        first = ts
        last = ts
    }

    var srcAddress: IPAddress { srcIsB ? key.b : key.a }
    var dstAddress: IPAddress { srcIsB ? key.a : key.b }
}

/// What only IPFIX and the live views read: the IP-layer bytes each side sent, the handshake's
/// time, each side's first ICMP type and code. 24 bytes, kept beside `FlowCore` (the same
/// position in a parallel store) only by tables that are asked for them.
struct FlowDetail {
    var srcIPBytes: UInt64 = 0
    var dstIPBytes: UInt64 = 0
    /// Microseconds: while the handshake is pending, the time of the src's last SYN after
    /// `first`; once it completed, the round trip.
    var handshakeMicros: UInt32 = 0
    var srcICMPTypeCode: UInt16 = 0
    var dstICMPTypeCode: UInt16 = 0
}

extension Flow {
    /// The flow that a table's core and detail stores hold (`detail` zero when the table keeps
    /// none).
    init(_ c: FlowCore, _ d: FlowDetail) {
        self.init(key: c.key, senderIsB: c.srcIsB, at: c.first)
        srcTCPFlags = c.srcTCPFlags
        dstTCPFlags = c.dstTCPFlags
        handshake = c.handshake
        handshakeMicros = d.handshakeMicros
        last = c.last
        srcPackets = c.srcPackets
        srcBytes = c.srcBytes
        dstPackets = c.dstPackets
        dstBytes = c.dstBytes
        srcIPBytes = d.srcIPBytes
        dstIPBytes = d.dstIPBytes
        srcName = c.srcName
        dstName = c.dstName
        serverName = c.serverName
        srcICMPTypeCode = d.srcICMPTypeCode
        dstICMPTypeCode = d.dstICMPTypeCode
    }
}

/// The handshake as the flags tell it, on a table's stores.
enum FlowHandshake {
    /// Records a TCP packet's flags for the handshake as Wireshark's `tcp.analysis.initial_rtt`
    /// measures it (from the src's last SYN to its first ACK after the dst's SYN-ACK), to the
    /// microsecond. The flags' OR per side is the caller's.
    @inline(__always)
    static func saw(
        _ flags: UInt8, fromSrc: Bool, at ts: Int64, _ c: UnsafeMutablePointer<FlowCore>,
        _ d: UnsafeMutablePointer<FlowDetail>
    ) {
        let handshake = c.pointee.handshake
        guard handshake & Flow.Handshake.done == 0 else { return }
        let syn = flags & TCPFlags.syn != 0
        let ack = flags & TCPFlags.ack != 0
        if fromSrc {
            if syn && !ack {
                let micros = (ts &- c.pointee.first) / 1000
                if micros >= 0 && micros <= Int64(UInt32.max) {
                    c.pointee.handshake = Flow.Handshake.syn
                    d.pointee.handshakeMicros = UInt32(micros)
                } else {
                    c.pointee.handshake = 0
                }
            } else if ack && !syn && flags & TCPFlags.rst == 0 && handshake & Flow.Handshake.synAck != 0 {
                let rtt = (ts &- c.pointee.first) / 1000 &- Int64(d.pointee.handshakeMicros)
                if rtt >= 0 && rtt <= Int64(UInt32.max) {
                    c.pointee.handshake = Flow.Handshake.done
                    d.pointee.handshakeMicros = UInt32(rtt)
                }
            }
        } else if syn && ack && handshake & Flow.Handshake.syn != 0 {
            c.pointee.handshake = handshake | Flow.Handshake.synAck
        }
    }

    /// `first` moves earlier (a packet out of order): a pending SYN time stays where it was.
    @inline(__always)
    static func moveFirst(
        to ts: Int64, _ c: UnsafeMutablePointer<FlowCore>, _ d: UnsafeMutablePointer<FlowDetail>
    ) {
        if c.pointee.handshake & (Flow.Handshake.syn | Flow.Handshake.done) == Flow.Handshake.syn {
            let micros = Int64(d.pointee.handshakeMicros) &+ (c.pointee.first &- ts) / 1000
            if micros <= Int64(UInt32.max) {
                d.pointee.handshakeMicros = UInt32(micros)
            } else {
                c.pointee.handshake = 0
            }
        }
    }
}
