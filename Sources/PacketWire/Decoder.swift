/// An IPv4 or IPv6 address in a fixed 16-byte value (no allocation). IPv4 lives in the low 32 bits
/// of `lo`.
public struct IPAddress: Hashable, Sendable {
    public var hi: UInt64
    public var lo: UInt64
    public init(hi: UInt64, lo: UInt64) {
        self.hi = hi
        self.lo = lo
    }
    public init(v4: UInt32) {
        hi = 0
        lo = UInt64(v4)
    }
    public static let zero = IPAddress(hi: 0, lo: 0)
    public var v4: UInt32 { UInt32(truncatingIfNeeded: lo) }
}

/// Why decoding stopped where it did. Truncated, invalid and unsupported are different stops; in
/// each case what was decoded before the stop is kept.
public enum DecodeStop: UInt8, Sendable {
    /// Everything the record needs was decoded.
    case complete
    /// A field the walk needed was not captured (the snap length or the frame cut it).
    case truncated
    /// A header the walk reached has a value the rule does not follow (802.3/LLC frames, unknown
    /// link types, unknown ethertypes, VLAN tag types other than 802.1Q/802.1ad).
    case unsupported
    /// A header contradicts itself (IPv4 version not 4 or IHL below 5, IPv6 version not 6). The
    /// label still comes from the protocol field as captured: pktstat does not validate.
    case invalid
}

/// What the decoder found in one packet: the protocol label and, where present, the outermost IP
/// addresses and transport ports.
public struct Decoded: Sendable, Equatable {
    public var label: ProtocolLabel = .other
    /// `stop` (bits 0-2), `hasPorts` (bit 3) and `direction` (bits 4-5) in one byte, so that the
    /// transport offset and the IP length field fit in what was padding: 48 bytes.
    @usableFromInline var packed: UInt8 = 0
    /// 0 when no addresses were decoded, else 4 or 6.
    public var ipVersion: UInt8 = 0
    /// TCP: the flags byte of the outermost TCP header (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08,
    /// ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80), when captured; 0 otherwise.
    public var tcpFlags: UInt8 = 0
    public var srcPort: UInt16 = 0
    public var dstPort: UInt16 = 0
    /// Linux cooked captures (SLL2): the interface index the packet was seen on; 0 when unknown.
    public var ifIndex: UInt32 = 0
    /// Where the transport header (TCP, UDP, ...) starts; 0 when `hasPorts` is false. For the
    /// payload parsers (`DNSMessage`, `TLSClientHello`) that look past the ports.
    public var transportOffset: UInt16 = 0
    /// The outermost IP header's length field as captured: IPv4's total length, IPv6's payload
    /// length (without the 40-byte header); 0 when there is no IP header (or the field says 0,
    /// as TSO captures and jumbograms do). `PacketRecord.ipBytes` turns it into IP-layer bytes.
    public var ipLengthField: UInt16 = 0

    public var stop: DecodeStop {
        @inlinable get { DecodeStop(rawValue: packed & 0x07) ?? .complete }
        @inlinable set { packed = packed & ~0x07 | newValue.rawValue & 0x07 }
    }

    /// ICMP and ICMPv6: the header's first two bytes, `type * 256 + code` (kept in `dstPort`, which
    /// carries no port for them); 0 for other packets and when the header was not captured.
    public var icmpTypeCode: UInt16 {
        @inlinable get { hasPorts ? 0 : dstPort }
    }

    public var hasPorts: Bool {
        @inlinable get { packed & 0x08 != 0 }
        @inlinable set { packed = newValue ? packed | 0x08 : packed & ~0x08 }
    }

    /// Linux cooked captures (SLL, SLL2): whether the packet came in or went out.
    public var direction: PacketDirection {
        @inlinable get { PacketDirection(rawValue: (packed >> 4) & 0x03) ?? .unknown }
        @inlinable set { packed = packed & ~0x30 | (newValue.rawValue & 0x03) << 4 }
    }

    public var src: IPAddress = .zero
    public var dst: IPAddress = .zero

    @inlinable
    public init() {}
}

/// Whether a packet arrived at or left the host, as Linux cooked headers tell it.
public enum PacketDirection: UInt8, Sendable {
    /// The link type does not say (everything but Linux SLL and SLL2), or an unusual packet type.
    case unknown
    /// PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST or PACKET_OTHERHOST.
    case incoming
    /// PACKET_OUTGOING.
    case outgoing

