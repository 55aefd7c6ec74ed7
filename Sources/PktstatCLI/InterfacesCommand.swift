import ArgumentParser
import NetInfo
import OutputSinks
import Rendering
import SystemPackage

/// `pktstat interfaces`: an adapter over `NetInfo.InterfaceReader`.
struct Interfaces: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interfaces",
        abstract: "List interfaces: flags, state, MTU, MAC, IPv4/IPv6 addresses and counters.",
        discussion: """
            Addresses come from getifaddrs, state/MTU/counters from /sys/class/net, and address \
            scope/flags (and broadcast vs. peer) from rtnetlink. A broadcast address is shown only \
            when one is configured; a point-to-point peer is shown as the peer. JSON is a bare \
            array, as 'ip -j addr' prints it, with its key names (ifindex, ifname, flags, mtu, \
            operstate, address, addr_info: family, local, prefixlen, broadcast, address = peer, \
            scope), plus stats.

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

    @Option(help: "Output format: \(NetInfoFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: NetInfoFormat = .table

    func run() throws {
        try ErrorReport.run {
            let text: String
            if let name {
                let one = try InterfaceReader.read(name: name)
                switch format {
                case .table: text = NetInfoFormatter.table(interfaces: [one])
                case .csv: text = NetInfoFormatter.csv(interfaces: [one])
                case .json: text = NetInfoFormatter.json(interfaces: [one])
                case .netifaces: text = NetInfoFormatter.netifaces(interface: one)
                }
            } else {
                let all = try InterfaceReader.read()
                switch format {
                case .table: text = NetInfoFormatter.table(interfaces: all)
                case .csv: text = NetInfoFormatter.csv(interfaces: all)
                case .json: text = NetInfoFormatter.json(interfaces: all)
                case .netifaces: text = NetInfoFormatter.netifaces(interfaces: all)
                }
            }
            try NetInfoCLI.emit(text)
        }
    }
}

/// `--format` of the interfaces, routes and gateways commands.
enum NetInfoFormat: String, CaseIterable, ExpressibleByArgument {
    case table
    case csv
    case json
    /// JSON shaped like Python netifaces' interfaces()/ifaddresses()/gateways().
    case netifaces
}

/// `--source` of the routes and gateways commands.
enum NetInfoRouteSource: String, CaseIterable, ExpressibleByArgument {
    case netlink
    case proc

    var source: RouteSource { self == .netlink ? .netlink : .proc }
}

/// What the interfaces, routes and gateways commands share: output and `-4`/`-6`.
enum NetInfoCLI {
    static func warn(_ message: String) { Console.line("warning: \(message)") }

    /// Writes a whole document to stdout (a closed pipe ends quietly, through `ErrorReport`).
    static func emit(_ text: String) throws(OutputError) {
        let out = ByteOutput.standardOutput()
        out.write(text)
        try out.flush()
    }

    /// Which families `-4` / `-6` ask for.
    static func families(ipv4: Bool, ipv6: Bool) -> [AddressFamily] {
        if ipv4 && !ipv6 { return [.inet] }
        if ipv6 && !ipv4 { return [.inet6] }
        return [.inet, .inet6]
    }
}
