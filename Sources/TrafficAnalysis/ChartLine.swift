/// Bytes over time for the chart's line, in at most `maxBins` bins whatever the span.
///
/// A unit is a nanosecond (the line of `--interval auto`, binned from the packets) or an interval
/// index (the line of a fixed interval, from `ChartBuffer.add(interval:)`). Bin `b` holds the bytes
/// of units `[b × width, (b + 1) × width)`; a unit never added holds zero bytes, so intervals that
/// are not handed over (empty ones) are zeros. When the data outgrows `maxBins` bins the width
/// steps up its chain, each step a whole multiple of the one before, so merging is exact and the
/// bins stay aligned to round multiples (of the epoch for nanoseconds).
public struct LineBins: Sendable {
    public let maxBins: Int
    /// Bin width in units: always a member of `chain`.
    public private(set) var width: Int64
    /// The first and last unit added.
    public private(set) var firstUnit: Int64 = .max
    public private(set) var lastUnit: Int64 = .min
    /// Bin number of `sums[0]`.
    private(set) var firstBin: Int64 = 0
    private(set) var sums: [UInt64] = []
    private let chain: [Int64]

    /// Nanosecond widths: round values from 1 µs, each a multiple of the one before.
    public static let nanosecondChain: [Int64] = {
        let us: Int64 = 1_000
        let s: Int64 = 1_000_000_000
        var c: [Int64] = [us, 5 * us, 10 * us, 50 * us, 100 * us, 500 * us]
        c += [1_000 * us, 5_000 * us, 10_000 * us, 50_000 * us, 100_000 * us, 500_000 * us]
        c += [s, 5 * s, 10 * s, 30 * s, 60 * s, 300 * s, 600 * s, 1800 * s, 3600 * s]
        c += [3 * 3600 * s, 6 * 3600 * s, 12 * 3600 * s, 86_400 * s, 7 * 86_400 * s]
        return c
    }()

    /// Interval-count widths: 1, 2, 10, 20, 100, 200, ...
    public static let countChain: [Int64] = [1, 2, 10, 20, 100, 200, 1_000, 2_000, 10_000, 20_000]

    public init(chain: [Int64], maxBins: Int = 8192) {
        self.chain = chain
        self.maxBins = max(16, maxBins)
        width = chain[0]
    }

    public var isEmpty: Bool { sums.isEmpty }

    /// Adds `bytes` at unit `u`.
    public mutating func add(unit u: Int64, bytes: UInt64) {
        firstUnit = min(firstUnit, u)
        lastUnit = max(lastUnit, u)
        while true {
            let b = Self.floorDiv(u, width)
            if sums.isEmpty {
                firstBin = b
                sums = [bytes]
                return
            }
            let last = firstBin + Int64(sums.count) - 1
            let lo = min(firstBin, b)
            let hi = max(last, b)
            let (span, o) = hi.subtractingReportingOverflow(lo)
            if !o, span < Int64(maxBins) {
                if b < firstBin {
                    // Room to spare in front, so that a run of earlier and earlier units costs few
                    // moves; bins outside firstUnit ... lastUnit are never drawn.
                    let need = Int(firstBin - b)
                    let spare = min(maxBins - sums.count - need, sums.count / 4 + 16)
                    sums.insert(contentsOf: repeatElement(0, count: need + spare), at: 0)
                    firstBin = b - Int64(spare)
                } else if b > last {
                    sums.append(contentsOf: repeatElement(0, count: Int(b - last)))
                }
                sums[Int(b - firstBin)] &+= bytes
                return
            }
            if !coarsen() {
                // Cannot happen past the chain's end (a bin wider than Int64.max / 10 ns); fold in.
                sums[b < firstBin ? 0 : sums.count - 1] &+= bytes
                return
            }
        }
    }

    /// The next width of the chain (past its end, ten times the last).
    static func next(after w: Int64, in chain: [Int64]) -> Int64 {
        if let n = chain.first(where: { $0 > w }) { return n }
        return w <= Int64.max / 10 ? w * 10 : w
    }