    /// From the Linux packet type (`sll_pkttype`): 0-3 came in, 4 went out.
    @inlinable
    public init(packetType: UInt16) {
        switch packetType {
        case 0...3: self = .incoming
        case 4: self = .outgoing
        default: self = .unknown
        }
    }
}

/// Decodes captured bytes into a `Decoded`, following the label rule (README, "Protocol labels").
///
/// Pure and allocation-free: every read goes through a header view (`Headers.swift`) over `Bytes`,
/// which checks bounds, so no input can trap. A field that was not captured throws
/// `Stop.truncated`, unsupported and invalid headers throw too, and `decode` is the one place that
/// records the stop; what was decoded before it is kept. Loops over VLAN tags and IPv6 extension
/// headers always advance the offset, so they end.
public enum Decoder {
    @inlinable @inline(__always)
    public static func decode(_ b: Bytes, linkType: LinkType) -> Decoded {
        var d = Decoded()
        do throws(Stop) {
            try link(b, linkType: linkType.rawValue, into: &d)
        } catch {
            d.stop = error.reason
        }
        return d
    }

    @inlinable @inline(__always)
    static func link(_ b: Bytes, linkType: Int32, into d: inout Decoded) throws(Stop) {
        switch linkType {
        case LinkType.Number.ethernet:
            try ethertype(b, type: EthernetHeader(b).etherType, offset: EthernetHeader.length, into: &d)
        case LinkType.Number.linuxSLL:
            let sll = LinuxSLLHeader(b)
            if let packetType = try? sll.packetType { d.direction = PacketDirection(packetType: packetType) }
            if let hatype = try? sll.hardwareType, hatype == ARPHardware.netlink { throw .unsupported }
            try ethertype(b, type: sll.protocolType, offset: LinuxSLLHeader.length, into: &d)
        case LinkType.Number.linuxSLL2:
            let sll2 = LinuxSLL2Header(b)
            if let index = try? sll2.interfaceIndex { d.ifIndex = index }
            if let packetType = try? sll2.packetType { d.direction = PacketDirection(packetType: UInt16(packetType)) }
            if let hatype = try? sll2.hardwareType, hatype == ARPHardware.netlink { throw .unsupported }
            // The protocol field comes first but the header is 20 bytes: the payload starts there.
            try ethertype(b, type: sll2.protocolType, offset: LinuxSLL2Header.length, into: &d)
        case LinkType.Number.raw, LinkType.Number.rawDLT:
            switch try IPv4Header(b, at: 0).version {
            case 4: try ipv4(b, at: 0, into: &d)
            case 6: try ipv6(b, at: 0, into: &d)
            default: throw .unsupported
            }
        case LinkType.Number.ipv4:
            try ipv4(b, at: 0, into: &d)
        case LinkType.Number.ipv6:
            try ipv6(b, at: 0, into: &d)
        case LinkType.Number.null:
            try loopbackFamily(b, family: LoopbackHeader(b).hostOrderFamily, into: &d)
        case LinkType.Number.loop:
            try loopbackFamily(b, family: LoopbackHeader(b).networkOrderFamily, into: &d)
        default:
            throw .unsupported
        }
    }

    @inlinable @inline(__always)
    static func loopbackFamily(_ b: Bytes, family: UInt32, into d: inout Decoded) throws(Stop) {
        switch family {
        case AddressFamily.inet:
            try ipv4(b, at: LoopbackHeader.length, into: &d)
        case AddressFamily.inet6BSD, AddressFamily.inet6FreeBSD, AddressFamily.inet6Darwin:
            try ipv6(b, at: LoopbackHeader.length, into: &d)
        default:
            throw .unsupported
        }
    }

    /// Follows an EtherType at the start of a payload at `offset`, skipping 802.1Q/802.1ad tags.
    @inlinable @inline(__always)
    static func ethertype(_ b: Bytes, type first: UInt16, offset start: Int, into d: inout Decoded) throws(Stop) {
        var type = first
        var offset = start
        while EtherType.isVLANTag(type) {
            type = try VLANTag(b, at: offset).etherType
            offset += VLANTag.length
        }
        switch type {
        case EtherType.ipv4: try ipv4(b, at: offset, into: &d)
        case EtherType.ipv6: try ipv6(b, at: offset, into: &d)
        case EtherType.arp: d.label = .arp
        default:
            // 802.3 length fields (<= 1500), RARP, other tag types, everything else: the label
            // stays `other`.
            throw .unsupported
        }
    }

