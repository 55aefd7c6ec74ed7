public import NetInfo

/// JSON for interfaces, routes and gateways: iproute2's key names (`ip -j`), and Python netifaces'
/// shapes. Each document is returned whole, ending with a newline.
extension NetInfoFormatter {
    // MARK: JSON (ip -j key names)

    public static func json(route r: Route) -> JSONValue {
        var o = JSONObject()
        o.set("family", r.family.rawValue)
        if r.type != .unicast { o.set("type", r.type.description) }
        o.set("dst", r.destinationText)
        o.set("gateway", r.gateway?.description)
        o.set("dev", r.device)
        if let t = r.table, t != .main { o.set("table", t.description) }
        o.set("protocol", r.protocol?.description)
        o.set("scope", r.scope?.description)
        o.set("prefsrc", r.preferredSource?.description)
        o.set("metric", r.metric.map { JSONValue.uint($0) })
        o.set("flags", names(r.flags.names))
        o.set("pref", r.preference)
        if !r.nextHops.isEmpty {
            o.set("nexthops", .array(r.nextHops.map(json(nextHop:))))
        }
        o.set("source", r.source.rawValue)
        return o.value
    }

    static func json(nextHop h: NextHop) -> JSONValue {
        var n = JSONObject()
        n.set("gateway", h.gateway?.description)
        n.set("dev", h.device)
        n.set("weight", .int(Int64(h.weight)))
        n.set("flags", names(h.flags.names))
        return n.value
    }

    static func names(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }

    /// A bare array, as `ip -j route` prints it.
    public static func json(routes: [Route]) -> String {
        JSONValue.array(routes.map { json(route: $0) }).rendered() + "\n"
    }

    public static func json(interface i: Interface) -> JSONValue {
        var o = JSONObject()
        o.set("ifindex", i.index.map { JSONValue.int(Int64($0)) })
        o.set("ifname", i.name)
        o.set("flags", names(i.flags.names))
        o.set("mtu", i.mtu.map { JSONValue.int(Int64($0)) })
        o.set("operstate", i.operState)
        o.set("address", i.hardwareAddress?.description)
        o.set("broadcast", i.hardwareBroadcast?.description)
        o.set("addr_info", .array(i.ipv4.map(json(ipv4:)) + i.ipv6.map(json(ipv6:))))
        if let c = i.counters { o.set("stats", json(counters: c)) }
        return o.value
    }

    static func json(ipv4 a: IPv4AddressEntry) -> JSONValue {
        var e = JSONObject()
        e.set("family", "inet")
        e.set("local", a.address.description)
        e.set("address", a.peer?.description)
        e.set("prefixlen", .int(Int64(a.prefixLength)))
        e.set("netmask", a.netmask.description)
        e.set("broadcast", a.broadcast?.description)
        e.set("scope", a.scope?.description)
        for f in a.flags ?? [] { e.set(f, .bool(true)) }
        e.set("label", a.label)
        return e.value
    }

    static func json(ipv6 a: IPv6AddressEntry) -> JSONValue {
        var e = JSONObject()
        e.set("family", "inet6")
        e.set("local", a.address.description)
        e.set("address", a.peer?.description)
        e.set("prefixlen", .int(Int64(a.prefixLength)))
        e.set("scope", a.scope.description)
        for f in a.flags ?? [] { e.set(f, .bool(true)) }
        return e.value
    }

    static func json(counters c: InterfaceCounters) -> JSONValue {
        .object([
            (
                "rx",
                .object([
                    ("bytes", .uint(c.rxBytes)), ("packets", .uint(c.rxPackets)), ("errors", .uint(c.rxErrors)),
                    ("dropped", .uint(c.rxDropped)),
                ])
            ),
            (
                "tx",
                .object([
                    ("bytes", .uint(c.txBytes)), ("packets", .uint(c.txPackets)), ("errors", .uint(c.txErrors)),
                    ("dropped", .uint(c.txDropped)),
                ])
            ),
        ])
    }

    /// A bare array, as `ip -j addr` prints it.
    public static func json(interfaces: [Interface]) -> String {
        JSONValue.array(interfaces.map { json(interface: $0) }).rendered() + "\n"
    }

    /// `{"default": {"inet": {...}, "inet6": {...}}, "reasons": {...}, "routes": [...]}`.
    public static func json(gateways g: Gateways) -> String {
        var defaults = JSONObject()
        var reasons = JSONObject()
        for family in AddressFamily.allCases {
            if let d = g.defaults[family] {
                var o = JSONObject()
                o.set("gateway", d.gateway?.description)
                o.set("dev", d.device)
                o.set("metric", d.metric.map { JSONValue.uint($0) })
                o.set("reason", d.reason)
                defaults.set(family.rawValue, o.value)
            }
            reasons.set(family.rawValue, g.reasons[family])
        }
        return JSONValue.object([
            ("default", defaults.value), ("reasons", reasons.value),
            ("routes", .array(g.defaultRoutes.map { json(route: $0) })),
        ]).rendered() + "\n"
    }

    // MARK: route lookup (ip -j route get)

