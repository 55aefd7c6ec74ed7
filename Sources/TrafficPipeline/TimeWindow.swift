import Glibc

/// The packets a run keeps by time: from `sinceNs` (included) to `untilNs` (excluded), as
/// `editcap -A since -B until` slices a capture. Applied in the sources, which skip whole files
/// outside it.
public struct TimeWindow: Sendable, Equatable {
    public var sinceNs: Int64?
    public var untilNs: Int64?

    public init(sinceNs: Int64? = nil, untilNs: Int64? = nil) {
        self.sinceNs = sinceNs
        self.untilNs = untilNs
    }

    /// No bound: every packet is in.
    public var isEverything: Bool { sinceNs == nil && untilNs == nil }

    @inline(__always)
    public func contains(_ timestampNs: Int64) -> Bool {
        if let sinceNs, timestampNs < sinceNs { return false }
        if let untilNs, timestampNs >= untilNs { return false }
        return true
    }
}

/// A time given on the command line that cannot be read.
public struct TimeBoundError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var hint: String? {
        "give epoch seconds (1700000000.5), RFC 3339 (2023-11-14T22:13:20Z, 2023-11-14T23:13:20+01:00) "
            + "or a time before now (-2h, -30m, -90s, -1d)"
    }
}

/// `--since` and `--until` values: epoch seconds (`1700000000`, `1700000000.25`), RFC 3339
/// (`2023-11-14T22:13:20Z`, fractions and offsets allowed, a space for the `T`), or relative to
/// now (`-2h`, `-30m`, `-90s`, `-1d`, `-1.5h`). Exact: integer nanoseconds throughout.
public enum TimeBound {
    public static func parse(_ text: String, nowNs: Int64) throws(TimeBoundError) -> Int64 {
        let bad = TimeBoundError(description: "cannot read the time '\(text)'")
        let t = text.trimmingPrefixSpaces()
        if t.hasPrefix("-") {
            guard let ago = relative(String(t.dropFirst())) else { throw bad }
            return nowNs - ago
        }
        if let epoch = decimalNanoseconds(t[...]) { return epoch }
        guard let date = rfc3339(t) else { throw bad }
        return date
    }

    /// `2h`, `30m`, `90s`, `1d`, `1.5h`, `500ms` as nanoseconds.
    static func relative(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
            ("d", 86_400_000_000_000),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard let ns = decimalNanoseconds(number) else { continue }
            let (v, overflow) = (ns / 1000).multipliedReportingOverflow(by: scale / 1_000_000)
            return overflow ? nil : v
        }
        return nil
    }

    /// Non-negative decimal seconds (`1700000000`, `0.25`) as nanoseconds; nil when not a number.
    static func decimalNanoseconds(_ text: Substring) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit),
            let seconds = Int64(whole), seconds < 9_000_000_000
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCIIDigit) else { return nil }
            fraction = Int64(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
        }
        return seconds * 1_000_000_000 + fraction
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` as epoch nanoseconds.
    static func rfc3339(_ text: String) -> Int64? {
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
        let seconds = Int64(timegm(&tm)) - offset
        return seconds * 1_000_000_000 + fraction
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

extension String {
    fileprivate func trimmingPrefixSpaces() -> String {
        String(drop(while: { $0 == " " }))
    }
}
