import Foundation
import NetInfo
import Rendering
import Testing

/// Text, CSV and JSON of what NetInfo reads; the JSON goes through Rendering's one string escaper.
@Suite struct NetInfoFormatterTests {
    static let localRoute = Route(
        family: .inet, destination: IPAddress("192.0.2.130")!, prefixLength: 32, device: "v2", table: .local,
        type: .local, protocol: .kernel, scope: .host, preferredSource: IPAddress("192.0.2.129"), flags: .linkdown,
        source: .netlink)

    @Test func jsonStringEscaping() throws {
        let nasty = "a\"b\\c\nd\u{01}é\u{08}\u{0C}\u{7F}\t\r"
        var out: [UInt8] = []
        out.append(jsonString: nasty)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\nd\u0001é\b\f\u007f\t\r""#)
        // The same escaper inside a JSONValue, and JSONSerialization reads the string back.
        let doc = JSONValue.array([.string(nasty), .object([(nasty, .int(-3))])]).rendered(pretty: false)
        let back = try #require(try JSONSerialization.jsonObject(with: Data(doc.utf8)) as? [Any])
        #expect(back.first as? String == nasty)
        #expect((back.last as? [String: Int])?[nasty] == -3)
        #expect(JSONValue.object([("k", .array([])), ("n", .int(-3))]).rendered(pretty: false) == #"{"k":[],"n":-3}"#)
        let pretty = JSONValue.object([("k", .array([.bool(true), .null]))]).rendered()
        #expect(pretty == "{\n  \"k\": [\n    true,\n    null\n  ]\n}")
    }

    @Test func csvQuotes() {
        #expect(NetInfoFormatter.csvField("plain") == "plain")
        #expect(NetInfoFormatter.csvField("a,b") == "\"a,b\"")
        #expect(NetInfoFormatter.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
    }

    @Test func routeJSONKeys() {
        let text = NetInfoFormatter.json(route: Self.localRoute).rendered(pretty: false)
        #expect(
            text == #"{"family":"inet","type":"local","dst":"192.0.2.130","dev":"v2","table":"local","#
                + #""protocol":"kernel","scope":"host","prefsrc":"192.0.2.129","flags":["linkdown"],"#
                + #""source":"netlink"}"#)
    }

    /// `ip -j` prints a bare array; so do `interfaces` and `routes` (an empty list is `[]`).
    @Test func routesAndInterfacesAreBareArrays() throws {
        let routes = NetInfoFormatter.json(routes: [Self.localRoute])
        #expect(routes.hasPrefix("[\n  {\n    \"family\": \"inet\",") && routes.hasSuffix("\n  }\n]\n"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(routes.utf8)) as? [[String: Any]])
        #expect(parsed.first?["dst"] as? String == "192.0.2.130")
        #expect(NetInfoFormatter.json(routes: []) == "[]\n")
        let lo = Interface(name: "lo", index: 1, flags: [.up, .loopback, .running], mtu: 65536)
        let interfaces = NetInfoFormatter.json(interfaces: [lo])
        let names = try #require(try JSONSerialization.jsonObject(with: Data(interfaces.utf8)) as? [[String: Any]])
        #expect(names.map { $0["ifname"] as? String } == ["lo"])
        #expect(NetInfoFormatter.json(interfaces: []) == "[]\n")
    }

