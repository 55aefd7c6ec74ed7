public import ArgumentParser

/// The `pktstat` command: a home for the subcommands.
public struct Pktstat: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pktstat",
        abstract: "Capture packets and chart their sizes over time; show interfaces, routes and gateways.",
        discussion: """
            Examples:
              sudo pktstat sniff --count 100            watch 100 packets go by
              pktstat sniff -r capture.pcap --format csv a capture file as CSV
              pktstat analyze capture.pcap --interval 1  packets, bytes per second
              pktstat analyze capture.pcap --format svg -o sizes.svg
              pktstat interfaces                         addresses, MACs, counters
              pktstat routes                             routing table (ip route)
              pktstat gateways                           default gateway per family

            Shell completions: pktstat --generate-completion-script bash|zsh|fish (see the README).
            The manual page: man ./docs/pktstat.1 in the source tree (or 'man pktstat' once installed).
            """,
        version: Version.text,
        subcommands: [Sniff.self, Analyze.self, Interfaces.self, Routes.self, Gateways.self]
            + [Flows.self]
            + [Top.self]
            + [ServeCommand.self]
    )
    public init() {}
}

/// Entry point used by the `pktstat` executable.
public enum PktstatMain {
    public static func run() {
        Pktstat.main()
    }
}
