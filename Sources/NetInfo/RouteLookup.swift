import CNetLinux
import Glibc
import SystemPackage

/// What `pktstat routes get` asks: where would the kernel send a packet to `destination`.
public struct RouteQuery: Hashable, Sendable {
    public var destination: IPAddress
    /// The packet's source address (`ip route get ... from`); nil lets the kernel choose. Must be
    /// of the destination's family.
    public var source: IPAddress?
    /// The output interface to use (`ip route get ... oif`); nil lets the routes choose.
    public var outputInterface: String?

    public init(destination: IPAddress, source: IPAddress? = nil, outputInterface: String? = nil) {
        self.destination = destination
        self.source = source
        self.outputInterface = outputInterface
    }
}

/// The `RTCF_*` bits of a cached IPv4 lookup answer (`<linux/in_route.h>`), above `rtm_flags`' low 16.
public struct RouteCacheFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let notify = RouteCacheFlags(rawValue: 0x0001_0000)
    public static let directDestination = RouteCacheFlags(rawValue: 0x0002_0000)
    public static let redirected = RouteCacheFlags(rawValue: 0x0004_0000)
    public static let masquerade = RouteCacheFlags(rawValue: 0x0040_0000)
    public static let sourceNAT = RouteCacheFlags(rawValue: 0x0080_0000)
    public static let doRedirect = RouteCacheFlags(rawValue: 0x0100_0000)
    public static let directSource = RouteCacheFlags(rawValue: 0x0400_0000)
    public static let destinationNAT = RouteCacheFlags(rawValue: 0x0800_0000)
    public static let broadcast = RouteCacheFlags(rawValue: 0x1000_0000)
    public static let multicast = RouteCacheFlags(rawValue: 0x2000_0000)
    public static let reject = RouteCacheFlags(rawValue: 0x4000_0000)
    public static let local = RouteCacheFlags(rawValue: 0x8000_0000)

    /// In the order `ip route get` prints them (iproute2 `print_cache_flags`).
    static let ordered: [(RouteCacheFlags, String)] = [
        (.local, "local"), (.reject, "reject"), (.multicast, "multicast"), (.broadcast, "broadcast"),
        (.destinationNAT, "dst-nat"), (.sourceNAT, "src-nat"), (.masquerade, "masq"),
        (.directDestination, "direct-dst"), (.directSource, "direct-src"), (.redirected, "redirected"),
        (.doRedirect, "redirect"), (.notify, "notify"),
    ]

    /// The names `ip -j route get` puts in `"cache"`.
    public var names: [String] { Self.ordered.filter { contains($0.0) }.map(\.1) }
}

/// The kernel's answer to a route lookup, with what `ip route get` prints.
public struct RouteLookup: Hashable, Sendable {
    /// `destination` is the address asked about (host prefix length); gateway, device, table, type,
    /// protocol, scope, preferred source, metric, flags and preference as for any route. For a
    /// cached IPv4 answer `flags` holds only the route flags; the cache bits are in `cacheFlags`.
    public var route: Route
    /// The source the lookup was made for (RTA_SRC: the `from` address, or `::` for IPv6); nil when
    /// the kernel did not say.
    public var source: IPAddress?
    /// `rtm_src_len`: the host length when `source` is one address.
    public var sourcePrefixLength: Int
    /// The user id the lookup was made for (IPv4 answers carry it); nil otherwise.
    public var uid: UInt32?
    /// A cached clone (IPv4 answers are): `ip` then hides protocol and scope and prints `cache`.
    public var isCached: Bool
    /// `RTCF_*` of a cached answer (`local`, `broadcast`, ...); empty otherwise.
    public var cacheFlags: RouteCacheFlags
    /// The input interface (RTA_IIF), when the answer names one.
    public var inputInterface: String?

    public init(
        route: Route, source: IPAddress? = nil, sourcePrefixLength: Int = 0, uid: UInt32? = nil,
        isCached: Bool = false, cacheFlags: RouteCacheFlags = [], inputInterface: String? = nil
    ) {
        self.route = route
        self.source = source
        self.sourcePrefixLength = sourcePrefixLength
        self.uid = uid
        self.isCached = isCached
        self.cacheFlags = cacheFlags
        self.inputInterface = inputInterface
    }
}

