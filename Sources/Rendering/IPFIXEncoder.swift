public import PacketWire
public import TrafficAnalysis

/// IPFIX (RFC 7011) messages from flows: bytes from values, no I/O.
///
/// Each message is a 16-byte header (version 10, length, export time, sequence number,
/// observation domain id) and sets: a template set (id 2) or data sets whose id is the template
/// they follow. Templates (RFC 7012 information elements):
///
/// | id  | records                         | ports or ICMP                |
/// |-----|---------------------------------|------------------------------|
/// | 256 | IPv4, one direction             | sourceTransportPort, dest... |
/// | 257 | IPv6, one direction             | ports                        |
/// | 258 | IPv4 ICMP, one direction        | icmpTypeCodeIPv4             |
/// | 259 | IPv6 ICMPv6, one direction      | icmpTypeCodeIPv6             |
/// | 260-263 | the same, RFC 5103 biflows  | plus reverse counters        |
///
/// Every record carries flowStartMilliseconds, flowEndMilliseconds, the addresses,
/// protocolIdentifier, ipVersion, tcpControlBits, flowEndReason, ingressInterface,
/// octetDeltaCount (IP header and payload), packetDeltaCount and layer2OctetDeltaCount (the frame
/// bytes pktstat's CSV counts), counters 8 bytes wide. Biflow records add reverseOctetDeltaCount,
/// reversePacketDeltaCount, reverseLayer2OctetDeltaCount and reverseTcpControlBits (the same
/// elements with the enterprise bit and RFC 5103's enterprise number 29305).
///
/// The sequence number counts data records sent before the message (modulo 2^32), as RFC 7011
/// says. Messages never exceed `maximumLength`.
public struct IPFIXEncoder: Sendable {
    /// The smallest message size accepted: room for the header, a set and the largest record,
    /// and for the template set.
    public static let minimumMessageLength = 256
    /// The largest: what one UDP datagram over IPv4 carries.
    public static let maximumMessageLength = 65_507
    public static let headerLength = 16
    /// RFC 5103: the enterprise number of reverse information elements.
    public static let reversePEN: UInt32 = 29305

    public let observationDomain: UInt32
    public let maximumLength: Int
    public let biflow: Bool
    /// Data records encoded so far (the next message's sequence number, modulo 2^32).
    public private(set) var records: UInt64 = 0
    /// Messages finished so far.
    public private(set) var messages: UInt64 = 0

    private var buffer: [UInt8] = []
    private var setStart = -1
    private var setID: UInt16 = 0
    private var recordsInMessage = 0

    public init(observationDomain: UInt32, maximumLength: Int, biflow: Bool) {
        precondition(
            (Self.minimumMessageLength...Self.maximumMessageLength).contains(maximumLength),
            "IPFIXEncoder: message length out of range")
        self.observationDomain = observationDomain
        self.maximumLength = maximumLength
        self.biflow = biflow
        buffer.reserveCapacity(maximumLength)
    }

    // MARK: Templates

    /// An information element of a template: id, length, enterprise number (0: IETF).
    struct Field {
        var id: UInt16
        var length: UInt16
        var enterprise: UInt32 = 0
    }

    enum Element {
        static let octetDeltaCount: UInt16 = 1
        static let packetDeltaCount: UInt16 = 2
        static let protocolIdentifier: UInt16 = 4
        static let tcpControlBits: UInt16 = 6
        static let sourceTransportPort: UInt16 = 7
        static let sourceIPv4Address: UInt16 = 8
        static let ingressInterface: UInt16 = 10
        static let destinationTransportPort: UInt16 = 11
        static let destinationIPv4Address: UInt16 = 12
        static let sourceIPv6Address: UInt16 = 27
        static let destinationIPv6Address: UInt16 = 28
        static let icmpTypeCodeIPv4: UInt16 = 32
        static let ipVersion: UInt16 = 60
        static let flowEndReason: UInt16 = 136
        static let icmpTypeCodeIPv6: UInt16 = 139
        static let flowStartMilliseconds: UInt16 = 152
        static let flowEndMilliseconds: UInt16 = 153
        static let layer2OctetDeltaCount: UInt16 = 352
    }

