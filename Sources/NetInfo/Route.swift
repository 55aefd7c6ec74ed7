/// A routing table id. iproute2 names 253 `default`, 254 `main`, 255 `local`; others print as numbers.
public struct RouteTable: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let id: UInt32
    public init(id: UInt32) { self.id = id }

    public static let unspecified = RouteTable(id: 0)
    public static let `default` = RouteTable(id: 253)
    public static let main = RouteTable(id: 254)
    public static let local = RouteTable(id: 255)

    /// `main`, `local`, `default`, or a number.
    public init?(name: String) {
        switch name {
        case "main": self = .main
        case "local": self = .local
        case "default": self = .default
        case "unspec": self = .unspecified
        default:
            guard let n = UInt32(name) else { return nil }
            self.init(id: n)
        }
    }

    public var description: String {
        switch id {
        case 0: return "unspec"
        case 253: return "default"
        case 254: return "main"
        case 255: return "local"
        default: return String(id)
        }
    }

    public static func < (l: RouteTable, r: RouteTable) -> Bool { l.id < r.id }
}

/// A route type (`rtm_type`). Unicast is the usual one; `ip` prints the type only for the others.
public enum RouteType: Hashable, Sendable, CustomStringConvertible {
    case unspecified, unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit, `throw`, nat,
        xresolve
    /// /proc only: a rejecting route (`RTF_REJECT`). /proc does not say whether it is unreachable,
    /// prohibit or throw (and, for IPv6, blackhole).
    case reject
    case other(UInt8)

    public init(rtmType: UInt8) {
        switch rtmType {
        case 0: self = .unspecified
        case 1: self = .unicast
        case 2: self = .local
        case 3: self = .broadcast
        case 4: self = .anycast
        case 5: self = .multicast
        case 6: self = .blackhole
        case 7: self = .unreachable
        case 8: self = .prohibit
        case 9: self = .throw
        case 10: self = .nat
        case 11: self = .xresolve
        default: self = .other(rtmType)
        }
    }

    public var description: String {
        switch self {
        case .unspecified: return "unspec"
        case .unicast: return "unicast"
        case .local: return "local"
        case .broadcast: return "broadcast"
        case .anycast: return "anycast"
        case .multicast: return "multicast"
        case .blackhole: return "blackhole"
        case .unreachable: return "unreachable"
        case .prohibit: return "prohibit"
        case .throw: return "throw"
        case .nat: return "nat"
        case .xresolve: return "xresolve"
        case .reject: return "reject"
        case .other(let n): return String(n)
        }
    }
}

/// Who installed a route (`rtm_protocol`), named as in iproute2's `rt_protos`.
public struct RouteProtocol: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unspecified = RouteProtocol(rawValue: 0)
    public static let redirect = RouteProtocol(rawValue: 1)
    public static let kernel = RouteProtocol(rawValue: 2)
    public static let boot = RouteProtocol(rawValue: 3)
    public static let `static` = RouteProtocol(rawValue: 4)

    static let names: [UInt8: String] = [
        0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra", 10: "mrt",
        11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp", 17: "mrouted",
        18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip",
        192: "eigrp",
    ]

    public var description: String { Self.names[rawValue] ?? String(rawValue) }
}

/// Route scope (`rtm_scope`): `global` (universe), `site`, `link`, `host`, `nowhere`.
public typealias RouteScope = AddressScope

/// Route and next-hop flags (`RTNH_F_*` in the low byte, `RTM_F_*` above), named as `ip route` does.
public struct RouteFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let dead = RouteFlags(rawValue: 1)
    public static let pervasive = RouteFlags(rawValue: 2)
    public static let onlink = RouteFlags(rawValue: 4)
    public static let offload = RouteFlags(rawValue: 8)
    public static let linkdown = RouteFlags(rawValue: 16)
    public static let unresolved = RouteFlags(rawValue: 32)
    public static let trap = RouteFlags(rawValue: 64)
    public static let notify = RouteFlags(rawValue: 0x100)
    public static let rtOffload = RouteFlags(rawValue: 0x4000)
    public static let rtTrap = RouteFlags(rawValue: 0x8000)
    public static let rtOffloadFailed = RouteFlags(rawValue: 0x2000_0000)  // RTM_F_OFFLOAD_FAILED

    static let ordered: [(RouteFlags, String)] = [
        (.dead, "dead"), (.onlink, "onlink"), (.pervasive, "pervasive"), (.offload, "offload"), (.trap, "trap"),
        (.notify, "notify"), (.linkdown, "linkdown"), (.unresolved, "unresolved"), (.rtOffload, "rt_offload"),
        (.rtTrap, "rt_trap"), (.rtOffloadFailed, "rt_offload_failed"),
    ]

    /// The names `ip -j route` puts in `"flags"`.
    public var names: [String] { Self.ordered.filter { contains($0.0) }.map(\.1) }
}

