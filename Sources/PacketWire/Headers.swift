// The protocol numbers the decoder follows, and one bounds-checked view per header it reads (in
// the manner of smoltcp's `wire` module). A view is a position in the captured bytes; it costs
// nothing to make, and each field accessor reads through `HeaderBytes`, which throws
// `Stop.truncated` when the field was not captured. That is the one truncation path.
//
// Views check fields, not whole headers: a header cut short still gives the fields that were
// captured (the label rule labels a packet by what was captured, README "Protocol labels").

/// Why the walk stopped before the end: thrown by the header views and the decoder, caught once in
/// `Decoder.decode`, which records it in `Decoded.stop`.
@usableFromInline
struct Stop: Error {
    @usableFromInline let reason: DecodeStop

    @inlinable @inline(__always)
    init(_ reason: DecodeStop) { self.reason = reason }

    /// A field the walk needed was not captured.
    @inlinable static var truncated: Stop { Stop(.truncated) }
    /// A header has a value the rule does not follow.
    @inlinable static var unsupported: Stop { Stop(.unsupported) }
    /// A header contradicts itself.
    @inlinable static var invalid: Stop { Stop(.invalid) }
}

/// The bytes of one header: `bytes` from `offset` on. Field offsets are relative to the header.
@usableFromInline
struct HeaderBytes {
    @usableFromInline let bytes: Bytes
    @usableFromInline let offset: Int

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable @inline(__always)
    func u8(_ field: Int) throws(Stop) -> UInt8 {
        guard let value = bytes.u8(offset + field) else { throw .truncated }
        return value
    }

    @inlinable @inline(__always)
    func u16be(_ field: Int) throws(Stop) -> UInt16 {
        guard let value = bytes.u16be(offset + field) else { throw .truncated }
        return value
    }

    @inlinable @inline(__always)
    func u32be(_ field: Int) throws(Stop) -> UInt32 {
        guard let value = bytes.u32be(offset + field) else { throw .truncated }
        return value
    }

    @inlinable @inline(__always)
    func u16le(_ field: Int) throws(Stop) -> UInt16 {
        guard let value = bytes.u16le(offset + field) else { throw .truncated }
        return value
    }

    @inlinable @inline(__always)
    func u32le(_ field: Int) throws(Stop) -> UInt32 {
        guard let value = bytes.u32le(offset + field) else { throw .truncated }
        return value
    }

    @inlinable @inline(__always)
    func u128be(_ field: Int) throws(Stop) -> (UInt64, UInt64) {
        guard let value = bytes.u128be(offset + field) else { throw .truncated }
        return value
    }
}

// MARK: - Numbers

/// EtherType values (IEEE 802 numbers) the decoder knows.
@usableFromInline
enum EtherType {
    @inlinable static var ipv4: UInt16 { 0x0800 }
    @inlinable static var arp: UInt16 { 0x0806 }
    /// IEEE 802.1Q VLAN tag (customer tag).
    @inlinable static var vlan: UInt16 { 0x8100 }
    @inlinable static var ipv6: UInt16 { 0x86DD }
    /// IEEE 802.1ad VLAN tag (service tag, "Q-in-Q").
    @inlinable static var serviceVLAN: UInt16 { 0x88A8 }

    /// An 802.1Q or 802.1ad tag, which the decoder skips to the type inside.
    @inlinable @inline(__always)
    static func isVLANTag(_ type: UInt16) -> Bool { type == vlan || type == serviceVLAN }
}

/// IP protocol numbers (IPv4 protocol, IPv6 next header) the walk acts on. The numbers that only
/// name a label are in `ProtocolLabel`.
@usableFromInline
enum IPProtocol {
    /// IPv6 hop-by-hop options header.
    @inlinable static var hopByHop: UInt8 { 0 }
    @inlinable static var tcp: UInt8 { 6 }
    @inlinable static var udp: UInt8 { 17 }
    /// IPv6 routing header.
    @inlinable static var ipv6Routing: UInt8 { 43 }
    /// IPv6 fragment header.
    @inlinable static var ipv6Fragment: UInt8 { 44 }
    /// IPv6 destination options header.
    @inlinable static var ipv6DestinationOptions: UInt8 { 60 }
    @inlinable static var sctp: UInt8 { 132 }
    @inlinable static var icmp: UInt8 { 1 }
    @inlinable static var icmpv6: UInt8 { 58 }