    /// Which template a record follows.
    public enum Kind: Int, Sendable, CaseIterable {
        case ipv4, ipv6, icmpv4, icmpv6

        public var ipVersion: UInt8 { self == .ipv4 || self == .icmpv4 ? 4 : 6 }
        public var isICMP: Bool { self == .icmpv4 || self == .icmpv6 }
    }

    /// The template id of a kind of record.
    public func templateID(_ kind: Kind) -> UInt16 { UInt16(256 + kind.rawValue + (biflow ? 4 : 0)) }

    static func fields(_ kind: Kind, biflow: Bool) -> [Field] {
        var f: [Field] = [
            Field(id: Element.flowStartMilliseconds, length: 8),
            Field(id: Element.flowEndMilliseconds, length: 8),
        ]
        if kind.ipVersion == 4 {
            f.append(Field(id: Element.sourceIPv4Address, length: 4))
            f.append(Field(id: Element.destinationIPv4Address, length: 4))
        } else {
            f.append(Field(id: Element.sourceIPv6Address, length: 16))
            f.append(Field(id: Element.destinationIPv6Address, length: 16))
        }
        switch kind {
        case .ipv4, .ipv6:
            f.append(Field(id: Element.sourceTransportPort, length: 2))
            f.append(Field(id: Element.destinationTransportPort, length: 2))
        case .icmpv4: f.append(Field(id: Element.icmpTypeCodeIPv4, length: 2))
        case .icmpv6: f.append(Field(id: Element.icmpTypeCodeIPv6, length: 2))
        }
        f += [
            Field(id: Element.protocolIdentifier, length: 1),
            Field(id: Element.ipVersion, length: 1),
            Field(id: Element.tcpControlBits, length: 2),
            Field(id: Element.flowEndReason, length: 1),
            Field(id: Element.ingressInterface, length: 4),
            Field(id: Element.octetDeltaCount, length: 8),
            Field(id: Element.packetDeltaCount, length: 8),
            Field(id: Element.layer2OctetDeltaCount, length: 8),
        ]
        if biflow {
            f += [
                Field(id: Element.octetDeltaCount, length: 8, enterprise: reversePEN),
                Field(id: Element.packetDeltaCount, length: 8, enterprise: reversePEN),
                Field(id: Element.layer2OctetDeltaCount, length: 8, enterprise: reversePEN),
                Field(id: Element.tcpControlBits, length: 2, enterprise: reversePEN),
            ]
        }
        return f
    }

    /// The length of one data record of a kind.
    public func recordLength(_ kind: Kind) -> Int {
        Self.fields(kind, biflow: biflow).reduce(0) { $0 + Int($1.length) }
    }

    /// A message holding every template of this encoder's mode (4 templates), at `exportTime`
    /// (seconds since the epoch). Its sequence number is the count of data records sent so far.
    public func templateMessage(exportTime: UInt32) -> [UInt8] {
        var m: [UInt8] = []
        Self.header(
            into: &m, exportTime: exportTime, sequence: UInt32(truncatingIfNeeded: records),
            domain: observationDomain)
        let setAt = m.count
        m.append(be16: 2)
        m.append(be16: 0)
        for kind in Kind.allCases {
            let fields = Self.fields(kind, biflow: biflow)
            m.append(be16: templateID(kind))
            m.append(be16: UInt16(fields.count))
            for field in fields {
                if field.enterprise != 0 {
                    m.append(be16: field.id | 0x8000)
                    m.append(be16: field.length)
                    m.append(be32: field.enterprise)
                } else {
                    m.append(be16: field.id)
                    m.append(be16: field.length)
                }
            }
        }
        m.put(be16: UInt16(m.count - setAt), at: setAt + 2)
        m.put(be16: UInt16(m.count), at: 2)
        return m
    }

    static func header(into m: inout [UInt8], exportTime: UInt32, sequence: UInt32, domain: UInt32) {
        m.append(be16: 10)
        m.append(be16: 0)
        m.append(be32: exportTime)
        m.append(be32: sequence)
        m.append(be32: domain)
    }

