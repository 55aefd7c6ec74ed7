public import ArgumentParser
public import History
import OutputSinks
import Rendering
import TrafficPipeline

extension HistoryDimension: ExpressibleByArgument {}
extension HistoryResolution: ExpressibleByArgument {}

extension HistoryFormat: ExpressibleByArgument {}

/// `pktstat history`: traffic by day and month from the SQLite history (`import`, or `serve
/// --history`).
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract:
            "Traffic by 5 minutes, hour, day or month, per interface, protocol, host, port or process, from a history file.",
        discussion: """
            Examples:
              pktstat history import week/*.pcap --db t.sqlite   back-fill from captures
              pktstat history --db t.sqlite                      last 30 days, by day
              pktstat history --db t.sqlite --by host --resolution month --top 5
              pktstat history --db t.sqlite --by port --since -2d --format csv
              pktstat history --db t.sqlite --95th               billing's 95th percentile
              pktstat history --db t.sqlite --format svg -o days.svg   a bar chart by day, as vnstati draws

            The file is SQLite (read it with sqlite3 too): 5-minute rows for 2 days, hourly for 30 days, daily for 2 years, monthly for 10 years, as vnstat keeps them; hosts, ports and processes keep their top names per bucket and the rest as 'other'. Times are UTC. CSV columns: time (the bucket's start, epoch seconds),NAME,packets,bytes,bits_per_second.
            """,
        subcommands: [Show.self, Import.self],
        defaultSubcommand: Show.self
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print the history (the default).")

        @Option(help: ArgumentHelp("The history file.", valueName: "path"))
        var db: String

        @Option(help: "Rows by interface, protocol, host, port or process.")
        var by: HistoryDimension = .interface

        @Option(help: "5m, hour, day or month (default: by the span: hours up to 2 days, days up to 62, months).")
        var resolution: HistoryResolution?

        @OptionGroup var time: TimeWindowOptions

        @Option(help: ArgumentHelp("At most this many names per bucket; the rest as 'other'.", valueName: "n"))
        var top = 10

        @Flag(name: .customLong("95th"), help: "Print the 95th percentile of the 5-minute rates instead.")
        var percentile = false

        @Option(help: "table, csv, json, or svg (a bar chart of the bytes per bucket, stacked by name).")
        var format: HistoryFormat = .table

        @Option(
            name: .shortAndLong,
            help: ArgumentHelp("Write to this file (replaced whole) instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            if top <= 0 { throw ValidationError("--top must be a positive number of names (got \(top))") }
            if percentile && format == .svg {
                throw ValidationError("--95th prints one value; draw the rows with --format svg without --95th")
            }
            _ = try time.window
        }

        func run() throws {
            try ErrorReport.run {
                let window = try time.window
                var query = HistoryQuery()
                query.dimension = by
                query.resolution = resolution
                query.since = window.sinceNs.map { $0 / 1_000_000_000 }
                query.until = window.untilNs.map { $0 / 1_000_000_000 }
                query.top = top
                let notes = try HistoryShow.run(
                    db: db, query: query, percentile: percentile, format: format,
                    output: try output.map { path throws(OutputError) in try ByteOutput.file(path) }
                        ?? ByteOutput.standardOutput())
                for n in notes { Console.line(n) }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Add capture files to a history under their own timestamps (each file once).")

        @Argument(help: ArgumentHelp("Capture files (pcap, pcapng, gzip or zstd).", valueName: "file"))
        var files: [String]

        @Option(help: ArgumentHelp("The history file (created when missing).", valueName: "path"))
        var db: String

        @Option(help: ArgumentHelp("The interface name to file the traffic under.", valueName: "name"))
        var interface = "capture"

        @Option(help: ArgumentHelp("Names kept per minute and per bucket for hosts and ports.", valueName: "n"))
        var top = 20

        func run() throws {
            try ErrorReport.run {
                let r = try HistoryImport.run(
                    paths: files, db: db, interface: interface, top: top, report: Console.line)
                Console.line("\(r.files) files, \(r.packets) packets, \(r.minutes) minutes imported into \(db)")
            }
        }
    }
}
