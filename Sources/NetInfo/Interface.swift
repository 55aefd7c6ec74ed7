/// Interface flags (`IFF_*` from `<net/if.h>`, plus the `IFF_LOWER_UP` family from `<linux/if.h>`).
public struct InterfaceFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let up = InterfaceFlags(rawValue: 0x1)
    public static let broadcast = InterfaceFlags(rawValue: 0x2)
    public static let debug = InterfaceFlags(rawValue: 0x4)
    public static let loopback = InterfaceFlags(rawValue: 0x8)
    public static let pointToPoint = InterfaceFlags(rawValue: 0x10)
    public static let noTrailers = InterfaceFlags(rawValue: 0x20)
    public static let running = InterfaceFlags(rawValue: 0x40)
    public static let noARP = InterfaceFlags(rawValue: 0x80)
    public static let promiscuous = InterfaceFlags(rawValue: 0x100)
    public static let allMulticast = InterfaceFlags(rawValue: 0x200)
    public static let master = InterfaceFlags(rawValue: 0x400)
    public static let slave = InterfaceFlags(rawValue: 0x800)
    public static let multicast = InterfaceFlags(rawValue: 0x1000)
    public static let portSelect = InterfaceFlags(rawValue: 0x2000)
    public static let autoMedia = InterfaceFlags(rawValue: 0x4000)
    public static let dynamic = InterfaceFlags(rawValue: 0x8000)
    public static let lowerUp = InterfaceFlags(rawValue: 0x10000)
    public static let dormant = InterfaceFlags(rawValue: 0x20000)
    public static let echo = InterfaceFlags(rawValue: 0x40000)

    /// Names in the order `ip link` prints them, with `RUNNING` (which `ip` hides) after `UP`.
    static let ordered: [(InterfaceFlags, String)] = [
        (.loopback, "LOOPBACK"), (.broadcast, "BROADCAST"), (.pointToPoint, "POINTOPOINT"),
        (.multicast, "MULTICAST"), (.noARP, "NOARP"), (.allMulticast, "ALLMULTI"), (.promiscuous, "PROMISC"),
        (.master, "MASTER"), (.slave, "SLAVE"), (.debug, "DEBUG"), (.dynamic, "DYNAMIC"),
        (.autoMedia, "AUTOMEDIA"), (.portSelect, "PORTSEL"), (.noTrailers, "NOTRAILERS"), (.up, "UP"),
        (.running, "RUNNING"), (.lowerUp, "LOWER_UP"), (.dormant, "DORMANT"), (.echo, "ECHO"),
    ]

    /// The flag names, `ip link` style. `NO-CARRIER` comes first when the interface is UP but not
    /// RUNNING, as `ip` prints it.
    public var names: [String] {
        var out: [String] = []
        if contains(.up) && !contains(.running) { out.append("NO-CARRIER") }
        for (flag, name) in Self.ordered where contains(flag) { out.append(name) }
        return out
    }
}

/// IPv6 address scope, as `ip addr` names it.
public struct AddressScope: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let global = AddressScope(rawValue: 0)
    public static let site = AddressScope(rawValue: 200)
    public static let link = AddressScope(rawValue: 253)
    public static let host = AddressScope(rawValue: 254)
    public static let nowhere = AddressScope(rawValue: 255)

    public var description: String {
        switch rawValue {
        case 0: return "global"
        case 200: return "site"
        case 253: return "link"
        case 254: return "host"
        case 255: return "nowhere"
        default: return String(rawValue)
        }
    }

    /// The scope the kernel gives an address of this kind when none is set explicitly.
    public static func implied(by address: IPAddress) -> AddressScope {
        switch address {
        case .v4(let a): return a.isLoopback ? .host : .global
        case .v6(let a):
            if a.isLoopback { return .host }
            if a.isLinkLocal { return .link }
            if a.isSiteLocal { return .site }
            return .global
        }
    }
}

/// One IPv4 address of an interface.
public struct IPv4AddressEntry: Hashable, Sendable {
    public var address: IPv4Address
    public var prefixLength: Int
    /// The broadcast address, only when one is configured (`ip addr add ... brd ...`); nil otherwise.
    /// Never the address itself (getifaddrs reports the address there when none is set).
    public var broadcast: IPv4Address?
    /// The other end of a point-to-point link (`ip addr add A peer P`); nil otherwise.
    public var peer: IPv4Address?
    /// nil when neither netlink nor the address's kind says (getifaddrs does not carry it).
    public var scope: AddressScope?
    /// Kernel address flags by `ip` name (`secondary`, `noprefixroute`, `dynamic`, ...);
    /// nil when unknown (getifaddrs alone does not carry them).
    public var flags: [String]?
    /// The label (`eth0:1`) when it differs from the interface name.
    public var label: String?

