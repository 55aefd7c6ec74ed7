public import PacketWire

/// The key Zeek looks connections up by: the address and port pair (ordered, unless the ICMP
/// message is one-way) and the IP protocol.
struct ConnKey: Hashable {
    var a1: IPAddress
    var a2: IPAddress
    var p1: UInt16
    var p2: UInt16
    var proto: UInt8
    var version: UInt8

    init(src: IPAddress, srcPort: UInt16, dst: IPAddress, dstPort: UInt16, proto: UInt8, version: UInt8, oneWay: Bool) {
        let srcLower =
            src.hi < dst.hi || (src.hi == dst.hi && (src.lo < dst.lo || (src.lo == dst.lo && srcPort < dstPort)))
        let srcFirst = oneWay || srcLower
        if srcFirst {
            (a1, p1, a2, p2) = (src, srcPort, dst, dstPort)
        } else {
            (a1, p1, a2, p2) = (dst, dstPort, src, srcPort)
        }
        self.proto = proto
        self.version = version
    }
}

/// History masks (Zeek's `HIST_*`): the responder's are these shifted 16 bits up.
enum HistoryMask {
    static let syn: UInt32 = 0x1
    static let fin: UInt32 = 0x2
    static let rst: UInt32 = 0x4
    static let finRst: UInt32 = 0x8
    static let data: UInt32 = 0x10
    static let ack: UInt32 = 0x20
    static let multiFlag: UInt32 = 0x40
}

/// A connection's whole state: fixed-size, no references. The fields are in the order packets
/// use them: what every packet reads or changes comes first (the key, the direction, the times and
/// counters, the timers, TCP's two sides, UDP's lengths), what only some packets or the record
/// need last (history, uid, the rare parts of TCP's sides and their byte ranges). A packet then
/// touches the first few cache lines of the connection, not all of them.
struct Connection {
    // Every packet.
    var key: ConnKey
    var transport: ConnTransport
    /// Which of `e0`/`e1` is the originator (a flip swaps the roles, not the values).
    var originator: UInt8 = 0
    var isPartial = false
    var firstPacketSeen: UInt8 = 0
    var seenFirstACK = false
    var isActive = true
    var closeDeferred = false
    var deferredGenEvent = false
    var synAckSeen = false
    var origPort: UInt16
    var respPort: UInt16
    var histSeen: UInt32 = 0
    // Timer bookkeeping.
    var generation: UInt32 = 0
    var origAddress: IPAddress
    /// Microseconds.
    var last: Int64
    /// The network time of the last packet that reached the connection.
    var lastPacket: Int64
    var origPackets: UInt64 = 0
    var origIPBytes: UInt64 = 0
    var respPackets: UInt64 = 0
    var respIPBytes: UInt64 = 0
    var inactivityTimeout: Int64
    var scheduledAt = Int64.max
    /// UDP and ICMP: payload bytes per side, -1 while the side sent nothing.
    var requestLength: Int64 = -1
    var replyLength: Int64 = -1
    /// UDP with Zeek's DNS analyzer: its expire timer's first tick (then every 10 s); .max without.
    var dnsExpireBase = Int64.max
    // TCP.
    var attemptAt = Int64.max
    /// Zeek's `ExpireTimer` chains: first tick, then every `tcp_session_timer`.
    var expireChain0 = Int64.max
    var expireChain1 = Int64.max
    var deleteAt = Int64.max
    // initial_rtt, in nanoseconds.
    var synNanos: Int64 = -1
    var rttNanos: Int64 = -1
    var e0 = TCPEndpoint(isOrig: true)
    var e1 = TCPEndpoint(isOrig: false)
    // Some packets, and the record.
    var respAddress: IPAddress
    var start: Int64
    var uid: ConnUID
    var ipVersion: UInt8
    var ipProto: UInt8
    var history = ConnHistory()
    var missedBytes: UInt64 = 0
    /// The TCP timeout the connection switches to after the handshake.
    var tcpTimeout: Int64 = 300_000_000
    var requestChecksumCount: UInt32 = 0
    var requestChecksumThreshold: UInt32 = 1
    var replyChecksumCount: UInt32 = 0
    var replyChecksumThreshold: UInt32 = 1
    var rare0 = TCPEndpointRare()
    var rare1 = TCPEndpointRare()
    var blocks0 = RangeList()
    var blocks1 = RangeList()

