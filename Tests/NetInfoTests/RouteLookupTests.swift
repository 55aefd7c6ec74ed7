import Foundation
import Testing

/// A value from JSONSerialization as comparable text (`nil` when absent).
func jsonText(_ v: Any?) -> String {
    guard let v else { return "nil" }
    if let a = v as? [Any] { return "[" + a.map { jsonText($0) }.joined(separator: ",") + "]" }
    return "\(v)"
}

/// The words of a text output: `ip route get` ends lines with spaces and puts `cache` on a second line.
func words(_ text: String) -> [String] {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
}

/// `pktstat routes get` against `ip route get` in the namespace `TestNamespace` builds.
@Suite(.serialized, .enabled(if: NetInfoTestTools.isRoot, "needs root"))
struct RouteLookupNamespaceTests {
    init() throws { try NetInfoTestTools.requireIP() }

    /// Asks both the same question; the JSON must have the same keys with the same values, and the
    /// text the same words. Returns our answer.
    @discardableResult
    func compare(_ ns: TestNamespace, _ address: String, ours extra: [String] = [], ip ipExtra: [String] = [])
        throws -> [String: Any]
    {
        let theirs = try ns.ipJSON(["route", "get", address] + ipExtra)
        let mine = try #require(
            try ns.pktstatJSON(["routes", "get", address, "--format", "json"] + extra) as? [[String: Any]])
        #expect(mine.count == 1 && theirs.count == 1, "\(address): one answer each")
        let m = mine.first ?? [:]
        let t = theirs.first ?? [:]
        #expect(Set(m.keys) == Set(t.keys), "\(address): keys \(m.keys.sorted()) vs ip's \(t.keys.sorted())")
        for k in Set(m.keys).union(t.keys).sorted() {
            #expect(jsonText(m[k]) == jsonText(t[k]), "\(address) \(k): \(jsonText(m[k])) vs ip's \(jsonText(t[k]))")
        }
        let ipText = try NetInfoTestTools.mustRun("ip", ["-n", ns.name, "route", "get", address] + ipExtra)
        let text = try ns.run(NetInfoTestTools.binary, ["routes", "get", address] + extra)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(words(text.stdout) == words(ipText), "\(address) text: \(text.stdout) vs ip's \(ipText)")
        return m
    }

    @Test func answersLikeIPRouteGet() throws {
        try TestNamespace.with { ns in
            // Directly connected: no gateway, the interface's address as source.
            let direct = try compare(ns, "192.0.2.20")
            #expect(direct["gateway"] == nil)
            #expect(jsonText(direct["dev"]) == "v0" && jsonText(direct["prefsrc"]) == "192.0.2.10")
            // Through a gateway: the main-table default with the lowest metric.
            let routed = try compare(ns, "203.0.113.7")
            #expect(jsonText(routed["gateway"]) == "192.0.2.1" && jsonText(routed["dev"]) == "v0")
            // Through the onlink route with its own source, and through a route whose link is down.
            try compare(ns, "192.0.2.100")
            try compare(ns, "198.51.100.180")
            // This host's own address: a local answer from the cache.
            let local = try compare(ns, "192.0.2.11")
            #expect(jsonText(local["type"]) == "local" && jsonText(local["cache"]) == "[local]")
            // IPv6: connected, through a gateway, and local (table local).
            try compare(ns, "2001:db8:1::20")
            let v6 = try compare(ns, "2001:db8:ab80::1")
            #expect(jsonText(v6["gateway"]) == "2001:db8:2::1" && jsonText(v6["dev"]) == "v1")
            let local6 = try compare(ns, "2001:db8:1::10")
            #expect(jsonText(local6["table"]) == "local")
            // from and oif, as ip asks them.
            let forced = try compare(
                ns, "203.0.113.7", ours: ["--from", "198.51.100.10", "--oif", "v1"],
                ip: ["from", "198.51.100.10", "oif", "v1"])
            #expect(jsonText(forced["from"]) == "198.51.100.10" && jsonText(forced["dev"]) == "v1")
        }
    }

    /// ip's message for the kernel's answer, and the reason our one line gives for it.
    static let refusals: [(address: String, ip: String, ours: String)] = [
        ("198.51.100.241", "No route to host", "an unreachable route covers it"),
        ("192.0.2.250", "Permission denied", "a prohibit route covers it"),
        ("192.0.2.225", "Invalid argument", "a blackhole route covers it"),
        ("2001:db8:beef::1", "No route to host", "an unreachable route covers it"),
        ("2001:db8:dead::1", "Invalid argument", "a blackhole route covers it"),
    ]

    func expectNoRoute(_ ns: TestNamespace, _ address: String, ip message: String, ours reason: String) throws {
        let theirs = try ns.run("ip", ["route", "get", address])
        #expect(theirs.status != 0 && theirs.stderr.contains(message), "ip route get \(address): \(theirs.stderr)")
        for format in ["table", "json"] {
            let r = try ns.run(NetInfoTestTools.binary, ["routes", "get", address, "--format", format])
            #expect(r.status == 1, "\(address): \(r.stderr)")
            #expect(r.stdout == "")
            #expect(r.stderr.hasPrefix("error: no route to \(address): \(reason)"), "\(r.stderr)")
            #expect(r.stderr.hasSuffix("\n") && r.stderr.dropLast().split(separator: "\n").count == 1)
            #expect(r.stderr.contains("; 'pktstat routes --table all' lists the routes"))
        }
    }

    @Test func noUsableRouteIsOneLineError() throws {
        try TestNamespace.with { ns in
            for c in Self.refusals { try expectNoRoute(ns, c.address, ip: c.ip, ours: c.ours) }
            // Without the default routes, nothing covers 203.0.113.7.
            try ns.ip("route", "del", "default", "via", "192.0.2.1", "dev", "v0")
            try ns.ip("route", "del", "default", "via", "198.51.100.1", "dev", "v1")
            try expectNoRoute(ns, "203.0.113.7", ip: "Network is unreachable", ours: "no route covers it")
            // A --from that is not ours: the line names the question and the fix.
            let r = try ns.run(NetInfoTestTools.binary, ["routes", "get", "192.0.2.20", "--from", "192.0.2.99"])
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("error: no route to 192.0.2.20 from 192.0.2.99: "), "\(r.stderr)")
            #expect(r.stderr.contains("--from must be an address of this host"))
            let oif = try ns.run(NetInfoTestTools.binary, ["routes", "get", "192.0.2.20", "--oif", "nosuch0"])
            #expect(oif.status == 1 && oif.stderr.hasPrefix("error: no such interface: nosuch0; "), "\(oif.stderr)")
        }
    }
}
