// The header views the connection decoder (`ConnDecoder`) reads beyond those the label decoder
// needs: more of IPv4 and IPv6, TCP, UDP, ICMP, and the link layers Zeek follows (PPPoE sessions,
// 802.1ah PBB, VN-Tag, MPLS). Same rules as `Headers.swift`: a view is a position, every field read
// is bounds-checked and throws `Stop.truncated` when it was not captured.

/// EtherTypes only the connection decoder follows.
@usableFromInline
enum ConnEtherType {
    /// PPPoE session stage (RFC 2516).
    @inlinable static var pppoeSession: UInt16 { 0x8864 }
    /// IEEE 802.1ah provider backbone bridge I-TAG.
    @inlinable static var pbb: UInt16 { 0x88E7 }
    /// Cisco VN-Tag.
    @inlinable static var vnTag: UInt16 { 0x8926 }
    /// MPLS unicast and multicast.
    @inlinable static var mplsUnicast: UInt16 { 0x8847 }
    @inlinable static var mplsMulticast: UInt16 { 0x8848 }
}

/// Link types only the connection decoder follows (LINKTYPE_ numbers; DLT_ where they differ).
@usableFromInline
enum ConnLinkType {
    /// DLT_PPP and LINKTYPE_PPP_HDLC (PPP in HDLC-like framing).
    @inlinable static var ppp: Int32 { 9 }
    @inlinable static var pppSerial: Int32 { 50 }
    @inlinable static var ieee80211: Int32 { 105 }
    @inlinable static var radiotap: Int32 { 127 }
    @inlinable static var nflog: Int32 { 239 }
}

/// IP protocol numbers only the connection decoder names.
public enum ConnIPProtocol {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpv6: UInt8 = 58
    /// IPv6 authentication header: walked as an extension header (its length is in 4-byte units).
    public static let authentication: UInt8 = 51
    /// IPv6 encapsulating security payload: the walk ends there (Zeek forms no connection).
    public static let esp: UInt8 = 50
    /// IPv6 mobility header: walked as an extension header; Zeek forms no connection from it.
    public static let mobility: UInt8 = 135
    /// IPv6 "no next header".
    public static let noNext: UInt8 = 59
}

/// A 4-byte tag whose inner EtherType follows it: VN-Tag (tag 4, type 2 = 6 bytes after the type).
@usableFromInline
struct VNTag {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 6 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var etherType: UInt16 { get throws(Stop) { try h.u16be(4) } }
}

/// 802.1ah I-TAG (4) then the customer's destination (6), source (6) and EtherType (2).
@usableFromInline
struct PBBTag {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 18 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var etherType: UInt16 { get throws(Stop) { try h.u16be(16) } }
}

/// PPPoE session header: version/type (1), code (1), session (2), length (2), then the PPP
/// protocol (2).
@usableFromInline
struct PPPoESession {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 8 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var pppProtocol: UInt16 { get throws(Stop) { try h.u16be(6) } }

    @inlinable static var pppIPv4: UInt16 { 0x0021 }
    @inlinable static var pppIPv6: UInt16 { 0x0057 }
}

/// One MPLS label stack entry: label (20 bits), traffic class (3), bottom of stack (1), TTL (8).
@usableFromInline
struct MPLSEntry {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 4 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var bottomOfStack: Bool { get throws(Stop) { try h.u8(2) & 0x01 != 0 } }
}

/// The IPv4 fields the connection decoder reads on top of `IPv4Header`'s.
@usableFromInline
struct IPv4Fields {
    @usableFromInline let h: HeaderBytes

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var totalLength: UInt16 { get throws(Stop) { try h.u16be(2) } }
    @inlinable var identification: UInt16 { get throws(Stop) { try h.u16be(4) } }
    /// Flags and fragment offset: MF is 0x2000, the offset the low 13 bits.
    @inlinable var flagsAndOffset: UInt16 { get throws(Stop) { try h.u16be(6) } }
}

/// The IPv6 payload length (the fixed header's other fields are in `IPv6Header`).
@usableFromInline
struct IPv6Fields {
    @usableFromInline let h: HeaderBytes

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var payloadLength: UInt16 { get throws(Stop) { try h.u16be(4) } }
}

