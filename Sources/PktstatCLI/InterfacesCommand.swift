import ArgumentParser
import NetInfo
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
        let text: String
        do {
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
        } catch {
            throw NetInfoCLI.fail(error)
        }
        try NetInfoCLI.emit(text)
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

/// Output and error reporting shared by the interfaces, routes and gateways commands.
enum NetInfoCLI {
    /// Prints `error: PROBLEM; FIX` (one line) to stderr; the caller throws the returned exit code.
    static func fail(_ error: NetInfoError) -> ExitCode {
        Console.error(error.description, hint: error.hint)
        return ExitCode(1)
    }

    static func warn(_ message: String) {
        writeStderr("warning: \(message)\n")
    }

    static func writeStderr(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }

    /// Writes a whole document to stdout in one go. A closed pipe ends quietly.
    static func emit(_ text: String) throws {
        do {
            _ = try FileDescriptor.standardOutput.writeAll(Array(text.utf8))
        } catch Errno.brokenPipe {
            throw ExitCode.success
        } catch {
            writeStderr("error: cannot write the output: \(error)\n")
            throw ExitCode(1)
        }
    }

    /// Which families `-4` / `-6` ask for.
    static func families(ipv4: Bool, ipv6: Bool) -> [AddressFamily] {
        if ipv4 && !ipv6 { return [.inet] }
        if ipv6 && !ipv4 { return [.inet6] }
        return [.inet, .inet6]
    }
}
