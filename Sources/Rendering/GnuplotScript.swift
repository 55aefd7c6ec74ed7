public import TrafficAnalysis
import PacketWire

/// gnuplot output terminals.
public enum GnuplotTerminal: String, Sendable, CaseIterable {
    /// SVG (`set terminal svg`).
    case svg
    /// PNG through cairo (`pngcairo`), anti-aliased; not in every gnuplot build.
    case pngcairo
    /// PNG through libgd (`png`).
    case png
    /// Text in the terminal (`dumb`).
    case dumb
}

/// Options of the generated script, on top of the chart's.
public struct GnuplotOptions: Sendable {
    public var terminal: GnuplotTerminal
    /// The file gnuplot writes; nil writes to gnuplot's standard output.
    public var output: String?
    /// The command line that made the script, for the header comment.
    public var commandLine: String
    /// Terminal size in characters for `dumb`.
    public var dumbColumns: Int
    public var dumbRows: Int

    public init(terminal: GnuplotTerminal, output: String? = nil, commandLine: String = "", dumbColumns: Int = 120, dumbRows: Int = 40) {
        self.terminal = terminal
        self.output = output
        self.commandLine = commandLine
        self.dumbColumns = max(40, dumbColumns)
        self.dumbRows = max(16, dumbRows)
    }
}

/// Writes one self-contained gnuplot script: the same bytes are saved as `FILE.gp` (run it with
/// `gnuplot FILE.gp`) or fed to a `gnuplot` process on its standard input (`--format png`).
///
/// The header comment names the command line and summarises the capture. The data is inline:
/// `$points` holds the scatter (one block per protocol, `index` N; columns time, lowest and highest
/// wire length of a mark, equal for a single packet), `$data` the bytes per interval (time, bytes).
/// Both come from the same `ChartBuffer` reduction as the SVG chart, so the script stays small for
/// any capture. Every string gnuplot reads (title, labels, output name) is written as a
/// double-quoted string with `\` `"` newline, tab, carriage return and the backtick escaped (an
/// unescaped backtick inside double quotes runs a shell command in gnuplot), other control
/// characters as octal escapes. Comment text is quoted and escaped too: a comment line ending in a
/// backslash would swallow the next line.
public enum GnuplotScript {
    /// The script, as bytes.
    public static func script(
        _ chart: ChartBuffer, summary: Summary, chartOptions: ChartOptions = ChartOptions(), options: GnuplotOptions
    ) -> [UInt8] {
        var out: [UInt8] = []
        write(chart, summary: summary, chartOptions: chartOptions, options: options, into: &out)
        return out
    }

