/// A length of time given on the command line (`--duration`, `--idle-timeout`, `--interval`,
/// `--flow-timeout`): one grammar for all of them, `IntervalSpec`'s (`10`, `1.5s`, `500ms`, `2m`,
/// `1h`, `250us`; a bare number is seconds), exact to the nanosecond, and the text as written for
/// messages.
public struct TimeSpan: Sendable, Equatable {
    public let nanoseconds: Int64
    /// As the user wrote it.
    public let text: String

    public init(nanoseconds: Int64, text: String) {
        self.nanoseconds = nanoseconds
        self.text = text
    }

    public init(parsing text: String) throws(AnalysisError) {
        self.init(nanoseconds: try IntervalSpec.parse(text), text: text)
    }
}

/// `--interval`: a time, or `auto` (charts only: a round interval for at most about 1,000 points).
public enum IntervalOption: Sendable, Equatable {
    case auto
    case time(TimeSpan)

    public init(parsing text: String) throws(AnalysisError) {
        self = text.lowercased() == "auto" ? .auto : .time(try TimeSpan(parsing: text))
    }

    /// The interval in nanoseconds; nil for `auto`.
    public var nanoseconds: Int64? {
        if case .time(let t) = self { return t.nanoseconds }
        return nil
    }
}
