/// The `--interval` option: text such as `1`, `0.1`, `250ms`, `5s`, `1m`, parsed exactly into
/// nanoseconds (decimal digits are never passed through a `Double`, so `0.1` is 100,000,000 ns).
///
/// Grammar: optional spaces, digits with an optional `.` and fraction (`.5` and `5.` are accepted),
/// optional spaces, an optional unit. A bare number is seconds. Units: `ns`, `us` (or `µs`), `ms`,
/// `s`, `m` (minutes), `h`. No sign, no exponent.
public struct IntervalSpec: Sendable, Equatable, CustomStringConvertible {
    /// The interval length in nanoseconds, always > 0.
    public let nanoseconds: Int64

    public init(nanoseconds: Int64) throws(AnalysisError) {
        guard nanoseconds > 0 else {
            throw nanoseconds == 0 ? .intervalZero("\(nanoseconds)ns") : .intervalNegative("\(nanoseconds)ns")
        }
        self.nanoseconds = nanoseconds
    }

    /// Parses `--interval` text.
    public init(parsing text: String) throws(AnalysisError) {
        nanoseconds = try Self.parse(text)
    }

    /// Parses `--interval` text into nanoseconds (> 0).
    public static func parse(_ text: String) throws(AnalysisError) -> Int64 {
        let trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
        if trimmed.first == "-" {
            // Parse the rest so that "-abc" reports the real problem, then refuse the sign.
            let rest = String(trimmed.dropFirst())
            do {
                _ = try parse(rest, original: text)
            } catch .intervalZero {
                throw .intervalZero(text)
            }
            throw .intervalNegative(text)
        }
        return try parse(text, original: text)
    }

    private static func parse(_ text: String, original: String) throws(AnalysisError) -> Int64 {
        var bytes = Array(text.utf8)
        while let f = bytes.first, f == 0x20 || f == 0x09 { bytes.removeFirst() }
        while let l = bytes.last, l == 0x20 || l == 0x09 { bytes.removeLast() }
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") {
            throw .intervalNotANumber(original)
        }
        // Digits before and after the point, kept as text so the conversion is exact.
        var intDigits: [UInt8] = []
        var fracDigits: [UInt8] = []
        var i = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            intDigits.append(bytes[i] - 0x30)
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                fracDigits.append(bytes[i] - 0x30)
                i += 1
            }
        }
        guard !intDigits.isEmpty || !fracDigits.isEmpty else { throw .intervalNotANumber(original) }
        while i < bytes.count, bytes[i] == 0x20 { i += 1 }
        let unit = String(decoding: bytes[i...], as: UTF8.self)
        let unitNs: Int64
        switch unit {
        case "ns": unitNs = 1
        case "us", "µs", "μs": unitNs = 1_000
        case "ms": unitNs = 1_000_000
        case "", "s": unitNs = 1_000_000_000
        case "m", "min": unitNs = 60_000_000_000
        case "h": unitNs = 3_600_000_000_000
        default:
            // "1.2.3" or "12abc": a unit made of letters is unknown, anything else is not a number.
            let isWord = unit.utf8.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
            throw isWord ? .intervalUnknownUnit(text: original, unit: unit) : .intervalNotANumber(original)
        }
        // value = int * unitNs + frac * unitNs / 10^len(frac), exactly.
        var whole: Int64 = 0
        for d in intDigits {
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { throw .intervalTooLarge(original) }
            whole = s
        }
        let (wholeNs, o3) = whole.multipliedReportingOverflow(by: unitNs)
        if o3 { throw .intervalTooLarge(original) }
        // Fraction: trailing zeros carry no information; a unit has at most 13 decimal digits of ns.
        while fracDigits.last == 0 { fracDigits.removeLast() }
        var fracNs: Int64 = 0
        if !fracDigits.isEmpty {
            var digitsOfUnit = 0
            var u = unitNs
            while u % 10 == 0 {
                u /= 10
                digitsOfUnit += 1
            }
            // unitNs = u * 10^digitsOfUnit, u in {1, 6, 36}.
            if fracDigits.count > digitsOfUnit {
                // Need u * 0.fff... * 10^digitsOfUnit to be whole: check with the leftover digits.
                var num: Int64 = 0
                for d in fracDigits { num = num * 10 + Int64(d) }
                // num * unitNs / 10^count must be an integer; count <= 18 keeps num in range.
                guard fracDigits.count <= 18 else { throw .intervalTooFine(original) }
                var p: Int64 = 1
                for _ in 0..<fracDigits.count { p *= 10 }
                let (prod, o) = num.multipliedReportingOverflow(by: unitNs)
                if o {
                    // Too many digits for exact arithmetic: they cannot all be significant.
                    throw .intervalTooFine(original)
                }
                guard prod % p == 0 else { throw .intervalTooFine(original) }
                fracNs = prod / p
            } else {
                var num: Int64 = 0
                for d in fracDigits { num = num * 10 + Int64(d) }
                var scale: Int64 = 1
                for _ in 0..<(digitsOfUnit - fracDigits.count) { scale *= 10 }
                fracNs = num * u * scale
            }
        }
        let (total, o4) = wholeNs.addingReportingOverflow(fracNs)
        if o4 { throw .intervalTooLarge(original) }
        if total == 0 { throw .intervalZero(original) }
        return total
    }

    /// A short human form: `1 s`, `250 ms`, `1.5 s`, `2 min`.
    public var description: String { Self.describe(nanoseconds) }

    /// A short human form of an interval in nanoseconds: the largest unit that keeps the number
    /// readable, with at most 3 decimals (`1 s`, `250 ms`, `1.5 s`, `2 min`, `100 ns`).
    public static func describe(_ ns: Int64) -> String {
        let units: [(Int64, String)] = [
            (3_600_000_000_000, "h"), (60_000_000_000, "min"), (1_000_000_000, "s"),
            (1_000_000, "ms"), (1_000, "us"), (1, "ns"),
        ]
        let m = ns.magnitude
        for (size, name) in units {
            let s = UInt64(size)
            // Whole minutes and hours only; seconds and below may carry up to 3 decimals.
            if size >= 60_000_000_000 {
                if m >= s, m % s == 0 { return "\(ns < 0 ? "-" : "")\(m / s) \(name)" }
                continue
            }
            if m >= s || size == 1 {
                let milli = (m % s) * 1000
                if milli % s == 0 {
                    var frac = milli / s
                    var text = "\(m / s)"
                    if frac != 0 {
                        var digits = 3
                        while frac % 10 == 0 {
                            frac /= 10
                            digits -= 1
                        }
                        var f = "\(frac)"
                        while f.count < digits { f = "0" + f }
                        text += "." + f
                    }
                    return "\(ns < 0 ? "-" : "")\(text) \(name)"
                }
            }
        }
        return "\(ns) ns"
    }
}
