/// A capture's link-layer header type. An open set: any number a file or libpcap reports is a
/// valid value; the decoder knows the ones named here and labels the rest `other`.
///
/// Values are LINKTYPE_ numbers as stored in pcap/pcapng files, plus the DLT_ numbers libpcap
/// reports on Linux where they differ (DLT_RAW is 12 while LINKTYPE_RAW is 101).
public struct LinkType: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let null = LinkType(Number.null)
    public static let ethernet = LinkType(Number.ethernet)
    /// DLT_RAW as libpcap reports it on Linux.
    public static let rawDLT = LinkType(Number.rawDLT)
    /// LINKTYPE_RAW as stored in files.
    public static let raw = LinkType(Number.raw)
    public static let loop = LinkType(Number.loop)
    public static let linuxSLL = LinkType(Number.linuxSLL)
    public static let ipv4 = LinkType(Number.ipv4)
    public static let ipv6 = LinkType(Number.ipv6)
    public static let linuxSLL2 = LinkType(Number.linuxSLL2)

    /// The numbers themselves, as constants the decoder can switch on: a `static let` of
    /// `LinkType` is a lazily initialised global, and checking it once per packet showed in the
    /// profile; these fold to literals wherever the decoder is inlined.
    @usableFromInline
    enum Number {
        /// LINKTYPE_NULL / DLT_NULL: BSD loopback, a 4-byte address family in the writer's byte order.
        @inlinable static var null: Int32 { 0 }
        /// LINKTYPE_ETHERNET / DLT_EN10MB: Ethernet II (and 802.3, which the decoder does not follow).
        @inlinable static var ethernet: Int32 { 1 }
        /// DLT_RAW on Linux: a bare IPv4 or IPv6 packet.
        @inlinable static var rawDLT: Int32 { 12 }
        /// LINKTYPE_RAW: a bare IPv4 or IPv6 packet.
        @inlinable static var raw: Int32 { 101 }
        /// LINKTYPE_LOOP / DLT_LOOP: OpenBSD loopback, a 4-byte address family in network order.
        @inlinable static var loop: Int32 { 108 }
        /// LINKTYPE_LINUX_SLL / DLT_LINUX_SLL: Linux cooked capture, version 1.
        @inlinable static var linuxSLL: Int32 { 113 }
        /// LINKTYPE_IPV4 / DLT_IPV4: a bare IPv4 packet.
        @inlinable static var ipv4: Int32 { 228 }
        /// LINKTYPE_IPV6 / DLT_IPV6: a bare IPv6 packet.
        @inlinable static var ipv6: Int32 { 229 }
        /// LINKTYPE_LINUX_SLL2 / DLT_LINUX_SLL2: Linux cooked capture, version 2.
        @inlinable static var linuxSLL2: Int32 { 276 }
    }
}
