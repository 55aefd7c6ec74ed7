public import OutputSinks
import PacketRecords
public import Rendering
public import TrafficAnalysis

/// `analyze`'s run: a capture read into a `SeriesSession`, then written as rows, a summary or a
/// chart. Rows stream (empty intervals are made as they are written); a chart file replaces the
/// old one only when the input was read without error; a damaged input writes what was readable,
/// then its error is thrown.
public struct SeriesReport {
    public enum Output {
        /// The series as rows (table, CSV, JSON), wide or one row per protocol.
        case rows(ByteOutput, TextFormat, SeriesLayout)
        /// The whole-capture summary: JSON, else text.
        case summary(ByteOutput, json: Bool)
        /// A chart; its options' origin is set to the series anchor unless `autoInterval`.
        case chart(ChartOutput.Destination, ChartOutput.Request, autoInterval: Bool)
    }

    /// Above this many rows the report warns before printing them.
    public static let rowWarning: UInt64 = 10_000_000

    public var intervalNs: Int64
    public var align: SeriesAnalyzer.Alignment = .first
    public var output: Output
    /// The interval as the user wrote it, for the row warning.
    public var intervalText: String

    public init(intervalNs: Int64, align: SeriesAnalyzer.Alignment, output: Output, intervalText: String) {
        self.intervalNs = intervalNs
        self.align = align
        self.output = output
        self.intervalText = intervalText
    }

    /// Reads `source`, writes the output; warnings go to `report`.
    public func run(_ source: FileSource, report: (String) -> Void) throws {
        var keepChart = false
        var autoChart = false
        var keepIntervals = false
        switch output {
        case .rows: keepIntervals = true
        case .summary: break
        case .chart(_, _, let auto):
            keepChart = true
            autoChart = auto
        }
        var session = SeriesSession(
            intervalNs: intervalNs, align: align, late: .binned, keepChart: keepChart,
            keepIntervals: keepIntervals, chart: autoChart ? ChartBuffer(line: .auto) : ChartBuffer())
        let readError = try FileRun.read(source) { batch in
            session.add(batch)
            return true
        }
        session.finish()
        let beyond = session.analyzer.summary.beyondLimitPackets
        if beyond > 0 {
            report(
                "warning: \(beyond) packet\(beyond == 1 ? "" : "s") lie more than 292 years from the first one and "
                    + "are in no interval; check the capture's timestamps")
        }
        switch output {
        case .summary(let out, let json):
            if json {
                SummaryWriter.json(session.analyzer.summary, into: &out.buffer)
            } else {
                SummaryWriter.text(session.analyzer.summary, into: &out.buffer)
            }
            try out.commit()
        case .rows(let out, let format, let layout):
            try writeRows(session, format: format, layout: layout, to: out, report: report)
            try out.commit()
        case .chart(let destination, var request, let auto):
            guard readError == nil || !destination.replacesFile else { break }
            if !auto { request.options.originNs = session.analyzer.anchorNs }
            try ChartOutput.write(session.chart, summary: session.analyzer.summary, request, to: destination)
        }
        if let readError { throw readError }
    }

    /// The series rows, streamed; a stop signal ends them early.
    private func writeRows(
        _ session: SeriesSession, format: TextFormat, layout: SeriesLayout, to out: ByteOutput,
        report: (String) -> Void
    ) throws {
        let seen = session.analyzer.protocolsSeen
        let writer = SeriesWriter(format: format, layout: layout, protocols: seen)
        let rows = session.rowCount * UInt64(layout == .wide ? 1 : max(1, seen.count))
        if rows > Self.rowWarning {
            report(
                "warning: printing \(rows) rows (--interval \(intervalText) from the first packet to the last); "
                    + "use a larger --interval (for example 1m) for fewer")
        }
        writer.writeHeader(into: &out.buffer)
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        struct Stopped: Error {}
        do {
            try session.forEachInterval { s in
                writer.write(s, into: &out.buffer)
                try out.flushIfFull()
                if stop.isRequested { throw Stopped() }
            }
        } catch is Stopped {}
        if let problem = session.spillProblem { report("warning: \(problem); intervals were kept in memory") }
    }
}
