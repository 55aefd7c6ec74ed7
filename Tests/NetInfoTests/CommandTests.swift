import Foundation
import NetInfo
import Testing

/// The built binary outside any namespace: errors, usage errors, valid JSON.
@Suite struct NetInfoCommandTests {
    var binary: String { NetInfoTestTools.binary }

    @Test func unknownInterfaceIsOneLineAndExit1() throws {
        let r = try NetInfoTestTools.run(binary, ["interfaces", "nosuch0", "--format", "json"])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        #expect(r.stderr == "error: no such interface: nosuch0\nhint: run 'pktstat interfaces' to list the interfaces\n")
    }

    @Test(arguments: [
        ["routes", "-4", "-6"], ["routes", "--table", "nope"], ["routes", "--source", "proc", "--table", "local"],
        ["routes", "--format", "xml"], ["gateways", "--source", "carrier-pigeon"],
    ])
    func badUsageExits64(args: [String]) throws {
        let r = try NetInfoTestTools.run(binary, args)
        #expect(r.status == 64, "\(args): \(r.stderr)")
        #expect(r.stdout == "")
    }

    @Test(arguments: [
        ["interfaces"], ["routes"], ["routes", "--table", "all"], ["routes", "--source", "proc"], ["gateways"],
        ["interfaces", "--format", "netifaces"], ["gateways", "--format", "netifaces"],
    ])
    func jsonIsValid(args: [String]) throws {
        let format = args.contains("--format") ? [] : ["--format", "json"]
        let r = try NetInfoTestTools.run(binary, args + format)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        #expect(throws: Never.self) { _ = try NetInfoTestTools.json(r.stdout) }
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
    @Test(.enabled(if: NetInfoTestTools.hasIP)) func getifaddrsAgreesWithIP() throws {
        let ours = try InterfaceReader.read(useNetlink: false)
        let theirs = try #require(try NetInfoTestTools.json(try NetInfoTestTools.mustRun("ip", ["-j", "addr"])) as? [[String: Any]])
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
