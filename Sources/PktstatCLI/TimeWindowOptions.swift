import ArgumentParser
import TrafficPipeline

/// A `--since`/`--until` time: epoch seconds, RFC 3339, or relative to now (`-2h`), parsed once
/// by the argument parser (`TimeBound`), exact to the nanosecond.
struct TimeBoundArgument: ExpressibleByArgument {
    let nanoseconds: Int64

    init?(argument: String) {
        guard let ns = try? TimeBound.parse(argument) else { return nil }
        nanoseconds = ns
    }

    static var defaultCompletionKind: CompletionKind { .list(["-1h", "-10m", "2024-01-01T00:00:00Z"]) }

    /// The help text of both options.
    static func help(_ what: String) -> ArgumentHelp {
        ArgumentHelp(
            "\(what): epoch seconds (1700000000.5), RFC 3339 (2023-11-14T22:13:20Z) or before now (-2h, -30m, -1d).",
            valueName: "time")
    }
}

/// `--since` and `--until` (`analyze`, `flows`, `sniff -r`), checked against each other once here.
struct TimeWindowOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: TimeBoundArgument.help("Only packets from this time on"))
    var since: TimeBoundArgument?

    @Option(parsing: .unconditional, help: TimeBoundArgument.help("Only packets before this time"))
    var until: TimeBoundArgument?

    var given: Bool { since != nil || until != nil }

    var window: TimeWindow {
        get throws {
            let window = TimeWindow(sinceNs: since?.nanoseconds, untilNs: until?.nanoseconds)
            if let problem = window.problem { throw ValidationError(problem) }
            return window
        }
    }

    func validate() throws { _ = try window }
}

/// The capture inputs of `analyze` and `flows`: files and folders merged by time, or `-`, the
/// time window and the filter.
struct CaptureInputs: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "pcap or pcapng files (gzip, zstd too) and folders, merged by time; or - for standard input "
                + "(a capture, or the CSV 'pktstat sniff --format csv' prints).",
            valueName: "file"))
    var files: [String] = []

    @OptionGroup var time: TimeWindowOptions

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax) applied to the files.", valueName: "expression"))
    var filter: String?

    /// The first input (the only one when it is `-`).
    var input: String { files[0] }

    func validate() throws {
        if files.isEmpty { return }
        if files.count > 1 && files.contains("-") {
            throw ValidationError("'-' (standard input) is read alone, not with files")
        }
        if input == "-" && filter != nil {
            throw ValidationError("--filter needs a capture file; it does not work on standard input")
        }
    }

    /// Files were given (`flows -i` takes the words as its filter instead; `analyze` needs them).
    func requireFiles() throws {
        if files.isEmpty { throw ValidationError("give a capture file (or - for standard input)") }
    }

    /// The record source for these inputs (sniff's CSV accepted on standard input).
    func source() throws -> FileSource {
        FileSource(paths: files, window: try time.window, filter: filter, acceptsCSV: true)
    }
}