    public init(
        address: IPv4Address, prefixLength: Int, broadcast: IPv4Address? = nil, peer: IPv4Address? = nil,
        scope: AddressScope? = nil, flags: [String]? = nil, label: String? = nil
    ) {
        self.address = address
        self.prefixLength = prefixLength
        self.broadcast = broadcast
        self.peer = peer
        self.scope = scope
        self.flags = flags
        self.label = label
    }

    public var netmask: IPv4Address { .netmask(prefixLength: prefixLength) }
    /// True for a secondary address; nil when unknown.
    public var isSecondary: Bool? { flags.map { $0.contains("secondary") } }
}

/// One IPv6 address of an interface. `address` never carries a `%zone`.
public struct IPv6AddressEntry: Hashable, Sendable {
    public var address: IPv6Address
    public var prefixLength: Int
    public var scope: AddressScope
    /// The other end of a point-to-point link; nil otherwise.
    public var peer: IPv6Address?
    /// Kernel address flags by `ip` name (`tentative`, `nodad`, `dadfailed`, `deprecated`, ...);
    /// nil when unknown (getifaddrs alone does not carry them).
    public var flags: [String]?

    public init(
        address: IPv6Address, prefixLength: Int, scope: AddressScope, peer: IPv6Address? = nil, flags: [String]? = nil
    ) {
        self.address = address
        self.prefixLength = prefixLength
        self.scope = scope
        self.peer = peer
        self.flags = flags
    }

    public var netmask: IPv6Address { .netmask(prefixLength: prefixLength) }
}

/// Interface counters. From `/sys/class/net/NAME/statistics` (64-bit) when readable, otherwise from
/// the `rtnl_link_stats` getifaddrs hands out with AF_PACKET entries (32-bit, they wrap).
public struct InterfaceCounters: Hashable, Sendable {
    public var rxBytes: UInt64
    public var rxPackets: UInt64
    public var rxErrors: UInt64
    public var rxDropped: UInt64
    public var txBytes: UInt64
    public var txPackets: UInt64
    public var txErrors: UInt64
    public var txDropped: UInt64

    public init(
        rxBytes: UInt64 = 0, rxPackets: UInt64 = 0, rxErrors: UInt64 = 0, rxDropped: UInt64 = 0,
        txBytes: UInt64 = 0, txPackets: UInt64 = 0, txErrors: UInt64 = 0, txDropped: UInt64 = 0
    ) {
        self.rxBytes = rxBytes
        self.rxPackets = rxPackets
        self.rxErrors = rxErrors
        self.rxDropped = rxDropped
        self.txBytes = txBytes
        self.txPackets = txPackets
        self.txErrors = txErrors
        self.txDropped = txDropped
    }
}

/// A network interface as `ip addr` shows it.
public struct Interface: Hashable, Sendable {
    public var name: String
    /// The kernel's interface index; nil only if getifaddrs gave no AF_PACKET entry for it.
    public var index: Int?
    public var flags: InterfaceFlags
    /// RFC 2863 operational state from `/sys/class/net/NAME/operstate`, upper case as `ip` prints it
    /// (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`, `DORMANT`, ...); nil when /sys is unreadable.
    public var operState: String?
    /// From `/sys/class/net/NAME/mtu`; nil when /sys is unreadable.
    public var mtu: Int?
    /// The link-layer address from the AF_PACKET entry; nil for links without one (tun, ipip).
    public var hardwareAddress: HardwareAddress?
    /// The link-layer broadcast address (`ff:ff:ff:ff:ff:ff` on Ethernet); nil when there is none.
    public var hardwareBroadcast: HardwareAddress?
    public var ipv4: [IPv4AddressEntry]
    public var ipv6: [IPv6AddressEntry]
    /// nil when neither /sys nor getifaddrs had counters.
    public var counters: InterfaceCounters?

    public init(
        name: String, index: Int? = nil, flags: InterfaceFlags = [], operState: String? = nil, mtu: Int? = nil,
        hardwareAddress: HardwareAddress? = nil, hardwareBroadcast: HardwareAddress? = nil,
        ipv4: [IPv4AddressEntry] = [], ipv6: [IPv6AddressEntry] = [], counters: InterfaceCounters? = nil
    ) {
        self.name = name
        self.index = index
        self.flags = flags
        self.operState = operState
        self.mtu = mtu
        self.hardwareAddress = hardwareAddress
        self.hardwareBroadcast = hardwareBroadcast
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.counters = counters
    }
}