    init(
        key: ConnKey, transport: ConnTransport, ipVersion: UInt8, ipProto: UInt8, origAddress: IPAddress,
        respAddress: IPAddress, origPort: UInt16, respPort: UInt16, uid: ConnUID, start: Int64, last: Int64,
        lastPacket: Int64, inactivityTimeout: Int64
    ) {
        self.key = key
        self.transport = transport
        self.ipVersion = ipVersion
        self.ipProto = ipProto
        self.origAddress = origAddress
        self.respAddress = respAddress
        self.origPort = origPort
        self.respPort = respPort
        self.uid = uid
        self.start = start
        self.last = last
        self.lastPacket = lastPacket
        self.inactivityTimeout = inactivityTimeout
    }

    /// Which of `e0`/`e1` is the originator.
    var origIndex: Int {
        @inline(__always) get { Int(originator) }
        @inline(__always) set { originator = UInt8(truncatingIfNeeded: newValue) }
    }

    /// An endpoint by index, changed in place (`_read`, `_modify`: a get and a set would copy
    /// the whole endpoint for every field read or changed).
    subscript(i: Int) -> TCPEndpoint {
        @inline(__always) get { i == 0 ? e0 : e1 }
        @inline(__always) _modify {
            if i == 0 { yield &e0 } else { yield &e1 }
        }
    }

    /// The rare parts of an endpoint by index, in place.
    subscript(rare i: Int) -> TCPEndpointRare {
        @inline(__always) get { i == 0 ? rare0 : rare1 }
        @inline(__always) _modify {
            if i == 0 { yield &rare0 } else { yield &rare1 }
        }
    }

    /// An endpoint's unacknowledged byte ranges by index, in place.
    subscript(blocks i: Int) -> RangeList {
        @inline(__always) get { i == 0 ? blocks0 : blocks1 }
        @inline(__always) _modify {
            if i == 0 { yield &blocks0 } else { yield &blocks1 }
        }
    }

    var respIndex: Int { 1 - origIndex }

    mutating func addHistory(_ c: UInt8) { history.append(c) }

    /// Zeek's `Session::CheckHistory`: adds `code` the first time `mask` is seen. Returns true if
    /// it had been seen before.
    mutating func checkHistory(_ mask: UInt32, _ code: UInt8) -> Bool {
        if histSeen & mask == 0 {
            histSeen |= mask
            addHistory(code)
            return false
        }
        return true
    }

    /// Zeek's `ScaledHistoryEntry`: the letter again at 1, 10, 100, ... occurrences.
    mutating func scaledHistory(_ code: UInt8, _ counter: inout UInt32, _ threshold: inout UInt32) {
        counter &+= 1
        if counter == threshold {
            addHistory(code)
            let next = threshold &* 10
            if next <= threshold { counter = 0 } else { threshold = next }
        }
    }

    /// Zeek's `Connection::FlipRoles` with the TCP adapter's and the size counter's parts.
    mutating func flipRoles() {
        swap(&origAddress, &respAddress)
        swap(&origPort, &respPort)
        swap(&origPackets, &respPackets)
        swap(&origIPBytes, &respIPBytes)
        if transport == .tcp {
            origIndex = 1 - origIndex
            e0.isOrig.toggle()
            e1.isOrig.toggle()
            firstPacketSeen = (firstPacketSeen & 1 != 0 ? 2 : 0) | (firstPacketSeen & 2 != 0 ? 1 : 0)
            isPartial = false
        }
        addHistory(UInt8(ascii: "^"))
    }
}
