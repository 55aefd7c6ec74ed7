/// The protocol label of a packet: the outermost network header, named by the rule in the README
/// ("The protocol label"). One byte, so a record stays compact.
public enum ProtocolLabel: UInt8, Sendable, CaseIterable, Hashable {
    case other = 0
    case arp
    case ipv4
    case ipv6
    case tcp
    case udp
    case icmp
    case icmpv6
    case igmp
    case gre
    case esp
    case ah
    case sctp
    case ospf
    case ipip
    case pim
    case vrrp

    /// The label as printed in CSV, JSON and tables.
    public var name: String { asciiName.description }

    /// The label's name as ASCII bytes, for writers that format into byte buffers.
    public var asciiName: StaticString {
        switch self {
        case .other: "other"
        case .arp: "ARP"
        case .ipv4: "IPv4"
        case .ipv6: "IPv6"
        case .tcp: "TCP"
        case .udp: "UDP"
        case .icmp: "ICMP"
        case .icmpv6: "ICMPv6"
        case .igmp: "IGMP"
        case .gre: "GRE"
        case .esp: "ESP"
        case .ah: "AH"
        case .sctp: "SCTP"
        case .ospf: "OSPF"
        case .ipip: "IPIP"
        case .pim: "PIM"
        case .vrrp: "VRRP"
        }
    }

    /// Parses a printed label (the inverse of `name`).
    public init?(name: some StringProtocol) {
        guard let label = ProtocolLabel.allCases.first(where: { $0.name == name }) else { return nil }
        self = label
    }

    /// The label for an IP protocol number (IPv4 protocol field, IPv6 next header after extension
    /// headers). Numbers without a name of their own give the outer network protocol.
    @inlinable
    public static func forIPProtocol(_ number: UInt8, outer: ProtocolLabel) -> ProtocolLabel {
        // One table lookup per packet (a switch here was not inlined and cost 5-8% of analyze).
        // Byte N is "A" + the label's raw value for protocol N, or "@" for numbers without a name
        // of their own. Generated from the list in `names` below; a test checks the two agree.
        let table: StaticString =
            "@GI@O@E@@@@@@@@@@F@@@@@@@@@@@@@@@@@@@@@@@D@@@@@J@@KL@@@@@@H@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@N@@@@@@@@@@@@@P@@@@@@@@Q@@@@@@@@@@@@@@@@@@@M@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@"
        let code = table.utf8Start[Int(number)] &- 0x41
        // The raw values are the cases' indexes (a test checks it): the byte is the label, without
        // the synthesized `init(rawValue:)`'s switch, which was a call per packet.
        return code <= ProtocolLabel.vrrp.rawValue ? unsafeBitCast(code, to: ProtocolLabel.self) : outer
    }

    /// The named IP protocol numbers (the rule's list), for tests and documentation.
    public static let names: [UInt8: ProtocolLabel] = [
        6: .tcp, 17: .udp, 1: .icmp, 58: .icmpv6, 2: .igmp, 47: .gre, 50: .esp, 51: .ah,
        132: .sctp, 89: .ospf, 4: .ipip, 41: .ipv6, 103: .pim, 112: .vrrp,
    ]
}
