import Foundation
import Testing

/// A network namespace with veth pairs, documentation addresses and every kind of route the
/// commands must show; `pktstat` runs inside it and is compared with `ip` in the same run.
struct TestNamespace {
    let name: String

    /// Unique per instance: suites that build one run in parallel.
    init() { name = "pktstat-test-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))" }

    func ip(_ args: String...) throws {
        try NetInfoTestTools.mustRun("ip", ["-n", name] + args)
    }

    /// `ip -j ...` inside the namespace, parsed.
    func ipJSON(_ args: String...) throws -> [[String: Any]] { try ipJSON(args) }

    func ipJSON(_ args: [String]) throws -> [[String: Any]] {
        let out = try NetInfoTestTools.mustRun("ip", ["-n", name, "-j"] + args)
        if out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return [] }
        return try #require(try NetInfoTestTools.json(out) as? [[String: Any]])
    }

    /// The built binary inside the namespace; its stdout must be one valid JSON object.
    func pktstat(_ args: String...) throws -> [String: Any] { try pktstat(args) }

    func pktstat(_ args: [String]) throws -> [String: Any] {
        try #require(try pktstatJSON(args) as? [String: Any])
    }

    /// The same for commands that print a bare array (`interfaces`, `routes`, `routes get`), as `ip -j` does.
    func pktstatArray(_ args: String...) throws -> [[String: Any]] {
        try #require(try pktstatJSON(args) as? [[String: Any]])
    }

    func pktstatJSON(_ args: [String]) throws -> Any {
        let r = try run(NetInfoTestTools.binary, args)
        #expect(r.status == 0, "pktstat \(args.joined(separator: " ")): \(r.stderr)")
        return try NetInfoTestTools.json(r.stdout)
    }

    /// Any program inside the namespace, to completion.
    func run(_ program: String, _ args: [String]) throws -> NetInfoTestTools.Result {
        try NetInfoTestTools.run("ip", ["netns", "exec", name, program] + args)
    }

    /// Creates the namespace, runs `body`, and always deletes the namespace.
    static func with(_ body: (TestNamespace) throws -> Void) throws {
        let ns = TestNamespace()
        _ = try? NetInfoTestTools.run("ip", ["netns", "del", ns.name])  // a leftover of a killed run
        try NetInfoTestTools.mustRun("ip", ["netns", "add", ns.name])
        defer { _ = try? NetInfoTestTools.run("ip", ["netns", "del", ns.name]) }
        try ns.build()
        try body(ns)
    }

    func build() throws {
        // No duplicate address detection: addresses are usable (not "tentative") at once and stay put.
        try NetInfoTestTools.mustRun(
            "ip",
            [
                "netns", "exec", name, "sh", "-c",
                "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad",
            ])
        try ip("link", "set", "lo", "up")
        for v in ["v0", "v1", "v2", "v3", "v4"] {
            try ip("link", "add", v, "type", "veth", "peer", "name", v + "p")
        }
        for l in ["v0", "v0p", "v1", "v1p", "v2", "v2p", "v4"] { try ip("link", "set", l, "up") }
        // v3 stays down; v4 is up but its peer is down (no carrier: routes via it are "linkdown").

        try ip("addr", "add", "192.0.2.10/26", "brd", "+", "dev", "v0")  // with broadcast
        try ip("addr", "add", "192.0.2.11/26", "brd", "+", "dev", "v0")  // secondary
        try ip("addr", "add", "198.51.100.10/26", "dev", "v1")  // no broadcast
        try ip("addr", "add", "198.51.100.20/26", "dev", "v1")  // secondary, no broadcast
        try ip("addr", "add", "192.0.2.129", "peer", "192.0.2.130/32", "dev", "v2")  // peer on a broadcast link
        try ip("addr", "add", "198.51.100.70/27", "dev", "v3")  // on a down interface
        try ip("addr", "add", "198.51.100.130/27", "dev", "v4")
        try ip("-6", "addr", "add", "2001:db8:1::10/64", "dev", "v0")
        try ip("-6", "addr", "add", "2001:db8:1::11/64", "dev", "v0")
        try ip("-6", "addr", "add", "2001:db8:2::10/64", "dev", "v1")

        // A point-to-point link proper (IFF_POINTOPOINT), when tun is available.
        if (try? NetInfoTestTools.mustRun("ip", ["-n", name, "tuntap", "add", "dev", "t0", "mode", "tun"])) != nil {
            try ip("link", "set", "t0", "up")
            try ip("addr", "add", "192.0.2.161", "peer", "192.0.2.162/32", "dev", "t0")
        }

        try ip("route", "add", "default", "via", "192.0.2.1", "dev", "v0", "metric", "100")
        try ip("route", "add", "default", "via", "198.51.100.1", "dev", "v1", "metric", "200")
        try ip(
            "route", "add", "192.0.2.192/27", "nexthop", "via", "192.0.2.2", "dev", "v0", "weight", "1", "nexthop",
            "via",
            "198.51.100.2", "dev", "v1", "weight", "3")
        try ip("route", "add", "blackhole", "192.0.2.224/28")
        try ip("route", "add", "unreachable", "198.51.100.240/28", "metric", "5")
        try ip("route", "add", "prohibit", "192.0.2.250/32")
        try ip("route", "add", "throw", "192.0.2.112/28")
        try ip(
            "route", "add", "192.0.2.96/28", "via", "198.51.100.99", "dev", "v0", "onlink", "src", "192.0.2.10",
            "proto", "static")
        try ip("route", "add", "198.51.100.176/28", "via", "198.51.100.131", "dev", "v4")  // linkdown
        try ip("route", "add", "192.0.2.64/27", "via", "192.0.2.3", "dev", "v0", "table", "100")
        try ip("route", "add", "default", "via", "198.51.100.62", "dev", "v1", "table", "100")

        try ip("-6", "route", "add", "default", "via", "2001:db8:1::1", "dev", "v0", "metric", "1024")
        try ip("-6", "route", "add", "default", "via", "2001:db8:2::1", "dev", "v1", "metric", "2048")
        try ip("-6", "route", "add", "2001:db8:ab80::/41", "via", "2001:db8:2::1", "dev", "v1")
        try ip("-6", "route", "add", "2001:db8:dea8::/45", "via", "2001:db8:1::1", "dev", "v0", "metric", "7")
        try ip("-6", "route", "add", "2001:db8:abc0::/44", "via", "2001:db8:2::1", "dev", "v1", "table", "100")
        try ip("-6", "route", "add", "blackhole", "2001:db8:dead::/48")
        try ip("-6", "route", "add", "unreachable", "2001:db8:beef::/48")
        try ip(
            "-6", "route", "add", "2001:db8:cc::/48", "nexthop", "via", "2001:db8:1::2", "dev", "v0", "weight", "2",
            "nexthop", "via", "2001:db8:2::2", "dev", "v1")
    }
}