/// One next hop of a multipath route.
public struct NextHop: Hashable, Sendable {
    public var gateway: IPAddress?
    public var device: String?
    public var deviceIndex: Int?
    /// `rtnh_hops + 1`, as `ip route` prints it.
    public var weight: Int
    public var flags: RouteFlags

    public init(
        gateway: IPAddress? = nil, device: String? = nil, deviceIndex: Int? = nil, weight: Int = 1,
        flags: RouteFlags = []
    ) {
        self.gateway = gateway
        self.device = device
        self.deviceIndex = deviceIndex
        self.weight = weight
        self.flags = flags
    }
}

/// Where a route came from. /proc knows less than netlink; fields it cannot provide are nil.
public enum RouteSource: String, Hashable, Sendable, CaseIterable {
    case netlink
    case proc
}

/// One route. Optional fields are nil when the route does not have them, or (for `.proc`) when the
/// source cannot say: see each field.
public struct Route: Hashable, Sendable {
    public var family: AddressFamily
    /// The destination network; `0.0.0.0/0` or `::/0` is the default route.
    public var destination: IPAddress
    public var prefixLength: Int
    /// The gateway of a single-path route; nil for directly connected routes and multipath routes.
    public var gateway: IPAddress?
    /// The output interface; nil for routes without one (blackhole, unreachable, multipath).
    public var device: String?
    public var deviceIndex: Int?
    /// nil when the source does not say (/proc/net/ipv6_route; /proc/net/route is always main).
    public var table: RouteTable?
    /// From /proc only `.unicast`, `.local`, `.anycast` (IPv6), `.blackhole` (IPv4: no device and
    /// no RTF_REJECT, which a throw route also looks like) or `.reject`.
    public var type: RouteType
    /// nil from /proc.
    public var `protocol`: RouteProtocol?
    /// nil from /proc.
    public var scope: RouteScope?
    /// The preferred source address (`src`); nil when none is set or from /proc.
    public var preferredSource: IPAddress?
    /// nil when the kernel sends no priority (IPv4 metric 0). /proc gives IPv4 metric 0 as nil too.
    public var metric: UInt32?
    /// Route flags (`onlink`, `linkdown`, ...); always empty from /proc.
    public var flags: RouteFlags
    /// Next hops of a multipath route (netlink only; /proc shows the first or each as its own line).
    public var nextHops: [NextHop]
    /// IPv6 router preference (`low`, `medium`, `high`); nil for IPv4 and from /proc.
    public var preference: String?
    public var source: RouteSource

    public init(
        family: AddressFamily, destination: IPAddress, prefixLength: Int, gateway: IPAddress? = nil,
        device: String? = nil, deviceIndex: Int? = nil, table: RouteTable? = .main, type: RouteType = .unicast,
        protocol: RouteProtocol? = nil, scope: RouteScope? = nil, preferredSource: IPAddress? = nil,
        metric: UInt32? = nil, flags: RouteFlags = [], nextHops: [NextHop] = [], preference: String? = nil,
        source: RouteSource
    ) {
        self.family = family
        self.destination = destination
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.device = device
        self.deviceIndex = deviceIndex
        self.table = table
        self.type = type
        self.protocol = `protocol`
        self.scope = scope
        self.preferredSource = preferredSource
        self.metric = metric
        self.flags = flags
        self.nextHops = nextHops
        self.preference = preference
        self.source = source
    }

    public var isDefault: Bool { prefixLength == 0 }

    /// `default`, or the CIDR; a host route (/32, /128) drops the prefix length as `ip route` does.
    public var destinationText: String {
        if prefixLength == 0 { return "default" }
        let host = family == .inet ? 32 : 128
        return prefixLength == host ? destination.description : "\(destination)/\(prefixLength)"
    }
}

/// Which routes to keep.
public enum TableSelection: Hashable, Sendable {
    case all
    case table(RouteTable)

    /// Why `--table TEXT` cannot be read from `source`: not a table name or number, or a table
    /// /proc does not hold; nil when it can.
    public static func problem(table text: String, source: RouteSource) -> String? {
        guard let selection = TableSelection(text) else {
            return "--table must be main, local, default, all or a number, not '\(text)'"
        }
        if source == .proc, selection != .all, selection != .table(.main) {
            return
                "--source proc can show only '--table main' or '--table all' (/proc/net/route holds the main table only)"
        }
        return nil
    }

    public init?(_ text: String) {
        if text == "all" {
            self = .all
        } else if let t = RouteTable(name: text) {
            self = .table(t)
        } else {
            return nil
        }
    }

    /// Whether a route belongs. Routes of unknown table (/proc IPv6) count as main unless they can
    /// only live in the local table (local, anycast, multicast destinations).
    public func contains(_ route: Route) -> Bool {
        switch self {
        case .all: return true
        case .table(let t):
            if let rt = route.table { return rt == t }
            let localOnly: Bool
            switch route.type {
            case .local, .anycast, .broadcast, .multicast: localOnly = true
            default:
                if case .v6(let a) = route.destination, a.isMulticast { localOnly = true } else { localOnly = false }
            }
            return t == (localOnly ? .local : .main)
        }
    }
}
