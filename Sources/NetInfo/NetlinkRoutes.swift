import CNetLinux
import Glibc

/// Routes from an rtnetlink `RTM_GETROUTE` dump: every table, both families, with types,
/// protocol, scope, preferred source, flags and multipath next hops.
public enum NetlinkRoutes {
    // rtattr types (enum rtattr_type_t).
    static let rtaDst: UInt16 = 1
    static let rtaSrc: UInt16 = 2
    static let rtaIif: UInt16 = 3
    static let rtaOif: UInt16 = 4
    static let rtaGateway: UInt16 = 5
    static let rtaPriority: UInt16 = 6
    static let rtaPrefsrc: UInt16 = 7
    static let rtaMultipath: UInt16 = 9
    static let rtaTable: UInt16 = 15
    static let rtaVia: UInt16 = 18
    static let rtaPref: UInt16 = 20
    static let rtaUid: UInt16 = 25
    static let rtmFCloned: UInt32 = 0x200  // RTM_F_CLONED: a cache entry, not a route
    static let rtmsgSize = 12  // struct rtmsg
    static let rtnexthopSize = 8  // struct rtnexthop

    /// Dumps the routes of the given families (all tables; filter with `TableSelection`).
    public static func dump(families: [AddressFamily]) throws(NetInfoError) -> [Route] {
        var sock = try NetlinkSocket()
        var names = InterfaceNames()
        var routes: [Route] = []
        for family in families {
            let af = UInt8(family.number)
            let replies = try sock.dump(
                name: "RTM_GETROUTE", type: Netlink.getRoute, family: af, familyHeaderSize: rtmsgSize)
            for reply in replies where reply.type == Netlink.newRoute {
                do {
                    if let r = try parse(reply.bytes, reply.payload, interfaceName: { names.name(of: $0) }) {
                        routes.append(r)
                    }
                } catch {
                    let reason = "attribute at byte \(error.offset) runs past its message"
                    throw .netlinkMalformed(request: "RTM_GETROUTE", reason: reason)
                }
            }
        }
        return routes
    }

    /// Parses one `RTM_NEWROUTE` payload (struct rtmsg + attributes). Returns nil for messages that
    /// are not IPv4/IPv6 routes, and for cached clones.
    static func parse(
        _ b: NetlinkBytes, _ payload: Range<Int>, interfaceName: (Int) -> String?
    ) throws(NetlinkBytes.Short) -> Route? {
        guard let m = try parseMessage(b, payload, interfaceName: interfaceName), !m.isCloned else { return nil }
        return m.route
    }

    /// One `RTM_NEWROUTE` message: the route, plus what only a lookup answer carries.
    struct RouteMessage {
        var route: Route
        /// `rtm_flags` whole: for a cloned IPv4 answer the bits above 0xFFFF are `RTCF_*`.
        var rtmFlags: UInt32
        /// RTA_SRC and `rtm_src_len`.
        var source: IPAddress?
        var sourcePrefixLength: Int
        /// RTA_UID.
        var uid: UInt32?
        /// RTA_IIF, by name.
        var inputInterface: String?
        var isCloned: Bool { rtmFlags & NetlinkRoutes.rtmFCloned != 0 }
    }

    /// Parses one `RTM_NEWROUTE` payload, cached clones included; nil for families other than IPv4/IPv6.
    static func parseMessage(
        _ b: NetlinkBytes, _ payload: Range<Int>, interfaceName: (Int) -> String?
    ) throws(NetlinkBytes.Short) -> RouteMessage? {
        let p = payload.lowerBound
        guard payload.count >= rtmsgSize else { throw .init(offset: p, needed: rtmsgSize) }
        let af = try b.u8(p)
        let family: AddressFamily
        if af == UInt8(AF_INET) {
            family = .inet
        } else if af == UInt8(AF_INET6) {
            family = .inet6
        } else {
            return nil
        }
        let flags = try b.u32(p + 8)
        let route = Route(
            family: family, destination: .unspecified(family), prefixLength: Int(try b.u8(p + 1)), table: nil,
            type: RouteType(rtmType: try b.u8(p + 7)), protocol: RouteProtocol(rawValue: try b.u8(p + 5)),
            scope: RouteScope(rawValue: try b.u8(p + 6)), flags: RouteFlags(rawValue: flags), source: .netlink)
        var m = RouteMessage(route: route, rtmFlags: flags, sourcePrefixLength: Int(try b.u8(p + 2)))
        var table = UInt32(try b.u8(p + 4))
        for a in try Netlink.attributes(in: b, (p + rtmsgSize)..<payload.upperBound) {
            try apply(a, b, family: af, to: &m, table: &table, interfaceName: interfaceName)
        }
        m.route.table = RouteTable(id: table)
        return m
    }