/// `RTM_GETROUTE` without `NLM_F_DUMP`: the route the kernel would use, as `ip route get` asks it.
public enum NetlinkRouteLookup {
    /// Asks the kernel. A destination no usable route covers throws `.noRoute` with the kernel's
    /// reason; an unknown `outputInterface` throws `.noSuchInterface`.
    public static func get(_ query: RouteQuery) throws(NetInfoError) -> RouteLookup {
        var oif: UInt32?
        if let name = query.outputInterface {
            let index = if_nametoindex(name)
            guard index != 0 else { throw .noSuchInterface(name) }
            oif = index
        }
        let request = { (seq: UInt32) in Self.request(query, outputIndex: oif, sequence: seq) }
        var sock = try NetlinkSocket()
        let reply: (type: UInt16, bytes: NetlinkBytes, payload: Range<Int>)
        do {
            reply = try sock.request(name: "RTM_GETROUTE", request)
        } catch {
            throw refusal(error, query)
        }
        guard reply.type == Netlink.newRoute else {
            throw .netlinkMalformed(request: "RTM_GETROUTE", reason: "answer of message type \(reply.type)")
        }
        var names = InterfaceNames()
        let parsed: NetlinkRoutes.RouteMessage?
        do {
            parsed = try NetlinkRoutes.parseMessage(reply.bytes, reply.payload, interfaceName: { names.name(of: $0) })
        } catch {
            let reason = "attribute at byte \(error.offset) runs past its message"
            throw .netlinkMalformed(request: "RTM_GETROUTE", reason: reason)
        }
        guard let m = parsed else {
            throw .netlinkMalformed(request: "RTM_GETROUTE", reason: "the answer is not an IPv4 or IPv6 route")
        }
        return lookup(from: m)
    }

    /// The answer's route and extras; a cached IPv4 answer's `RTCF_*` bits move out of the route
    /// flags into `cacheFlags`, and RTM_F_CLONED into `isCached`.
    static func lookup(from m: NetlinkRoutes.RouteMessage) -> RouteLookup {
        var route = m.route
        var cache: RouteCacheFlags = []
        route.flags.remove(RouteFlags(rawValue: NetlinkRoutes.rtmFCloned))  // said by isCached
        if m.isCloned && route.family == .inet {
            route.flags = RouteFlags(rawValue: m.rtmFlags & 0xFFFF & ~NetlinkRoutes.rtmFCloned)
            cache = RouteCacheFlags(rawValue: m.rtmFlags & ~0xFFFF)
        }
        return RouteLookup(
            route: route, source: m.source, sourcePrefixLength: m.sourcePrefixLength, uid: m.uid,
            isCached: m.isCloned, cacheFlags: cache, inputInterface: m.inputInterface)
    }

    /// The request bytes: rtmsg with the host prefix lengths, RTA_DST, then RTA_SRC and RTA_OIF if given.
    static func request(_ q: RouteQuery, outputIndex: UInt32?, sequence: UInt32) -> [UInt8] {
        let hostLength: UInt8 = q.destination.family == .inet ? 32 : 128
        var rtmsg = [UInt8](repeating: 0, count: NetlinkRoutes.rtmsgSize)
        rtmsg[0] = UInt8(q.destination.family.number)
        rtmsg[1] = hostLength
        var attributes: [(type: UInt16, data: [UInt8])] = [(NetlinkRoutes.rtaDst, q.destination.bytes)]
        if let s = q.source {
            rtmsg[2] = hostLength
            attributes.append((NetlinkRoutes.rtaSrc, s.bytes))
        }
        if let oif = outputIndex {
            attributes.append((NetlinkRoutes.rtaOif, withUnsafeBytes(of: oif) { Array($0) }))
        }
        return Netlink.request(type: Netlink.getRoute, familyHeader: rtmsg, attributes: attributes, sequence: sequence)
    }

    /// A refused lookup without `from`/`oif` means no usable route (the errno says why); with them,
    /// it may also be the question the kernel refused.
    static func refusal(_ error: NetInfoError, _ q: RouteQuery) -> NetInfoError {
        guard case .netlinkRefused(_, let errno) = error else { return error }
        var asked = q.destination.description
        if q.source == nil && q.outputInterface == nil { return .noRoute(asked, errno) }
        if let s = q.source { asked += " from \(s)" }
        if let o = q.outputInterface { asked += " oif \(o)" }
        return .routeLookupRefused(asked, errno)
    }
}
