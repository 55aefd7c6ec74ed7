public import TrafficAnalysis
import PacketWire

/// How the time axis is labelled.
public enum TimeLabels: String, Sendable, CaseIterable {
    /// Seconds from the series start (`0`, `10`, `20`, the CSV `offset`).
    case offset
    /// UTC wall-clock time (`12:00:10`).
    case clock
}

/// What a chart shows and how it is labelled.
public struct ChartOptions: Sendable {
    /// The chart title (`--title`); any text, it is escaped.
    public var title: String
    /// Size in pixels (the SVG `viewBox`; gnuplot's terminal size).
    public var width: Int
    public var height: Int
    public var timeLabels: TimeLabels
    /// Time zero of the offset labels, normally the series anchor (`SeriesAnalyzer.anchorNs`);
    /// when nil, the start of the first interval given to the chart, else its first packet.
    public var originNs: Int64?
    /// The most scatter marks the chart may draw before it falls back to one mark per column and
    /// protocol; this is what bounds the file size.
    public var maxMarks: Int

    public init(
        title: String = "Packet size over time", width: Int = 960, height: Int = 540,
        timeLabels: TimeLabels = .offset, originNs: Int64? = nil, maxMarks: Int = 24_000
    ) {
        self.title = title
        self.width = max(320, width)
        self.height = max(240, height)
        self.timeLabels = timeLabels
        self.originNs = originNs
        self.maxMarks = max(1, maxMarks)
    }
}

/// The data-side geometry shared by the SVG chart and the gnuplot script: time zero, the time
/// domain, the value domains and their ticks.
struct ChartFrame {
    let isEmpty: Bool
    let originNs: Int64
    let fromNs: Int64
    let toNs: Int64
    /// Domain of the time axis in seconds from `originNs`.
    let x0: Double
    let x1: Double
    let xTicks: [Tick]
    let sizeMax: Double
    let sizeTicks: [Tick]
    let bytesMax: Double
    let bytesTicks: [Tick]

    init(_ chart: ChartBuffer, _ options: ChartOptions) {
        let hasPackets = chart.packets > 0
        let hasIntervals = chart.intervals > 0
        isEmpty = !hasPackets
        var lo = Int64.max
        var hi = Int64.min
        if hasPackets {
            lo = min(lo, chart.firstNs)
            hi = max(hi, chart.lastNs)
        }
        if hasIntervals {
            lo = min(lo, chart.seriesStartNs)
            hi = max(hi, chart.seriesEndNs)
        }
        if lo > hi {
            lo = 0
            hi = 1_000_000_000
        }
        if hi == lo {
            let (h, o) = lo.addingReportingOverflow(max(chart.intervalNs, 1_000_000_000))
            hi = o ? lo : h
            if o { lo = hi - 1_000_000_000 }
        }
        fromNs = lo
        toNs = hi
        originNs = options.originNs ?? (hasIntervals ? chart.seriesStartNs : lo)
        x0 = ChartFrame.seconds(lo, from: originNs)
        x1 = ChartFrame.seconds(hi, from: originNs)
        xTicks = Ticks.ticks(x0, x1, count: max(2, options.width / 110))
        let size = Ticks.nice(0, max(1, Double(chart.maxLength)), count: 5)
        sizeMax = size.1
        sizeTicks = Ticks.ticks(0, sizeMax, count: 5)
        let bytes = Ticks.nice(0, max(1, Double(chart.maxIntervalBytes)), count: 3)
        bytesMax = bytes.1
        bytesTicks = Ticks.ticks(0, bytesMax, count: 3)
    }

    static func seconds(_ t: Int64, from origin: Int64) -> Double {
        let (d, o) = t.subtractingReportingOverflow(origin)
        return o ? (Double(t) - Double(origin)) / 1e9 : Double(d) / 1e9
    }

    /// The label of a time tick: seconds from the origin, or UTC clock time with as many decimals
    /// as the tick step needs.
    func timeLabel(_ tick: Tick, _ labels: TimeLabels) -> String {
        switch labels {
        case .offset:
            return tick.label
        case .clock:
            let step = xTicks.count > 1 ? xTicks[1].exponent : tick.exponent
            let digits = max(0, min(9, -step))
            let ns = originNs.addingReportingOverflow(Int64((tick.value * 1e9).rounded()))
            return UTCTime(ns: ns.overflow ? originNs : ns.partialValue).clock(fractionDigits: digits)
        }
    }

    func timeAxisTitle(_ labels: TimeLabels, intervalNs: Int64) -> String {
        switch labels {
        case .offset: "time (s since \(UTCTime(ns: originNs).iso(fractionDigits: 3)))"
        case .clock: "time (UTC, \(UTCTime(ns: originNs).iso().prefix(10)))"
        }
    }
}