/// Normalizes a route from `ip -j route` (which omits defaults) or from `pktstat` (which omits
/// fewer) to one comparable line.
func normalizedRoute(_ d: [String: Any], family: String) -> String {
    func s(_ k: String, _ dflt: String = "") -> String { d[k].map { "\($0)" } ?? dflt }
    func flags(_ v: Any?) -> String { ((v as? [String]) ?? []).sorted().joined(separator: ",") }
    let hops = ((d["nexthops"] as? [[String: Any]]) ?? []).map { h in
        "\(h["gateway"] ?? "")@\(h["dev"] ?? "")*\(h["weight"] ?? "")[\(flags(h["flags"]))]"
    }
    return [
        family, "type=" + s("type", "unicast"), "dst=" + s("dst"), "gw=" + s("gateway"), "dev=" + s("dev"),
        "table=" + s("table", "main"), "proto=" + s("protocol", "boot"), "scope=" + s("scope", "global"),
        "src=" + s("prefsrc"), "metric=" + s("metric"), "flags=" + flags(d["flags"]), "pref=" + s("pref"),
        "hops=" + hops.joined(separator: ";"),
    ].joined(separator: " ")
}

/// Multiset difference, for readable failures.
func missing(_ a: [String], from b: [String]) -> [String] {
    var pool = b
    var out: [String] = []
    for x in a {
        if let i = pool.firstIndex(of: x) { pool.remove(at: i) } else { out.append(x) }
    }
    return out
}

@Suite(.serialized, .enabled(if: NetInfoTestTools.isRoot, "needs root"))
struct NamespaceTests {
    init() throws { try NetInfoTestTools.requireIP() }

