public import ArgumentParser

/// The `pktstat` command: a home for the subcommands.
public struct Pktstat: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pktstat",
        abstract: "Capture packets, chart them, see who is talking, serve metrics; show interfaces and routes.",
        discussion: """
            Examples:
              sudo pktstat sniff --count 100            watch 100 packets go by
              pktstat sniff -r capture.pcap --format csv a capture file as CSV
              pktstat analyze capture.pcap --format svg -o sizes.svg   chart packet sizes
              pktstat flows capture.pcap --top 10        who talked most
              sudo pktstat top -i eth0                   live flows by rate (as iftop)
              sudo pktstat serve -i eth0                 /metrics, a JSON API and a dashboard
              pktstat interfaces                         addresses, MACs, counters (ip addr)
              pktstat routes                             routing table (ip route)
              pktstat history --db traffic.sqlite        traffic by day (import captures first)

            Shell completions: pktstat --generate-completion-script bash|zsh|fish.
            The guides: docs/ in the source tree, /usr/share/doc/pktstat/docs once installed; 'man pktstat'.
            """,
        version: Version.text,
        subcommands: [
            Sniff.self, Analyze.self, Flows.self, Top.self, ServeCommand.self, Interfaces.self, Routes.self,
            Gateways.self, HistoryCommand.self,
        ]
    )
    public init() {}
}

/// Entry point used by the `pktstat` executable.
public enum PktstatMain {
    public static func run() {
        Pktstat.main()
    }
}
