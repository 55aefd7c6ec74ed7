import ArgumentParser
import Glibc
import OutputSinks
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

    /// Where a chart goes: standard output, a regular file replaced whole (`AtomicFile`), or
    /// something that is not a regular file (a pipe, `/dev/stdout`), written in place.
    enum Destination {
        case standardOutput
        case file(AtomicFile)
        case inPlace(String)
    }

    /// The chart's destination, made before the input is read so that an unwritable folder fails
    /// at once. A symbolic link is followed: its target is replaced, the link stays; a link into
    /// `/proc` (`/dev/stdout`) or anything but a regular file is written in place.
    static func prepare(_ path: String?) throws(OutputError) -> Destination {
        guard let path, path != "-" else { return .standardOutput }
        var info = stat()
        guard lstat(path, &info) == 0 else { return .file(try AtomicFile(path)) }
        var target = path
        if info.st_mode & S_IFMT == S_IFLNK {
            guard let real = realpath(path, nil) else { return .inPlace(path) }
            target = String(cString: real)
            free(real)
            guard !target.hasPrefix("/proc/"), stat(target, &info) == 0 else { return .inPlace(path) }
        }
        return info.st_mode & S_IFMT == S_IFREG ? .file(try AtomicFile(target)) : .inPlace(path)
    }

    /// Writes the chart to its destination (a file is renamed into place when complete).
    static func write(_ chart: ChartBuffer, summary: Summary, _ request: Request, to destination: Destination) throws {
        if request.kind == .png {
            let path: String
            switch destination {
            case .standardOutput: throw ChartOutputError.pngNeedsFile
            case .file(let f): path = f.temporaryPath
            case .inPlace(let p): path = p
            }
            let script = GnuplotScript.script(
                chart, summary: summary, chartOptions: request.options,
                options: GnuplotOptions(terminal: Gnuplot.pngTerminal(), output: path, commandLine: request.commandLine)
            )
            if case .file(let f) = destination {
                try Gnuplot.run(script: script, output: path, name: f.path)
                try f.commit()
            } else {
                try Gnuplot.run(script: script, output: nil, name: path)
            }
            return
        }
        let bytes =
            request.kind == .svg
            ? SVGChart.render(chart, summary: summary, options: request.options)
            : GnuplotScript.script(
                chart, summary: summary, chartOptions: request.options,
                options: GnuplotOptions(terminal: request.terminal, output: nil, commandLine: request.commandLine))
        switch destination {
        case .file(let f):
            try f.write(bytes)
            try f.commit()
        case .standardOutput, .inPlace:
            let out = try ByteOutput.file(destination.inPlacePath ?? "-")
            out.buffer = bytes
            try out.commit()
        }
    }
}

extension ChartOutput.Destination {
    /// A regular file, replaced only by a complete chart.
    var replacesFile: Bool {
        if case .file = self { return true }
        return false
    }

    var inPlacePath: String? {
        if case .inPlace(let p) = self { return p }
        return nil
    }
}

/// `--interval` of a chart: `auto` (a round interval for at most about 1,000 points), or a time.
enum ChartInterval {
    /// The analyzer's interval under `auto`: the chart bins the packets itself, so the series only
    /// needs to be cheap.
    static let autoAnalyzerNs: Int64 = 3_600_000_000_000

}

/// A chart that cannot go where it was asked to.
enum ChartOutputError: Error, CustomHintedError {
    case pngNeedsFile

    var description: String { "a PNG chart cannot go to standard output" }
    var hint: String? { "write it to a file with -o FILE.png, or use --format svg" }
}

/// `--title`, `--y-max`, `--log`: how a chart looks, for `analyze` (svg, gnuplot, png) and
/// `sniff --plot`.
struct ChartLookOptions: ParsableArguments {
    @Option(help: "Chart title (analyze --format svg/gnuplot/png, sniff --plot).")
    var title: String = "Packet size over time"

    @Option(
        name: .customLong("y-max"),
        help: ArgumentHelp(
            "Top of the chart's packet size axis in bytes; longer packets are marked on its top edge.",
            valueName: "bytes"))
    var yMax: UInt32?

    @Flag(help: "A logarithmic packet size axis on the chart.")
    var log = false

    /// The chart options; `originNs` nil: the axis starts at the first packet (`--interval auto`).
    func options(originNs: Int64?) -> ChartOptions {
        ChartOptions(title: title, originNs: originNs, yMax: yMax, logScale: log)
    }
}