/// Draws the chart as a standalone SVG document.
///
/// Hand-written rather than through a plotting package: the chart is a handful of elements
/// (axes, one `<path>` per protocol, one line), Swift has no SVG library that works without
/// Foundation on Linux, and writing the bytes ourselves is what keeps the file small and the
/// output deterministic. The pipeline is leather's: data (`ChartBuffer`) → scales (`LinearScale`)
/// → ticks (`Ticks`, 1/2/5 × 10^k) → axes → marks → bytes.
///
/// Layout: the title; a one-line summary; the top panel shows every packet's wire length over time
/// as points coloured by protocol (legend on the right, with packet counts); the bottom panel shows
/// bytes per interval as a line; the time axis under it in offset seconds or UTC clock time.
/// `<title>` holds the title and `<desc>` the totals and drop counters. Marks are paths of round
/// dots and vertical runs (`M x y V y2`), so a million packets cost at most `maxMarks` short path
/// commands (about 11 bytes each): the default bound keeps the document well under 500 KB.
public enum SVGChart {
    /// The SVG document for `chart`, as bytes.
    public static func render(_ chart: ChartBuffer, summary: Summary, options: ChartOptions = ChartOptions()) -> [UInt8] {
        var out: [UInt8] = []
        write(chart, summary: summary, options: options, into: &out)
        return out
    }

