public import ArgumentParser
import Foundation
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

/// Output formats of `analyze` (series, charts, scripts).
enum AnalyzeFormat: String, CaseIterable, ExpressibleByArgument {
    case csv, json, table, svg, gnuplot, png
}

enum AnalyzeLayout: String, CaseIterable, ExpressibleByArgument {
    case byProtocol = "protocol"
}

enum AlignOption: String, CaseIterable, ExpressibleByArgument {
    case first, clock
}

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
    var align: AlignOption = .first

    @Option(help: "Output: table, csv, json, svg, gnuplot or png (png needs -o and gnuplot).")
    var format: AnalyzeFormat = .table

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

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax) applied to the file.", valueName: "expression"))
    var filter: String?

    func validate() throws {
        if interval == .auto && !format.isChart {
            throw ValidationError(
                "--interval auto is for charts (svg, gnuplot, png); give rows a time, e.g. --interval 1")
        }
        if format == .png && output == nil {
            throw ValidationError("--format png writes a file: add -o FILE.png")
        }
        if summary && format.isChart {
            throw ValidationError(
                "--summary prints text or JSON: use it with --format table or json, not \(format.rawValue)")
        }
        if input == "-" && filter != nil {
            throw ValidationError("--filter needs a capture file; it does not work on standard input")
        }
    }

    func run() throws {
        let auto = format.isChart && (interval ?? .auto) == .auto
        let intervalNs = auto ? ChartInterval.autoAnalyzerNs : interval?.nanoseconds ?? 1_000_000_000
        try ErrorReport.run { try analyze(intervalNs: intervalNs, autoChart: auto) }
    }

    private func analyze(intervalNs: Int64, autoChart: Bool) throws {
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        var session = SeriesSession(
            intervalNs: intervalNs, align: align == .clock ? .clock : .first, late: .binned, keepChart: format.isChart,
            keepIntervals: !format.isChart && !summary, chart: autoChart ? ChartBuffer(line: .auto) : ChartBuffer())
        // Opened before reading, so an unwritable path fails at once, not after a long file.
        let out = format.isChart ? nil : try ByteOutput.file(output ?? "-")
        let chart = format.isChart ? try ChartOutput.prepare(output) : nil

        var readError: (any Error)?
        var opened = false
        do {
            let source = try inputs.source(filter: filter)
            try source.stream(stop: stop, opened: { _ in opened = true }) { batch in
                session.add(batch)
                return !stop.isRequested
            }
        } catch {
            // An input that cannot be opened leaves no output at all; damage after readable
            // packets prints what was read, then the error.
            if !opened { throw error }
            readError = error
        }
        // A damaged file: report what was readable, then the error (as sniff does).
        session.finish()
        if session.analyzer.summary.beyondLimitPackets > 0 {
            let n = session.analyzer.summary.beyondLimitPackets
            Console.line(
                "warning: \(n) packet\(n == 1 ? "" : "s") lie more than 292 years from the first one and are in "
                    + "no interval; check the capture's timestamps")
        }
        let commandLine = (["pktstat"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let chartOptions = look.options(originNs: autoChart ? nil : session.analyzer.anchorNs)
        switch format {
        case _ where summary:
            guard let out else { break }
            if format == .json {
                SummaryWriter.json(session.analyzer.summary, into: &out.buffer)
            } else {
                SummaryWriter.text(session.analyzer.summary, into: &out.buffer)
            }
        case .csv, .json, .table:
            guard let out else { break }
            try writeRows(session, to: out, stop: stop)
        case .svg, .gnuplot, .png:
            // A chart file replaces the old one only when the input was read without error.
            guard let chart, readError == nil || !chart.replacesFile else { break }
            let kind: ChartOutput.Kind = format == .svg ? .svg : format == .png ? .png : .gp
            let request = ChartOutput.Request(
                kind: kind, terminal: terminal, options: chartOptions, commandLine: commandLine)
            try ChartOutput.write(session.chart, summary: session.analyzer.summary, request, to: chart)
        }
        try out?.commit()
        if let readError { throw readError }
    }
}

extension Analyze {
    /// Above this many rows `analyze` warns before printing them.
    static let rowWarning: UInt64 = 10_000_000

    /// The interval as the user gave it, for messages.
    private var intervalText: String {
        if case .time(let t) = interval { return t.text }
        return "1"
    }

    /// The series rows, streamed: empty intervals are made as they are written.
    private func writeRows(_ session: SeriesSession, to out: ByteOutput, stop: StopFlag) throws {
        let writer = SeriesWriter(
            format: format.text ?? .table,
            layout: by == nil ? .wide : .byProtocol,
            protocols: session.analyzer.protocolsSeen
        )
        let rows = session.rowCount * UInt64(by == nil ? 1 : max(1, session.analyzer.protocolsSeen.count))
        if rows > Self.rowWarning {
            Console.line(
                "warning: printing \(rows) rows (--interval \(intervalText) from the first packet to the last); "
                    + "use a larger --interval (for example 1m) for fewer")
        }
        writer.writeHeader(into: &out.buffer)
        struct Stopped: Error {}
        do {
            try session.forEachInterval { s in
                writer.write(s, into: &out.buffer)
                try out.flushIfFull()
                if stop.isRequested { throw Stopped() }
            }
        } catch is Stopped {}
        if let problem = session.spillProblem {
            Console.line("warning: \(problem); intervals were kept in memory")
        }
    }
}

extension AnalyzeFormat {
    var isChart: Bool { self == .svg || self == .gnuplot || self == .png }
    /// The text format of the table, CSV and JSON cases; nil for charts.
    var text: TextFormat? { TextFormat(rawValue: rawValue) }
}
