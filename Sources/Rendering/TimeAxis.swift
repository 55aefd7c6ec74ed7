import TrafficAnalysis

/// The time axis: where its ticks go and what they say.
///
/// Spans up to an hour are labelled in seconds from the origin (`0`, `10`, `20`, the CSV
/// `offset`); longer ones in UTC clock time at round steps (`14:00`), always UTC so that a chart
/// reads the same on every machine, and the axis title says so. When the span crosses midnight
/// the date goes under the first tick of each day (`2023-11-15`); steps of a day or more are
/// labelled with the date alone.
struct TimeAxis {
    struct Mark: Equatable {
        /// Seconds from the origin (the x coordinate).
        var offset: Double
        var label: String
        /// The date under the label, on the first tick of each day when the span crosses midnight.
        var date: String?
    }

    let marks: [Mark]
    let title: String
    let isClock: Bool

    /// Clock steps in seconds: 1, 2, 5, 10, 15, 30 s; 1, 2, 5, 10, 15, 30 min; 1, 2, 3, 6, 12 h;
    /// 1, 2, 7, 14 days, then multiples of 30 days.
    static let clockSteps: [Int64] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400, 172_800, 604_800, 1_209_600,
    ]

    init(fromNs: Int64, toNs: Int64, originNs: Int64, count: Int, labels: TimeLabels) {
        let span = (Double(toNs) - Double(fromNs)) / 1e9
        let clock: Bool
        switch labels {
        case .offset: clock = false
        case .clock: clock = true
        case .auto: clock = span > 3600
        }
        isClock = clock
        let x0 = ChartFrame.seconds(fromNs, from: originNs)
        let x1 = ChartFrame.seconds(toNs, from: originNs)
        let raw = span / Double(max(1, count))
        if clock && raw >= 0.75 {
            let step = Self.clockSteps.first { Double($0) >= raw } ?? Int64((raw / 2_592_000).rounded(.up)) * 2_592_000
            marks = Self.clockMarks(fromNs: fromNs, toNs: toNs, originNs: originNs, stepSeconds: step)
            let crosses = UTCTime(ns: fromNs).iso().prefix(10) != UTCTime(ns: toNs).iso().prefix(10)
            if step >= 86_400 {
                title = "date (UTC)"
            } else if crosses {
                title = "time (UTC; the date under the first tick of each day)"
            } else {
                title = "time (UTC, \(UTCTime(ns: fromNs).iso().prefix(10)))"
            }
            return
        }
        let ticks = Ticks.ticks(x0, x1, count: max(2, count))
        if clock {
            let digits = max(0, min(9, -(ticks.count > 1 ? ticks[1].exponent : ticks.first?.exponent ?? 0)))
            marks = ticks.map { t in
                let ns = originNs.addingReportingOverflow(Int64((t.value * 1e9).rounded()))
                let label = UTCTime(ns: ns.overflow ? originNs : ns.partialValue).clock(fractionDigits: digits)
                return Mark(offset: t.value, label: label, date: nil)
            }
            title = "time (UTC, \(UTCTime(ns: originNs).iso().prefix(10)))"
        } else {
            marks = ticks.map { Mark(offset: $0.value, label: $0.label, date: nil) }
            title = "time (s since \(UTCTime(ns: originNs).iso(fractionDigits: 3)))"
        }
    }

    /// Ticks at whole multiples of `stepSeconds` since the epoch (UTC midnight for day steps).
    private static func clockMarks(fromNs: Int64, toNs: Int64, originNs: Int64, stepSeconds: Int64) -> [Mark] {
        let stepNs = stepSeconds &* 1_000_000_000
        var t = LineBins.floorDiv(fromNs, stepNs) &* stepNs
        if t < fromNs { t &+= stepNs }
        let crosses = UTCTime(ns: fromNs).iso().prefix(10) != UTCTime(ns: toNs).iso().prefix(10)
        var marks: [Mark] = []
        var lastDay = ""
        while t <= toNs, marks.count < 200 {
            let time = UTCTime(ns: t)
            let day = String(time.iso().prefix(10))
            let label: String
            var date: String?
            if stepSeconds >= 86_400 {
                label = day
            } else {
                label = stepSeconds < 60 ? time.clock() : String(time.clock().prefix(5))
                if crosses && day != lastDay { date = day }
            }
            lastDay = day
            marks.append(Mark(offset: ChartFrame.seconds(t, from: originNs), label: label, date: date))
            let (n, o) = t.addingReportingOverflow(stepNs)
            if o { break }
            t = n
        }
        return marks
    }
}