    /// Appends the SVG document for `chart` to `out`.
    public static func write(_ chart: ChartBuffer, summary: Summary, options: ChartOptions, into out: inout [UInt8]) {
        let frame = ChartFrame(chart, options)
        let w = Double(options.width)
        let h = Double(options.height)
        let left = 72.0
        let right = w - 150
        let topA = 64.0
        let bottomB = h - 62
        let gap = 34.0
        let panelB = max(60, (bottomB - topA - gap) * 0.3)
        let bottomA = bottomB - panelB - gap
        let topB = bottomA + gap

        out.append(ascii: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        out.append(ascii: "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 ")
        out.append(decimal: UInt64(options.width))
        out.append(UInt8(ascii: " "))
        out.append(decimal: UInt64(options.height))
        out.append(ascii: "\" width=\"")
        out.append(decimal: UInt64(options.width))
        out.append(ascii: "\" height=\"")
        out.append(decimal: UInt64(options.height))
        out.append(ascii: "\" role=\"img\" aria-labelledby=\"title desc\" font-family=\"sans-serif\" font-size=\"11\">\n")
        out.append(ascii: "<title id=\"title\">")
        ChartText.appendXML(options.title, into: &out)
        out.append(ascii: "</title>\n<desc id=\"desc\">")
        var desc = ChartText.summaryLine(summary)
        if chart.packets > 0 && !chart.isExact {
            desc += ". Points reduced per pixel column (smallest to largest length per protocol) from \(chart.packets) packets"
        }
        ChartText.appendXML(desc, into: &out)
        out.append(ascii: "</desc>\n")
        out.append(ascii: "<style>.g{stroke:#e4e4e4;stroke-width:1}.a{stroke:#444;stroke-width:1;fill:none}.m{fill:none;stroke-width:2.4;stroke-linecap:round;stroke-linejoin:round}.t{fill:#333}.s{fill:#666}</style>\n")
        out.append(ascii: "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n")

        // Title and summary line.
        text(w / 2, 24, options.title, anchor: "middle", extra: " font-size=\"16\" font-weight=\"bold\"", into: &out)
        text(w / 2, 44, ChartText.shortSummary(summary), anchor: "middle", cls: "s", into: &out)

        if frame.isEmpty {
            rect(left, topA, right - left, bottomB - topA, into: &out)
            text((left + right) / 2, (topA + bottomB) / 2, "No packets captured", anchor: "middle",
                 extra: " font-size=\"18\"", into: &out)
            out.append(ascii: "</svg>\n")
            return
        }

        let xs = LinearScale(domain: (frame.x0, frame.x1), range: (left, right))
        let ysA = LinearScale(domain: (0, frame.sizeMax), range: (bottomA, topA))
        let ysB = LinearScale(domain: (0, frame.bytesMax), range: (bottomB, topB))

        // Grid and axes.
        out.append(ascii: "<g class=\"g\">\n")
        for t in frame.xTicks {
            let x = xs(t.value)
            line(x, topA, x, bottomA, into: &out)
            line(x, topB, x, bottomB, into: &out)
        }
        for t in frame.sizeTicks { line(left, ysA(t.value), right, ysA(t.value), into: &out) }
        for t in frame.bytesTicks { line(left, ysB(t.value), right, ysB(t.value), into: &out) }
        out.append(ascii: "</g>\n")
        rect(left, topA, right - left, bottomA - topA, into: &out)
        rect(left, topB, right - left, bottomB - topB, into: &out)
        out.append(ascii: "<g class=\"t\">\n")
        for t in frame.sizeTicks { text(left - 6, ysA(t.value) + 4, t.siLabel, anchor: "end", into: &out) }
        for t in frame.bytesTicks { text(left - 6, ysB(t.value) + 4, t.siLabel, anchor: "end", into: &out) }
        for t in frame.xTicks { text(xs(t.value), bottomB + 16, frame.timeLabel(t, options.timeLabels), anchor: "middle", into: &out) }
        out.append(ascii: "</g>\n")
        text((left + right) / 2, bottomB + 38, frame.timeAxisTitle(options.timeLabels, intervalNs: chart.intervalNs),
             anchor: "middle", into: &out)
        vtext(18, (topA + bottomA) / 2, "packet size (bytes)", into: &out)
        let per = chart.intervalNs > 0 ? "bytes per \(IntervalSpec.describe(chart.intervalNs))" : "bytes per interval"
        vtext(18, (topB + bottomB) / 2, per, into: &out)

        // Scatter: one path per protocol; dots are zero-length round-capped segments.
        let plotWidth = Int(right - left)
        let plotHeight = Int(bottomA - topA)
        let marks = chart.pointMarks(
            fromNs: frame.fromNs, toNs: frame.toNs, xColumns: plotWidth, yMax: frame.sizeMax, yRows: plotHeight,
            maxMarks: options.maxMarks)
        let decimals = chart.isExact ? 1 : 0
        var i = 0
        while i < marks.count {
            let label = marks[i].label
            out.append(ascii: "<path class=\"m\" stroke=\"")
            out.appendUTF8(ChartText.color(label))
            if chart.isExact { out.append(ascii: "\" style=\"stroke-width:5") }
            out.append(ascii: "\" d=\"")
            while i < marks.count, marks[i].label == label {
                let m = marks[i]
                let x = xs(ChartFrame.seconds(m.timeNs, from: frame.originNs))
                let y1 = ysA(Double(m.low))
                let y2 = ysA(Double(m.high))
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
                i += 1
            }
            out.append(ascii: "\"/>\n")
        }

        // Bytes per interval.
        let points = chart.linePoints(fromNs: frame.fromNs, toNs: frame.toNs, xColumns: plotWidth)
        if !points.isEmpty {
            out.append(ascii: "<path class=\"a\" stroke=\"#333\" stroke-width=\"1.2\" d=\"")
            for (k, p) in points.enumerated() {
                out.append(UInt8(ascii: k == 0 ? "M" : "L"))
                out.appendFixed(xs(ChartFrame.seconds(p.timeNs, from: frame.originNs)), decimals: 1)
                out.append(UInt8(ascii: " "))
                out.appendFixed(ysB(Double(p.bytes)), decimals: 1)
            }
            out.append(ascii: "\"/>\n")
            if points.count <= 120 {
                out.append(ascii: "<path class=\"m\" stroke=\"#333\" d=\"")
                for p in points {
                    out.append(UInt8(ascii: "M"))
                    out.appendFixed(xs(ChartFrame.seconds(p.timeNs, from: frame.originNs)), decimals: 1)
                    out.append(UInt8(ascii: " "))
                    out.appendFixed(ysB(Double(p.bytes)), decimals: 1)
                    out.append(ascii: "h0")
                }
                out.append(ascii: "\"/>\n")
            }
        }

        // Legend.
        var y = topA + 8
        for label in chart.protocols {
            out.append(ascii: "<circle cx=\"")
            out.appendFixed(right + 18, decimals: 1)
            out.append(ascii: "\" cy=\"")
            out.appendFixed(y, decimals: 1)
            out.append(ascii: "\" r=\"4\" fill=\"")
            out.appendUTF8(ChartText.color(label))
            out.append(ascii: "\"/>\n")
            var legend: [UInt8] = []
            legend.append(ascii: label.asciiName)
            legend.append(ascii: " (")
            legend.append(decimal: chart.protocolPackets[label])
            legend.append(UInt8(ascii: ")"))
            text(right + 28, y + 4, String(decoding: legend, as: UTF8.self), anchor: "start", into: &out)
            y += 18
        }
        out.append(ascii: "</svg>\n")
    }

    // MARK: elements

    private static func text(
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

    private static func vtext(_ x: Double, _ y: Double, _ s: String, into out: inout [UInt8]) {
        out.append(ascii: "<text transform=\"translate(")
        out.appendFixed(x, decimals: 1)
        out.append(UInt8(ascii: ","))
        out.appendFixed(y, decimals: 1)
        out.append(ascii: ") rotate(-90)\" text-anchor=\"middle\">")
        ChartText.appendXML(s, into: &out)
        out.append(ascii: "</text>\n")
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, into out: inout [UInt8]) {
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

    private static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, into out: inout [UInt8]) {
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