    func ours(_ ns: TestNamespace, _ args: String...) throws -> [String] {
        let routes = try #require(try ns.pktstatJSON(["routes", "--format", "json"] + args) as? [[String: Any]])
        return routes.map { normalizedRoute($0, family: "\($0["family"] ?? "?")") }
    }

    func compareRoutes(_ ns: TestNamespace, table: String) throws {
        let theirs =
            try ns.ipJSON("-4", "route", "show", "table", table).map { normalizedRoute($0, family: "inet") }
            + ns.ipJSON("-6", "route", "show", "table", table).map { normalizedRoute($0, family: "inet6") }
        let mine = try ours(ns, "--table", table)
        #expect(missing(theirs, from: mine) == [], "in ip route show table \(table) but not in pktstat")
        #expect(missing(mine, from: theirs) == [], "in pktstat --table \(table) but not in ip")
        #expect(!theirs.isEmpty)
    }

    @Test func routesMainTableMatchIP() throws {
        try TestNamespace.with { ns in
            try compareRoutes(ns, table: "main")
            let mine = try ours(ns, "--table", "main")
            // The kinds of route the namespace was built with are all there.
            for want in [
                "type=blackhole", "type=unreachable", "type=prohibit", "type=throw", "flags=onlink", "flags=linkdown",
                "*3[", "dst=2001:db8:ab80::/41", "dst=2001:db8:dea8::/45", "dst=192.0.2.130 ",
            ] {
                #expect(mine.contains { $0.contains(want) }, "no route with \(want)")
            }
        }
    }

    @Test func routesAllTablesMatchIP() throws {
        try TestNamespace.with { ns in
            try compareRoutes(ns, table: "all")
            let mine = try ours(ns, "--table", "all")
            #expect(mine.contains { $0.contains("table=100") && $0.contains("dst=192.0.2.64/27") })
            #expect(mine.contains { $0.contains("table=100") && $0.contains("dst=2001:db8:abc0::/44") })
            #expect(mine.contains { $0.contains("table=local") && $0.contains("type=broadcast") })
            // -4 and -6 split the same set.
            let v4 = try ours(ns, "--table", "all", "-4")
            let v6 = try ours(ns, "--table", "all", "-6")
            #expect(v4.allSatisfy { $0.hasPrefix("inet ") })
            #expect(v6.allSatisfy { $0.hasPrefix("inet6 ") })
            #expect(missing(mine, from: v4 + v6) == [] && mine.count == v4.count + v6.count)
        }
    }

    /// /proc and netlink agree on everything /proc can express.
    @Test func procAgreesWithNetlink() throws {
        try TestNamespace.with { ns in
            let nl = try ns.pktstatArray("routes", "--table", "all", "--format", "json")
            let proc = try ns.pktstatArray("routes", "--source", "proc", "--table", "all", "--format", "json")
            func line(_ fam: String, _ dst: Any?, _ gw: Any?, _ dev: Any?, _ metric: Any?, _ type: String) -> String {
                "\(fam) \(dst ?? "") gw=\(gw ?? "") dev=\(dev ?? "") metric=\(metric ?? "") \(type)"
            }
            var expected: [String] = []
            for r in nl {
                let fam = "\(r["family"] ?? "")"
                let type = "\(r["type"] ?? "unicast")"
                let hops = (r["nexthops"] as? [[String: Any]]) ?? []
                if fam == "inet" {
                    guard r["table"] == nil else { continue }  // /proc/net/route: main table only
                    let procType = ["unreachable": "reject", "prohibit": "reject", "throw": "blackhole"][type] ?? type
                    if let h = hops.first {  // multipath: the first next hop only
                        expected.append(line(fam, r["dst"], h["gateway"], h["dev"], r["metric"], procType))
                    } else {
                        expected.append(line(fam, r["dst"], r["gateway"], r["dev"], r["metric"], procType))
                    }
                } else {
                    let procType =
                        [
                            "blackhole": "reject", "unreachable": "reject", "prohibit": "reject", "throw": "reject",
                            "multicast": "unicast",
                        ][type]
                        ?? type
                    if hops.isEmpty {
                        expected.append(line(fam, r["dst"], r["gateway"], r["dev"], r["metric"], procType))
                    } else {  // one /proc line per next hop
                        for h in hops {
                            expected.append(line(fam, r["dst"], h["gateway"], h["dev"], r["metric"], procType))
                        }
                    }
                }
            }
            let got = proc.map { r in
                line("\(r["family"] ?? "")", r["dst"], r["gateway"], r["dev"], r["metric"], "\(r["type"] ?? "unicast")")
            }
            #expect(missing(expected, from: got) == [], "netlink routes /proc does not show")
            #expect(missing(got, from: expected) == [], "/proc routes netlink does not show")
            #expect(proc.allSatisfy { "\($0["source"] ?? "")" == "proc" })
        }
    }

