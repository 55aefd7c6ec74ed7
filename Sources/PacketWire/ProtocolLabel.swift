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
        switch number {
        case 6: return .tcp
        case 17: return .udp
        case 1: return .icmp
        case 58: return .icmpv6
        case 2: return .igmp
        case 47: return .gre
        case 50: return .esp
        case 51: return .ah
        case 132: return .sctp
        case 89: return .ospf
        case 4: return .ipip
        case 41: return .ipv6
        case 103: return .pim
        case 112: return .vrrp
        default: return outer
        }
    }
}
