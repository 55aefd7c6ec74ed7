import TrafficAnalysis

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

    /// Why the window holds no time at all (`--until` not later than `--since`); nil when it does.
    public var problem: String? {
        guard let sinceNs, let untilNs, untilNs <= sinceNs else { return nil }
        return "--until must be later than --since (the window keeps since <= time < until)"
    }

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
        "give " + TimeText.forms
    }
}

/// `--since` and `--until` values: what `TimeText` reads (epoch seconds, RFC 3339, a time before
/// now), after any leading spaces. Exact: integer nanoseconds throughout.
public enum TimeBound {
    /// `text` read now: a time before now counts back from the real-time clock.
    public static func parse(_ text: String) throws(TimeBoundError) -> Int64 {
        try parse(text, nowNs: LivePipeline.realtimeNow())
    }

    public static func parse(_ text: String, nowNs: Int64) throws(TimeBoundError) -> Int64 {
        do {
            return try TimeText.nanoseconds(String(text.drop(while: { $0 == " " })), nowNs: nowNs)
        } catch {
            throw TimeBoundError(description: "cannot read the time '\(text)'")
        }
    }
}
