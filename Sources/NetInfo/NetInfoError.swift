public import SystemPackage

/// Everything that can go wrong in NetInfo. Thrown typed.
///
/// `description` is the one line the command prints after `error: `; `hint`, when there is one,
/// is the fix it prints after `hint: `.
public enum NetInfoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `pktstat interfaces NAME` (or a route lookup) named an interface the kernel does not have.
    case noSuchInterface(String)
    /// `getifaddrs(3)` failed.
    case getifaddrs(Errno)
    /// A file under /proc or /sys could not be opened or read.
    case cannotRead(path: String, Errno)
    /// A netlink socket call (`socket`, `bind`, `send`, `recv`) failed.
    case netlinkSocket(call: String, Errno)
    /// The kernel answered a netlink request with an error (`NLMSG_ERROR`).
    case netlinkRefused(request: String, Errno)
    /// The kernel's netlink answer did not parse (too short, bad lengths).
    case netlinkMalformed(request: String, reason: String)
    /// The dump was interrupted by changes three times in a row (`NLM_F_DUMP_INTR`).
    case netlinkInterrupted(request: String)
    /// A /proc route file did not have the expected shape at all (not one line of it parsed).
    case procUnrecognized(path: String, reason: String)
    /// A route lookup found no usable route to the address: the kernel's answer to RTM_GETROUTE
    /// (ENETUNREACH: none covers it; EHOSTUNREACH, EACCES, EINVAL: an unreachable, prohibit or
    /// blackhole route does).
    case noRoute(String, Errno)
    /// A route lookup with `from`/`oif` (the first value says so: `ADDRESS from A oif DEV`) failed:
    /// no route, or a `from` that is not an address of this host, or an `oif` that is down.
    case routeLookupRefused(String, Errno)

    public var description: String {
        switch self {
        case .noSuchInterface(let name):
            return "no such interface: \(name)"
        case .getifaddrs(let errno):
            return "cannot list interfaces: getifaddrs: \(errno.description)"
        case .cannotRead(let path, let errno):
            return "cannot read \(path): \(errno.description)"
        case .netlinkSocket(let call, let errno):
            return "netlink \(call) failed: \(errno.description)"
        case .netlinkRefused(let request, let errno):
            return "the kernel refused the netlink \(request) request: \(errno.description)"
        case .netlinkMalformed(let request, let reason):
            return "malformed netlink answer to \(request): \(reason)"
        case .netlinkInterrupted(let request):
            return "the netlink \(request) dump kept being interrupted by changes"
        case .procUnrecognized(let path, let reason):
            return "cannot parse \(path): \(reason)"
        case .noRoute(let address, let errno):
            return "no route to \(address): \(Self.noRouteReason(errno))"
        case .routeLookupRefused(let query, let errno):
            return "no route to \(query): \(errno.description)"
        }
    }

    /// What to try next, or nil when there is nothing useful to say.
    public var hint: String? {
        switch self {
        case .noSuchInterface:
            return "run 'pktstat interfaces' to list the interfaces"
        case .getifaddrs:
            return nil
        case .cannotRead(let path, _):
            if path.hasPrefix("/proc/net/") {
                return "is /proc mounted? '--source netlink' (the default) does not need it"
            }
            return "is /sys mounted?"
        case .netlinkSocket(_, let errno), .netlinkRefused(_, let errno):
            if errno == .permissionDenied || errno == .notPermitted || errno == .addressFamilyNotSupported
                || errno == .protocolNotSupported
            {
                return "netlink is not allowed here (a sandbox?); try '--source proc'"
            }
            return "try '--source proc'"
        case .netlinkMalformed, .netlinkInterrupted:
            return "try again, or use '--source proc'"
        case .procUnrecognized:
            return "try '--source netlink'"
        case .noRoute:
            return "'pktstat routes --table all' lists the routes; add one (or a default gateway) that covers it"
        case .routeLookupRefused:
            return "--from must be an address of this host and --oif an interface that is up ('pktstat interfaces')"
        }
    }

    /// The fix for a failed route lookup (`routes get`), which has no `--source proc` to fall back on.
    public var routeLookupHint: String? {
        switch self {
        case .netlinkSocket, .netlinkRefused, .netlinkMalformed, .netlinkInterrupted:
            return "route lookups need rtnetlink, as 'ip route get' does; 'pktstat routes --source proc' "
                + "lists the routes"
        default:
            return hint
        }
    }

    /// Why the kernel has no usable route, from its answer to RTM_GETROUTE.
    static func noRouteReason(_ errno: Errno) -> String {
        switch errno {
        case .networkUnreachable: return "no route covers it (network is unreachable)"
        case .noRouteToHost: return "an unreachable route covers it (no route to host)"
        case .permissionDenied, .notPermitted: return "a prohibit route covers it (\(errno.description))"
        case .invalidArgument: return "a blackhole route covers it (the kernel answered: invalid argument)"
        default: return errno.description
        }
    }
}

/// A failed `routes get`: NetInfo's error with the fix that fits a lookup (`routeLookupHint`).
public struct RouteLookupFailure: Error, Sendable, CustomStringConvertible {
    public let error: NetInfoError
    public init(error: NetInfoError) { self.error = error }
    public var description: String { error.description }
    public var hint: String? { error.routeLookupHint }
}

extension NetlinkRouteLookup {
    /// `get`, its error carrying the fix that fits a lookup.
    public static func lookup(_ query: RouteQuery) throws(RouteLookupFailure) -> RouteLookup {
        do { return try get(query) } catch { throw RouteLookupFailure(error: error) }
    }
}
