public import ArgumentParser
import NetInfo
import OutputSinks
import Rendering

/// `pktstat interfaces`: an adapter over `NetInfo.InterfaceReader`.
struct Interfaces: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interfaces",
        abstract: "List interfaces: flags, state, MTU, MAC, IPv4/IPv6 addresses and counters.",
        discussion: """
            Addresses come from getifaddrs, state/MTU/counters from /sys/class/net, and address scope/flags (and broadcast vs. peer) from rtnetlink. A broadcast address is shown only when one is configured; a point-to-point peer is shown as the peer. JSON is a bare array, as 'ip -j addr' prints it, with its key names (ifindex, ifname, flags, mtu, operstate, address, addr_info: family, local, prefixlen, broadcast, address = peer, scope), plus stats.

            Examples:
              pktstat interfaces                      every interface, like 'ip addr'
              pktstat interfaces eth0                 one interface
              pktstat interfaces --format csv         one row per address
              pktstat interfaces eth0 --format netifaces   like ifaddresses('eth0')
              pktstat interfaces --format json | jq -r '.[].ifname'
            """
    )

    @Argument(help: "Show only this interface.")
    var name: String?

    @Option(help: "Output format: \(NetInfoTextFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: NetInfoTextFormat = .table

    func run() throws {
        try ErrorReport.run {
            let interfaces = try name.map { [try InterfaceReader.read(name: $0)] } ?? InterfaceReader.read()
            try NetInfoCLI.emit(NetInfoFormatter.document(interfaces: interfaces, single: name != nil, format))
        }
    }
}

extension NetInfoTextFormat: ExpressibleByArgument {}
extension RouteLookupFormat: ExpressibleByArgument {}
extension RouteSource: ExpressibleByArgument {}

/// What the interfaces, routes and gateways commands share: warnings and output.
enum NetInfoCLI {
    static func warn(_ message: String) { Console.line("warning: \(message)") }

    /// Writes a whole document to stdout (a closed pipe ends quietly, through `ErrorReport`).
    static func emit(_ text: String) throws(OutputError) {
        let out = ByteOutput.standardOutput()
        out.write(text)
        try out.flush()
    }
}
