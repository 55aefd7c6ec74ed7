import Glibc

/// Everything that can go wrong in TrafficAnalysis: bad `--interval` text, and the temporary
/// interval file that cannot be read back.
/// `description` is the one line the CLI prints after "error: ", `hint` the fix.
public enum AnalysisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not a number with an optional unit.
    case intervalNotANumber(String)
    /// A unit suffix pktstat does not know.
    case intervalUnknownUnit(text: String, unit: String)
    /// The interval is zero.
    case intervalZero(String)
    /// The interval is negative.
    case intervalNegative(String)
    /// The interval is not a whole number of nanoseconds (`0.5ns`).
    case intervalTooFine(String)
    /// The interval does not fit in 64-bit nanoseconds (about 292 years).
    case intervalTooLarge(String)
    /// `IntervalStore`'s temporary file could not be read back.
    case intervalFileUnreadable(errno: Int32)

    public var description: String {
        switch self {
        case .intervalNotANumber(let t): "invalid interval '\(t)': not a number"
        case .intervalUnknownUnit(let t, let u): "invalid interval '\(t)': unknown unit '\(u)'"
        case .intervalZero(let t): "invalid interval '\(t)': the interval must be greater than zero"
        case .intervalNegative(let t): "invalid interval '\(t)': the interval cannot be negative"
        case .intervalTooFine(let t): "invalid interval '\(t)': finer than one nanosecond"
        case .intervalTooLarge(let t): "invalid interval '\(t)': too large"
        case .intervalFileUnreadable(let e):
            "cannot read back the temporary interval file: \(String(cString: strerror(e)))"
        }
    }

    public var hint: String {
        if case .intervalFileUnreadable = self {
            return "check the disk holding $TMPDIR (else /tmp), or point TMPDIR at another one"
        }
        return "use a positive number of seconds or a number with a unit: 1, 0.1, 250ms, 5s, 1m "
            + "(units: ns, us, ms, s, m, h)"
    }
}
