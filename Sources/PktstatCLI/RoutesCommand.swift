public import ArgumentParser
import NetInfo
import Rendering

/// `pktstat routes`: `show` (the default: the table) and `get` (one lookup), like `ip route show|get`.
/// A parent without options of its own, so that `get` can have its own `--format`: ArgumentParser
/// lets a parent's options be given after a subcommand's name, and the parent would take them.
struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Show the routing table (both families, main table), like 'ip route'.",
        discussion: RoutesShow.discussion,
        subcommands: [RoutesShow.self, RoutesGet.self],
        defaultSubcommand: RoutesShow.self
    )
}

/// `pktstat routes [show]`: an adapter over `NetInfo.RouteReader`.
struct RoutesShow: ParsableCommand {
    static let discussion = """
        The default source is rtnetlink, which sees every table, route types (blackhole, unreachable, prohibit, local, broadcast, multicast), multipath next hops with weights, protocol, scope, preferred source and the linkdown/onlink flags. '--source proc' reads /proc/net/route and /proc/net/ipv6_route instead: IPv4 main table only, a multipath route shows its first next hop only, no protocol/scope/prefsrc/flags, and unreachable, prohibit and throw all show as type 'reject'; /proc/net/ipv6_route does not say which table a route is in. JSON uses the key names of 'ip -j route' (dst, gateway, dev, table, type, protocol, scope, prefsrc, metric, flags, nexthops) in a bare array, as 'ip -j route' prints it. 'pktstat routes get ADDRESS' shows the one route the kernel would use for an address, like 'ip route get'.

        Examples:
          pktstat routes                     IPv4 and IPv6, main table (= routes show)
          pktstat routes -4 --table all      every IPv4 table
          pktstat routes -6 --table local    the IPv6 local table
          pktstat routes --table 100         one table by number
          pktstat routes --source proc       from /proc/net/route and ipv6_route
          pktstat routes --format csv > routes.csv
          pktstat routes --format json | jq '.[] | select(.dst == "default")'
          pktstat routes get 192.0.2.1       the route to one address
        """

    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the routing table (both families, main table), like 'ip route show'.",
        discussion: discussion
    )

    @Flag(name: .customShort("4"), help: "IPv4 only.")
    var ipv4 = false

    @Flag(name: .customShort("6"), help: "IPv6 only.")
    var ipv6 = false

    @Option(help: "Routing table: main, local, default, all, or a number.")
    var table: String = "main"

    @Option(help: "Where to read routes: netlink (all tables, types, multipath) or proc.")
    var source: RouteSource = .netlink

    @Option(help: "Output format: table, csv, json, netifaces (shaped like netifaces.gateways()).")
    var format: NetInfoTextFormat = .table

    func validate() throws {
        if ipv4 && ipv6 { throw ValidationError("-4 and -6 exclude each other; give neither for both families") }
        if let problem = TableSelection.problem(table: table, source: source) { throw ValidationError(problem) }
    }

    func run() throws { try ErrorReport.run(show) }

    private func show() throws {
        let families = AddressFamily.selected(ipv4: ipv4, ipv6: ipv6)
        let selection = TableSelection(table) ?? .table(.main)
        let routes = try RouteReader.read(source: source, families: families, table: selection, warn: NetInfoCLI.warn)
        try NetInfoCLI.emit(NetInfoFormatter.document(routes: routes, families: families, format))
    }
}

/// `pktstat routes get ADDRESS`: an adapter over `NetInfo.NetlinkRouteLookup`.
struct RoutesGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show the route the kernel would use for an address, like 'ip route get'.",
        discussion: """
            Asks the kernel (rtnetlink RTM_GETROUTE, policy rules included) which route a packet to ADDRESS would take: the gateway, the device and the preferred source address. --from and --oif ask as 'ip route get ADDRESS from A oif DEV' does. JSON is a bare array with the keys of 'ip -j route get' (type, dst, from, gateway, dev, table, protocol, scope, prefsrc, metric, flags, uid, cache, pref), printed by its rules.

            Examples:
              pktstat routes get 192.0.2.1                    IPv4
              pktstat routes get 2001:db8::1 --format json    IPv6, as 'ip -j route get'
              pktstat routes get 198.51.100.7 --from 192.0.2.10 --oif eth0
              pktstat routes get 192.0.2.1 --format json | jq -r '.[0].gateway // "direct"'
            """
    )

    @Argument(help: "The destination: an IPv4 or IPv6 address.")
    var address: IPAddress

    @Option(help: "The source address the packet would have (an address of this host).")
    var from: IPAddress?

    @Option(help: "The interface the packet must leave by.")
    var oif: String?

    @Option(help: "Output format: table (the words of 'ip route get') or json.")
    var format: RouteLookupFormat = .table

    func validate() throws {
        if let from, from.family != address.family {
            throw ValidationError(
                "--from \(from) and \(address) are of different families; give addresses of one family")
        }
    }

    func run() throws { try ErrorReport.run(lookup) }

    private func lookup() throws {
        let query = RouteQuery(destination: address, source: from, outputInterface: oif)
        try NetInfoCLI.emit(NetInfoFormatter.document(lookup: try NetlinkRouteLookup.lookup(query), format))
    }
}

/// An IPv4 or IPv6 address on the command line (no host names, no `%zone`).
extension IPAddress: ExpressibleByArgument {
    init?(argument: String) { self.init(argument) }
}
