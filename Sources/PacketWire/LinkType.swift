/// A capture's link-layer header type. An open set: any number a file or libpcap reports is a
/// valid value; the decoder knows the ones named here and labels the rest `other`.
///
/// Values are LINKTYPE_ numbers as stored in pcap/pcapng files, plus the DLT_ numbers libpcap
/// reports on Linux where they differ (DLT_RAW is 12 while LINKTYPE_RAW is 101).
public struct LinkType: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let null = LinkType(0)
    public static let ethernet = LinkType(1)
    /// DLT_RAW as libpcap reports it on Linux.
    public static let rawDLT = LinkType(12)
    /// LINKTYPE_RAW as stored in files.
    public static let raw = LinkType(101)
    public static let loop = LinkType(108)
    public static let linuxSLL = LinkType(113)
    public static let ipv4 = LinkType(228)
    public static let ipv6 = LinkType(229)
    public static let linuxSLL2 = LinkType(276)
}