    private mutating func coarsen() -> Bool {
        let n = Self.next(after: width, in: chain)
        guard n > width else { return false }
        let f = n / width
        let newFirst = Self.floorDiv(firstBin, f)
        let newLast = Self.floorDiv(firstBin + Int64(sums.count) - 1, f)
        var merged = [UInt64](repeating: 0, count: Int(newLast - newFirst + 1))
        for (k, v) in sums.enumerated() where v != 0 {
            merged[Int(Self.floorDiv(firstBin + Int64(k), f) - newFirst)] &+= v
        }
        sums = merged
        firstBin = newFirst
        width = n
        return true
    }

    /// The sums in bins of `w` units (a multiple of `width`), from the bin of `firstUnit` to the
    /// bin of `lastUnit`, as (first unit of the bin, bytes).
    public func regrouped(width w: Int64) -> [(unit: Int64, bytes: UInt64)] {
        guard !sums.isEmpty, w >= width, w % width == 0 else { return [] }
        let f = w / width
        let first = Self.floorDiv(firstUnit, w)
        let last = Self.floorDiv(lastUnit, w)
        var out = (first...last).map { (unit: $0 &* w, bytes: UInt64(0)) }
        for (k, v) in sums.enumerated() where v != 0 {
            out[Int(Self.floorDiv(firstBin + Int64(k), f) - first)].bytes &+= v
        }
        return out
    }

    /// The smallest of `candidates` that is a multiple of `width` and cuts the units added into at
    /// most `maxPoints` bins (past the candidates, ten times the last until one does).
    public func displayWidth(candidates: [Int64], maxPoints: Int) -> Int64 {
        guard !sums.isEmpty else { return width }
        var list = candidates
        var c = max(candidates.last ?? width, width)
        while c <= Int64.max / 10 {
            c *= 10
            list.append(c)
        }
        for w in list where w >= width && w % width == 0 {
            let n = Self.floorDiv(lastUnit, w) - Self.floorDiv(firstUnit, w) + 1
            if n <= Int64(maxPoints) { return w }
        }
        return list.last(where: { $0 % width == 0 }) ?? width
    }

    /// Rounds toward negative infinity.
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// Round bin widths the auto interval may pick: 1/2/5 × 10^k of µs, ms and s up to 50 s, then
/// 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h, 1, 2, 7 days.
public enum RoundIntervals {
    public static let nanoseconds: [Int64] = {
        var c: [Int64] = []
        var p: Int64 = 1_000
        while p <= 10_000_000_000 {
            c += [p, 2 * p, 5 * p]
            p *= 10
        }
        c = c.filter { $0 < 60_000_000_000 }
        let m: Int64 = 60_000_000_000
        c += [m, 2 * m, 5 * m, 10 * m, 15 * m, 30 * m, 60 * m, 120 * m, 180 * m, 360 * m, 720 * m]
        c += [1_440 * m, 2_880 * m, 10_080 * m]
        return c
    }()

    /// 1, 2, 5, 10, 20, 50, ... (multiples of a fixed interval).
    public static let counts: [Int64] = {
        var c: [Int64] = []
        var p: Int64 = 1
        while p <= 100_000_000_000_000_000 {
            c += [p, 2 * p, 5 * p]
            p *= 10
        }
        return c
    }()
}

/// The bytes line as the chart draws it.
public struct ChartLine: Sendable, Equatable {
    /// A vertex: the bin's centre and its bytes (per `binNs`, or the mean per interval).
    public struct Point: Sendable, Equatable {
        public var timeNs: Int64
        public var bytes: Double
        /// The bin is only partly inside the capture, and `bytes` is scaled up to a whole bin.
        public var scaled: Bool
    }

    public var points: [Point] = []
    /// Width of a drawn bin in nanoseconds.
    public var binNs: Int64 = 0
    /// Intervals per drawn bin (a fixed interval over a long span is drawn as means of this many);
    /// 1 for `--interval auto`, where `binNs` is the interval.
    public var intervalsPerBin: Int64 = 1
    /// The fixed interval (0 for auto).
    public var intervalNs: Int64 = 0

