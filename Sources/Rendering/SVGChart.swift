import PacketWire
public import TrafficAnalysis

/// Draws the chart as a standalone SVG document.
///
/// Hand-written rather than through a plotting package: the chart is a handful of elements
/// (axes, one `<path>` per protocol, one line), Swift has no SVG library that works without
/// Foundation on Linux, and writing the bytes ourselves is what keeps the file small and the
/// output deterministic. The pipeline is leather's: data (`ChartBuffer`) → frame (`ChartFrame`:
/// domains, `TimeAxis`, `SizeAxis`, the line) → scales → axes → marks → legend.
///
/// Layout: the title; a one-line summary; the top panel shows every packet's wire length over time
/// as points coloured by protocol (legend on the right, with packet counts), packets above the size
/// axis as red triangles on its top edge with their count; the bottom panel shows bytes per bin as
/// a line; the time axis under it. `<title>` holds the title and `<desc>` the totals, drop counters
/// and notes. Marks are paths of round dots and vertical runs (`M x y V y2`), so a million packets
/// cost at most `maxMarks` short path commands (about 11 bytes each): the default bound keeps the
/// document well under 500 KB.
public enum SVGChart {
    /// The SVG document for `chart`, as bytes.
    public static func render(
        _ chart: ChartBuffer, summary: Summary, options: ChartOptions = ChartOptions()
    ) -> [UInt8] {
        var out: [UInt8] = []
        write(chart, summary: summary, options: options, into: &out)
        return out
    }

    /// Appends the SVG document for `chart` to `out`.
    public static func write(_ chart: ChartBuffer, summary: Summary, options: ChartOptions, into out: inout [UInt8]) {
        let frame = ChartFrame(chart, options)
        let plot = Plot(frame, ChartLayout(options))
        header(chart, summary: summary, options: options, frame: frame, into: &out)
        if frame.isEmpty {
            let l = plot.layout
            rect(l.left, l.topA, l.right - l.left, l.bottomB - l.topA, into: &out)
            text(
                (l.left + l.right) / 2, (l.topA + l.bottomB) / 2, "No packets captured", anchor: "middle",
                extra: " font-size=\"18\"", into: &out)
        } else {
            axes(plot, into: &out)
            scatter(chart, plot, options: options, into: &out)
            bytesLine(plot, into: &out)
            legend(chart, plot.layout, into: &out)
        }
        out.append(ascii: "</svg>\n")
    }

    /// The scales of one chart.
    struct Plot {
        let frame: ChartFrame
        let layout: ChartLayout
        let xs: LinearScale
        let ysB: LinearScale

        init(_ frame: ChartFrame, _ layout: ChartLayout) {
            self.frame = frame
            self.layout = layout
            xs = LinearScale(domain: (frame.x0, frame.x1), range: (layout.left, layout.right))
            ysB = LinearScale(domain: (0, frame.bytesMax), range: (layout.bottomB, layout.topB))
        }

        func x(_ ns: Int64) -> Double { xs(ChartFrame.seconds(ns, from: frame.originNs)) }
        func ySize(_ v: Double) -> Double {
            layout.bottomA - frame.size.fraction(v) * (layout.bottomA - layout.topA)
        }
    }

    // MARK: parts

