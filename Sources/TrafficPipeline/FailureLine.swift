public import History
public import NetInfo
public import OutputSinks
public import PacketCapture
public import PacketFile
public import TrafficAnalysis

/// An error with the one-line description and the fix the commands print.
public protocol HintedError: Error, CustomStringConvertible {
    var hint: String? { get }
}

extension CaptureFileError: HintedError {}
extension CaptureError: HintedError {}
extension PrivilegeError: HintedError {}
extension CSVInputError: HintedError {}
extension NetInfoError: HintedError {}
extension RouteLookupFailure: HintedError {}
extension GnuplotError: HintedError {}
extension ChartOutputError: HintedError {}
extension MultiFileError: HintedError {}
extension FileSourceError: HintedError {}
extension SettingsProblem: HintedError {}
extension FlowReportError: HintedError {}
extension HistoryError: HintedError {}
extension HistoryImportError: HintedError {}

/// What a command prints for a failure: `error: PROBLEM; FIX`, nothing for a closed output pipe
/// (`| head`: the reader went away, a quiet end), or nil for an error that is not pktstat's own
/// (the argument parser's, which it reports itself).
public enum FailureLine: Equatable {
    case quiet
    case line(String)

    public init?(_ error: any Error) {
        switch error {
        case let e as any HintedError: self = .line(Self.text(e.description, hint: e.hint))
        case let e as AnalysisError: self = .line(Self.text(e.description, hint: e.hint))
        case OutputError.closedPipe: self = .quiet
        case let e as OutputError: self = .line(Self.text(e.description, hint: nil))
        default: return nil
        }
    }

    public static func text(_ description: String, hint: String?) -> String {
        hint.map { "error: \(description); \($0)" } ?? "error: \(description)"
    }
}