    @Test func interfacesMatchIP() throws {
        try TestNamespace.with { ns in
            let before = try ns.ipJSON("-s", "link")
            let mine = try ns.pktstatArray("interfaces", "--format", "json")
            let after = try ns.ipJSON("-s", "link")
            let theirs = try ns.ipJSON("addr")
            #expect(Set(mine.map { "\($0["ifname"] ?? "")" }) == Set(theirs.map { "\($0["ifname"] ?? "")" }))

            let addrFlags: Set<String> = [
                "secondary", "temporary", "nodad", "optimistic", "dadfailed", "home", "deprecated", "tentative",
                "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy", "dynamic",
            ]
            func addr(_ a: [String: Any]) -> String {
                let f = addrFlags.filter { (a[$0] as? Bool) == true }.sorted().joined(separator: ",")
                return "\(a["family"] ?? "") \(a["local"] ?? "")/\(a["prefixlen"] ?? "") brd=\(a["broadcast"] ?? "") "
                    + "peer=\(a["address"] ?? "") scope=\(a["scope"] ?? "") [\(f)]"
            }
            for t in theirs {
                let name = "\(t["ifname"] ?? "")"
                guard let m = mine.first(where: { "\($0["ifname"] ?? "")" == name }) else { continue }
                #expect("\(m["ifindex"] ?? "")" == "\(t["ifindex"] ?? "")", "\(name) ifindex")
                #expect("\(m["mtu"] ?? "")" == "\(t["mtu"] ?? "")", "\(name) mtu")
                #expect("\(m["operstate"] ?? "")" == "\(t["operstate"] ?? "")", "\(name) operstate")
                #expect("\(m["address"] ?? "")" == "\(t["address"] ?? "")", "\(name) MAC")
                #expect("\(m["broadcast"] ?? "")" == "\(t["broadcast"] ?? "")", "\(name) link broadcast")
                let tf = Set((t["flags"] as? [String]) ?? []).subtracting(["M-DOWN"])
                let mf = Set((m["flags"] as? [String]) ?? []).subtracting(["RUNNING"])
                #expect(mf == tf, "\(name) flags")
                let ta = ((t["addr_info"] as? [[String: Any]]) ?? []).map(addr).sorted()
                let ma = ((m["addr_info"] as? [[String: Any]]) ?? []).map(addr).sorted()
                #expect(ma == ta, "\(name) addresses")
                // Counters: between two readings of ip taken around ours.
                let s0 = before.first { "\($0["ifname"] ?? "")" == name }?["stats64"] as? [String: [String: Any]]
                let s1 = after.first { "\($0["ifname"] ?? "")" == name }?["stats64"] as? [String: [String: Any]]
                let ms = m["stats"] as? [String: [String: Any]]
                for dir in ["rx", "tx"] {
                    for k in ["bytes", "packets", "errors", "dropped"] {
                        let lo = (s0?[dir]?[k] as? Int) ?? -1
                        let hi = (s1?[dir]?[k] as? Int) ?? -1
                        let v = (ms?[dir]?[k] as? Int) ?? -2
                        #expect(lo <= v && v <= hi, "\(name) \(dir) \(k): \(lo) <= \(v) <= \(hi)")
                    }
                }
            }
            // What the namespace was built with, spelled out.
            let v1 = try #require(mine.first { "\($0["ifname"] ?? "")" == "v1" })
            let v1addrs = (v1["addr_info"] as? [[String: Any]]) ?? []
            #expect(v1addrs.filter { "\($0["family"] ?? "")" == "inet" }.allSatisfy { $0["broadcast"] == nil })
            let v0 = try #require(mine.first { "\($0["ifname"] ?? "")" == "v0" })
            #expect(
                ((v0["addr_info"] as? [[String: Any]]) ?? []).contains { "\($0["broadcast"] ?? "")" == "192.0.2.63" })
            let v2 = try #require(mine.first { "\($0["ifname"] ?? "")" == "v2" })
            #expect(
                ((v2["addr_info"] as? [[String: Any]]) ?? []).contains {
                    "\($0["address"] ?? "")" == "192.0.2.130" && $0["broadcast"] == nil
                })
            let v3 = try #require(mine.first { "\($0["ifname"] ?? "")" == "v3" })
            #expect("\(v3["operstate"] ?? "")" == "DOWN")
            #expect(!((v3["flags"] as? [String]) ?? []).contains("UP"))
            #expect(((v0["addr_info"] as? [[String: Any]]) ?? []).allSatisfy { !"\($0["local"] ?? "")".contains("%") })

