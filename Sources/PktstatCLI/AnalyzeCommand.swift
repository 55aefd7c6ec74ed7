public import ArgumentParser
import Foundation
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis

/// Output formats of `analyze` (series, charts, scripts).
enum AnalyzeFormat: String, CaseIterable, ExpressibleByArgument {
    case csv, json, table, svg, gnuplot, png
}

enum AnalyzeLayout: String, CaseIterable, ExpressibleByArgument {
    case protocol_ = "protocol"
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

            Intervals: 1, 0.1, 250ms, 5s, 1m. They start at the first packet's timestamp (as tshark and Wireshark do); --align clock starts them at wall-clock multiples. Empty intervals between packets are printed with zeros. Memory stays bounded: it never grows with the number of packets, and past 16,384 intervals that hold packets the older ones wait in a temporary file ($TMPDIR, else /tmp) until they are printed.

            CSV columns: time (interval start, epoch seconds, 9 decimals), offset (seconds from the first interval), packets, bytes (wire lengths), bits_per_second, min_length, mean_length, max_length, then packets_<P>,bytes_<P> for each protocol present. With --by protocol: time, offset, protocol, packets, bytes, bits_per_second, mean_length.
            """
    )

    @Argument(help: ArgumentHelp("A pcap or pcapng file, or - for the CSV that 'pktstat sniff --format csv' prints.", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("Interval length: 1, 0.1, 250ms, 5s, 1m (default 1); for charts also auto (their default: a round interval for at most about 1,000 points).", valueName: "time"))
    var interval: String?

    @Option(help: "Where intervals start: first (the first packet) or clock (wall-clock multiples).")
    var align: AlignOption = .first

    @Option(help: "Output: table, csv, json, svg, gnuplot or png (png needs -o and gnuplot).")
    var format: AnalyzeFormat = .table

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("'protocol': one row per interval and protocol (long format).", valueName: "protocol"))
    var by: AnalyzeLayout?

    @Flag(help: "Print the whole-capture summary (span, totals, rates, lengths, protocols, size buckets) instead of the series; JSON with --format json, else text.")
    var summary = false

    @Option(help: "Chart title (svg, gnuplot, png).")
    var title: String = "Packet size over time"

    @Option(help: "gnuplot terminal for --format gnuplot: svg, pngcairo, png or dumb.")
    var terminal: GnuplotTerminal = .svg

    @Option(name: .customLong("y-max"), help: ArgumentHelp("Top of the packet size axis in bytes (charts); longer packets are marked on its top edge.", valueName: "bytes"))
    var yMax: UInt32?

    @Flag(help: "A logarithmic packet size axis (charts).")
    var log = false

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax) applied to the file.", valueName: "expression"))
    var filter: String?

    func validate() throws {
        if ChartInterval.isAuto(interval) {
            if !format.isChart { throw ValidationError("--interval auto is for charts (svg, gnuplot, png); give rows a time, e.g. --interval 1") }
        } else {
            do { _ = try IntervalSpec(parsing: interval ?? "1") } catch { throw ValidationError("\(error.description); \(error.hint)") }
        }
        if format == .png && output == nil {
            throw ValidationError("--format png writes a file: add -o FILE.png")
        }
        if summary && format.isChart {
            throw ValidationError("--summary prints text or JSON: use it with --format table or json, not \(format.rawValue)")
        }
        if input == "-" && filter != nil {
            throw ValidationError("--filter works on capture files, not on CSV from standard input")
        }
    }

    func run() throws {
        let auto = format.isChart && (interval == nil || ChartInterval.isAuto(interval))
        let spec: IntervalSpec
        do { spec = try IntervalSpec(parsing: auto ? "1" : interval ?? "1") } catch { throw ValidationError(error.description) }
        do {
            try analyze(intervalNs: auto ? ChartInterval.autoAnalyzerNs : spec.nanoseconds, autoChart: auto)
        } catch let e as any CustomHintedError {
            Console.error(e.description, hint: e.hint)
            throw ExitCode(1)
        } catch let e as OutputError {
            if case .closedPipe = e { return }
            Console.error(e.description)
            throw ExitCode(1)
        }
    }

    private func analyze(intervalNs: Int64, autoChart: Bool) throws {
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        var session = SeriesSession(
            intervalNs: intervalNs, align: align == .clock ? .clock : .first, keepChart: format.isChart,
            keepIntervals: !format.isChart && !summary)
        if autoChart { session.chart = ChartBuffer(line: .auto) }
        // Opened before reading, so an unwritable path fails at once, not after a long file.
        let out = format.isChart ? nil : try ByteOutput.file(output ?? "-")
        let chart = format.isChart ? try ChartOutput.prepare(output) : nil

        var readError: (any Error)?
        do {
            if input == "-" {
                try CSVRecordInput.read(fd: 0, name: "standard input") { batch in
                    session.add(batch)
                    return !stop.isRequested
                }
            } else {
                try FileInput(path: input, filter: filter).stream(stop: stop, opened: { _ in }) { batch in
                    session.add(batch)
                    return true
                }
            }
        } catch {
            readError = error
        }
        // A damaged file: report what was readable, then the error (as sniff does).
        session.finish()
        let commandLine = (["pktstat"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let chartOptions = ChartOptions(
            title: title, originNs: autoChart ? nil : session.analyzer.anchorNs, yMax: yMax, logScale: log)
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
            let writer = SeriesWriter(
                format: format == .csv ? .csv : format == .json ? .json : .table,
                layout: by == nil ? .wide : .byProtocol,
                protocols: session.analyzer.protocolsSeen
            )
            writer.writeHeader(into: &out.buffer)
            try session.forEachInterval { s in
                writer.write(s, into: &out.buffer)
                try out.flushIfFull()
            }
            if let problem = session.stored.spillProblem {
                Console.line("warning: \(problem); intervals were kept in memory")
            }
        case .svg, .gnuplot, .png:
            // A chart file replaces the old one only when the input was read without error.
            guard let chart, readError == nil || !chart.replacesFile else { break }
            let kind: ChartOutput.Kind = format == .svg ? .svg : format == .png ? .png : .gp
            let request = ChartOutput.Request(kind: kind, terminal: terminal, options: chartOptions, commandLine: commandLine)
            try ChartOutput.write(session.chart, summary: session.analyzer.summary, request, to: chart)
        }
        try out?.flush()
        if let readError { throw readError }
    }
}

extension AnalyzeFormat {
    var isChart: Bool { self == .svg || self == .gnuplot || self == .png }
}

/// The analysis state of one run: the series, the closed intervals kept for printing, and the
/// chart buffer. Shared by `analyze` and `sniff --interval/--plot`.
struct SeriesSession {
    var analyzer: SeriesAnalyzer
    var chart = ChartBuffer()
    let keepChart: Bool
    /// Closed intervals that hold packets or drops, when `keepIntervals`; empty ones are re-made
    /// when printed.
    let stored = IntervalStore()
    let keepIntervals: Bool
    private(set) var lastIndex: Int64 = -1

    init(intervalNs: Int64, align: SeriesAnalyzer.Alignment, start: Int64? = nil, keepChart: Bool, keepIntervals: Bool) {
        analyzer = SeriesAnalyzer(intervalNs: intervalNs, align: align, start: start)
        self.keepChart = keepChart
        self.keepIntervals = keepIntervals
    }

    mutating func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        analyzer.add(batch)
        if keepChart { chart.add(batch) }
        collect()
    }

    /// Takes the intervals the analyzer closed; `body` sees each as it closes (live rows).
    mutating func collect(_ body: ((IntervalStats) -> Void)? = nil) {
        var closed: [IntervalStats] = []
        swap(&closed, &scratch)
        analyzer.takeClosed { closed.append($0) }
        hand(&closed, body)
    }

    /// Closes the intervals that end by `timeNs` (live: now minus the capture's delay).
    mutating func close(through timeNs: Int64, _ body: ((IntervalStats) -> Void)? = nil) {
        var closed: [IntervalStats] = []
        swap(&closed, &scratch)
        analyzer.closeIntervals(through: timeNs) { closed.append($0) }
        hand(&closed, body)
    }

    mutating func finish(_ body: ((IntervalStats) -> Void)? = nil) {
        var closed: [IntervalStats] = []
        swap(&closed, &scratch)
        analyzer.finish { closed.append($0) }
        hand(&closed, body)
    }

    /// Reused between batches so taking intervals allocates nothing in the steady state.
    private var scratch: [IntervalStats] = []

    private mutating func hand(_ closed: inout [IntervalStats], _ body: ((IntervalStats) -> Void)?) {
        for s in closed {
            keep(s)
            body?(s)
        }
        closed.removeAll(keepingCapacity: true)
        scratch = closed
    }

    private mutating func keep(_ s: IntervalStats) {
        if keepChart { chart.add(interval: s) }
        lastIndex = s.index
        if keepIntervals && (!s.isEmpty || !s.drops.isZero) { stored.append(s) }
    }

    /// Hands out every interval from the first to the last, empty ones included, in order
    /// (empty ones are made on the fly, never stored).
    func forEachInterval(_ body: (IntervalStats) throws -> Void) throws {
        guard let anchor = analyzer.anchorNs, lastIndex >= 0 else { return }
        let intervalNs = analyzer.intervalNs
        var k: Int64 = 0
        func emptyUpTo(_ end: Int64) throws {
            while k < end {
                try body(IntervalStats(index: k, startNs: anchor &+ k &* intervalNs, intervalNs: intervalNs))
                k += 1
            }
        }
        try stored.forEach { s in
            try emptyUpTo(s.index)
            try body(s)
            k = s.index + 1
        }
        try emptyUpTo(lastIndex + 1)
    }
}