    /// The IPv6 extension headers the walk skips: hop-by-hop, routing, fragment and destination
    /// options. Others (AH, mobility, ...) end the walk and name the label.
    @inlinable @inline(__always)
    static func isWalkedExtension(_ next: UInt8) -> Bool {
        next == hopByHop || next == ipv6Routing || next == ipv6Fragment || next == ipv6DestinationOptions
    }

    /// The transport protocols whose header starts with a source and a destination port.
    @inlinable @inline(__always)
    static func carriesPorts(_ proto: UInt8) -> Bool { proto == tcp || proto == udp || proto == sctp }
}

/// Linux ARPHRD_ hardware types (`sll_hatype`) the decoder treats specially.
@usableFromInline
enum ARPHardware {
    /// ARPHRD_NETLINK: the cooked header wraps a netlink message, not a network packet.
    @inlinable static var netlink: UInt16 { 824 }
}

/// Address families in the 4-byte header of NULL and LOOP captures.
@usableFromInline
enum AddressFamily {
    /// AF_INET, the same on every BSD and on Darwin.
    @inlinable static var inet: UInt32 { 2 }
    /// AF_INET6 as NetBSD and OpenBSD number it.
    @inlinable static var inet6BSD: UInt32 { 24 }
    /// AF_INET6 as FreeBSD numbers it.
    @inlinable static var inet6FreeBSD: UInt32 { 28 }
    /// AF_INET6 as Darwin numbers it.
    @inlinable static var inet6Darwin: UInt32 { 30 }
}

// MARK: - Link-layer headers

/// Ethernet II: destination (6), source (6), EtherType (2).
@usableFromInline
struct EthernetHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 14 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes) { h = HeaderBytes(bytes, at: 0) }

    @inlinable var etherType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(12) } }
}

/// An 802.1Q or 802.1ad tag after the EtherType that announced it: TCI (2), inner EtherType (2).
@usableFromInline
struct VLANTag {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 4 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var etherType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(2) } }
}

/// Linux cooked header, version 1 (LINUX_SLL): packet type (2), ARPHRD type (2), address length
/// (2), address (8), protocol (2).
@usableFromInline
struct LinuxSLLHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 16 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes) { h = HeaderBytes(bytes, at: 0) }

    @inlinable var packetType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(0) } }
    @inlinable var hardwareType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(2) } }
    /// An EtherType for the hardware types the decoder follows.
    @inlinable var protocolType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(14) } }
}

/// Linux cooked header, version 2 (LINUX_SLL2): protocol (2), reserved (2), interface index (4),
/// ARPHRD type (2), packet type (1), address length (1), address (8).
@usableFromInline
struct LinuxSLL2Header {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 20 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes) { h = HeaderBytes(bytes, at: 0) }

    /// An EtherType for the hardware types the decoder follows.
    @inlinable var protocolType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(0) } }
    @inlinable var interfaceIndex: UInt32 { @inline(__always) get throws(Stop) { try h.u32be(4) } }
    @inlinable var hardwareType: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(8) } }
    @inlinable var packetType: UInt8 { @inline(__always) get throws(Stop) { try h.u8(10) } }
}

