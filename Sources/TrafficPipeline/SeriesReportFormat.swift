public import OutputSinks
public import Rendering

/// `analyze --format`: the series (or the summary) as text, or a chart.
public enum SeriesReportFormat: String, CaseIterable, Sendable {
    case csv, json, table, svg, gnuplot, png

    public var isChart: Bool { self == .svg || self == .gnuplot || self == .png }
    /// The text format of the table, CSV and JSON cases; nil for charts.
    public var text: TextFormat? { TextFormat(rawValue: rawValue) }

    /// Why `analyze` cannot write this format with these options, in the words of the options;
    /// nil when it can.
    public func problem(autoInterval: Bool, output: String?, summary: Bool) -> String? {
        if autoInterval && !isChart {
            return "--interval auto is for charts (svg, gnuplot, png); give rows a time, e.g. --interval 1"
        }
        if self == .png && output == nil { return "--format png writes a file: add -o FILE.png" }
        if summary && isChart {
            return "--summary prints text or JSON: use it with --format table or json, not \(rawValue)"
        }
        return nil
    }
}

extension SeriesReport.Output {
    /// What `format` writes to `path` (nil or "-": standard output), opened before anything is
    /// read so that an unwritable path fails at once: a chart (`terminal` for gnuplot scripts,
    /// `autoInterval`: the chart's own interval), else the summary when `summary`, else rows.
    public static func open(
        _ format: SeriesReportFormat, to path: String?, summary: Bool, layout: SeriesLayout,
        terminal: GnuplotTerminal, chart: ChartOptions, commandLine: String, autoInterval: Bool
    ) throws(OutputError) -> SeriesReport.Output {
        if format.isChart {
            let kind: ChartOutput.Kind = format == .svg ? .svg : format == .png ? .png : .gp
            let request = ChartOutput.Request(kind: kind, terminal: terminal, options: chart, commandLine: commandLine)
            return .chart(try ChartOutput.prepare(path), request, autoInterval: autoInterval)
        }
        if summary { return .summary(try ByteOutput.file(path ?? "-"), json: format == .json) }
        return .rows(try ByteOutput.file(path ?? "-"), format.text ?? .table, layout)
    }
}
