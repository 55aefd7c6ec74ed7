public import ArgumentParser
import TrafficPipeline

/// The options of `flows`' connection model (Zeek `conn.log` records): declarations only; the
/// checks and meanings are `ConnectionOptions`' (TrafficPipeline).
struct ConnectionModelOptions: ParsableArguments {
    @Flag(help: "Write Zeek connection records (conn.log columns) with --format csv or json; --format zeek implies it.")
    var connections = false

    @Option(
        name: .customLong("server-ports"),
        help: ArgumentHelp(
            "Zeek's likely server ports, which decide who is the originator (default: Zeek's 73).",
            valueName: "53/udp,80/tcp,..."))
    var serverPorts: String?

    @Option(
        name: .customLong("local-nets"),
        help: ArgumentHelp("Networks for local_orig/local_resp (unset without).", valueName: "cidr,..."))
    var localNets: String?

    @Option(
        name: .customLong("connection-timeout"),
        help: ArgumentHelp(
            "Inactivity timeout: tcp (300), udp, icmp, other (60) or attempt (unanswered SYN, 5), in seconds.",
            valueName: "proto=seconds"))
    var connectionTimeout: [String] = []

    @Flag(
        name: .customLong("verify-checksums"),
        help: "Ignore packets with bad IPv4, TCP, UDP or ICMP checksums, as Zeek does without -C.")
    var verifyChecksums = false

    @Option(
        name: .customLong("community-id-seed"),
        help: ArgumentHelp("The Community ID seed, 0 to 65535 (default 0), as Zeek's and Suricata's.", valueName: "n"))
    var communityIDSeed: String?

    var options: ConnectionOptions {
        var o = ConnectionOptions()
        o.serverPorts = serverPorts
        o.localNets = localNets
        o.timeouts = connectionTimeout
        o.verifyChecksums = verifyChecksums
        o.communityIDSeed = communityIDSeed
        return o
    }
}

extension FlowsFormat: ExpressibleByArgument {}