    public var maxBytes: Double { points.reduce(0) { max($0, $1.bytes) } }
}

extension ChartBuffer {
    /// The line: at most about `maxPoints` bins over the span. For `.auto`, the round bin width
    /// (1/2/5 × 10^k of µs, ms, s; minutes, hours, days) that gives at most `maxPoints` bins, and no
    /// more bins than packets (but 20); for
    /// `.intervals`, each interval, or the mean of 2, 5, 10, ... intervals when there are more.
    /// A first or last bin only partly inside the packets' span is drawn as a rate over the time it
    /// covers, scaled to a whole bin; when it covers less than half a bin it is first merged with
    /// its neighbour, so that a sliver of a bin cannot make a spike.
    public func line(maxPoints: Int = 1000) -> ChartLine {
        var out = ChartLine()
        guard !lineBins.isEmpty else { return out }
        var bins: [Bin]
        switch lineSource {
        case .auto:
            // No more bins than packets (at least 20): a sparse capture gets a line, not a comb.
            let most = min(maxPoints, Int(clamping: max(20, packets)))
            let w = lineBins.displayWidth(candidates: RoundIntervals.nanoseconds, maxPoints: most)
            out.binNs = w
            bins = lineBins.regrouped(width: w).map { Bin(startNs: $0.unit, widthNs: w, bytes: Double($0.bytes)) }
        case .intervals:
            guard let anchor = intervalAnchorNs, intervalNs > 0 else { return out }
            let f = lineBins.displayWidth(candidates: RoundIntervals.counts, maxPoints: maxPoints)
            let (w, o) = f.multipliedReportingOverflow(by: intervalNs)
            out.intervalNs = intervalNs
            out.intervalsPerBin = f
            out.binNs = o ? .max : w
            bins = lineBins.regrouped(width: f).map {
                Bin(startNs: anchor &+ $0.unit &* intervalNs, widthNs: out.binNs, bytes: Double($0.bytes))
            }
        }
        if packets > 0 { mergeSlivers(&bins) }
        out.points = bins.map { point($0, perBin: Double(out.binNs), divisor: Double(out.intervalsPerBin)) }
        return out
    }

    /// Bins of the line before drawing: a start, a length (more than one bin after a merge), bytes.
    struct Bin {
        var startNs: Int64
        var widthNs: Int64
        var bytes: Double
        var endNs: Int64 { startNs.addingReportingOverflow(widthNs).overflow ? .max : startNs &+ widthNs }
    }

    /// The nanoseconds of `bin` inside the packets' span.
    private func covered(_ bin: Bin) -> Int64 {
        let lo = max(bin.startNs, firstNs)
        let hi = min(bin.endNs, lastNs == .max ? lastNs : lastNs + 1)
        let (d, o) = hi.subtractingReportingOverflow(lo)
        return o ? .max : max(0, d)
    }

    private func mergeSlivers(_ bins: inout [Bin]) {
        guard bins.count >= 2 else { return }
        let last = bins.count - 1
        if covered(bins[last]) < bins[last].widthNs - covered(bins[last]) {
            bins[last - 1].bytes += bins[last].bytes
            bins[last - 1].widthNs = bins[last - 1].widthNs &+ bins[last].widthNs
            bins.removeLast()
        }
        if bins.count >= 2, covered(bins[0]) < bins[0].widthNs - covered(bins[0]) {
            bins[1].bytes += bins[0].bytes
            bins[1].widthNs = bins[1].widthNs &+ bins[0].widthNs
            bins[1].startNs = bins[0].startNs
            bins.removeFirst()
        }
    }

    /// A vertex at the centre of the covered part of `bin`: bytes per bin (divided by `divisor`,
    /// the intervals per bin), scaled when the bin is not wholly inside the packets' span.
    private func point(_ bin: Bin, perBin: Double, divisor: Double) -> ChartLine.Point {
        let c = packets > 0 ? covered(bin) : bin.widthNs
        var p = ChartLine.Point(timeNs: bin.startNs &+ bin.widthNs / 2, bytes: bin.bytes / divisor, scaled: false)
        if c > 0 && c != bin.widthNs || bin.widthNs != Int64(perBin) {
            p.bytes = bin.bytes / divisor * perBin / Double(max(c, 1))
            p.scaled = true
            if c > 0 && c < bin.widthNs {
                let lo = max(bin.startNs, firstNs)
                p.timeNs = lo &+ c / 2
            }
        }
        return p
    }
}