    /// Appends the script to `out`.
    public static func write(
        _ chart: ChartBuffer, summary: Summary, chartOptions: ChartOptions, options: GnuplotOptions, into out: inout [UInt8]
    ) {
        let frame = ChartFrame(chart, chartOptions)
        let clock = chartOptions.timeLabels == .clock

        out.append(ascii: "# pktstat chart script: run it with gnuplot FILE, or feed it to gnuplot on stdin.\n# title: ")
        appendQuoted(chartOptions.title, into: &out)
        out.append(ascii: "\n# command: ")
        appendQuoted(options.commandLine, into: &out)
        out.append(ascii: "\n# capture: ")
        appendQuoted(ChartText.summaryLine(summary), into: &out)
        out.append(ascii: "\n")
        if chart.packets > 0 && !chart.isExact {
            out.append(ascii: "# points: reduced per column to runs of packet sizes, from ")
            out.append(decimal: chart.packets)
            out.append(ascii: " packets\n")
        }
        out.append(ascii: "\nset encoding utf8\n")
        switch options.terminal {
        case .svg:
            out.append(ascii: "set terminal svg size ")
            appendSize(chartOptions, into: &out)
            out.append(ascii: " dynamic font \"sans,10\" background rgb \"white\"\n")
        case .pngcairo:
            out.append(ascii: "set terminal pngcairo size ")
            appendSize(chartOptions, into: &out)
            out.append(ascii: " font \"sans,9\" background rgb \"white\"\n")
        case .png:
            out.append(ascii: "set terminal png size ")
            appendSize(chartOptions, into: &out)
            out.append(ascii: " background rgb \"white\"\n")
        case .dumb:
            out.append(ascii: "set terminal dumb size ")
            out.append(decimal: UInt64(options.dumbColumns))
            out.append(UInt8(ascii: ","))
            out.append(decimal: UInt64(options.dumbRows))
            out.append(ascii: "\n")
        }
        out.append(ascii: "set termoption noenhanced\n")
        if let output = options.output {
            out.append(ascii: "set output ")
            appendQuoted(output, into: &out)
            out.append(ascii: "\n")
        }

        if frame.isEmpty {
            out.append(ascii: "set title ")
            appendQuoted(chartOptions.title, into: &out)
            out.append(ascii: "\nset label 1 \"No packets captured\" at graph 0.5, graph 0.5 center\n")
            out.append(ascii: "unset key\nunset tics\nset xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n")
            if options.output != nil { out.append(ascii: "unset output\n") }
            return
        }

        // Data.
        let marks = chart.pointMarks(
            fromNs: frame.fromNs, toNs: frame.toNs, xColumns: 1000, yMax: frame.sizeMax, yRows: 400,
            maxMarks: chartOptions.maxMarks)
        var blocks: [ProtocolLabel] = []
        out.append(ascii: "\n$points << EOD\n")
        var i = 0
        while i < marks.count {
            let label = marks[i].label
            if !blocks.isEmpty { out.append(ascii: "\n\n") }
            blocks.append(label)
            out.append(ascii: "# ")
            out.append(ascii: label.asciiName)
            out.append(UInt8(ascii: "\n"))
            while i < marks.count, marks[i].label == label {
                appendTime(marks[i].timeNs, frame: frame, clock: clock, into: &out)
                out.append(UInt8(ascii: " "))
                out.append(decimal: UInt64(marks[i].low))
                out.append(UInt8(ascii: " "))
                out.append(decimal: UInt64(marks[i].high))
                out.append(UInt8(ascii: "\n"))
                i += 1
            }
        }
        out.append(ascii: "EOD\n")
        let line = chart.linePoints(fromNs: frame.fromNs, toNs: frame.toNs, xColumns: 1000)
        out.append(ascii: "\n$data << EOD\n")
        for p in line {
            appendTime(p.timeNs, frame: frame, clock: clock, into: &out)
            out.append(UInt8(ascii: " "))
            out.append(decimal: p.bytes)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(ascii: "EOD\n\n")

        // Axes.
        if clock {
            out.append(ascii: "set xdata time\nset timefmt \"%s\"\nset format x \"%H:%M:%S\"\n")
            out.append(ascii: "set xrange [")
            appendTime(frame.fromNs, frame: frame, clock: true, into: &out)
            out.append(UInt8(ascii: ":"))
            appendTime(frame.toNs, frame: frame, clock: true, into: &out)
            out.append(ascii: "]\n")
        } else {
            out.append(ascii: "set xrange [")
            out.appendFixed(frame.x0, decimals: 9)
            out.append(UInt8(ascii: ":"))
            out.appendFixed(frame.x1, decimals: 9)
            out.append(ascii: "]\n")
        }
        out.append(ascii: "set grid\nset key outside right top Left reverse samplen 1\nset lmargin 10\n")
        out.append(ascii: options.terminal == .dumb ? "set rmargin 26\n" : "set rmargin 22\n")
        out.append(ascii: "set multiplot title ")
        appendQuoted(chartOptions.title, into: &out)
        out.append(ascii: "\n\n# Packet size over time.\nset origin 0,0.33\nset size 1,0.62\nset yrange [0:")
        out.appendFixed(frame.sizeMax, decimals: 0)
        out.append(ascii: "]\nset ylabel \"packet size (bytes)\"\nunset xlabel\n")
        out.append(ascii: "plot ")
        if blocks.isEmpty { out.append(ascii: "NaN notitle") }
        for (k, label) in blocks.enumerated() {
            if k > 0 { out.append(ascii: ", \\\n     ") }
            let color = ChartText.color(label)
            var title: [UInt8] = []
            title.append(ascii: label.asciiName)
            title.append(ascii: " (")
            title.append(decimal: chart.protocolPackets[label])
            title.append(UInt8(ascii: ")"))
            // Lowest length (titled), highest length, and the run between them.
            out.append(ascii: "$points index ")
            out.append(decimal: UInt64(k))
            out.append(ascii: " using 1:2 with points pt 7 ps 0.35 lc rgb \"")
            out.appendUTF8(color)
            out.append(ascii: "\" title ")
            appendQuoted(String(decoding: title, as: UTF8.self), into: &out)
            out.append(ascii: ", \\\n     $points index ")
            out.append(decimal: UInt64(k))
            out.append(ascii: " using 1:3 with points pt 7 ps 0.35 lc rgb \"")
            out.appendUTF8(color)
            out.append(ascii: "\" notitle, \\\n     $points index ")
            out.append(decimal: UInt64(k))
            out.append(ascii: " using 1:2:(0):($3-$2) with vectors nohead lw 2 lc rgb \"")
            out.appendUTF8(color)
            out.append(ascii: "\" notitle")
        }
        out.append(ascii: "\n\n# Bytes per interval.\nset origin 0,0\nset size 1,0.36\nset yrange [0:")
        out.appendFixed(frame.bytesMax, decimals: 0)
        let per = chart.intervalNs > 0 ? "bytes per \(IntervalSpec.describe(chart.intervalNs))" : "bytes per interval"
        out.append(ascii: "]\nset format y \"%.1s%c\"\nset ylabel ")
        appendQuoted(per, into: &out)
        out.append(ascii: "\nset xlabel ")
        appendQuoted(frame.timeAxisTitle(chartOptions.timeLabels, intervalNs: chart.intervalNs), into: &out)
        out.append(ascii: "\nplot ")
        if line.isEmpty {
            out.append(ascii: "NaN notitle\n")
        } else {
            out.append(ascii: "$data using 1:2 with linespoints pt 7 ps 0.3 lc rgb \"#333333\" title ")
            appendQuoted(per, into: &out)
            out.append(ascii: "\n")
        }
        out.append(ascii: "unset multiplot\n")
        if options.output != nil { out.append(ascii: "unset output\n") }
    }

    /// Appends `s` as a gnuplot double-quoted string, quotes included.
    public static func appendQuoted(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out.append(ascii: "\\\\")
            case UInt8(ascii: "\""): out.append(ascii: "\\\"")
            case UInt8(ascii: "`"): out.append(ascii: "\\`")
            case 0x0A: out.append(ascii: "\\n")
            case 0x09: out.append(ascii: "\\t")
            case 0x0D: out.append(ascii: "\\r")
            case 0..<0x20, 0x7F:
                out.append(UInt8(ascii: "\\"))
                out.append(0x30 + (b >> 6))
                out.append(0x30 + ((b >> 3) & 7))
                out.append(0x30 + (b & 7))
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `s` as a gnuplot double-quoted string.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        appendQuoted(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendSize(_ o: ChartOptions, into out: inout [UInt8]) {
        out.append(decimal: UInt64(o.width))
        out.append(UInt8(ascii: ","))
        out.append(decimal: UInt64(o.height))
    }

    /// A time column: seconds from the origin, or epoch seconds for clock labels (exact decimals).
    private static func appendTime(_ t: Int64, frame: ChartFrame, clock: Bool, into out: inout [UInt8]) {
        if clock {
            out.appendSeconds(ns: t)
        } else {
            let (d, o) = t.subtractingReportingOverflow(frame.originNs)
            if o { out.appendFixed((Double(t) - Double(frame.originNs)) / 1e9, decimals: 9) } else { out.appendSeconds(ns: d) }
        }
    }
}