    private static func header(
        _ chart: ChartBuffer, summary: Summary, options: ChartOptions, frame: ChartFrame, into out: inout [UInt8]
    ) {
        out.append(ascii: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        out.append(ascii: "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 ")
        out.append(decimal: UInt64(options.width))
        out.append(UInt8(ascii: " "))
        out.append(decimal: UInt64(options.height))
        out.append(ascii: "\" width=\"")
        out.append(decimal: UInt64(options.width))
        out.append(ascii: "\" height=\"")
        out.append(decimal: UInt64(options.height))
        out.append(ascii: "\" role=\"img\" aria-labelledby=\"title desc\"")
        out.append(ascii: " font-family=\"sans-serif\" font-size=\"11\">\n")
        out.append(ascii: "<title id=\"title\">")
        ChartText.appendXML(options.title, into: &out)
        out.append(ascii: "</title>\n<desc id=\"desc\">")
        let desc = [ChartText.summaryLine(summary)] + ChartText.notes(chart, frame)
        ChartText.appendXML(desc.joined(separator: ". "), into: &out)
        out.append(ascii: "</desc>\n")
        out.append(ascii: "<style>.g{stroke:#e4e4e4;stroke-width:1}.a{stroke:#444;stroke-width:1;fill:none}")
        out.append(ascii: ".m{fill:none;stroke-width:2.4;stroke-linecap:round;stroke-linejoin:round}")
        out.append(ascii: ".t{fill:#333}.s{fill:#666}</style>\n")
        out.append(ascii: "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n")
        let w = Double(options.width)
        text(w / 2, 24, options.title, anchor: "middle", extra: " font-size=\"16\" font-weight=\"bold\"", into: &out)
        text(w / 2, 44, ChartText.shortSummary(summary), anchor: "middle", cls: "s", into: &out)
    }

    private static func axes(_ p: Plot, into out: inout [UInt8]) {
        let l = p.layout
        let f = p.frame
        out.append(ascii: "<g class=\"g\">\n")
        for m in f.time.marks {
            let x = p.xs(m.offset)
            line(x, l.topA, x, l.bottomA, into: &out)
            line(x, l.topB, x, l.bottomB, into: &out)
        }
        for t in f.size.ticks { line(l.left, p.ySize(t.value), l.right, p.ySize(t.value), into: &out) }
        for t in f.bytesTicks { line(l.left, p.ysB(t.value), l.right, p.ysB(t.value), into: &out) }
        out.append(ascii: "</g>\n")
        rect(l.left, l.topA, l.right - l.left, l.bottomA - l.topA, into: &out)
        rect(l.left, l.topB, l.right - l.left, l.bottomB - l.topB, into: &out)
        out.append(ascii: "<g class=\"t\">\n")
        for t in f.size.ticks { text(l.left - 6, p.ySize(t.value) + 4, t.siLabel, anchor: "end", into: &out) }
        for t in f.bytesTicks { text(l.left - 6, p.ysB(t.value) + 4, t.siLabel, anchor: "end", into: &out) }
        for m in f.time.marks {
            text(p.xs(m.offset), l.bottomB + 16, m.label, anchor: "middle", into: &out)
            if let date = m.date { text(p.xs(m.offset), l.bottomB + 29, date, anchor: "middle", into: &out) }
        }
        out.append(ascii: "</g>\n")
        let dated = f.time.marks.contains { $0.date != nil }
        text((l.left + l.right) / 2, l.bottomB + (dated ? 46 : 38), f.time.title, anchor: "middle", into: &out)
        let sizeTitle = f.size.log ? "packet size (bytes, log scale)" : "packet size (bytes)"
        vtext(18, (l.topA + l.bottomA) / 2, sizeTitle, into: &out)
        vtext(18, (l.topB + l.bottomB) / 2, f.bytesTitle, into: &out)
    }

    /// One path per protocol; dots are zero-length round-capped segments. Marks above the size axis
    /// are cut at its top and marked there.
    private static func scatter(_ chart: ChartBuffer, _ p: Plot, options: ChartOptions, into out: inout [UInt8]) {
        let l = p.layout
        let rows = l.bottomA - l.topA
        let marks = chart.pointMarks(
            fromNs: p.frame.fromNs, toNs: p.frame.toNs, xColumns: Int(l.right - l.left), maxMarks: options.maxMarks
        ) { Int((p.frame.size.fraction(Double($0)) * rows).rounded(.down)) }
        let decimals = chart.isExact ? 1 : 0
        let top = p.frame.size.high
        var above: [Double] = []
        var i = 0
        while i < marks.count {
            let label = marks[i].label
            out.append(ascii: "<path class=\"m\" stroke=\"")
            out.appendUTF8(ChartText.color(label))
            if chart.isExact { out.append(ascii: "\" style=\"stroke-width:5") }
            out.append(ascii: "\" d=\"")
            while i < marks.count, marks[i].label == label {
                let m = marks[i]
                i += 1
                let x = p.x(m.timeNs)
                if Double(m.high) > top { above.append(x) }
                guard Double(m.low) <= top else { continue }
                appendRun(x, p.ySize(Double(m.low)), p.ySize(min(Double(m.high), top)), decimals: decimals, into: &out)
            }
            out.append(ascii: "\"/>\n")
        }
        outliers(above, p, into: &out)
    }

    private static func appendRun(_ x: Double, _ y1: Double, _ y2: Double, decimals: Int, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "M"))
        out.appendFixed(x, decimals: decimals)
        out.append(UInt8(ascii: " "))
        out.appendFixed(y1, decimals: decimals)
        var hi: [UInt8] = []
        hi.appendFixed(y2, decimals: decimals)
        var lo: [UInt8] = []
        lo.appendFixed(y1, decimals: decimals)
        if hi == lo {
            out.append(ascii: "h0")
        } else {
            out.append(UInt8(ascii: "V"))
            out.append(contentsOf: hi)
        }
    }

    /// Red triangles on the size panel's top edge where packets are longer than the axis, and a
    /// label with their count and the largest length.
    private static func outliers(_ xs: [Double], _ p: Plot, into out: inout [UInt8]) {
        let n = p.frame.size.outliers
        guard n > 0 || !xs.isEmpty else { return }
        var seen = Set<Int>()
        out.append(ascii: "<path class=\"o\" fill=\"#d62728\" d=\"")
        for x in xs.sorted() where seen.insert(Int(x.rounded())).inserted {
            out.append(UInt8(ascii: "M"))
            out.appendFixed(x, decimals: 1)
            out.append(UInt8(ascii: " "))
            out.appendFixed(p.layout.topA + 1, decimals: 1)
            out.append(ascii: "l4 7h-8z")
        }
        out.append(ascii: "\"/>\n")
        text(
            p.layout.right, p.layout.topA - 4, ChartText.outlierLabel(p.frame.size), anchor: "end",
            extra: " fill=\"#d62728\"", into: &out)
    }

    /// Bytes per bin: a line, dots when there are few points, hollow dots for scaled partial bins.
    private static func bytesLine(_ p: Plot, into out: inout [UInt8]) {
        let points = p.frame.line.points
        guard !points.isEmpty else { return }
        out.append(ascii: "<path class=\"a\" stroke=\"#333\" stroke-width=\"1.2\" d=\"")
        for (k, pt) in points.enumerated() {
            out.append(UInt8(ascii: k == 0 ? "M" : "L"))
            appendPoint(p, pt, into: &out)
        }
        out.append(ascii: "\"/>\n")
        if points.count <= 120 {
            out.append(ascii: "<path class=\"m\" stroke=\"#333\" d=\"")
            for pt in points where !pt.scaled {
                out.append(UInt8(ascii: "M"))
                appendPoint(p, pt, into: &out)
                out.append(ascii: "h0")
            }
            out.append(ascii: "\"/>\n")
        }
        for pt in points where pt.scaled {
            out.append(ascii: "<circle class=\"scaled\" r=\"3\" fill=\"#fff\" stroke=\"#333\" cx=\"")
            out.appendFixed(p.x(pt.timeNs), decimals: 1)
            out.append(ascii: "\" cy=\"")
            out.appendFixed(p.ysB(pt.bytes), decimals: 1)
            out.append(ascii: "\"/>\n")
        }
    }

    private static func appendPoint(_ p: Plot, _ pt: ChartLine.Point, into out: inout [UInt8]) {
        out.appendFixed(p.x(pt.timeNs), decimals: 1)
        out.append(UInt8(ascii: " "))
        out.appendFixed(p.ysB(pt.bytes), decimals: 1)
    }

    private static func legend(_ chart: ChartBuffer, _ l: ChartLayout, into out: inout [UInt8]) {
        var y = l.topA + 8
        for label in chart.protocols {
            out.append(ascii: "<circle cx=\"")
            out.appendFixed(l.right + 18, decimals: 1)
            out.append(ascii: "\" cy=\"")
            out.appendFixed(y, decimals: 1)
            out.append(ascii: "\" r=\"4\" fill=\"")
            out.appendUTF8(ChartText.color(label))
            out.append(ascii: "\"/>\n")
            text(l.right + 28, y + 4, ChartText.legend(label, chart), anchor: "start", into: &out)
            y += 18
        }
    }

    // MARK: elements

    static func text(
        _ x: Double, _ y: Double, _ s: String, anchor: StaticString, cls: StaticString? = nil,
        extra: StaticString = "", into out: inout [UInt8]
    ) {
        out.append(ascii: "<text x=\"")
        out.appendFixed(x, decimals: 1)
        out.append(ascii: "\" y=\"")
        out.appendFixed(y, decimals: 1)
        out.append(ascii: "\" text-anchor=\"")
        out.append(ascii: anchor)
        out.append(UInt8(ascii: "\""))
        if let cls {
            out.append(ascii: " class=\"")
            out.append(ascii: cls)
            out.append(UInt8(ascii: "\""))
        }
        out.append(ascii: extra)
        out.append(UInt8(ascii: ">"))
        ChartText.appendXML(s, into: &out)
        out.append(ascii: "</text>\n")
    }

    static func vtext(_ x: Double, _ y: Double, _ s: String, into out: inout [UInt8]) {
        out.append(ascii: "<text transform=\"translate(")
        out.appendFixed(x, decimals: 1)
        out.append(UInt8(ascii: ","))
        out.appendFixed(y, decimals: 1)
        out.append(ascii: ") rotate(-90)\" text-anchor=\"middle\">")
        ChartText.appendXML(s, into: &out)
        out.append(ascii: "</text>\n")
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, into out: inout [UInt8]) {
        out.append(ascii: "<line x1=\"")
        out.appendFixed(x1, decimals: 1)
        out.append(ascii: "\" y1=\"")
        out.appendFixed(y1, decimals: 1)
        out.append(ascii: "\" x2=\"")
        out.appendFixed(x2, decimals: 1)
        out.append(ascii: "\" y2=\"")
        out.appendFixed(y2, decimals: 1)
        out.append(ascii: "\"/>\n")
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, into out: inout [UInt8]) {
        out.append(ascii: "<rect class=\"a\" x=\"")
        out.appendFixed(x, decimals: 1)
        out.append(ascii: "\" y=\"")
        out.appendFixed(y, decimals: 1)
        out.append(ascii: "\" width=\"")
        out.appendFixed(w, decimals: 1)
        out.append(ascii: "\" height=\"")
        out.appendFixed(h, decimals: 1)
        out.append(ascii: "\"/>\n")
    }
}
