import ArgumentParser
import NetInfo

/// `pktstat routes`: an adapter over `NetInfo.RouteReader`.
struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Show the routing table (both families, main table), like 'ip route'.",
        discussion: """
            The default source is rtnetlink, which sees every table, route types (blackhole, \
            unreachable, prohibit, local, broadcast, multicast), multipath next hops with weights, \
            protocol, scope, preferred source and the linkdown/onlink flags. '--source proc' reads \
            /proc/net/route and /proc/net/ipv6_route instead: IPv4 main table only, a multipath \
            route shows its first next hop only, no protocol/scope/prefsrc/flags, and unreachable, \
            prohibit and throw all show as type 'reject'; /proc/net/ipv6_route does not say which \
            table a route is in. JSON uses the key names of 'ip -j route' (dst, gateway, dev, \
            table, type, protocol, scope, prefsrc, metric, flags, nexthops).

            Examples:
              pktstat routes                     IPv4 and IPv6, main table
              pktstat routes -4 --table all      every IPv4 table
              pktstat routes -6 --table local    the IPv6 local table
              pktstat routes --table 100         one table by number
              pktstat routes --source proc       from /proc/net/route and ipv6_route
              pktstat routes --format csv > routes.csv
              pktstat routes --format json | jq '.routes[] | select(.dst == "default")'
            """
    )

    @Flag(name: .customShort("4"), help: "IPv4 only.")
    var ipv4 = false

    @Flag(name: .customShort("6"), help: "IPv6 only.")
    var ipv6 = false

    @Option(help: "Routing table: main, local, default, all, or a number.")
    var table: String = "main"

    @Option(help: "Where to read routes: netlink (all tables, types, multipath) or proc.")
    var source: NetInfoRouteSource = .netlink

    @Option(help: "Output format: table, csv, json, netifaces (shaped like netifaces.gateways()).")
    var format: NetInfoFormat = .table

    func validate() throws {
        if ipv4 && ipv6 { throw ValidationError("-4 and -6 exclude each other; give neither for both families") }
        guard let selection = TableSelection(table) else {
            throw ValidationError("--table must be main, local, default, all or a number, not '\(table)'")
        }
        if source == .proc, selection != .all, selection != .table(.main) {
            throw ValidationError("--source proc can show only '--table main' or '--table all' (/proc/net/route holds the main table only)")
        }
    }

    func run() throws {
        let families = NetInfoCLI.families(ipv4: ipv4, ipv6: ipv6)
        let selection = TableSelection(table) ?? .table(.main)
        let result: (routes: [Route], problems: [ProcLineProblem])
        do {
            result = try RouteReader.read(source: source.source, families: families, table: selection)
        } catch {
            throw NetInfoCLI.fail(error)
        }
        for p in result.problems { NetInfoCLI.warn("\(p) (line skipped)") }
        let text: String
        switch format {
        case .table: text = NetInfoFormatter.table(routes: result.routes)
        case .csv: text = NetInfoFormatter.csv(routes: result.routes)
        case .json: text = NetInfoFormatter.json(routes: result.routes)
        case .netifaces:
            text = NetInfoFormatter.netifaces(gateways: NetInfo.Gateways.select(from: result.routes, families: families))
        }
        try NetInfoCLI.emit(text)
    }
}
