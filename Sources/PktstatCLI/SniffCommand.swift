public import ArgumentParser
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

/// `pktstat sniff`: capture live or read a file, print one row per packet.
/// An adapter: it parses options, wires capture → ring → writer, and maps errors to messages.
struct Sniff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sniff",
        abstract: "Capture packets (or read a capture file) and print one row per packet.",
        discussion: """
            Examples:
              sudo pktstat sniff --count 100           100 packets, default interface
              sudo pktstat sniff -i lo -c 10 udp port 53   a BPF filter, as tcpdump
              sudo pktstat sniff -i any --duration 10s --format csv > packets.csv
              sudo pktstat sniff -i eth0 -w out.pcap   write a pcap (Ctrl-C stops)
              sudo pktstat sniff -i eth0 -w out.pcap --print --format csv
              sudo pktstat sniff -i any -w out.pcapng   pcapng, one interface block per interface
              sudo pktstat sniff -i eth0 -w 'cap-%H%M%S.pcap' --rotate-seconds 60 --rotate-files 24
              sudo pktstat sniff -i eth0 -w ring.pcap -C 100 -W 10 --compress zstd   as tcpdump -C/-W
              sudo pktstat sniff -i eth0 --interval 1 --format csv   a row a second
              sudo pktstat sniff --count 100 --plot sizes.svg   capture and chart
              pktstat sniff -r out.pcap --format json  read a pcap or pcapng file
              pktstat sniff -r out.pcap --format csv | head -5
              pktstat sniff -D                         list interfaces (tcpdump -D)
              sudo pktstat sniff -i eth0 -Z nobody -w /tmp/x.pcap

            CSV columns: timestamp (epoch seconds, 9 decimals), length (on the wire), captured, protocol, src, dst, sport, dport, interface, direction (empty when absent; interface and direction come from Linux cooked headers, e.g. -i any). JSON: one object per line with the same keys (null when absent).

            Protocol labels name the outermost network header: TCP UDP ICMP ICMPv6 IGMP GRE ESP AH SCTP OSPF IPIP PIM VRRP ARP, else IPv4 or IPv6, else other. Headers are not validated: a label comes from the protocol fields as captured, even when the IP version or header length is bogus.

            Stop with --count, --duration, --idle-timeout or Ctrl-C (any number of SIGINT/SIGTERM/SIGHUP): what was captured is kept, the -w file is written in whole records, and the status lines (as tcpdump prints them) go to stderr. Under sudo, pktstat becomes SUDO_USER once the device is open, so the files it writes are yours; -Z USER picks another user, -Z root keeps root. Live capture needs CAP_NET_RAW: run with sudo, or once: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v pktstat)".
            """
    )

    @Option(name: [.short, .customLong("count")], parsing: .unconditional, help: "Stop after this many packets.")
    var count: Int64?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Stop after this long (e.g. 10, 1.5s, 500ms, 2m).", valueName: "time"),
        transform: TimeSpan.parse)
    var duration: TimeSpan?

    @Option(
        name: .customLong("idle-timeout"), parsing: .unconditional,
        help: ArgumentHelp("Stop when no packet arrived for this long (e.g. 5, 1.5s, 500ms).", valueName: "time"),
        transform: TimeSpan.parse)
    var idleTimeout: TimeSpan?

    @Option(
        name: [.short, .customLong("read")],
        help: ArgumentHelp(
            "Read packets from a pcap or pcapng file (gzip, zstd too) or folder instead of an interface; "
                + "repeat to merge several by time.",
            valueName: "file"))
    var read: [String] = []

    @OptionGroup var time: TimeWindowOptions

    @OptionGroup var output: WriteOptions

    @Flag(
        name: .customShort("n"),
        help: "Accepted for tcpdump habits (-n, -nn): pktstat never resolves names or ports.")
    var noResolve: Int

    @Flag(
        name: .customShort("l"),
        help: "Write each batch of rows as soon as it is formatted (line-buffered, as tcpdump -l).")
    var lineBuffered = false

    @Option(help: "Output: table, csv or json (one object per line).")
    var format: TextFormat = .table

    @Option(
        help: ArgumentHelp(
            "Print one row per interval as it closes, instead of one per packet (1, 0.5, 250ms, 1m); the --plot chart uses it too, else a round interval (auto).",
            valueName: "time"),
        transform: IntervalOption.parse)
    var interval: IntervalOption?

    @Option(help: "Where intervals start: first (the capture start or first packet) or clock.")
    var align: SeriesAnalyzer.Alignment = .first

    @Option(
        help: ArgumentHelp(
            "At the end, chart packet sizes and bytes per interval into FILE.svg, FILE.gp or FILE.png.",
            valueName: "file"))
    var plot: String?

    @OptionGroup var look: ChartLookOptions

    @OptionGroup var live: LiveCaptureOptions

    @Flag(
        name: [.customShort("D"), .customLong("list-interfaces")],
        help: "List the interfaces you can capture on, and exit.")
    var listInterfaces = false

    @Flag(name: [.short, .customLong("quiet")], help: "Print no packet rows, only the status lines.")
    var quiet = false

    @Flag(help: "Print packet rows even while writing them to a file with -w (as tcpdump --print).")
    var print = false

    func validate() throws {
        let problem = SniffOutput.problem(
            count: count, quiet: quiet, print: print, autoInterval: interval == .auto, plot: plot,
            reading: !read.isEmpty, interface: live.interface != nil, windowed: time.given)
        if let problem { throw ValidationError(problem) }
        try output.validate(reading: !read.isEmpty)
    }

    func run() throws {
        try ErrorReport.run {
            if listInterfaces { return try printInterfaces() }
            let out = ByteOutput.standardOutput()
            if lineBuffered { out.threshold = 1 }
            let limits = RunLimits(
                count: count.map { UInt64($0) }, durationNs: duration?.nanoseconds,
                idleTimeoutNs: idleTimeout?.nanoseconds)
            if !read.isEmpty { return try readFiles(limits: limits, out: out) }
            var settings = live.settings
            // A person watching a terminal wants each packet at once; pipes and files get batches.
            settings.immediate = rows.printing && out.isTerminal
            let application = "pktstat \(Version.pktstat)"
            let capture = try LiveRun.open(
                settings, writePlan: { output.plan(interfaceNames: $0, application: application) },
                report: Console.line)
            let consumer = SniffConsumer(out: out, rows, live: true)
            try capture.run(limits: limits, consumer: consumer, report: Console.line) { try writePlot(consumer) }
        }
    }

    /// Packet rows, interval rows, or neither (rows are printed unless -q, or -w without --print),
    /// plus the chart.
    private var rows: SniffOutput {
        let commandLine = (["pktstat"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        var rows = SniffOutput(chart: look.options(originNs: nil), commandLine: commandLine)
        rows.format = format
        rows.printing = !quiet && (output.write == nil || print)
        rows.intervalNs = interval?.nanoseconds
        rows.align = align
        rows.plot = plot
        return rows
    }

    /// Writes the --plot chart (after the capture, as the user we run as by then).
    private func writePlot(_ consumer: SniffConsumer) throws {
        if try consumer.writeChart(rows), let plot, !quiet { Console.line("chart written to \(plot)") }
    }

    private func printInterfaces() throws {
        let out = ByteOutput.standardOutput()
        out.write(CaptureDevice.listText(try CaptureDevice.all()))
        try? out.flush()
    }

    /// -r: one file, several merged by time, or standard input; -w copies them (through libpcap).
    private func readFiles(limits: RunLimits, out: ByteOutput) throws {
        let consumer = SniffConsumer(out: out, rows, live: false)
        let source = FileSource(
            paths: read, window: try time.window, filter: live.filterExpression,
            copyPath: output.write, limits: limits)
        try consumer.readFiles(
            source, relinquish: live.relinquish, announce: !quiet || output.write != nil, report: Console.line)
        try writePlot(consumer)
    }
}

extension TextFormat: ExpressibleByArgument {}
