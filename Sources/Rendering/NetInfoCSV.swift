public import NetInfo

/// CSV (RFC 4180, one header row) for interfaces, routes and gateways.
extension NetInfoFormatter {
    /// Quotes a field that holds a comma, quote, CR or LF; doubles inner quotes.
    public static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        var out = "\""
        for c in s {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out + "\""
    }

    static func csv(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func nextHopText(_ h: NextHop) -> String {
        nextHopWords(h).joined(separator: " ")
    }

    public static func csv(routes: [Route]) -> String {
        csv(
            [
                "family", "dst", "gateway", "dev", "table", "type", "protocol", "scope", "prefsrc", "metric", "flags",
                "nexthops",
            ],
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
                i.index.map { String($0) } ?? "", i.name, i.flags.names.joined(separator: " "),
                i.mtu.map { String($0) } ?? "", i.operState ?? "", i.hardwareAddress?.description ?? "",
            ]
            let counters = [
                c?.rxBytes, c?.rxPackets, c?.rxErrors, c?.rxDropped,
                c?.txBytes, c?.txPackets, c?.txErrors, c?.txDropped,
            ].map { $0.map { String($0) } ?? "" }
            var addrRows = i.ipv4.map(csvRow(ipv4:)) + i.ipv6.map(csvRow(ipv6:))
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

    static func csvRow(ipv4 a: IPv4AddressEntry) -> [String] {
        [
            "inet", a.address.description, String(a.prefixLength), a.netmask.description,
            a.broadcast?.description ?? "", a.peer?.description ?? "", a.scope?.description ?? "",
            (a.flags ?? []).joined(separator: " "),
        ]
    }

    static func csvRow(ipv6 a: IPv6AddressEntry) -> [String] {
        [
            "inet6", a.address.description, String(a.prefixLength), a.netmask.description, "",
            a.peer?.description ?? "", a.scope.description, (a.flags ?? []).joined(separator: " "),
        ]
    }

    public static func csv(gateways g: Gateways) -> String {
        var rows: [[String]] = []
        for r in g.defaultRoutes {
            let chosen = g.defaults[r.family]?.route == r
            rows.append([
                r.family.rawValue, chosen ? "yes" : "no",
                r.gateway?.description ?? r.nextHops.first?.gateway?.description ?? "",
                r.device ?? r.nextHops.first?.device ?? "", r.metric.map { String($0) } ?? "",
                r.table?.description ?? "", r.type.description, chosen ? g.reasons[r.family] ?? "" : "",
            ])
        }
        return csv(["family", "default", "gateway", "dev", "metric", "table", "type", "reason"], rows)
    }
}
