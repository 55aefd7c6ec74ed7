public import OutputSinks
public import Rendering
public import TrafficAnalysis

/// What `sniff` prints and charts: packet rows, or a row per interval (`--interval`), or neither
/// (-q, -w without --print); and the `--plot` chart.
public struct SniffOutput: Sendable {
    public var format: TextFormat = .table
    /// Rows are printed at all.
    public var printing = true
    /// A row per interval as it closes instead of one per packet; nil: packet rows, and the
    /// chart's own round interval (`auto`).
    public var intervalNs: Int64?
    public var align: SeriesAnalyzer.Alignment = .first
    /// The chart file (.svg, .gp or .png), or nil.
    public var plot: String?
    /// How the chart looks; its time origin is set here (the first interval's start, or with the
    /// chart's own interval its first packet).
    public var chart: ChartOptions
    /// The command line, for the chart's comments.
    public var commandLine: String

    public init(chart: ChartOptions, commandLine: String) {
        self.chart = chart
        self.commandLine = commandLine
    }
}

extension SniffConsumer {
    /// The consumer of `output`: `live`, intervals start at the capture's start and rows carry drops.
    public convenience init(out: ByteOutput, _ output: SniffOutput, live: Bool) {
        let intervalNs = output.intervalNs
        var session: SeriesSession?
        if intervalNs != nil || output.plot != nil {
            session = SeriesSession(
                intervalNs: intervalNs ?? ChartInterval.autoAnalyzerNs, align: output.align,
                start: live ? LivePipeline.realtimeNow() : nil, late: .counted,
                keepChart: output.plot != nil, keepIntervals: false,
                chart: intervalNs == nil ? ChartBuffer(line: .auto) : ChartBuffer())
        }
        self.init(
            out: out,
            packetRows: output.printing && intervalNs == nil ? RecordWriter(format: output.format) : nil,
            seriesRows: output.printing && intervalNs != nil
                ? SeriesWriter(format: output.format, protocols: .all, includeDrops: live) : nil,
            session: session)
    }

    /// Writes the `--plot` chart (after the capture, as the user the run is by then); false
    /// without one.
    public func writeChart(_ output: SniffOutput) throws -> Bool {
        guard let plot = output.plot, let session else { return false }
        var options = output.chart
        options.originNs = output.intervalNs == nil ? nil : session.analyzer.anchorNs
        let request = ChartOutput.Request(
            kind: ChartOutput.kind(of: plot) ?? .svg, options: options, commandLine: output.commandLine)
        try ChartOutput.write(session.chart, summary: session.analyzer.summary, request, to: ChartOutput.prepare(plot))
        return true
    }

    /// `sniff -r`: one file, several merged by time, or standard input, read into the rows. Once
    /// the input is open, privileges are dropped (`relinquish`, as `-Z`) and, when `announce`,
    /// tcpdump's "reading from file" line goes to `report`; then the closing lines. A failed write
    /// of the rows is thrown before the damage a read met (a closed pipe is not an error).
    public func readFiles(
        _ source: FileSource, relinquish: String?, announce: Bool, report: (String) -> Void
    ) throws {
        let paths = source.paths
        let name = paths.count == 1 ? paths[0] : "\(paths[0]) and \(paths.count - 1) more"
        let readError = try FileRun.read(
            source,
            opened: { file in
                try Privileges.relinquish(explicit: relinquish)
                if announce {
                    report(
                        "reading from file \(name), link-type \(file.linkTypeName) (\(file.linkTypeDescription)), snapshot length \(file.snapLength)"
                    )
                }
                begin(linkTypeName: file.linkTypeName)
            }, read)
        end()
        for line in closingLines { report(line) }
        if let e = outputError, case .writeFailed = e { throw e }
        if let readError { throw readError }
    }
}