            // One interface by name, and the netifaces shape.
            let one = try ns.pktstatArray("interfaces", "v0", "--format", "json")
            #expect(one.count == 1 && "\(one[0]["ifname"] ?? "")" == "v0")
            let ni = try ns.pktstat("interfaces", "v1", "--format", "netifaces")
            let inet = try #require(ni["2"] as? [[String: Any]])
            #expect(
                inet.contains {
                    "\($0["addr"] ?? "")" == "198.51.100.10" && "\($0["netmask"] ?? "")" == "255.255.255.192"
                        && $0["broadcast"] == nil
                })
            #expect(
                (ni["10"] as? [[String: Any]])?.contains { "\($0["netmask"] ?? "")" == "ffff:ffff:ffff:ffff::/64" }
                    == true)
            #expect((ni["17"] as? [[String: Any]])?.first?["addr"] as? String == v1["address"] as? String)
        }
    }

    @Test func gatewaysMatchIPRouteGet() throws {
        try TestNamespace.with { ns in
            let doc = try ns.pktstat("gateways", "--format", "json")
            let defaults = try #require(doc["default"] as? [String: [String: Any]])
            // 192.0.2.80 is covered only by a table-100 route, which no rule consults: the default wins.
            let get4 = try #require(try ns.ipJSON("-4", "route", "get", "192.0.2.80").first)
            let get6 = try #require(try ns.ipJSON("-6", "route", "get", "2001:db8:ffff::1").first)
            #expect("\(defaults["inet"]?["gateway"] ?? "")" == "\(get4["gateway"] ?? "-")")
            #expect("\(defaults["inet"]?["dev"] ?? "")" == "\(get4["dev"] ?? "-")")
            #expect("\(defaults["inet"]?["metric"] ?? "")" == "100")
            #expect("\(defaults["inet6"]?["gateway"] ?? "")" == "\(get6["gateway"] ?? "-")")
            #expect("\(defaults["inet6"]?["dev"] ?? "")" == "\(get6["dev"] ?? "-")")
            #expect("\(defaults["inet6"]?["metric"] ?? "")" == "\(get6["metric"] ?? "-")")
            let reason = "\(defaults["inet"]?["reason"] ?? "")"
            #expect(reason.contains("lowest metric (100) of 2"))

            // Every default route, as ip lists them over all tables.
            let theirs =
                try ns.ipJSON("-4", "route", "show", "table", "all").filter { "\($0["dst"] ?? "")" == "default" }
                .map { normalizedRoute($0, family: "inet") }
                + ns.ipJSON("-6", "route", "show", "table", "all").filter { "\($0["dst"] ?? "")" == "default" }
                .map { normalizedRoute($0, family: "inet6") }
            let mine = try #require(doc["routes"] as? [[String: Any]]).map {
                normalizedRoute($0, family: "\($0["family"] ?? "")")
            }
            #expect(missing(theirs, from: mine) == [])
            #expect(missing(mine, from: theirs) == [])

            let ni = try ns.pktstat("gateways", "--format", "netifaces")
            let d = try #require(ni["default"] as? [String: [String]])
            #expect(d["2"] == ["\(get4["gateway"] ?? "")", "\(get4["dev"] ?? "")"])
            #expect(d["10"] == ["\(get6["gateway"] ?? "")", "\(get6["dev"] ?? "")"])
            let list = try #require(ni["2"] as? [[Any]])
            #expect(list.count == 2)  // the main-table defaults; table 100's is not netifaces' business
        }
    }
}
