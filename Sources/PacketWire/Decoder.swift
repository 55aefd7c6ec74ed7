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
    public var stop: DecodeStop = .complete
    /// 0 when no addresses were decoded, else 4 or 6.
    public var ipVersion: UInt8 = 0
    public var hasPorts: Bool = false
    public var srcPort: UInt16 = 0
    public var dstPort: UInt16 = 0
    /// Linux cooked captures (SLL2): the interface index the packet was seen on; 0 when unknown.
    public var ifIndex: UInt32 = 0
    /// Linux cooked captures (SLL, SLL2): whether the packet came in or went out.
    public var direction: PacketDirection = .unknown
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
/// Pure and allocation-free: every read goes through `Bytes`, which checks bounds, so no input can
/// trap. Loops over VLAN tags and IPv6 extension headers always advance the offset, so they end.
public enum Decoder {
    @inlinable @inline(__always)
    public static func decode(_ b: Bytes, linkType: LinkType) -> Decoded {
        var d = Decoded()
        // Raw numbers, not the `LinkType` statics: a static let is a lazily initialised global,
        // and checking it once per packet showed in the profile.
        switch linkType.rawValue {
        case 1:  // EN10MB
            guard let type = b.u16be(12) else {
                d.stop = .truncated
                return d
            }
            ethertype(b, type: type, offset: 14, into: &d)
        case 113:  // LINUX_SLL
            if let packetType = b.u16be(0) { d.direction = PacketDirection(packetType: packetType) }
            if let hatype = b.u16be(2), hatype == 824 {  // ARPHRD_NETLINK
                d.stop = .unsupported
                return d
            }
            guard let type = b.u16be(14) else {
                d.stop = .truncated
                return d
            }
            ethertype(b, type: type, offset: 16, into: &d)
        case 276:  // LINUX_SLL2
            if let index = b.u32be(4) { d.ifIndex = index }
            if let packetType = b.u8(10) { d.direction = PacketDirection(packetType: UInt16(packetType)) }
            if let hatype = b.u16be(8), hatype == 824 {  // ARPHRD_NETLINK
                d.stop = .unsupported
                return d
            }
            guard let type = b.u16be(0) else {
                d.stop = .truncated
                return d
            }
            // The protocol field is captured but the header is 20 bytes: the payload starts there.
            ethertype(b, type: type, offset: 20, into: &d)
        case 101, 12:  // LINKTYPE_RAW, DLT_RAW
            guard let first = b.u8(0) else {
                d.stop = .truncated
                return d
            }
            switch first >> 4 {
            case 4: ipv4(b, at: 0, into: &d)
            case 6: ipv6(b, at: 0, into: &d)
            default: d.stop = .unsupported
            }
        case 228:  // IPV4
            ipv4(b, at: 0, into: &d)
        case 229:  // IPV6
            ipv6(b, at: 0, into: &d)
        case 0:  // NULL
            guard let raw = b.u32le(0) else {
                d.stop = .truncated
                return d
            }
            let family = raw & 0xFFFF_0000 != 0 ? raw.byteSwapped : raw
            nullFamily(b, family: family, into: &d)
        case 108:  // LOOP
            guard let family = b.u32be(0) else {
                d.stop = .truncated
                return d
            }
            nullFamily(b, family: family, into: &d)
        default:
            d.stop = .unsupported
        }
        return d
    }

    @inlinable @inline(__always)
    static func nullFamily(_ b: Bytes, family: UInt32, into d: inout Decoded) {
        switch family {
        case 2: ipv4(b, at: 4, into: &d)
        case 24, 28, 30: ipv6(b, at: 4, into: &d)
        default: d.stop = .unsupported
        }
    }

