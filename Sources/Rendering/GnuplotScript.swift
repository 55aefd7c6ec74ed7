import PacketWire
public import TrafficAnalysis

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

    public init(
        terminal: GnuplotTerminal, output: String? = nil, commandLine: String = "", dumbColumns: Int = 120,
        dumbRows: Int = 40
    ) {
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
/// The header comment names the command line, summarises the capture and carries the chart's
/// notes. The data is inline, time in seconds from the origin: `$points` holds the scatter (one
/// block per protocol, `index` N; columns time, lowest and highest wire length of a mark, equal
/// for a single packet, cut at the top of the size axis), `$outliers` where packets are longer
/// than the axis, `$data` the bytes line (time, bytes) and `$scaled` its partial bins. The time
/// ticks are written out as labels (`set xtics ("14:00" 3600, ...)`), the same ticks as the SVG
/// chart's, clock time and dates included. Everything comes from the same `ChartBuffer` reduction
/// as the SVG chart, so the script stays small for any capture. In the `dumb` terminal each
/// protocol is drawn with its own character (`ChartText.character`). Every string gnuplot reads
/// (title, labels, output name) is written as a double-quoted string with `\` `"` newline, tab,
/// carriage return and the backtick escaped (an unescaped backtick inside double quotes runs a
/// shell command in gnuplot), other control characters as octal escapes. Comment text is quoted
/// and escaped too: a comment line ending in a backslash would swallow the next line.
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
        _ chart: ChartBuffer, summary: Summary, chartOptions: ChartOptions, options: GnuplotOptions,
        into out: inout [UInt8]
    ) {
        let frame = ChartFrame(chart, chartOptions)
        header(chart, summary: summary, frame: frame, chartOptions: chartOptions, options: options, into: &out)
        terminal(chartOptions, options, into: &out)
        if frame.isEmpty {
            out.append(ascii: "set title ")
            appendQuoted(chartOptions.title, into: &out)
            out.append(ascii: "\nset label 1 \"No packets captured\" at graph 0.5, graph 0.5 center\n")
            out.append(ascii: "unset key\nunset tics\nset xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n")
            if options.output != nil { out.append(ascii: "unset output\n") }
            return
        }
        let data = pointsData(chart, frame: frame, maxMarks: chartOptions.maxMarks, into: &out)
        lineData(frame, into: &out)
        axes(frame, chartOptions: chartOptions, terminal: options.terminal, into: &out)
        sizePlot(chart, frame: frame, data: data, dumb: options.terminal == .dumb, into: &out)
        bytesPlot(frame, into: &out)
        out.append(ascii: "unset multiplot\n")
        if options.output != nil { out.append(ascii: "unset output\n") }
    }

    // MARK: parts

    private static func header(
        _ chart: ChartBuffer, summary: Summary, frame: ChartFrame, chartOptions: ChartOptions, options: GnuplotOptions,
        into out: inout [UInt8]
    ) {
        out.append(ascii: "# pktstat chart script: run it with gnuplot FILE, or feed it to gnuplot on stdin.\n")
        out.append(ascii: "# title: ")
        appendQuoted(chartOptions.title, into: &out)
        out.append(ascii: "\n# command: ")
        appendQuoted(options.commandLine, into: &out)
        out.append(ascii: "\n# capture: ")
        appendQuoted(ChartText.summaryLine(summary), into: &out)
        out.append(ascii: "\n")
        for note in ChartText.notes(chart, frame) {
            out.append(ascii: "# note: ")
            appendQuoted(note, into: &out)
            out.append(ascii: "\n")
        }
    }

    private static func terminal(_ chartOptions: ChartOptions, _ options: GnuplotOptions, into out: inout [UInt8]) {
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
    }

    /// What the size plot needs: the protocols of the `$points` blocks, in order, and whether
    /// `$outliers` has rows.
    struct PointsData {
        var blocks: [ProtocolLabel] = []
        var hasOutliers = false
    }

    /// `$points`: one block per protocol (time, lowest and highest length of a mark, cut at the top
    /// of the size axis); `$outliers`: where packets are longer than the axis.
    private static func pointsData(
        _ chart: ChartBuffer, frame: ChartFrame, maxMarks: Int, into out: inout [UInt8]
    ) -> PointsData {
        let size = frame.size
        let marks = chart.pointMarks(fromNs: frame.fromNs, toNs: frame.toNs, xColumns: 1000, maxMarks: maxMarks) {
            Int((size.fraction(Double($0)) * 400).rounded(.down))
        }
        var data = PointsData()
        var above: [Int64] = []
        out.append(ascii: "\n$points << EOD\n")
        for m in marks {
            if Double(m.high) > size.high { above.append(m.timeNs) }
            guard Double(m.low) <= size.high else { continue }
            if data.blocks.last != m.label {
                if !data.blocks.isEmpty { out.append(ascii: "\n\n") }
                data.blocks.append(m.label)
                out.append(ascii: "# ")
                out.append(ascii: m.label.asciiName)
                out.append(UInt8(ascii: "\n"))
            }
            appendTime(m.timeNs, frame: frame, into: &out)
            out.append(UInt8(ascii: " "))
            out.appendFixed(max(Double(m.low), size.low), decimals: 0)
            out.append(UInt8(ascii: " "))
            out.appendFixed(max(min(Double(m.high), size.high), size.low), decimals: 0)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(ascii: "EOD\n\n$outliers << EOD\n")
        for t in Set(above).sorted() {
            appendTime(t, frame: frame, into: &out)
            out.append(UInt8(ascii: " "))
            out.appendFixed(size.high, decimals: 0)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(ascii: "EOD\n")
        data.hasOutliers = !above.isEmpty
        return data
    }

    /// `$data`: the bytes line (time, bytes); `$scaled`: its partial bins, scaled to whole ones.
    private static func lineData(_ frame: ChartFrame, into out: inout [UInt8]) {
        for (name, scaled) in [("$data", false), ("$scaled", true)] {
            out.append(ascii: "\n")
            out.appendUTF8(name)
            out.append(ascii: " << EOD\n")
            for p in frame.line.points where !scaled || p.scaled {
                appendTime(p.timeNs, frame: frame, into: &out)
                out.append(UInt8(ascii: " "))
                out.appendFixed(p.bytes, decimals: 1)
                out.append(UInt8(ascii: "\n"))
            }
            out.append(ascii: "EOD\n")
        }
        out.append(ascii: "\n")
    }

    /// The time range and its ticks (the same as the SVG chart's, as explicit labels), the grid,
    /// key, margins and the multiplot.
    private static func axes(
        _ frame: ChartFrame, chartOptions: ChartOptions, terminal: GnuplotTerminal, into out: inout [UInt8]
    ) {
        out.append(ascii: "set xrange [")
        out.appendFixed(frame.x0, decimals: 9)
        out.append(UInt8(ascii: ":"))
        out.appendFixed(frame.x1, decimals: 9)
        out.append(ascii: "]\n")
        if !frame.time.marks.isEmpty {
            out.append(ascii: "set xtics (")
            for (k, m) in frame.time.marks.enumerated() {
                if k > 0 { out.append(ascii: ", ") }
                appendQuoted(m.date.map { m.label + "\n" + $0 } ?? m.label, into: &out)
                out.append(UInt8(ascii: " "))
                out.appendFixed(m.offset, decimals: 9)
            }
            out.append(ascii: ")\n")
        }
        out.append(ascii: "set grid\nset key outside right top Left reverse samplen 1\nset lmargin 10\n")
        out.append(ascii: terminal == .dumb ? "set rmargin 26\n" : "set rmargin 22\n")
        out.append(ascii: "set multiplot title ")
        appendQuoted(chartOptions.title, into: &out)
        out.append(ascii: "\n")
    }

    /// The packet size panel: per protocol its lowest lengths (titled), highest lengths and the
    /// runs between (not in `dumb`, where each protocol is drawn with its own character).
    private static func sizePlot(
        _ chart: ChartBuffer, frame: ChartFrame, data: PointsData, dumb: Bool, into out: inout [UInt8]
    ) {
        let size = frame.size
        out.append(ascii: "\n# Packet size over time.\nset origin 0,0.33\nset size 1,0.62\n")
        if size.log { out.append(ascii: "set logscale y 10\n") }
        out.append(ascii: "set yrange [")
        out.appendFixed(size.low, decimals: 0)
        out.append(UInt8(ascii: ":"))
        out.appendFixed(size.high, decimals: 0)
        out.append(ascii: "]\nset ylabel ")
        appendQuoted(size.log ? "packet size (bytes, log scale)" : "packet size (bytes)", into: &out)
        out.append(ascii: "\nunset xlabel\nset format x \"\"\nplot ")
        if data.blocks.isEmpty { out.append(ascii: "NaN notitle") }
        for (k, label) in data.blocks.enumerated() {
            if k > 0 { out.append(ascii: ", \\\n     ") }
            appendProtocol(k, label, chart: chart, dumb: dumb, into: &out)
        }
        if data.hasOutliers {
            out.append(ascii: ", \\\n     $outliers using 1:2 with points ")
            out.append(ascii: dumb ? "pt \"^\"" : "pt 9 ps 1.2")
            out.append(ascii: " lc rgb \"#d62728\" title ")
            var top: [UInt8] = []
            top.appendFixed(size.high, decimals: 0)
            appendQuoted("\(size.outliers) above \(String(decoding: top, as: UTF8.self)) B", into: &out)
        }
        out.append(ascii: "\n")
        if size.log { out.append(ascii: "unset logscale y\n") }
    }

    private static func appendProtocol(
        _ k: Int, _ label: ProtocolLabel, chart: ChartBuffer, dumb: Bool, into out: inout [UInt8]
    ) {
        let color = ChartText.color(label)
        var style: [UInt8] = []
        style.append(ascii: " with points ")
        if dumb {
            style.append(ascii: "pt ")
            appendQuoted(ChartText.character(label), into: &style)
        } else {
            style.append(ascii: "pt 7 ps 0.35")
        }
        style.append(ascii: " lc rgb \"")
        style.appendUTF8(color)
        style.append(ascii: "\"")
        out.append(ascii: "$points index ")
        out.append(decimal: UInt64(k))
        out.append(ascii: " using 1:2")
        out.append(contentsOf: style)
        out.append(ascii: " title ")
        appendQuoted(ChartText.legend(label, chart), into: &out)
        out.append(ascii: ", \\\n     $points index ")
        out.append(decimal: UInt64(k))
        out.append(ascii: " using 1:3")
        out.append(contentsOf: style)
        out.append(ascii: " notitle")
        guard !dumb else { return }
        out.append(ascii: ", \\\n     $points index ")
        out.append(decimal: UInt64(k))
        out.append(ascii: " using 1:2:(0):($3-$2) with vectors nohead lw 2 lc rgb \"")
        out.appendUTF8(color)
        out.append(ascii: "\" notitle")
    }

    private static func bytesPlot(_ frame: ChartFrame, into out: inout [UInt8]) {
        out.append(ascii: "\n# Bytes per bin.\nset origin 0,0\nset size 1,0.36\nset yrange [0:")
        out.appendFixed(frame.bytesMax, decimals: 0)
        out.append(ascii: "]\nset format x\nset format y \"%.1s%c\"\nset ylabel ")
        appendQuoted(frame.bytesTitle, into: &out)
        out.append(ascii: "\nset xlabel ")
        appendQuoted(frame.time.title, into: &out)
        out.append(ascii: "\nplot ")
        if frame.line.points.isEmpty {
            out.append(ascii: "NaN notitle\n")
            return
        }
        // Short key titles: a long one pushes gnuplot's key inside the plot; the y label says more.
        out.append(ascii: "$data using 1:2 with linespoints pt 7 ps 0.3 lc rgb \"#333333\" title \"bytes\"")
        if frame.line.points.contains(where: \.scaled) {
            out.append(ascii: ", \\\n     $scaled using 1:2 with points pt 6 ps 0.8 lc rgb \"#333333\" title ")
            appendQuoted("scaled", into: &out)
        }
        out.append(ascii: "\n")
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

    /// A time column: seconds from the origin (exact decimals).
    private static func appendTime(_ t: Int64, frame: ChartFrame, into out: inout [UInt8]) {
        let (d, o) = t.subtractingReportingOverflow(frame.originNs)
        if o {
            out.appendFixed((Double(t) - Double(frame.originNs)) / 1e9, decimals: 9)
        } else {
            out.appendSeconds(ns: d)
        }
    }
}
