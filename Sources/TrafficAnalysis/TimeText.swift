import Glibc

/// Why a time given as text was not read.
public enum TimeTextError: Error, Equatable, Sendable {
    /// Not epoch seconds, RFC 3339 or a time before now.
    case unreadable
    /// Well formed, but before what an `Int64` of nanoseconds since 1970 holds (about 1677).
    case tooEarly
    /// Well formed, but after what an `Int64` of nanoseconds since 1970 holds (about 2262).
    case tooLate
}

/// Times as text, read exactly to integer nanoseconds since 1970 (no `Double` on the way), for
/// `--since/--until` (TrafficPipeline's `TimeBound`) and `serve`'s `?since=`:
/// - epoch seconds, `1700000000`, `1700000000.25` (at most 9 decimals);
/// - RFC 3339, `2023-11-14T22:13:20Z`, `2023-11-14 23:13:20.5+01:00` (`T`, `t` or a space between
///   date and time; any number of decimals, the first 9 kept; `Z`, `z` or an offset);
/// - a time before `nowNs`: `-2h`, `-30m`, `-90s`, `-500ms`, `-1d`, `-1.5h`.
///
/// Nothing else: no spaces around it (callers trim what they allow). Pure: no clock, no locale.
public enum TimeText {
    /// The forms, for hints: "give " + `forms`.
    public static let forms =
        "epoch seconds (1700000000.5), RFC 3339 (2023-11-14T22:13:20Z, 2023-11-14T23:13:20+01:00) "
        + "or a time before now (-2h, -30m, -90s, -1d)"

    public static func nanoseconds(_ text: String, nowNs: Int64) throws(TimeTextError) -> Int64 {
        if text.hasPrefix("-") {
            let ago = try relative(text.dropFirst())
            let (t, overflow) = nowNs.subtractingReportingOverflow(ago)
            if overflow { throw .tooEarly }
            return t
        }
        if let epoch = try decimalNanoseconds(text[...]) { return epoch }
        guard let date = try rfc3339(text) else { throw .unreadable }
        return date
    }

    /// `2h`, `30m`, `90s`, `1d`, `1.5h`, `500ms` as nanoseconds (to the microsecond).
    static func relative(_ text: Substring) throws(TimeTextError) -> Int64 {
        let units: [(String, Int64)] = [
            ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
            ("d", 86_400_000_000_000),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            let ns: Int64
            do {
                guard let n = try decimalNanoseconds(number) else { continue }
                ns = n
            } catch {
                throw .tooEarly
            }
            let (v, overflow) = (ns / 1000).multipliedReportingOverflow(by: scale / 1_000_000)
            if overflow { throw .tooEarly }
            return v
        }
        throw .unreadable
    }

    /// Non-negative decimal seconds (`1700000000`, `0.25`) as nanoseconds; nil when not such a
    /// number, `tooLate` when it is one too large for nanoseconds.
    static func decimalNanoseconds(_ text: Substring) throws(TimeTextError) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit) else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCIIDigit) else { return nil }
            fraction = Int64(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
        }
        guard let seconds = Int64(whole) else { throw .tooLate }
        let (ns, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = ns.addingReportingOverflow(fraction)
        if o1 || o2 { throw .tooLate }
        return total
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` as epoch nanoseconds; nil when not that form.
    static func rfc3339(_ text: String) throws(TimeTextError) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
            b[13] == 0x3A, b[16] == 0x3A
        else { return nil }
        func number(_ from: Int, _ count: Int) -> Int32? {
            var v: Int32 = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int32(b[i] - 0x30)
            }
            return v
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if b[i] == 0x2E {
            var digits = 0
            i += 1
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if digits < 9 { fraction = fraction * 10 + Int64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { fraction *= 10 }
        }
        guard let offset = zoneOffsetSeconds(b, from: i) else { return nil }
        var tm = tm()
        tm.tm_year = year - 1900
        tm.tm_mon = month - 1
        tm.tm_mday = day
        tm.tm_hour = hour
        tm.tm_min = minute
        tm.tm_sec = second
        var seconds = Int64(timegm(&tm)) - offset
        // Before 1970 with a fraction: one second less negative and a negative fraction, so that
        // the earliest time nanoseconds hold does not overflow on the way.
        if seconds < 0 && fraction > 0 {
            seconds += 1
            fraction -= 1_000_000_000
        }
        let (ns, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = ns.addingReportingOverflow(fraction)
        if o1 || o2 { throw seconds < 0 ? .tooEarly : .tooLate }
        return total
    }

    /// `Z`, `+HH:MM` or `-HH:MM` ending the text, as seconds east of UTC.
    private static func zoneOffsetSeconds(_ b: [UInt8], from i: Int) -> Int64? {
        if i == b.count - 1 && (b[i] == 0x5A || b[i] == 0x7A) { return 0 }
        guard b.count - i == 6, b[i] == 0x2B || b[i] == 0x2D, b[i + 3] == 0x3A else { return nil }
        let digits = [b[i + 1], b[i + 2], b[i + 4], b[i + 5]]
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let v = digits.map { Int64($0 - 0x30) }
        let seconds = (v[0] * 10 + v[1]) * 3600 + (v[2] * 10 + v[3]) * 60
        return b[i] == 0x2B ? seconds : -seconds
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