    /// `document` is the one switch over `--format`: each format gives the formatter of its name.
    @Test func documentPicksTheFormatter() {
        let lo = Interface(name: "lo", index: 1, flags: [.up, .loopback, .running], mtu: 65536)
        #expect(NetInfoFormatter.document(interfaces: [lo], .table) == NetInfoFormatter.table(interfaces: [lo]))
        #expect(NetInfoFormatter.document(interfaces: [lo], .csv) == NetInfoFormatter.csv(interfaces: [lo]))
        #expect(NetInfoFormatter.document(interfaces: [lo], .json) == NetInfoFormatter.json(interfaces: [lo]))
        #expect(NetInfoFormatter.document(interfaces: [lo], .netifaces) == NetInfoFormatter.netifaces(interfaces: [lo]))
        #expect(
            NetInfoFormatter.document(interfaces: [lo], single: true, .netifaces)
                == NetInfoFormatter.netifaces(interface: lo))
        let routes = [Self.localRoute]
        #expect(
            NetInfoFormatter.document(routes: routes, families: [.inet], .table)
                == NetInfoFormatter.table(routes: routes))
        #expect(
            NetInfoFormatter.document(routes: routes, families: [.inet], .csv) == NetInfoFormatter.csv(routes: routes))
        #expect(
            NetInfoFormatter.document(routes: routes, families: [.inet], .json) == NetInfoFormatter.json(routes: routes)
        )
        let gateways = Gateways.select(from: routes, families: [.inet])
        #expect(
            NetInfoFormatter.document(routes: routes, families: [.inet], .netifaces)
                == NetInfoFormatter.netifaces(gateways: gateways))
        for format in NetInfoTextFormat.allCases {
            #expect(!NetInfoFormatter.document(gateways: gateways, format).isEmpty)
        }
        #expect(NetInfoFormatter.document(gateways: gateways, .csv) == NetInfoFormatter.csv(gateways: gateways))
        let lookup = RouteLookup(route: Self.localRoute, uid: 0, isCached: true, cacheFlags: .local)
        #expect(NetInfoFormatter.document(lookup: lookup, .table) == NetInfoFormatter.text(lookup: lookup))
        #expect(NetInfoFormatter.document(lookup: lookup, .json) == NetInfoFormatter.json(lookups: [lookup]))
    }

    /// A cached IPv4 answer: no protocol or scope, `cache` with the RTCF names, `uid`; as `ip -j route get`.
    @Test func lookupJSONOfACachedIPv4Answer() {
        var r = Route(
            family: .inet, destination: IPAddress("192.0.2.10")!, prefixLength: 32, device: "lo", table: .main,
            type: .local, protocol: .unspecified, scope: .host, preferredSource: IPAddress("192.0.2.10"),
            source: .netlink)
        let l = RouteLookup(route: r, uid: 0, isCached: true, cacheFlags: .local)
        #expect(
            NetInfoFormatter.json(lookup: l).rendered(pretty: false)
                == #"{"type":"local","dst":"192.0.2.10","dev":"lo","prefsrc":"192.0.2.10","flags":[],"uid":0,"#
                + #""cache":["local"]}"#)
        #expect(NetInfoFormatter.text(lookup: l) == "local 192.0.2.10 dev lo src 192.0.2.10 uid 0\n    cache <local>\n")
        r.type = .unicast
        r.gateway = IPAddress("192.0.2.1")
        r.device = "v0"
        let routed = RouteLookup(route: r, uid: 1000, isCached: true)
        let routedText = NetInfoFormatter.text(lookup: routed)
        #expect(routedText == "192.0.2.10 via 192.0.2.1 dev v0 src 192.0.2.10 uid 1000\n    cache\n")
        let array = NetInfoFormatter.json(lookups: [routed])
        #expect(array.hasPrefix("[\n  {\n    \"dst\": \"192.0.2.10\",\n    \"gateway\""))
    }

    /// An IPv6 answer is not cached: protocol (unless boot), table (unless main), metric, pref; `from ::`.
    @Test func lookupJSONOfAnIPv6Answer() {
        let r = Route(
            family: .inet6, destination: IPAddress("2001:db8:1::10")!, prefixLength: 128, device: "lo", table: .local,
            type: .local, protocol: .kernel, scope: .global, preferredSource: IPAddress("2001:db8:1::10"), metric: 0,
            preference: "medium", source: .netlink)
        let l = RouteLookup(route: r, source: IPAddress("::"), sourcePrefixLength: 128)
        #expect(
            NetInfoFormatter.json(lookup: l).rendered(pretty: false)
                == #"{"type":"local","dst":"2001:db8:1::10","from":"::","dev":"lo","table":"local","#
                + #""protocol":"kernel","prefsrc":"2001:db8:1::10","metric":0,"flags":[],"pref":"medium"}"#)
        #expect(
            NetInfoFormatter.text(lookup: l)
                == "local 2001:db8:1::10 from :: dev lo table local proto kernel src 2001:db8:1::10 metric 0"
                + " pref medium\n")
        var boot = r
        boot.protocol = .boot
        boot.table = .main
        boot.type = .unicast
        let anySource = RouteLookup(route: boot, source: IPAddress("::"), sourcePrefixLength: 0)
        let text = NetInfoFormatter.json(lookup: anySource).rendered(pretty: false)
        #expect(!text.contains("protocol") && !text.contains("table") && !text.contains("type"))
        #expect(text.contains(#""src":"::/0""#) && !text.contains("from"))
    }
}
