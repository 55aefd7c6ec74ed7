import Glibc
import TrafficAnalysis

/// How the time axis is labelled.
public enum TimeLabels: String, Sendable, CaseIterable {
    /// Offset seconds for spans up to an hour, UTC clock time (and dates) beyond.
    case auto
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
    /// Top of the packet size axis in bytes (`--y-max`); nil picks one (see `SizeAxis`).
    public var yMax: UInt32?
    /// A logarithmic packet size axis (`--log`).
    public var logScale: Bool

    public init(
        title: String = "Packet size over time", width: Int = 960, height: Int = 540,
        timeLabels: TimeLabels = .auto, originNs: Int64? = nil, maxMarks: Int = 24_000,
        yMax: UInt32? = nil, logScale: Bool = false
    ) {
        self.title = title
        self.width = max(320, width)
        self.height = max(240, height)
        self.timeLabels = timeLabels
        self.originNs = originNs
        self.maxMarks = max(1, maxMarks)
        self.yMax = yMax.map { max(1, $0) }
        self.logScale = logScale
    }
}

/// The packet size axis. By default its top is the 99.5th percentile of the lengths, raised to the
/// largest length unless a few packets stand out beyond a standard frame size (1,518 or 9,018
/// bytes, Ethernet with a VLAN tag): then the top is that size, so one 64 KB TSO segment does not
/// squash every other packet, and the packets above it are counted and marked at the top edge.
/// A log axis goes from 10 to the power of ten above the largest length.
struct SizeAxis {
    let log: Bool
    let low: Double
    let high: Double
    let ticks: [Tick]
    /// Packets longer than `high`, drawn as marks on the top edge, and the longest.
    let outliers: UInt64
    let largest: UInt32

    init(_ chart: ChartBuffer, _ options: ChartOptions) {
        log = options.logScale
        // A log axis has room for every length: it goes up to the largest by default.
        let top = Double(options.yMax ?? (log ? max(1, chart.maxLength) : Self.defaultTop(chart)))
        if log {
            var hi = 10.0
            while hi < top { hi *= 10 }
            high = options.yMax == nil ? hi : top
            low = 10
            ticks = Self.logTicks(low, high)
        } else {
            high = options.yMax == nil ? Ticks.nice(0, max(1, top), count: 5).1 : top
            low = 0
            ticks = Ticks.ticks(0, high, count: 5)
        }
        outliers = chart.packets(longerThan: UInt32(clamping: Int64(high.rounded(.down))))
        largest = chart.maxLength
    }

    static func defaultTop(_ chart: ChartBuffer) -> UInt32 {
        let p = chart.length(atFraction: 0.995)
        for frame: UInt32 in [1518, 9018] where p <= frame && chart.maxLength > frame { return frame }
        return max(1, chart.maxLength)
    }

    /// Decades, with 2 and 5 between them when there are few.
    static func logTicks(_ low: Double, _ high: Double) -> [Tick] {
        var out: [Tick] = []
        var e = 1
        while Double(Tick(mantissa: 1, exponent: e).value) <= high, e < 19 {
            let few = high / low <= 1000
            for m: Int64 in few ? [1, 2, 5] : [1] where Tick(mantissa: m, exponent: e).value <= high {
                out.append(Tick(mantissa: m, exponent: e))
            }
            e += 1
        }
        return out
    }

    /// The fraction of the panel height (0 at the bottom, 1 at the top) of length `v`.
    func fraction(_ v: Double) -> Double {
        if log {
            let c = min(max(v, low), high)
            return (log10(c) - log10(low)) / (log10(high) - log10(low))
        }
        return high > 0 ? min(max(v, 0), high) / high : 0
    }
}

/// The data-side geometry shared by the SVG chart and the gnuplot script: time zero, the time
/// domain and axis, the size axis, the bytes line and its axis.
struct ChartFrame {
    let isEmpty: Bool
    let originNs: Int64
    let fromNs: Int64
    let toNs: Int64
    /// Domain of the time axis in seconds from `originNs`.
    let x0: Double
    let x1: Double
    let time: TimeAxis
    let size: SizeAxis
    let line: ChartLine
    let bytesMax: Double
    let bytesTicks: [Tick]

    init(_ chart: ChartBuffer, _ options: ChartOptions) {
        isEmpty = chart.packets == 0
        (fromNs, toNs) = Self.domain(chart)
        let useIntervals = chart.lineSource == .intervals && chart.intervals > 0
        originNs = options.originNs ?? (useIntervals ? chart.seriesStartNs : fromNs)
        x0 = ChartFrame.seconds(fromNs, from: originNs)
        x1 = ChartFrame.seconds(toNs, from: originNs)
        time = TimeAxis(
            fromNs: fromNs, toNs: toNs, originNs: originNs, count: max(2, options.width / 110),
            labels: options.timeLabels)
        size = SizeAxis(chart, options)
        line = chart.line()
        bytesMax = Ticks.nice(0, max(1, line.maxBytes), count: 3).1
        bytesTicks = Ticks.ticks(0, bytesMax, count: 3)
    }

    /// The packets' span, with the intervals' for a fixed interval; a second when it is empty.
    static func domain(_ chart: ChartBuffer) -> (Int64, Int64) {
        var lo = Int64.max
        var hi = Int64.min
        if chart.packets > 0 {
            lo = chart.firstNs
            hi = chart.lastNs
        }
        if chart.lineSource == .intervals && chart.intervals > 0 {
            lo = min(lo, chart.seriesStartNs)
            hi = max(hi, chart.seriesEndNs)
        }
        if lo > hi { return (0, 1_000_000_000) }
        if hi == lo {
            let (h, o) = lo.addingReportingOverflow(max(chart.intervalNs, 1_000_000_000))
            return o ? (lo - 1_000_000_000, lo) : (lo, h)
        }
        return (lo, hi)
    }

    static func seconds(_ t: Int64, from origin: Int64) -> Double {
        let (d, o) = t.subtractingReportingOverflow(origin)
        return o ? (Double(t) - Double(origin)) / 1e9 : Double(d) / 1e9
    }

    /// The bytes panel's axis title: `bytes per 1 s`, `bytes per 5 min (auto)`, or for a fixed
    /// interval over a long span `bytes per 1 s (mean of each 10 min)`.
    var bytesTitle: String {
        if line.intervalNs > 0 {
            let per = "bytes per \(IntervalSpec.describe(line.intervalNs))"
            return line.intervalsPerBin > 1 ? per + " (mean of each \(IntervalSpec.describe(line.binNs)))" : per
        }
        return line.binNs > 0 ? "bytes per \(IntervalSpec.describe(line.binNs)) (auto)" : "bytes per interval"
    }

    /// What the notes say about the line's partial bins, if any were scaled.
    var scaledNote: String? {
        line.points.contains(where: \.scaled)
            ? "A bin partly outside the capture is drawn scaled to a whole bin (hollow dot)" : nil
    }
}

/// Pixel geometry of the chart: the size panel on top, the bytes panel under it, the legend on the
/// right.
struct ChartLayout {
    let width: Double
    let height: Double
    let left = 72.0
    let right: Double
    let topA = 64.0
    let bottomA: Double
    let topB: Double
    let bottomB: Double

    init(_ options: ChartOptions) {
        width = Double(options.width)
        height = Double(options.height)
        right = width - 150
        bottomB = height - 62
        let gap = 34.0
        let panelB = max(60, (bottomB - topA - gap) * 0.3)
        bottomA = bottomB - panelB - gap
        topB = bottomA + gap
    }
}
