public import ArgumentParser
import Glibc
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

enum TopView: String, CaseIterable, ExpressibleByArgument {
    case flows, hosts, ports
}

enum TopSortOption: String, CaseIterable, ExpressibleByArgument {
    case last
    case short = "2s"
    case medium = "10s"
    case long = "40s"
    case total
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

            On a terminal: a header (totals, current rate, flows, expired and evicted flows, drops), then a row per \
            flow (or host, or port) with bits per second over the last interval and over 2 s, 10 s and 40 s (as \
            iftop), and the total bytes. Keys: q quit, s sort (last, 2s, 10s, 40s, total), v view (flows, hosts, \
            ports), p pause the display (the capture goes on). The terminal is restored on every exit: q, Ctrl-C, \
            SIGTERM, SIGHUP, or a crash signal.

            Not on a terminal, or with --batch: after each interval, the rows of the flows (or hosts, or ports) that \
            moved anything in it, most bytes first, each stamped with the interval's start: \
            time,protocol,src,sport,dst,dport,packets,bytes,bits_per_second,total_packets,total_bytes (hosts: \
            time,host,...; ports: time,protocol,port,...). The last interval is printed when the run ends, however \
            short.

            Memory is bounded: a flow idle longer than --flow-timeout leaves the table, and a full table (--max-flows) \
            evicts one of the least recently seen; both counts are in the header and the status lines.
            """
    )

    @Option(
        name: [.short, .customLong("interface")],
        help: "Interface to capture on ('any' for all). Default: the first one libpcap lists.")
    var interface: String?

    @Option(help: ArgumentHelp("Refresh (and snapshot) interval: 1, 2s, 500ms.", valueName: "time"))
    var interval: TimeSpan = TimeSpan(nanoseconds: 1_000_000_000, text: "1s")

    @Flag(help: "Print CSV or JSON snapshots instead of the screen, even on a terminal.")
    var batch = false

    @Option(help: "Snapshot format: csv or json (one object per line).")
    var format: TopFormat = .csv

    @Option(help: "Rows: flows, hosts or ports (on the screen, v switches).")
    var view: TopView = .flows

    @Option(help: "Order: last, 2s, 10s, 40s (rate over that window) or total (on the screen, s switches).")
    var sort: TopSortOption = .last

    @Option(help: ArgumentHelp("At most this many rows per snapshot.", valueName: "n"))
    var top: Int?

    @Option(
        name: .customLong("flow-timeout"),
        help: ArgumentHelp("Drop flows idle longer than this (default 60s).", valueName: "time"))
    var flowTimeout: TimeSpan = TimeSpan(nanoseconds: 60_000_000_000, text: "60s")

    @Option(
        name: .customLong("max-flows"),
        help: ArgumentHelp("Keep at most this many flows, evicting the least recently seen.", valueName: "n"))
    var maxFlows: Int = 1_000_000

    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this long (e.g. 10, 1.5s, 2m).", valueName: "time"))
    var duration: TimeSpan?

    @Flag(
        name: [.customShort("p"), .customLong("no-promiscuous")],
        help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax); or give it as trailing words.", valueName: "expression"))
    var filter: String?

    @Argument(
        parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as with tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if interval.nanoseconds < 10_000_000 { throw ValidationError("--interval must be at least 10ms") }
        if maxFlows <= 0 { throw ValidationError("--max-flows must be a positive number (got \(maxFlows))") }
        if flowTimeout.nanoseconds <= 0 { throw ValidationError("--flow-timeout must be longer than 0") }
        if let top, top <= 0 { throw ValidationError("--top must be a positive number of rows (got \(top))") }
        if filter != nil && !expression.isEmpty {
            throw ValidationError("give the filter either with --filter or as trailing words, not both")
        }
    }

    var filterExpression: String? { filter ?? (expression.isEmpty ? nil : expression.joined(separator: " ")) }

    func run() throws {
        try ErrorReport.run {
            let terminal = batch ? nil : TopTerminal()
            let name = try interface ?? CaptureDevice.defaultInterface()
            var options = LiveOptions(interface: name)
            options.promiscuous = !noPromiscuous
            let capture = try LiveCapture.open(options)
            for w in capture.warnings { Console.line("warning: \(w)") }
            if let f = filterExpression { try capture.setFilter(f) }
            if let user = Privileges.target(explicit: nil) { try Privileges.drop(to: user) }
            Console.line("listening on \(name), link-type \(capture.linkTypeName) (\(capture.linkTypeDescription))")
            let stop = StopFlag()
            let interrupter = capture.interrupter
            let trap = SignalTrap(stop: stop) { interrupter.breakLoop() }
            defer { withExtendedLifetime(trap) {} }
            let ring = RecordRing(capacity: 1 << 16)
            let limits = RunLimits(durationNs: duration?.nanoseconds)
            guard let job = CaptureThread(capture: capture, ring: ring, limits: limits, stop: stop) else {
                throw CaptureError.captureFailed(interface: name, detail: "cannot start the capture thread")
            }
            var session = TopSession(command: self, interface: name, terminal: terminal)
            let outcome = session.run(ring: ring, job: job, stop: stop, quit: { interrupter.breakLoop() })
            terminal?.restore()
            printStatus(outcome, ringDrops: ring.droppedCount, counters: session.table.counters)
            if let e = session.outputError, case .writeFailed = e { throw e }
            if let failure = outcome.error { throw failure }
        }
    }

    private func printStatus(_ o: CaptureOutcome, ringDrops: UInt64, counters: FlowTableCounters) {
        func line(_ n: UInt64, _ what: String) { Console.line("\(n) packet\(n == 1 ? "" : "s") \(what)") }
        line(o.captured, "captured")
        if let stats = o.stats {
            line(stats.received, "received by filter")
            line(stats.droppedByKernel, "dropped by kernel")
        }
        line(ringDrops, "dropped by ring")
        Console.line("\(counters.expired) flows ended idle (--flow-timeout)")
        Console.line("\(counters.evicted) flows evicted (--max-flows reached)")
    }
}

enum TopFormat: String, CaseIterable, ExpressibleByArgument {
    case csv, json
}
