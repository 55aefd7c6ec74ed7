import ArgumentParser
import NetInfo
import Rendering

/// `pktstat gateways`: an adapter over `NetInfo.Gateways.select`.
struct Gateways: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateways",
        abstract: "Show the default gateway per family, and why, plus every default route.",
        discussion: """
            The default gateway is chosen as the kernel does for a destination only a default route covers: the main table's default route with the lowest metric (the first one on a tie). If that route is unreachable, blackhole or prohibit, there is none. Default routes of other tables (reached only through policy rules) are listed but not chosen. JSON: {"default": {"inet": {"gateway", "dev", "metric", "reason"}, "inet6": {...}}, "reasons": {...}, "routes": [every default route, 'ip -j route' keys]}.

            Examples:
              pktstat gateways                       default gateway of IPv4 and IPv6
              pktstat gateways --format netifaces    shaped like netifaces.gateways()
              pktstat gateways --source proc         from /proc/net/route, ipv6_route
              pktstat gateways --format json | jq -r '.default.inet.gateway'
            """
    )

    @Option(help: "Where to read routes: netlink (all tables) or proc.")
    var source: RouteSource = .netlink

    @Option(help: "Output format: table, csv, json, netifaces.")
    var format: NetInfoTextFormat = .table

    func run() throws { try ErrorReport.run(show) }

    private func show() throws {
        let families: [AddressFamily] = [.inet, .inet6]
        let routes = try RouteReader.read(source: source, families: families, table: .all, warn: NetInfoCLI.warn)
        let gateways = NetInfo.Gateways.select(from: routes, families: families)
        try NetInfoCLI.emit(NetInfoFormatter.document(gateways: gateways, format))
    }
}
