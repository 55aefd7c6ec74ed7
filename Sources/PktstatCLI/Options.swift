public import ArgumentParser
import TrafficAnalysis

/// Times on the command line (`TimeSpan`, `IntervalOption`), parsed once by the argument parser;
/// options use `transform: TimeSpan.parse` so a bad value says what is wrong with it.
extension TimeSpan: ExpressibleByArgument {
    init?(argument: String) { try? self.init(parsing: argument) }

    static func parse(_ text: String) throws -> TimeSpan {
        try argument { () throws(AnalysisError) in try TimeSpan(parsing: text) }
    }

    static var defaultCompletionKind: CompletionKind { .list(["1", "10s", "500ms", "1m"]) }
}

extension IntervalOption: ExpressibleByArgument {
    init?(argument: String) { try? self.init(parsing: argument) }

    static func parse(_ text: String) throws -> IntervalOption {
        try argument { () throws(AnalysisError) in try IntervalOption(parsing: text) }
    }

    static var defaultCompletionKind: CompletionKind { .list(["auto", "1", "100ms", "1m"]) }
}

/// A value parsed by the library, its error as the parser's message: `PROBLEM; FIX`.
private func argument<T>(_ parse: () throws(AnalysisError) -> T) throws -> T {
    do { return try parse() } catch { throw ValidationError("\(error.description); \(error.hint)") }
}
