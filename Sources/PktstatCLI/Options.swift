public import ArgumentParser
import TrafficAnalysis

/// A length of time given on the command line (`--duration`, `--idle-timeout`, `--interval`):
/// one grammar for all of them, `IntervalSpec`'s (`10`, `1.5s`, `500ms`, `2m`, `1min`, `1h`,
/// `250us`; a bare number is seconds), parsed once by the argument parser and exact to the
/// nanosecond.
struct TimeSpan: ExpressibleByArgument, Equatable {
    let nanoseconds: Int64

    init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    init?(argument: String) {
        guard let ns = try? IntervalSpec.parse(argument) else { return nil }
        nanoseconds = ns
    }

    static var defaultCompletionKind: CompletionKind { .list(["1", "10s", "500ms", "1m"]) }
}