    /// The keys `ip -j route get` prints, in its order and by its rules: `type` unless unicast,
    /// `table` unless main, `protocol` (unless boot) and `scope` (unless global) only for an answer
    /// that is not cached, `cache` only for a cached IPv4 answer.
    public static func json(lookup l: RouteLookup) -> JSONValue {
        let r = l.route
        var o = JSONObject()
        if r.type != .unicast { o.set("type", r.type.description) }
        o.set("dst", r.destinationText)
        if let s = l.source {
            if l.sourcePrefixLength == hostLength(r.family) {
                o.set("from", s.description)
            } else {
                o.set("src", "\(s)/\(l.sourcePrefixLength)")
            }
        }
        o.set("gateway", r.gateway?.description)
        o.set("dev", r.device)
        if let t = r.table, t != .main, t != .unspecified { o.set("table", t.description) }
        if !l.isCached {
            if let p = r.protocol, p != .boot { o.set("protocol", p.description) }
            if let s = r.scope, s != .global { o.set("scope", s.description) }
        }
        o.set("prefsrc", r.preferredSource?.description)
        o.set("metric", r.metric.map { JSONValue.uint($0) })
        o.set("flags", names(r.flags.names))
        o.set("uid", l.uid.map { JSONValue.uint($0) })
        if l.isCached && r.family == .inet { o.set("cache", names(l.cacheFlags.names)) }
        o.set("iif", l.inputInterface)
        o.set("pref", r.preference)
        if !r.nextHops.isEmpty { o.set("nexthops", .array(r.nextHops.map(json(nextHop:)))) }
        return o.value
    }

    /// A bare array of the answers, as `ip -j route get` prints its one answer.
    public static func json(lookups: [RouteLookup]) -> String {
        JSONValue.array(lookups.map { json(lookup: $0) }).rendered() + "\n"
    }

    static func hostLength(_ family: AddressFamily) -> Int { family == .inet ? 32 : 128 }

    // MARK: netifaces-shaped JSON

    /// `ifaddresses(name)`: keys "17" (AF_PACKET), "2" (AF_INET), "10" (AF_INET6). Unlike netifaces,
    /// there is no broadcast when none is configured, peers are `peer`, and IPv6 has no `%zone`.
    public static func netifacesAddresses(_ i: Interface) -> JSONValue {
        var o = JSONObject()
        if let mac = i.hardwareAddress {
            var e = JSONObject()
            e.set("addr", mac.description)
            e.set("broadcast", i.hardwareBroadcast?.description)
            o.set("17", .array([e.value]))
        }
        if !i.ipv4.isEmpty {
            o.set(
                "2",
                .array(
                    i.ipv4.map { a in
                        var e = JSONObject()
                        e.set("addr", a.address.description)
                        e.set("netmask", a.netmask.description)
                        e.set("broadcast", a.broadcast?.description)
                        e.set("peer", a.peer?.description)
                        return e.value
                    }))
        }
        if !i.ipv6.isEmpty {
            o.set(
                "10",
                .array(
                    i.ipv6.map { a in
                        var e = JSONObject()
                        e.set("addr", a.address.description)
                        e.set("netmask", "\(a.netmask)/\(a.prefixLength)")
                        e.set("peer", a.peer?.description)
                        return e.value
                    }))
        }
        return o.value
    }

    /// `{"interfaces": interfaces(), "ifaddresses": {name: ifaddresses(name)}}`.
    public static func netifaces(interfaces: [Interface]) -> String {
        JSONValue.object([
            ("interfaces", .array(interfaces.map { .string($0.name) })),
            ("ifaddresses", .object(interfaces.map { ($0.name, netifacesAddresses($0)) })),
        ]).rendered() + "\n"
    }

    /// `ifaddresses(name)` alone, for one interface.
    public static func netifaces(interface: Interface) -> String {
        netifacesAddresses(interface).rendered() + "\n"
    }

    /// `gateways()`: `{"default": {"2": [gw, dev]}, "2": [[gw, dev, is_default], ...], "10": ...}`, from
    /// the unicast main-table default routes that have a gateway.
    public static func netifaces(gateways g: Gateways) -> String {
        var defaults = JSONObject()
        var lists: [(String, JSONValue)] = []
        for family in AddressFamily.allCases {
            let key = String(family.number)
            if let d = g.defaults[family], let gw = d.gateway {
                defaults.set(key, .array([.string(gw.description), d.device.map { .string($0) } ?? .null]))
            }
            let rows = netifacesGatewayRows(g, family)
            if !rows.isEmpty { lists.append((key, .array(rows))) }
        }
        return JSONValue.object([("default", defaults.value)] + lists).rendered() + "\n"
    }

    /// `[gw, dev, is_default]` for each next hop with a gateway of the family's unicast main-table
    /// default routes.
    static func netifacesGatewayRows(_ g: Gateways, _ family: AddressFamily) -> [JSONValue] {
        var rows: [JSONValue] = []
        for r in g.defaultRoutes
        where r.family == family && r.type == .unicast && (r.table == nil || r.table == .main) {
            let hops = r.nextHops.isEmpty ? [NextHop(gateway: r.gateway, device: r.device)] : r.nextHops
            for h in hops {
                guard let gw = h.gateway else { continue }
                let isDefault = g.defaults[family]?.route == r && g.defaults[family]?.gateway == gw
                rows.append(.array([.string(gw.description), h.device.map { .string($0) } ?? .null, .bool(isDefault)]))
            }
        }
        return rows
    }
}