/// The IPv6 fragment header's offset, M flag and identification.
@usableFromInline
struct IPv6FragmentFields {
    @usableFromInline let h: HeaderBytes

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var offsetAndFlags: UInt16 { get throws(Stop) { try h.u16be(2) } }
    @inlinable var identification: UInt32 { get throws(Stop) { try h.u32be(4) } }
}

/// TCP (RFC 9293): ports (4), sequence (4), acknowledgment (4), data offset (1), flags (1),
/// window (2), checksum (2), urgent pointer (2), options.
@usableFromInline
struct TCPHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var minimumLength: Int { 20 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var sequence: UInt32 { get throws(Stop) { try h.u32be(4) } }
    @inlinable var acknowledgment: UInt32 { get throws(Stop) { try h.u32be(8) } }
    @inlinable var headerLength: Int { get throws(Stop) { Int(try h.u8(12) >> 4) * 4 } }
    @inlinable var flags: UInt8 { get throws(Stop) { try h.u8(13) } }
    @inlinable var window: UInt16 { get throws(Stop) { try h.u16be(14) } }
    @inlinable func option(_ at: Int) throws(Stop) -> UInt8 { try h.u8(at) }
}

/// ICMP and ICMPv6: type (1), code (1), checksum (2).
@usableFromInline
struct ICMPHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 8 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var type: UInt8 { get throws(Stop) { try h.u8(0) } }
    @inlinable var code: UInt8 { get throws(Stop) { try h.u8(1) } }
}

/// UDP: ports (4), length (2), checksum (2).
@usableFromInline
struct UDPHeader {
    @usableFromInline let h: HeaderBytes
    @inlinable static var length: Int { 8 }

    @inlinable @inline(__always)
    init(_ bytes: Bytes, at offset: Int) { h = HeaderBytes(bytes, at: offset) }

    @inlinable var length: UInt16 { get throws(Stop) { try h.u16be(4) } }
    @inlinable var checksum: UInt16 { get throws(Stop) { try h.u16be(6) } }
}

/// The Internet checksum (RFC 1071) over captured bytes, as a running one's-complement sum.
public enum InternetChecksum {
    /// Adds `count` bytes from `offset` to `sum` (32-bit accumulator, folded by `fold`). The caller
    /// checked the bytes were captured; `Bytes` still answers nil past the end, which adds nothing.
    @inlinable
    public static func add(_ b: Bytes, from offset: Int, count: Int, to sum: UInt64) -> UInt64 {
        var s = sum
        var i = offset
        let end = offset + count
        while i + 1 < end, let word = b.u16be(i) {
            s &+= UInt64(word)
            i += 2
        }
        if i < end, let last = b.u8(i) { s &+= UInt64(last) << 8 }
        return s
    }

    /// Folds a running sum to 16 bits; 0xFFFF means the checksum verified.
    @inlinable
    public static func fold(_ sum: UInt64) -> UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xFFFF) &+ (s >> 16) }
        return UInt16(truncatingIfNeeded: s)
    }

    /// The four 16-bit words of a 64-bit value, summed.
    @inlinable @inline(__always)
    public static func words(_ w: UInt64) -> UInt64 {
        (w >> 48) &+ ((w >> 32) & 0xFFFF) &+ ((w >> 16) & 0xFFFF) &+ (w & 0xFFFF)
    }

    /// The pseudo-header of `ip` for protocol `proto` and transport length `length`.
    @inlinable
    public static func pseudoHeader(_ p: ConnIP, proto: UInt8, length: Int) -> UInt64 {
        var s: UInt64 = 0
        if p.version == 4 {
            s &+= UInt64(p.src.v4 >> 16) &+ UInt64(p.src.v4 & 0xFFFF)
            s &+= UInt64(p.dst.v4 >> 16) &+ UInt64(p.dst.v4 & 0xFFFF)
        } else {
            s &+= words(p.src.hi) &+ words(p.src.lo) &+ words(p.dst.hi) &+ words(p.dst.lo)
        }
        s &+= UInt64(proto)
        s &+= UInt64(length & 0xFFFF) &+ UInt64(length >> 16)
        return s
    }
}
