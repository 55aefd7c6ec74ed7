public import NetInfo

/// Text, CSV and JSON for what NetInfo reads (interfaces, routes, gateways, route lookups). NetInfo
/// returns values; this formats them. Each function returns the whole document, ending with a newline.
public enum NetInfoFormatter {
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
            let flags = r.flags.names.joined(separator: ",")
            rows.append([
                r.destinationText, r.gateway?.description ?? (r.nextHops.isEmpty ? "-" : "multipath"), r.device ?? "-",
                r.metric.map { String($0) } ?? "-", r.table?.description ?? "?", r.type.description,
                r.protocol?.description ?? "-", r.scope?.description ?? "-", r.preferredSource?.description ?? "-",
                flags.isEmpty ? "-" : flags,
            ])
            for h in r.nextHops {
                rows.append([
                    "  nexthop", h.gateway?.description ?? "-", h.device ?? "-", "weight \(h.weight)",
                    "", "", "", "", "", h.flags.names.joined(separator: ","),
                ])
            }
        }
        let header = ["Destination", "Gateway", "Dev", "Metric", "Table", "Type", "Proto", "Scope", "Src", "Flags"]
        return table(header, rows)
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
            for a in i.ipv4 { out += text(ipv4: a) }
            for a in i.ipv6 { out += text(ipv6: a) }
            if let c = i.counters {
                out += "    RX: bytes \(c.rxBytes) packets \(c.rxPackets) errors \(c.rxErrors) dropped \(c.rxDropped)\n"
                out += "    TX: bytes \(c.txBytes) packets \(c.txPackets) errors \(c.txErrors) dropped \(c.txDropped)\n"
            }
        }
        return out
    }

    static func text(ipv4 a: IPv4AddressEntry) -> String {
        var out = "    inet \(a.address)"
        if let p = a.peer { out += " peer \(p)" }
        out += "/\(a.prefixLength) (netmask \(a.netmask))"
        if let b = a.broadcast { out += " brd \(b)" }
        if let s = a.scope { out += " scope \(s)" }
        for f in a.flags ?? [] { out += " \(f)" }
        if let l = a.label { out += " \(l)" }
        return out + "\n"
    }

    static func text(ipv6 a: IPv6AddressEntry) -> String {
        var out = "    inet6 \(a.address)"
        if let p = a.peer { out += " peer \(p)" }
        out += "/\(a.prefixLength) scope \(a.scope)"
        for f in a.flags ?? [] { out += " \(f)" }
        return out + "\n"
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

    /// `ip route get`'s text: the words it prints, in its order (`via` for the gateway, `src` for
    /// the preferred source); a cached IPv4 answer continues on a second line, `    cache <flags>`.
    public static func text(lookup l: RouteLookup) -> String {
        let r = l.route
        var words: [String] = []
        if r.type != .unicast { words.append(r.type.description) }
        words.append(r.destinationText)
        if let s = l.source {
            words += ["from", l.sourcePrefixLength == hostLength(r.family) ? "\(s)" : "\(s)/\(l.sourcePrefixLength)"]
        }
        if let g = r.gateway { words += ["via", g.description] }
        if let d = r.device { words += ["dev", d] }
        if let t = r.table, t != .main, t != .unspecified { words += ["table", t.description] }
        if !l.isCached {
            if let p = r.protocol, p != .boot { words += ["proto", p.description] }
            if let s = r.scope, s != .global { words += ["scope", s.description] }
        }
        if let s = r.preferredSource { words += ["src", s.description] }
        if let m = r.metric { words += ["metric", String(m)] }
        words += r.flags.names
        if let u = l.uid { words += ["uid", String(u)] }
        var out = words.joined(separator: " ")
        if l.isCached && r.family == .inet {
            let names = l.cacheFlags.names
            out += names.isEmpty ? "\n    cache" : "\n    cache <\(names.joined(separator: ","))>"
        }
        if let i = l.inputInterface { out += " iif \(i)" }
        if let p = r.preference { out += " pref \(p)" }
        for h in r.nextHops { out += "\n    nexthop " + nextHopWords(h).joined(separator: " ") }
        return out + "\n"
    }

    static func nextHopWords(_ h: NextHop) -> [String] {
        var words: [String] = []
        if let g = h.gateway { words += ["via", g.description] }
        if let d = h.device { words += ["dev", d] }
        words += ["weight", String(h.weight)] + h.flags.names
        return words
    }
}
