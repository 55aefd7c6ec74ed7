import Rendering
import TrafficAnalysis

/// The one way a chart leaves pktstat, for `analyze --format svg|gnuplot|png` and `sniff --plot`:
/// our SVG, a gnuplot script, or a PNG that gnuplot draws from that script. A chart file is written
/// to a temporary file next to it and renamed into place only when it is complete (`AtomicFile`);
/// the commands make the chart only when the input was read without error.
enum ChartOutput {
    enum Kind: String, CaseIterable {
        case svg, gp, png
    }

    /// What to draw and how.
    struct Request {
        var kind: Kind
        /// The gnuplot terminal of a `.gp` script (a PNG picks its own).
        var terminal: GnuplotTerminal = .svg
        var options: ChartOptions
        var commandLine: String
    }

    static func kind(of path: String) -> Kind? {
        guard let dot = path.lastIndex(of: ".") else { return nil }
        return Kind(rawValue: path[path.index(after: dot)...].lowercased())
    }

    /// The chart's file, made before the input is read so that an unwritable folder fails at once;
    /// nil for standard output (no path, or `-`).
    static func prepare(_ path: String?) throws(OutputError) -> AtomicFile? {
        guard let path, path != "-" else { return nil }
        return try AtomicFile(path)
    }

    /// Writes the chart to `file` (renamed into place when complete), or to standard output.
    static func write(_ chart: ChartBuffer, summary: Summary, _ request: Request, to file: AtomicFile?) throws {
        let bytes: [UInt8]
        switch request.kind {
        case .svg:
            bytes = SVGChart.render(chart, summary: summary, options: request.options)
        case .gp:
            bytes = GnuplotScript.script(
                chart, summary: summary, chartOptions: request.options,
                options: GnuplotOptions(terminal: request.terminal, output: nil, commandLine: request.commandLine))
        case .png:
            guard let file else { throw ChartOutputError.pngNeedsFile }
            let script = GnuplotScript.script(
                chart, summary: summary, chartOptions: request.options,
                options: GnuplotOptions(
                    terminal: Gnuplot.pngTerminal(), output: file.temporaryPath, commandLine: request.commandLine))
            try Gnuplot.run(script: script, output: file.temporaryPath, name: file.path)
            try file.commit()
            return
        }
        if let file {
            try file.write(bytes)
            try file.commit()
        } else {
            let out = ByteOutput.standardOutput()
            out.buffer = bytes
            try out.flush()
        }
    }
}

/// `--interval` of a chart: `auto` (a round interval for at most about 1,000 points), or a time.
enum ChartInterval {
    /// The analyzer's interval under `auto`: the chart bins the packets itself, so the series only
    /// needs to be cheap.
    static let autoAnalyzerNs: Int64 = 3_600_000_000_000

    static func isAuto(_ text: String?) -> Bool { text?.lowercased() == "auto" }
}

/// A chart that cannot go where it was asked to.
enum ChartOutputError: Error, CustomHintedError {
    case pngNeedsFile

    var description: String { "a PNG chart cannot go to standard output" }
    var hint: String? { "write it to a file with -o FILE.png, or use --format svg" }
}