/// The 4-byte header of NULL (the writer's byte order) and LOOP (network order) captures: an
/// address family.
@usableFromInline
struct LoopbackHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 4 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes) { h = HeaderBytes(bytes, at: 0) }

    /// NULL: the family in the byte order of the host that wrote the capture. Families are small,
    /// so a value with bits in the upper half was written big-endian.
    @inlinable var hostOrderFamily: UInt32 {
        get throws(Stop) {
            let raw = try h.u32le(0)
            return raw & 0xFFFF_0000 != 0 ? raw.byteSwapped : raw
        }
    }

    /// LOOP: the family in network byte order.
    @inlinable var networkOrderFamily: UInt32 { @inline(__always) get throws(Stop) { try h.u32be(0) } }
}

// MARK: - Network headers

/// IPv4 (RFC 791): version and IHL (1), DSCP/ECN (1), total length (2), identification (2), flags
/// and fragment offset (2), TTL (1), protocol (1), checksum (2), source (4), destination (4),
/// options.
@usableFromInline
struct IPv4Header {
    @usableFromInline let h: HeaderBytes
    /// The header without options (IHL 5).
    @inlinable static var minimumLength: Int { 20 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    /// The version nibble. IPv6 keeps it in the same place, so this also tells the two apart.
    @inlinable var version: UInt8 { @inline(__always) get throws(Stop) { try h.u8(0) >> 4 } }
    /// The header's length in bytes (IHL, in 32-bit words, times 4), options included.
    @inlinable var headerLength: Int { @inline(__always) get throws(Stop) { Int(try h.u8(0) & 0x0F) * 4 } }
    /// The total length field: header and payload, in bytes.
    @inlinable var totalLength: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(2) } }
    /// The fragment offset in 8-byte units: 0 for an unfragmented packet and a first fragment.
    @inlinable var fragmentOffset: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(6) & 0x1FFF } }
    @inlinable var protocolNumber: UInt8 { @inline(__always) get throws(Stop) { try h.u8(9) } }
    @inlinable var source: UInt32 { @inline(__always) get throws(Stop) { try h.u32be(12) } }
    @inlinable var destination: UInt32 { @inline(__always) get throws(Stop) { try h.u32be(16) } }
}

/// IPv6 (RFC 8200): version, traffic class and flow label (4), payload length (2), next header
/// (1), hop limit (1), source (16), destination (16).
@usableFromInline
struct IPv6Header {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 40 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var version: UInt8 { @inline(__always) get throws(Stop) { try h.u8(0) >> 4 } }
    @inlinable var nextHeader: UInt8 { @inline(__always) get throws(Stop) { try h.u8(6) } }
    /// The payload length field: what follows the 40-byte header (extension headers included).
    @inlinable var payloadLength: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(4) } }
    @inlinable var source: (UInt64, UInt64) { @inline(__always) get throws(Stop) { try h.u128be(8) } }
    @inlinable var destination: (UInt64, UInt64) { @inline(__always) get throws(Stop) { try h.u128be(24) } }
}

/// An IPv6 hop-by-hop, routing or destination options header: next header (1), length in 8-byte
/// units not counting the first (1), then the rest.
@usableFromInline
struct IPv6ExtensionHeader {
    @usableFromInline let h: HeaderBytes

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var nextHeader: UInt8 { @inline(__always) get throws(Stop) { try h.u8(0) } }
    /// The header's length in bytes.
    @inlinable var length: Int { @inline(__always) get throws(Stop) { (Int(try h.u8(1)) + 1) * 8 } }
}

/// The IPv6 fragment header: next header (1), reserved (1), fragment offset and flags (2),
/// identification (4).
@usableFromInline
struct IPv6FragmentHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 8 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var nextHeader: UInt8 { @inline(__always) get throws(Stop) { try h.u8(0) } }
    /// The fragment offset in 8-byte units: 0 for the first fragment.
    @inlinable var fragmentOffset: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(2) >> 3 } }
}

// MARK: - Transport headers

/// The start of a TCP, UDP or SCTP header: source port (2), destination port (2).
@usableFromInline
struct TransportPorts {
    @usableFromInline let h: HeaderBytes

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var sourcePort: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(0) } }
    @inlinable var destinationPort: UInt16 { @inline(__always) get throws(Stop) { try h.u16be(2) } }
}
