// Number and time formatting for the series writers, charts and scripts: straight into a byte
// buffer, exact where the value is exact (ratios of integers are divided in 128-bit integers, never
// through a Double), and without Foundation.

extension Array where Element == UInt8 {
    /// Appends an unsigned 128-bit decimal.
    mutating func appendDecimal128(_ value: UInt128) {
        if value <= UInt128(UInt64.max) {
            append(decimal: UInt64(value))
            return
        }
        var digits: [UInt8] = []
        var v = value
        while v > 0 {
            digits.append(UInt8(truncatingIfNeeded: v % 10) &+ 48)
            v /= 10
        }
        append(contentsOf: digits.reversed())
    }

    /// Appends `numerator / denominator` rounded half up to `decimals` digits; trailing zeros of the
    /// fraction (and a bare point) are dropped: `1280`, `80.5`, `0.333`.
    mutating func appendRatio(_ numerator: UInt128, _ denominator: UInt128, decimals: Int = 3) {
        guard denominator > 0 else {
            append(UInt8(ascii: "0"))
            return
        }
        var p: UInt128 = 1
        for _ in 0..<decimals { p *= 10 }
        let (n2, o) = numerator.multipliedReportingOverflow(by: p * 2)
        let scaled: UInt128 = o ? numerator / denominator * p : (n2 + denominator) / (denominator * 2)
        appendDecimal128(scaled / p)
        var frac = scaled % p
        guard frac != 0 else { return }
        var width = decimals
        while frac % 10 == 0 {
            frac /= 10
            width -= 1
        }
        append(UInt8(ascii: "."))
        var text: [UInt8] = []
        var f = frac
        for _ in 0..<width {
            text.append(UInt8(truncatingIfNeeded: f % 10) &+ 48)
            f /= 10
        }
        append(contentsOf: text.reversed())
    }

    /// Appends a signed nanosecond count as seconds with the shortest exact fraction:
    /// `0`, `1`, `0.25`, `-1.000000001`.
    mutating func appendSeconds(ns: Int64) {
        if ns < 0 { append(UInt8(ascii: "-")) }
        let m = ns.magnitude
        append(decimal: m / 1_000_000_000)
        var frac = m % 1_000_000_000
        guard frac != 0 else { return }
        var width = 9
        while frac % 10 == 0 {
            frac /= 10
            width -= 1
        }
        append(UInt8(ascii: "."))
        append(decimal: frac, width: width)
    }

    /// A `Double` with a fixed number of decimals, trailing zeros dropped: for coordinates and rates
    /// that are not exact ratios. Non-finite values print as `0`.
    mutating func appendFixed(_ value: Double, decimals: Int = 1) {
        guard value.isFinite else {
            append(UInt8(ascii: "0"))
            return
        }
        var p = 1.0
        var pi: UInt64 = 1
        for _ in 0..<decimals {
            p *= 10
            pi *= 10
        }
        let scaled = (value.magnitude * p).rounded()
        guard scaled < 9.0e18 else {
            // Out of integer range: whole units are all that matters at this size.
            if value < 0 { append(UInt8(ascii: "-")) }
            appendDecimal128(UInt128(value.magnitude.rounded()))
            return
        }
        let n = UInt64(scaled)
        if value < 0 && n != 0 { append(UInt8(ascii: "-")) }
        append(decimal: n / pi)
        var frac = n % pi
        guard frac != 0 else { return }
        var width = decimals
        while frac % 10 == 0 {
            frac /= 10
            width -= 1
        }
        append(UInt8(ascii: "."))
        append(decimal: frac, width: width)
    }

    /// A value with an SI suffix and three significant digits: `950`, `12.3k`, `1.5M`, `2G`. For
    /// table cells; texts with a unit use `appendQuantity`.
    mutating func appendSI(_ value: Double) {
        if let prefix = appendSIDigits(value) { append(prefix) }
    }

    /// A quantity for texts people read: three significant digits, a space, then the decimal SI
    /// prefix and the unit written together: `325 bit/s`, `24.5 Mbit/s`, `950 B`, `1.2 kB`,
    /// `24.5 MB`. Non-finite values print as `0 B`.
    mutating func appendQuantity(_ value: Double, unit: StaticString) {
        let prefix = appendSIDigits(value)
        append(UInt8(ascii: " "))
        if let prefix { append(prefix) }
        unit.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends the digits of `value` scaled by powers of 1000 to three significant digits, and
    /// returns the SI prefix that goes with them (`k`, `M`, ... `E`; nil below 1000).
    private mutating func appendSIDigits(_ value: Double) -> UInt8? {
        guard value.isFinite else {
            append(UInt8(ascii: "0"))
            return nil
        }
        let prefixes: [UInt8] = [
            0, UInt8(ascii: "k"), UInt8(ascii: "M"), UInt8(ascii: "G"), UInt8(ascii: "T"), UInt8(ascii: "P"),
            UInt8(ascii: "E"),
        ]
        var v = value.magnitude
        var i = 0
        while v >= 999.5 && i + 1 < prefixes.count {
            v /= 1000
            i += 1
        }
        if value < 0 { append(UInt8(ascii: "-")) }
        appendFixed(v, decimals: i == 0 ? 0 : (v < 9.995 ? 2 : v < 99.95 ? 1 : 0))
        return i > 0 ? prefixes[i] : nil
    }

    /// `String` bytes.
    mutating func appendUTF8(_ text: String) {
        append(contentsOf: text.utf8)
    }
}

/// UTC calendar fields from epoch nanoseconds (proleptic Gregorian; Howard Hinnant's
/// civil-from-days), so clock labels need neither Foundation nor the C library's time zone.
struct UTCTime: Equatable {
    var year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int

    init(ns: Int64) {
        let secondsPerDay: Int64 = 86_400
        var s = ns / 1_000_000_000
        var frac = ns % 1_000_000_000
        if frac < 0 {
            frac += 1_000_000_000
            s -= 1
        }
        var days = s / secondsPerDay
        var rem = s % secondsPerDay
        if rem < 0 {
            rem += secondsPerDay
            days -= 1
        }
        hour = Int(rem / 3600)
        minute = Int(rem % 3600 / 60)
        second = Int(rem % 60)
        nanosecond = Int(frac)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = Int(doy - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `2023-11-14T22:13:20Z`, with `.fff…` when `fractionDigits` > 0.
    func iso(fractionDigits: Int = 0) -> String {
        var out: [UInt8] = []
        out.append(decimal: year)
        out.append(UInt8(ascii: "-"))
        out.append(decimal: UInt64(month), width: 2)
        out.append(UInt8(ascii: "-"))
        out.append(decimal: UInt64(day), width: 2)
        out.append(UInt8(ascii: "T"))
        out.append(contentsOf: clock(fractionDigits: fractionDigits).utf8)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `22:13:20`, with `.fff…` when `fractionDigits` > 0.
    func clock(fractionDigits: Int = 0) -> String {
        var out: [UInt8] = []
        out.append(decimal: UInt64(hour), width: 2)
        out.append(UInt8(ascii: ":"))
        out.append(decimal: UInt64(minute), width: 2)
        out.append(UInt8(ascii: ":"))
        out.append(decimal: UInt64(second), width: 2)
        if fractionDigits > 0 {
            var f = UInt64(nanosecond)
            for _ in fractionDigits..<9 { f /= 10 }
            out.append(UInt8(ascii: "."))
            out.append(decimal: f, width: min(9, fractionDigits))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