    /// Follows an ethertype at the start of a payload at `offset`, skipping 802.1Q/802.1ad tags.
    @inlinable @inline(__always)
    static func ethertype(_ b: Bytes, type first: UInt16, offset start: Int, into d: inout Decoded) {
        var type = first
        var offset = start
        while type == 0x8100 || type == 0x88A8 {  // 802.1Q, 802.1ad
            // A tag: 2 bytes TCI, 2 bytes inner type.
            guard let inner = b.u16be(offset + 2) else {
                d.stop = .truncated
                return
            }
            type = inner
            offset += 4
        }
        switch type {
        case 0x0800: ipv4(b, at: offset, into: &d)
        case 0x86DD: ipv6(b, at: offset, into: &d)
        case 0x0806: d.label = .arp
        default:
            // 802.3 length fields (<= 1500), RARP, other tag types, everything else.
            d.label = .other
            d.stop = .unsupported
        }
    }

    @inlinable @inline(__always)
    static func ipv4(_ b: Bytes, at o: Int, into d: inout Decoded) {
        d.label = .ipv4
        guard let vihl = b.u8(o) else {
            d.stop = .truncated
            return
        }
        let ihl = Int(vihl & 0x0F) * 4
        let valid = vihl >> 4 == 4 && ihl >= 20
        guard let proto = b.u8(o + 9) else {
            d.stop = .truncated
            return
        }
        d.label = ProtocolLabel.forIPProtocol(proto, outer: .ipv4)
        guard valid else {
            d.stop = .invalid
            return
        }
        guard let src = b.u32be(o + 12), let dst = b.u32be(o + 16) else {
            d.stop = .truncated
            return
        }
        d.ipVersion = 4
        d.src = IPAddress(v4: src)
        d.dst = IPAddress(v4: dst)
        guard carriesPorts(proto) else { return }
        // Only the first fragment carries the transport header.
        guard let frag = b.u16be(o + 6), frag & 0x1FFF == 0 else { return }
        ports(b, at: o + ihl, into: &d)
    }

    @inlinable
    static func ipv6(_ b: Bytes, at o: Int, into d: inout Decoded) {
        d.label = .ipv6
        guard let version = b.u8(o) else {
            d.stop = .truncated
            return
        }
        guard var next = b.u8(o + 6) else {
            d.stop = .truncated
            return
        }
        let valid = version >> 4 == 6
        if valid, let src = b.u128be(o + 8), let dst = b.u128be(o + 24) {
            d.ipVersion = 6
            d.src = IPAddress(hi: src.0, lo: src.1)
            d.dst = IPAddress(hi: dst.0, lo: dst.1)
        }
        // Walk hop-by-hop (0), routing (43), fragment (44) and destination options (60).
        var offset = o + 40
        var firstFragment = true
        while next == 0 || next == 43 || next == 44 || next == 60 {
            guard let following = b.u8(offset) else {
                d.label = .ipv6
                d.stop = .truncated
                return
            }
            let length: Int
            if next == 44 {
                length = 8
                if let fo = b.u16be(offset + 2), fo & 0xFFF8 != 0 {
                    // A later fragment: what follows is payload, not headers. Label it by the
                    // fragment header's next header, as the rule says, and stop walking.
                    firstFragment = false
                    next = following
                    break
                }
            } else {
                // Needed only to walk on past this header.
                if following == 0 || following == 43 || following == 44 || following == 60 {
                    guard let units = b.u8(offset + 1) else {
                        d.label = .ipv6
                        d.stop = .truncated
                        return
                    }
                    length = (Int(units) + 1) * 8
                } else {
                    // Missing length: the transport header lies past the capture.
                    length = b.u8(offset + 1).map { (Int($0) + 1) * 8 } ?? b.count
                }
            }
            next = following
            offset += length
        }
        d.label = ProtocolLabel.forIPProtocol(next, outer: .ipv6)
        guard valid else {
            d.stop = .invalid
            return
        }
        guard d.ipVersion == 6 else {
            d.stop = .truncated
            return
        }
        if carriesPorts(next), firstFragment { ports(b, at: offset, into: &d) }
    }

    @inlinable
    static func carriesPorts(_ proto: UInt8) -> Bool { proto == 6 || proto == 17 || proto == 132 }

    @inlinable @inline(__always)
    static func ports(_ b: Bytes, at o: Int, into d: inout Decoded) {
        guard let sport = b.u16be(o), let dport = b.u16be(o + 2) else {
            d.stop = .truncated
            return
        }
        d.hasPorts = true
        d.srcPort = sport
        d.dstPort = dport
    }
}