    @inlinable @inline(__always)
    static func ipv4(_ b: Bytes, at o: Int, into d: inout Decoded) throws(Stop) {
        let ip = IPv4Header(b, at: o)
        d.label = .ipv4
        let version = try ip.version
        let headerLength = try ip.headerLength
        let proto = try ip.protocolNumber
        d.label = ProtocolLabel.forIPProtocol(proto, outer: .ipv4)
        guard version == 4, headerLength >= IPv4Header.minimumLength else { throw .invalid }
        let src = try ip.source
        let dst = try ip.destination
        d.ipLengthField = try ip.totalLength
        d.ipVersion = 4
        d.src = IPAddress(v4: src)
        d.dst = IPAddress(v4: dst)
        // Only the first fragment carries the transport header.
        guard let fragmentOffset = try? ip.fragmentOffset, fragmentOffset == 0 else { return }
        if IPProtocol.carriesPorts(proto) {
            try ports(b, at: o + headerLength, into: &d)
        } else if proto == IPProtocol.icmp {
            icmp(b, at: o + headerLength, into: &d)
        }
    }

    /// ICMP and ICMPv6: the type and code (`type * 256 + code`, as IPFIX's icmpTypeCode and
    /// NetFlow's destination port carry them) into `dstPort`, `hasPorts` left false (the flow key
    /// and the rows see no ports). Left 0 when the header was not captured.
    @inlinable @inline(__always)
    static func icmp(_ b: Bytes, at o: Int, into d: inout Decoded) {
        if let typeCode = try? TransportPorts(b, at: o).sourcePort { d.dstPort = typeCode }
    }

    @inlinable
    static func ipv6(_ b: Bytes, at o: Int, into d: inout Decoded) throws(Stop) {
        let ip = IPv6Header(b, at: o)
        d.label = .ipv6
        let version = try ip.version
        var next = try ip.nextHeader
        let valid = version == 6
        if valid, let src = try? ip.source, let dst = try? ip.destination {
            d.ipLengthField = (try? ip.payloadLength) ?? 0
            d.ipVersion = 6
            d.src = IPAddress(hi: src.0, lo: src.1)
            d.dst = IPAddress(hi: dst.0, lo: dst.1)
        }
        var offset = o + IPv6Header.length
        var firstFragment = true
        while IPProtocol.isWalkedExtension(next) {
            let header = IPv6ExtensionHeader(b, at: offset)
            let following = try header.nextHeader
            let length: Int
            if next == IPProtocol.ipv6Fragment {
                length = IPv6FragmentHeader.length
                if let fragmentOffset = try? IPv6FragmentHeader(b, at: offset).fragmentOffset, fragmentOffset != 0 {
                    // A later fragment: what follows is payload, not headers. Label it by the
                    // fragment header's next header, as the rule says, and stop walking.
                    firstFragment = false
                    next = following
                    break
                }
            } else if IPProtocol.isWalkedExtension(following) {
                // Needed only to walk on past this header.
                length = try header.length
            } else {
                // Missing length: the transport header lies past the capture.
                length = (try? header.length) ?? b.count
            }
            next = following
            offset += length
        }
        d.label = ProtocolLabel.forIPProtocol(next, outer: .ipv6)
        guard valid else { throw .invalid }
        // The addresses were not captured.
        guard d.ipVersion == 6 else { throw .truncated }
        guard firstFragment else { return }
        if IPProtocol.carriesPorts(next) {
            try ports(b, at: offset, into: &d)
        } else if next == IPProtocol.icmpv6 {
            icmp(b, at: offset, into: &d)
        }
    }

    @inlinable @inline(__always)
    static func ports(_ b: Bytes, at o: Int, into d: inout Decoded) throws(Stop) {
        let transport = TransportPorts(b, at: o)
        let source = try transport.sourcePort
        let destination = try transport.destinationPort
        d.hasPorts = true
        d.srcPort = source
        d.dstPort = destination
        d.transportOffset = UInt16(truncatingIfNeeded: o <= 0xFFFF ? o : 0)
        if d.label == .tcp, let flags = try? TCPHeader(b, at: o).flags { d.tcpFlags = flags }
    }
}