    // MARK: Data records

    /// One direction of a flow (or, for biflows, both) as IPFIX carries it.
    public struct Record: Sendable, Equatable {
        public var kind: Kind
        public var startMs: UInt64
        public var endMs: UInt64
        public var src: IPAddress
        public var dst: IPAddress
        public var srcPort: UInt16
        public var dstPort: UInt16
        public var icmpTypeCode: UInt16
        public var protocolNumber: UInt8
        public var tcpFlags: UInt16
        public var endReason: UInt8
        public var ingressInterface: UInt32
        public var octets: UInt64
        public var packets: UInt64
        public var layer2Octets: UInt64
        public var reverseOctets: UInt64 = 0
        public var reversePackets: UInt64 = 0
        public var reverseLayer2Octets: UInt64 = 0
        public var reverseTCPFlags: UInt16 = 0
    }

    /// RFC 7012 `flowEndReason` values.
    public enum EndReason: UInt8, Sendable {
        case idleTimeout = 1
        case activeTimeout = 2
        case endOfFlowDetected = 3
        case forcedEnd = 4
        case lackOfResources = 5
    }

    /// The IP protocol number of a flow: from its label; flows of protocols pktstat does not name
    /// (labelled IPv4 or IPv6) are exported as 255 (reserved), since their number is not kept.
    /// (Label IPv6 under IPv6 is 41 or an unnamed protocol: 255 too.)
    public static func protocolNumber(_ key: FlowKey) -> UInt8 {
        key.label == .ipv6 && key.ipVersion == 4 ? 41 : protocolNumbers[Int(key.label.rawValue)]
    }

    static let protocolNumbers: [UInt8] = {
        var t = [UInt8](repeating: 255, count: ProtocolLabel.allCases.count)
        for (n, l) in ProtocolLabel.names where l != .ipv6 { t[Int(l.rawValue)] = n }
        return t
    }()

    /// The records of a flow: one per direction that carried packets, or one biflow record.
    /// Flows without IP addresses (ARP, other) give none. tcpControlBits are the OR of the TCP
    /// flags each direction sent (the flow table keeps them). ICMP records carry the type and
    /// code of the first packet of their direction (a biflow record: of the src's first packet).
    public static func records(
        of flow: Flow, biflow: Bool, reason: EndReason, ingressInterface: UInt32 = 0, into body: (Record) -> Void
    ) {
        let key = flow.key
        guard key.ipVersion == 4 || key.ipVersion == 6 else { return }
        let icmp = key.label == .icmp || key.label == .icmpv6
        let kind: Kind =
            key.ipVersion == 4 ? (icmp ? .icmpv4 : .ipv4) : (icmp ? .icmpv6 : .ipv6)
        let proto = Self.protocolNumber(key)
        let startMs = UInt64(clamping: flow.first / 1_000_000)
        let endMs = UInt64(clamping: flow.last / 1_000_000)
        let src = flow.src
        let dst = flow.dst
        var forward = Record(
            kind: kind, startMs: startMs, endMs: endMs, src: src.address, dst: dst.address,
            srcPort: key.hasPorts ? src.port : 0, dstPort: key.hasPorts ? dst.port : 0,
            icmpTypeCode: icmp ? flow.srcICMPTypeCode : 0,
            protocolNumber: proto, tcpFlags: UInt16(flow.srcTCPFlags), endReason: reason.rawValue,
            ingressInterface: ingressInterface, octets: flow.srcIPBytes, packets: flow.srcPackets,
            layer2Octets: flow.srcBytes)
        if biflow {
            forward.reverseOctets = flow.dstIPBytes
            forward.reversePackets = flow.dstPackets
            forward.reverseLayer2Octets = flow.dstBytes
            forward.reverseTCPFlags = UInt16(flow.dstTCPFlags)
            body(forward)
            return
        }
        if flow.srcPackets > 0 { body(forward) }
        if flow.dstPackets > 0 {
            body(
                Record(
                    kind: kind, startMs: startMs, endMs: endMs, src: dst.address, dst: src.address,
                    srcPort: forward.dstPort, dstPort: forward.srcPort, icmpTypeCode: icmp ? flow.dstICMPTypeCode : 0,
                    protocolNumber: proto,
                    tcpFlags: UInt16(flow.dstTCPFlags), endReason: reason.rawValue, ingressInterface: ingressInterface,
                    octets: flow.dstIPBytes, packets: flow.dstPackets, layer2Octets: flow.dstBytes))
        }
    }

