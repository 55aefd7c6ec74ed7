import Foundation
import NetInfo
import TestSupport
import Testing

/// The built binary outside any namespace: errors, usage errors, valid JSON.
@Suite struct NetInfoCommandTests {
    var binary: String { NetInfoTestTools.binary }

    @Test func unknownInterfaceIsOneLineAndExit1() throws {
        let r = try NetInfoTestTools.run(binary, ["interfaces", "nosuch0", "--format", "json"])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        #expect(r.stderr == "error: no such interface: nosuch0; run 'pktstat interfaces' to list the interfaces\n")
    }

    @Test(arguments: [
        ["routes", "-4", "-6"], ["routes", "--table", "nope"], ["routes", "--source", "proc", "--table", "local"],
        ["routes", "--format", "xml"], ["gateways", "--source", "carrier-pigeon"],
        ["routes", "get"], ["routes", "get", "example.org"], ["routes", "get", "192.0.2.256"],
        ["routes", "get", "fe80::1%lo"], ["routes", "get", "192.0.2.1", "--from", "2001:db8::1"],
        ["routes", "get", "127.0.0.1", "--format", "netifaces"],
    ])
    func badUsageExits64(args: [String]) throws {
        let r = try NetInfoTestTools.run(binary, args)
        #expect(r.status == 64, "\(args): \(r.stderr)")
        #expect(r.stdout == "")
    }

    @Test(arguments: [
        ["interfaces"], ["routes"], ["routes", "--table", "all"], ["routes", "--source", "proc"], ["gateways"],
        ["interfaces", "--format", "netifaces"], ["gateways", "--format", "netifaces"], ["routes", "get", "127.0.0.1"],
    ])
    func jsonIsValid(args: [String]) throws {
        let format = args.contains("--format") ? [] : ["--format", "json"]
        let r = try NetInfoTestTools.run(binary, args + format)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        #expect(throws: Never.self) { _ = try NetInfoTestTools.json(r.stdout) }
    }

    /// A command that must succeed and print a JSON array of objects.
    func jsonArray(_ program: String, _ args: [String]) throws -> [[String: Any]] {
        try #require(try NetInfoTestTools.json(try NetInfoTestTools.mustRun(program, args)) as? [[String: Any]])
    }

    /// `pktstat interfaces --format json | jq -r '.[].ifname'`: a bare array, as `ip -j addr` prints,
    /// read as JSONSerialization reads it and as jq does.
    @Test func interfacesJSONIsABareArrayLikeIP() throws {
        try NetInfoTestTools.requireIP()
        let r = try NetInfoTestTools.run(binary, ["interfaces", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let ours = try #require(try NetInfoTestTools.json(r.stdout) as? [[String: Any]])
        let names = ours.compactMap { $0["ifname"] as? String }
        #expect(names.count == ours.count && !names.isEmpty)
        let theirs = try jsonArray("ip", ["-j", "addr"])
        #expect(Set(names) == Set(theirs.compactMap { $0["ifname"] as? String }))
        try requireTool("jq")
        let pipeline = "'\(binary)' interfaces --format json | jq -r '.[].ifname'"
        let jq = try NetInfoTestTools.run("/bin/sh", ["-c", pipeline])
        #expect(jq.status == 0 && jq.stderr == "", "\(jq.stderr)")
        #expect(jq.stdout.split(separator: "\n").map(String.init) == names)
        let routes = try jsonArray(binary, ["routes", "--format", "json"])
        #expect(routes.allSatisfy { $0["dst"] is String })
        // gateways keeps its object.
        let gateways = try NetInfoTestTools.json(
            try NetInfoTestTools.mustRun(binary, ["gateways", "--format", "json"]))
        #expect((gateways as? [String: Any])?["default"] != nil)
    }

    /// The loopback answer needs no namespace: the same keys and values as `ip -j route get 127.0.0.1`.
    @Test func routesGetLoopbackMatchesIP() throws {
        try NetInfoTestTools.requireIP()
        let theirs = try jsonArray("ip", ["-j", "route", "get", "127.0.0.1"])
        let ours = try jsonArray(binary, ["routes", "get", "127.0.0.1", "--format", "json"])
        #expect(ours.count == 1 && theirs.count == 1)
        let (m, t) = (ours.first ?? [:], theirs.first ?? [:])
        #expect(Set(m.keys) == Set(t.keys))
        for k in Set(m.keys).union(t.keys) { #expect(jsonText(m[k]) == jsonText(t[k]), "\(k)") }
        #expect(jsonText(m["type"]) == "local" && jsonText(m["dev"]) == "lo")
    }

    @Test func helpTeachesByExample() throws {
        for cmd in ["interfaces", "routes", "gateways"] {
            let r = try NetInfoTestTools.run(binary, [cmd, "--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:"))
            #expect(r.stdout.contains("pktstat \(cmd)"))
        }
    }

    /// getifaddrs + /sys alone (no netlink) agree with `ip -j addr` on what getifaddrs can tell:
    /// names, indexes, MACs, addresses, prefix lengths, and broadcast only when configured.
    @Test func getifaddrsAgreesWithIP() throws {
        try NetInfoTestTools.requireIP()
        let ours = try InterfaceReader.read(useNetlink: false)
        let theirs = try jsonArray("ip", ["-j", "addr"])
        #expect(Set(ours.map(\.name)) == Set(theirs.map { "\($0["ifname"] ?? "")" }))
        for t in theirs {
            guard let m = ours.first(where: { $0.name == "\(t["ifname"] ?? "")" }) else { continue }
            #expect(m.index == t["ifindex"] as? Int)
            #expect(m.hardwareAddress?.description == t["address"] as? String)
            let tv4 = ((t["addr_info"] as? [[String: Any]]) ?? []).filter { "\($0["family"] ?? "")" == "inet" }
                .map { "\($0["local"] ?? "")/\($0["prefixlen"] ?? "") brd=\($0["broadcast"] ?? "")" }.sorted()
            let mv4 = m.ipv4.map { "\($0.address)/\($0.prefixLength) brd=\($0.broadcast?.description ?? "")" }.sorted()
            #expect(mv4 == tv4, "\(m.name)")
            let tv6 = ((t["addr_info"] as? [[String: Any]]) ?? []).filter { "\($0["family"] ?? "")" == "inet6" }
                .map { "\($0["local"] ?? "")/\($0["prefixlen"] ?? "") \($0["scope"] ?? "")" }.sorted()
            let mv6 = m.ipv6.map { "\($0.address)/\($0.prefixLength) \($0.scope)" }.sorted()
            #expect(mv6 == tv6, "\(m.name)")
        }
    }
}
