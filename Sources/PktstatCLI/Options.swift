import ArgumentParser
import TrafficAnalysis

/// A length of time given on the command line (`--duration`, `--idle-timeout`, `--interval`):
/// one grammar for all of them, `IntervalSpec`'s (`10`, `1.5s`, `500ms`, `2m`, `1min`, `1h`,
/// `250us`; a bare number is seconds), parsed once by the argument parser and exact to the
/// nanosecond. Options use `transform: TimeSpan.parse` so a bad value says what is wrong with it.
struct TimeSpan: ExpressibleByArgument, Equatable {
    let nanoseconds: Int64
    /// As the user wrote it, for messages.
    let text: String

    init(nanoseconds: Int64, text: String) {
        self.nanoseconds = nanoseconds
        self.text = text
    }

    init?(argument: String) {
        guard let span = try? Self.parse(argument) else { return nil }
        self = span
    }

    static func parse(_ text: String) throws -> TimeSpan {
        do {
            return TimeSpan(nanoseconds: try IntervalSpec.parse(text), text: text)
        } catch {
            throw ValidationError("\(error.description); \(error.hint)")
        }
    }

    static var defaultCompletionKind: CompletionKind { .list(["1", "10s", "500ms", "1m"]) }
}

/// `--interval`: a time, or `auto` (charts only: a round interval for at most about 1,000 points).
enum IntervalOption: ExpressibleByArgument, Equatable {
    case auto
    case time(TimeSpan)

    init?(argument: String) {
        guard let option = try? Self.parse(argument) else { return nil }
        self = option
    }

    static func parse(_ text: String) throws -> IntervalOption {
        text.lowercased() == "auto" ? .auto : .time(try TimeSpan.parse(text))
    }

    /// The interval in nanoseconds; nil for `auto`.
    var nanoseconds: Int64? {
        if case .time(let t) = self { return t.nanoseconds }
        return nil
    }

    static var defaultCompletionKind: CompletionKind { .list(["auto", "1", "100ms", "1m"]) }
}