    /// Adds a data record, handing `emit` the message it fills first (and its count of data
    /// records) when it does not fit. `exportTime` (seconds since the epoch) goes into the header
    /// of a message this record starts.
    public mutating func append(_ r: Record, exportTime: UInt32, emit: ([UInt8], Int) throws -> Void) rethrows {
        let id = templateID(r.kind)
        let length = recordLength(r.kind)
        let setHeader = setStart >= 0 && setID == id ? 0 : 4
        if !buffer.isEmpty && buffer.count + setHeader + length > maximumLength {
            try flush(emit: emit)
        }
        if buffer.isEmpty {
            Self.header(
                into: &buffer, exportTime: exportTime, sequence: UInt32(truncatingIfNeeded: records),
                domain: observationDomain)
            setStart = -1
        }
        if setStart < 0 || setID != id {
            closeSet()
            setStart = buffer.count
            setID = id
            buffer.append(be16: id)
            buffer.append(be16: 0)
        }
        buffer.append(be64: r.startMs)
        buffer.append(be64: r.endMs)
        if r.kind.ipVersion == 4 {
            buffer.append(be32: r.src.v4)
            buffer.append(be32: r.dst.v4)
        } else {
            buffer.append(be64: r.src.hi)
            buffer.append(be64: r.src.lo)
            buffer.append(be64: r.dst.hi)
            buffer.append(be64: r.dst.lo)
        }
        if r.kind.isICMP {
            buffer.append(be16: r.icmpTypeCode)
        } else {
            buffer.append(be16: r.srcPort)
            buffer.append(be16: r.dstPort)
        }
        buffer.append(r.protocolNumber)
        buffer.append(r.kind.ipVersion)
        buffer.append(be16: r.tcpFlags)
        buffer.append(r.endReason)
        buffer.append(be32: r.ingressInterface)
        buffer.append(be64: r.octets)
        buffer.append(be64: r.packets)
        buffer.append(be64: r.layer2Octets)
        if biflow {
            buffer.append(be64: r.reverseOctets)
            buffer.append(be64: r.reversePackets)
            buffer.append(be64: r.reverseLayer2Octets)
            buffer.append(be16: r.reverseTCPFlags)
        }
        records &+= 1
        recordsInMessage += 1
    }

    /// Hands `emit` the message being filled, if it holds any record.
    public mutating func flush(emit: ([UInt8], Int) throws -> Void) rethrows {
        guard !buffer.isEmpty else { return }
        closeSet()
        buffer.put(be16: UInt16(buffer.count), at: 2)
        let message = buffer
        let count = recordsInMessage
        buffer.removeAll(keepingCapacity: true)
        setStart = -1
        recordsInMessage = 0
        messages &+= 1
        try emit(message, count)
    }

    /// Whether a message is being filled.
    public var hasPending: Bool { !buffer.isEmpty }

    private mutating func closeSet() {
        guard setStart >= 0 else { return }
        buffer.put(be16: UInt16(buffer.count - setStart), at: setStart + 2)
        setStart = -1
    }
}

extension [UInt8] {
    @inline(__always)
    mutating func append(be16 v: UInt16) {
        append(UInt8(v >> 8))
        append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    mutating func append(be32 v: UInt32) {
        append(be16: UInt16(v >> 16))
        append(be16: UInt16(truncatingIfNeeded: v))
    }

    @inline(__always)
    mutating func append(be64 v: UInt64) {
        append(be32: UInt32(v >> 32))
        append(be32: UInt32(truncatingIfNeeded: v))
    }

    @inline(__always)
    mutating func put(be16 v: UInt16, at i: Int) {
        self[i] = UInt8(v >> 8)
        self[i + 1] = UInt8(truncatingIfNeeded: v)
    }
}
