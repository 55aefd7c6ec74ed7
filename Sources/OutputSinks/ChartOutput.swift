import Glibc
public import Rendering
public import TrafficAnalysis

/// The one way a chart leaves pktstat, for `analyze --format svg|gnuplot|png` and `sniff --plot`:
/// our SVG, a gnuplot script, or a PNG that gnuplot draws from that script. A chart file is written
/// to a temporary file next to it and renamed into place only when it is complete (`AtomicFile`);
/// the commands make the chart only when the input was read without error.
public enum ChartOutput {
    public enum Kind: String, CaseIterable, Sendable {
        case svg, gp, png
    }

    /// What to draw and how.
    public struct Request {
        public var kind: Kind
        /// The gnuplot terminal of a `.gp` script (a PNG picks its own).
        public var terminal: GnuplotTerminal = .svg
        public var options: ChartOptions
        public var commandLine: String

        public init(kind: Kind, terminal: GnuplotTerminal = .svg, options: ChartOptions, commandLine: String) {
            self.kind = kind
            self.terminal = terminal
            self.options = options
            self.commandLine = commandLine
        }
    }

    public static func kind(of path: String) -> Kind? {
        guard let dot = path.lastIndex(of: ".") else { return nil }
        return Kind(rawValue: path[path.index(after: dot)...].lowercased())
    }

    /// Where a chart goes: standard output, a regular file replaced whole (`AtomicFile`), or
    /// something that is not a regular file (a pipe, `/dev/stdout`), written in place.
    public enum Destination {
        case standardOutput
        case file(AtomicFile)
        case inPlace(String)
    }

    /// The chart's destination, made before the input is read so that an unwritable folder fails
    /// at once. A symbolic link is followed: its target is replaced, the link stays; a link into
    /// `/proc` (`/dev/stdout`) or anything but a regular file is written in place.
    public static func prepare(_ path: String?) throws(OutputError) -> Destination {
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
    public static func write(_ chart: ChartBuffer, summary: Summary, _ request: Request, to destination: Destination)
        throws
    {
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
    public var replacesFile: Bool {
        if case .file = self { return true }
        return false
    }

    var inPlacePath: String? {
        if case .inPlace(let p) = self { return p }
        return nil
    }
}

/// `--interval` of a chart: `auto` (a round interval for at most about 1,000 points), or a time.
public enum ChartInterval {
    /// The analyzer's interval under `auto`: the chart bins the packets itself, so the series only
    /// needs to be cheap.
    public static let autoAnalyzerNs: Int64 = 3_600_000_000_000

}

/// A chart that cannot go where it was asked to.
public enum ChartOutputError: Error, CustomStringConvertible {
    case pngNeedsFile

    public var description: String { "a PNG chart cannot go to standard output" }
    public var hint: String? { "write it to a file with -o FILE.png, or use --format svg" }
}
