public import ArgumentParser
import Foundation
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

/// Output formats of `analyze` (series, charts, scripts).
extension SeriesReportFormat: ExpressibleByArgument {}

enum AnalyzeLayout: String, CaseIterable, ExpressibleByArgument {
    case byProtocol = "protocol"
}

extension SeriesAnalyzer.Alignment: ExpressibleByArgument {}

extension GnuplotTerminal: ExpressibleByArgument {}

/// `pktstat analyze`: size over time from a capture file (or sniff's CSV on stdin).
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Packets, bytes and sizes per interval, as a table, CSV, JSON or a chart.",
        discussion: """
            Examples:
              pktstat analyze capture.pcap                   a table, a row a second
              pktstat analyze capture.pcap --interval 250ms --format csv > series.csv
              pktstat analyze capture.pcap --by protocol --format csv
              pktstat analyze capture.pcap --format svg -o sizes.svg
              pktstat analyze capture.pcap --format png -o sizes.png   (gnuplot)
              pktstat analyze capture.pcap --format gnuplot -o sizes.gp
              pktstat analyze capture.pcap --format gnuplot --terminal dumb | gnuplot
              sudo pktstat sniff -c 1000 --format csv | pktstat analyze - --interval 0.1
              pktstat analyze capture.pcap --summary          totals, rates, sizes, protocols
              pktstat analyze capture.pcap --summary --format json
              pktstat analyze a.pcap b.pcap.gz ring/     several files and folders, merged by time
              pktstat analyze ring/ --since -2h --until -1h   a time window

            Intervals: 1, 0.1, 250ms, 5s, 1m. They start at the first packet's timestamp (as tshark and Wireshark do); --align clock starts them at wall-clock multiples. Empty intervals between packets are printed with zeros. Memory stays bounded: it never grows with the number of packets nor with the time span (empty intervals are made as they are printed), and past 16,384 intervals that hold packets the older ones wait in a temporary file ($TMPDIR, else /tmp) until they are printed. Each packet counts in the interval its timestamp falls in, whatever its place in the file (one earlier than the first packet gives negative offsets). More than 10 million rows are announced on stderr first.

            CSV columns: time (interval start, epoch seconds, 9 decimals), offset (seconds from the first interval), packets, bytes (wire lengths), bits_per_second, min_length, mean_length, max_length, then packets_<P>,bytes_<P> for each protocol present. With --by protocol: time, offset, protocol, packets, bytes, bits_per_second, mean_length.
            """
    )

    @OptionGroup var inputs: CaptureInputs
    var input: String { inputs.input }

    @Option(
        help: ArgumentHelp(
            "Interval length: 1, 0.1, 250ms, 5s, 1m (default 1); for charts also auto (their default: a round interval for at most about 1,000 points).",
            valueName: "time"),
        transform: IntervalOption.parse)
    var interval: IntervalOption?

    @Option(help: "Where intervals start: first (the first packet) or clock (wall-clock multiples).")
    var align: SeriesAnalyzer.Alignment = .first

    @Option(help: "Output: table, csv, json, svg, gnuplot or png (png needs -o and gnuplot).")
    var format: SeriesReportFormat = .table

    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("'protocol': one row per interval and protocol (long format).", valueName: "protocol"))
    var by: AnalyzeLayout?

    @Flag(
        help:
            "Print the whole-capture summary (span, totals, rates, lengths, protocols, size buckets) instead of the series; JSON with --format json, else text."
    )
    var summary = false

    @Option(help: "gnuplot terminal for --format gnuplot: svg, pngcairo, png or dumb.")
    var terminal: GnuplotTerminal = .svg

    @OptionGroup var look: ChartLookOptions

    func validate() throws {
        try inputs.requireFiles()
        if let problem = format.problem(autoInterval: interval == .auto, output: output, summary: summary) {
            throw ValidationError(problem)
        }
    }

    func run() throws {
        let auto = format.isChart && (interval ?? .auto) == .auto
        try ErrorReport.run {
            // Outputs are opened before reading, so an unwritable path fails at once.
            let commandLine = (["pktstat"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            let destination = try SeriesReport.Output.open(
                format, to: output, summary: summary, layout: by == nil ? .wide : .byProtocol, terminal: terminal,
                chart: look.options(originNs: nil), commandLine: commandLine, autoInterval: auto)
            let report = SeriesReport(
                intervalNs: auto ? ChartInterval.autoAnalyzerNs : interval?.nanoseconds ?? 1_000_000_000,
                align: align, output: destination, intervalText: intervalText)
            try report.run(try inputs.source(), report: Console.line)
        }
    }

    /// The interval as the user gave it, for messages.
    private var intervalText: String {
        if case .time(let t) = interval { return t.text }
        return "1"
    }
}
