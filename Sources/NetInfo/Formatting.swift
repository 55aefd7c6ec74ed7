/// JSON (iproute2 key names), netifaces-shaped JSON, CSV and text tables for interfaces, routes and
/// gateways. Each returns the whole document as one string, ending with a newline.
public enum NetInfoFormatter {
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
        o.set("flags", .array(r.flags.names.map { .string($0) }))
        o.set("pref", r.preference)
        if !r.nextHops.isEmpty {
            o.set(
                "nexthops",
                .array(
                    r.nextHops.map { h in
                        var n = JSONObject()
                        n.set("gateway", h.gateway?.description)
                        n.set("dev", h.device)
                        n.set("weight", .int(Int64(h.weight)))
                        n.set("flags", .array(h.flags.names.map { .string($0) }))
                        return n.value
                    }))
        }
        o.set("source", r.source.rawValue)
        return o.value
    }

    public static func json(routes: [Route]) -> String {
        JSONValue.object([("routes", .array(routes.map { json(route: $0) }))]).rendered() + "\n"
    }

    public static func json(interface i: Interface) -> JSONValue {
        var o = JSONObject()
        o.set("ifindex", i.index.map { JSONValue.int(Int64($0)) })
        o.set("ifname", i.name)
        o.set("flags", .array(i.flags.names.map { .string($0) }))
        o.set("mtu", i.mtu.map { JSONValue.int(Int64($0)) })
        o.set("operstate", i.operState)
        o.set("address", i.hardwareAddress?.description)
        o.set("broadcast", i.hardwareBroadcast?.description)
        var addrs: [JSONValue] = []
        for a in i.ipv4 {
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
            addrs.append(e.value)
        }
        for a in i.ipv6 {
            var e = JSONObject()
            e.set("family", "inet6")
            e.set("local", a.address.description)
            e.set("address", a.peer?.description)
            e.set("prefixlen", .int(Int64(a.prefixLength)))
            e.set("scope", a.scope.description)
            for f in a.flags ?? [] { e.set(f, .bool(true)) }
            addrs.append(e.value)
        }
        o.set("addr_info", .array(addrs))
        if let c = i.counters {
            o.set(
                "stats",
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
                ]))
        }
        return o.value
    }

    public static func json(interfaces: [Interface]) -> String {
        JSONValue.object([("interfaces", .array(interfaces.map { json(interface: $0) }))]).rendered() + "\n"
    }

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
            var rows: [JSONValue] = []
            for r in g.defaultRoutes where r.family == family && r.type == .unicast && (r.table == nil || r.table == .main) {
                let hops = r.nextHops.isEmpty
                    ? [NextHop(gateway: r.gateway, device: r.device)] : r.nextHops
                for h in hops {
                    guard let gw = h.gateway else { continue }
                    let isDefault = g.defaults[family]?.route == r && g.defaults[family]?.gateway == gw
                    rows.append(.array([.string(gw.description), h.device.map { .string($0) } ?? .null, .bool(isDefault)]))
                }
            }
            if !rows.isEmpty { lists.append((key, .array(rows))) }
        }
        return JSONValue.object([("default", defaults.value)] + lists).rendered() + "\n"
    }

    // MARK: CSV

    /// RFC 4180: quote a field that holds a comma, quote, CR or LF; double inner quotes.
    public static func csvField(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
        }
        return s
    }

    static func csv(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func nextHopText(_ h: NextHop) -> String {
        var parts: [String] = []
        if let g = h.gateway { parts.append("via \(g)") }
        if let d = h.device { parts.append("dev \(d)") }
        parts.append("weight \(h.weight)")
        parts += h.flags.names
        return parts.joined(separator: " ")
    }

    public static func csv(routes: [Route]) -> String {
        csv(
            ["family", "dst", "gateway", "dev", "table", "type", "protocol", "scope", "prefsrc", "metric", "flags", "nexthops"],
            routes.map { r in
                [
                    r.family.rawValue, r.destinationText, r.gateway?.description ?? "", r.device ?? "",
                    r.table?.description ?? "", r.type.description, r.protocol?.description ?? "",
                    r.scope?.description ?? "", r.preferredSource?.description ?? "", r.metric.map { String($0) } ?? "",
                    r.flags.names.joined(separator: " "), r.nextHops.map(nextHopText).joined(separator: "; "),
                ]
            })
    }

    /// One row per address; an interface without addresses gets one row with empty address columns.
    public static func csv(interfaces: [Interface]) -> String {
        var rows: [[String]] = []
        for i in interfaces {
            let c = i.counters
            let common = [
                i.index.map { String($0) } ?? "", i.name, i.flags.names.joined(separator: " "), i.mtu.map { String($0) } ?? "",
                i.operState ?? "", i.hardwareAddress?.description ?? "",
            ]
            let counters = [c?.rxBytes, c?.rxPackets, c?.rxErrors, c?.rxDropped, c?.txBytes, c?.txPackets, c?.txErrors, c?.txDropped]
                .map { $0.map { String($0) } ?? "" }
            var addrRows: [[String]] = []
            for a in i.ipv4 {
                addrRows.append([
                    "inet", a.address.description, String(a.prefixLength), a.netmask.description, a.broadcast?.description ?? "",
                    a.peer?.description ?? "", a.scope?.description ?? "", (a.flags ?? []).joined(separator: " "),
                ])
            }
            for a in i.ipv6 {
                addrRows.append([
                    "inet6", a.address.description, String(a.prefixLength), a.netmask.description, "", a.peer?.description ?? "",
                    a.scope.description, (a.flags ?? []).joined(separator: " "),
                ])
            }
            if addrRows.isEmpty { addrRows.append(Array(repeating: "", count: 8)) }
            for a in addrRows { rows.append(common + a + counters) }
        }
        return csv(
            [
                "ifindex", "ifname", "flags", "mtu", "operstate", "mac", "family", "local", "prefixlen", "netmask",
                "broadcast", "peer", "scope", "addr_flags", "rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                "tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
            ], rows)
    }

    public static func csv(gateways g: Gateways) -> String {
        var rows: [[String]] = []
        for r in g.defaultRoutes {
            let chosen = g.defaults[r.family]?.route == r
            rows.append([
                r.family.rawValue, chosen ? "yes" : "no", r.gateway?.description ?? r.nextHops.first?.gateway?.description ?? "",
                r.device ?? r.nextHops.first?.device ?? "", r.metric.map { String($0) } ?? "", r.table?.description ?? "",
                r.type.description, chosen ? g.reasons[r.family] ?? "" : "",
            ])
        }
        return csv(["family", "default", "gateway", "dev", "metric", "table", "type", "reason"], rows)
    }

    // MARK: text

    /// Columns padded to the widest cell, two spaces apart; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        return all.map { row in
            var line = ""
            for (i, c) in row.enumerated() {
                if i == row.count - 1 {
                    line += c
                } else {
                    line += c + String(repeating: " ", count: widths[i] - c.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n") + "\n"
    }

    /// Like `route -n` with `ip route`'s extra columns; each next hop of a multipath route on its own
    /// indented line below it.
    public static func table(routes: [Route]) -> String {
        var rows: [[String]] = []
        for r in routes {
            rows.append([
                r.destinationText, r.gateway?.description ?? (r.nextHops.isEmpty ? "-" : "multipath"), r.device ?? "-",
                r.metric.map { String($0) } ?? "-", r.table?.description ?? "?", r.type.description,
                r.protocol?.description ?? "-", r.scope?.description ?? "-", r.preferredSource?.description ?? "-",
                r.flags.names.joined(separator: ",").isEmpty ? "-" : r.flags.names.joined(separator: ","),
            ])
            for h in r.nextHops {
                rows.append([
                    "  nexthop", h.gateway?.description ?? "-", h.device ?? "-", "weight \(h.weight)", "", "", "", "", "",
                    h.flags.names.isEmpty ? "" : h.flags.names.joined(separator: ","),
                ])
            }
        }
        return table(["Destination", "Gateway", "Dev", "Metric", "Table", "Type", "Proto", "Scope", "Src", "Flags"], rows)
    }

    /// An `ip addr`-like listing.
    public static func table(interfaces: [Interface]) -> String {
        var out = ""
        for i in interfaces {
            out += "\(i.index.map { String($0) } ?? "?"): \(i.name): <\(i.flags.names.joined(separator: ","))>"
            if let m = i.mtu { out += " mtu \(m)" }
            if let s = i.operState { out += " state \(s)" }
            out += "\n"
            if let mac = i.hardwareAddress {
                out += "    link \(mac)"
                if let b = i.hardwareBroadcast { out += " brd \(b)" }
                out += "\n"
            }
            for a in i.ipv4 {
                out += "    inet \(a.address)"
                if let p = a.peer { out += " peer \(p)" }
                out += "/\(a.prefixLength) (netmask \(a.netmask))"
                if let b = a.broadcast { out += " brd \(b)" }
                if let s = a.scope { out += " scope \(s)" }
                for f in a.flags ?? [] { out += " \(f)" }
                if let l = a.label { out += " \(l)" }
                out += "\n"
            }
            for a in i.ipv6 {
                out += "    inet6 \(a.address)"
                if let p = a.peer { out += " peer \(p)" }
                out += "/\(a.prefixLength) scope \(a.scope)"
                for f in a.flags ?? [] { out += " \(f)" }
                out += "\n"
            }
            if let c = i.counters {
                out += "    RX: bytes \(c.rxBytes) packets \(c.rxPackets) errors \(c.rxErrors) dropped \(c.rxDropped)\n"
                out += "    TX: bytes \(c.txBytes) packets \(c.txPackets) errors \(c.txErrors) dropped \(c.txDropped)\n"
            }
        }
        return out
    }

    public static func table(gateways g: Gateways) -> String {
        var rows: [[String]] = []
        for family in AddressFamily.allCases {
            if let d = g.defaults[family] {
                rows.append([
                    family.rawValue, d.gateway?.description ?? "-", d.device ?? "-", d.metric.map { String($0) } ?? "-",
                    d.reason,
                ])
            } else {
                rows.append([family.rawValue, "-", "-", "-", g.reasons[family] ?? "no default route"])
            }
        }
        var out = table(["Family", "Gateway", "Dev", "Metric", "Why"], rows)
        if !g.defaultRoutes.isEmpty {
            out += "\nAll default routes:\n" + table(routes: g.defaultRoutes)
        }
        return out
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