    /// Applies one route attribute to the message being parsed; unknown attributes are skipped.
    static func apply(
        _ a: NetlinkAttribute, _ b: NetlinkBytes, family af: UInt8, to m: inout RouteMessage, table: inout UInt32,
        interfaceName: (Int) -> String?
    ) throws(NetlinkBytes.Short) {
        let u32: UInt32? = a.data.count >= 4 ? try b.u32(a.data.lowerBound) : nil
        switch a.type {
        case rtaDst:
            if let d = Netlink.address(b, a.data, family: af) { m.route.destination = d }
        case rtaSrc:
            m.source = Netlink.address(b, a.data, family: af)
        case rtaGateway:
            m.route.gateway = Netlink.address(b, a.data, family: af)
        case rtaVia:
            m.route.gateway = try via(b, a.data)
        case rtaOif:
            if let u32 {
                let idx = Int(Int32(bitPattern: u32))
                m.route.deviceIndex = idx
                m.route.device = interfaceName(idx) ?? "if\(idx)"
            }
        case rtaIif:
            if let u32 { m.inputInterface = interfaceName(Int(u32)) ?? "if\(u32)" }
        case rtaPriority:
            if let u32 { m.route.metric = u32 }
        case rtaPrefsrc:
            m.route.preferredSource = Netlink.address(b, a.data, family: af)
        case rtaTable:
            if let u32 { table = u32 }
        case rtaUid:
            if let u32 { m.uid = u32 }
        case rtaPref:
            if a.data.count >= 1 { m.route.preference = preference(try b.u8(a.data.lowerBound)) }
        case rtaMultipath:
            m.route.nextHops = try nextHops(b, a.data, family: af, interfaceName: interfaceName)
        default:
            break
        }
    }

    /// RTA_PREF (`ICMPV6_ROUTER_PREF_*`) as `ip` names it.
    static func preference(_ v: UInt8) -> String? {
        switch v {
        case 0: return "medium"
        case 1: return "high"
        case 3: return "low"
        default: return nil
        }
    }

    /// RTA_MULTIPATH: a run of struct rtnexthop (len, flags, hops, ifindex), each followed by its
    /// own attributes (RTA_GATEWAY, RTA_VIA).
    static func nextHops(
        _ b: NetlinkBytes, _ r: Range<Int>, family: UInt8, interfaceName: (Int) -> String?
    ) throws(NetlinkBytes.Short) -> [NextHop] {
        var out: [NextHop] = []
        var o = r.lowerBound
        while r.upperBound - o >= rtnexthopSize {
            let len = Int(try b.u16(o))
            guard len >= rtnexthopSize, o + len <= r.upperBound else { throw .init(offset: o, needed: len) }
            let flags = try b.u8(o + 2)
            let hops = try b.u8(o + 3)
            let idx = Int(try b.i32(o + 4))
            var hop = NextHop(weight: Int(hops) + 1, flags: RouteFlags(rawValue: UInt32(flags)))
            if idx > 0 {
                hop.deviceIndex = idx
                hop.device = interfaceName(idx) ?? "if\(idx)"
            }
            for a in try Netlink.attributes(in: b, (o + rtnexthopSize)..<(o + len)) {
                if a.type == rtaGateway {
                    hop.gateway = Netlink.address(b, a.data, family: family)
                } else if a.type == rtaVia {
                    hop.gateway = try via(b, a.data)
                }
            }
            out.append(hop)
            o += Netlink.align(len)
        }
        return out
    }

    /// RTA_VIA: struct rtvia { sa_family_t family; u8 addr[] } (an IPv6 next hop for an IPv4 route).
    static func via(_ b: NetlinkBytes, _ r: Range<Int>) throws(NetlinkBytes.Short) -> IPAddress? {
        guard r.count >= 2 else { return nil }
        let fam = try b.u16(r.lowerBound)
        return Netlink.address(b, (r.lowerBound + 2)..<r.upperBound, family: UInt8(truncatingIfNeeded: fam))
    }
}

/// ifindex → name, looked up once per index with `if_indextoname`.
struct InterfaceNames {
    private var cache: [Int: String?] = [:]

    mutating func name(of index: Int) -> String? {
        if let hit = cache[index] { return hit }
        var buf = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        let found = buf.withUnsafeMutableBufferPointer { if_indextoname(UInt32(index), $0.baseAddress) } != nil
        let name = found ? String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        cache[index] = name
        return name
    }
}
