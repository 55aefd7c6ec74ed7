public import ArgumentParser
import Glibc
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import SocketOwners
import TrafficAnalysis
import TrafficPipeline

extension RateView: ExpressibleByArgument {}

enum TopSortOption: String, CaseIterable, ExpressibleByArgument {
    case last
    case short = "2s"
    case medium = "10s"
    case long = "40s"
    case total
    case rtt
}

/// `pktstat top`: who is using the network, live; a full-screen view on a terminal, CSV or JSON
/// snapshots otherwise.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Live flows, hosts or ports sorted by rate: a full-screen view, or a snapshot per interval.",
        discussion: """
            Examples:
              sudo pktstat top -i eth0                     the screen (q quits)
              sudo pktstat top -i eth0 port 443            a BPF filter, as tcpdump
              sudo pktstat top -i eth0 --batch --duration 10 > flows.csv
              sudo pktstat top -i any --view hosts --format json | jq .
              sudo pktstat top -i eth0 tcp --sort rtt      slowest TCP handshakes first
              sudo pktstat top -i any -Z root --view processes   traffic per process, unit, container
              sudo pktstat top -i eth0 --batch --no-processes    no process lookups

            On a terminal: a header (totals, current rate, flows, expired and evicted flows, drops), then a row per flow (or host, or port) with bits per second over the last interval and over 2 s, 10 s and 40 s (as iftop), and the total bytes. The flows view shows each TCP flow's state (Zeek's conn_state: S0 a SYN unanswered, S1 established, SF closed, REJ refused, RSTO/RSTR reset...) and its handshake's round trip, from the TCP flags seen. Keys: q quit, s sort (last, 2s, 10s, 40s, total, rtt: slowest handshake first), v view (flows, hosts, ports, processes), p pause the display (the capture goes on), n names or addresses. An address shows as its name when a DNS answer on the wire named it before the flow began (pktstat sends no lookups). The terminal is restored on every exit: q, Ctrl-C, SIGTERM, SIGHUP, or a crash signal.

            Processes: each TCP or UDP flow's ends that are sockets of this host are looked up when the flow starts (sock_diag, as ss -p; /proc/PID/fd, comm, cgroup; in every network namespace): the flows view shows [name pid] after them, the processes view a row per process with what it sent and received. Unknown stays empty. Other users' processes need root: under sudo, -Z root keeps it (see docs/flows-and-top.md).

            Not on a terminal, or with --batch: after each interval, the rows of the flows (or hosts, ports, processes) that moved anything in it, most bytes first, each stamped with the interval's start: time,protocol,src,sport,dst,dport, then packets,bytes,bits_per_second,total_packets,total_bytes, then tcp_state,initial_rtt, then src_pid,src_process,src_unit,dst_pid,dst_process,dst_unit, then src_name,dst_name,server_name (names as pktstat flows --help says; hosts: time,host,...; ports: time,protocol,port,...; processes: time,pid,process,unit, then sent_packets,sent_bytes,received_packets,received_bytes, then bits_per_second,total_bytes). The last interval is printed when the run ends, however short.

            Memory is bounded: a flow idle longer than --flow-timeout leaves the table, and a full table (--max-flows) evicts one of the least recently seen; both counts are in the header and the status lines.
            """
    )

    @Option(help: ArgumentHelp("Refresh (and snapshot) interval: 1, 2s, 500ms.", valueName: "time"))
    var interval: TimeSpan = TimeSpan(nanoseconds: 1_000_000_000, text: "1s")

    @Flag(help: "Print CSV or JSON snapshots instead of the screen, even on a terminal.")
    var batch = false

    @Option(help: "Snapshot format: csv or json (one object per line).")
    var format: TopFormat = .csv

    @Option(help: "Rows: flows, hosts, ports or processes (on the screen, v switches).")
    var view: RateView = .flows

    @Option(help: "Order: last, 2s, 10s, 40s (rate over that window), total, or rtt (on the screen, s switches).")
    var sort: TopSortOption = .last

    @Option(help: ArgumentHelp("At most this many rows per snapshot.", valueName: "n"))
    var top: Int?

    @OptionGroup var bounds: FlowBoundOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this long (e.g. 10, 1.5s, 2m).", valueName: "time"))
    var duration: TimeSpan?

    @OptionGroup var live: LiveCaptureOptions

    @OptionGroup var processes: ProcessOptions

    func validate() throws {
        if let problem = settings.problem { throw ValidationError(problem) }
    }

    private var settings: TopSettings {
        var settings = TopSettings()
        settings.intervalNs = interval.nanoseconds
        settings.top = top
        // 60 s and 1,000,000 flows unless told otherwise.
        settings.flowLimits = bounds.limits(defaultTimeoutNs: 60_000_000_000, defaultMax: 1_000_000)
        settings.view = view
        settings.sort = RateSort.allCases[TopSortOption.allCases.firstIndex(of: sort) ?? 0]
        settings.format = format == .json ? .json : .csv
        settings.filter = live.filterExpression
        settings.processes = !processes.noProcesses
        return settings
    }

    func run() throws {
        try ErrorReport.run {
            var liveSettings = live.settings
            let owners = processes.start(&liveSettings, flowIdleNs: settings.flowLimits.idleTimeoutNs)
            defer { owners?.stop() }
            let capture = try LiveRun.open(liveSettings, report: Console.line)
            let screen = TopConsumer(settings, terminal: batch ? nil : TopTerminal(), owners: owners)
            // Ticks every 50 ms: keys and resizes are seen at once, intervals close on time.
            try capture.run(
                limits: RunLimits(durationNs: duration?.nanoseconds), tickNs: 50_000_000, consumer: screen,
                report: Console.line)
        }
    }
}

enum TopFormat: String, CaseIterable, ExpressibleByArgument {
    case csv, json
}
