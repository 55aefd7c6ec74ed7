public import OutputSinks
import PacketRecords
public import Rendering
public import TrafficAnalysis

/// The file run of `flows`: the inputs read through a flow table into a `FlowReport` (streamed as
/// flows retire, or a top-N heap, aggregates, sorted runs), written as a table, CSV or JSON. Ctrl-C
/// ends the reading and writes what was read; an error after the inputs opened does the same, then
/// is thrown.
public struct FlowsRun {
    public var limits: FlowLimits
    /// Whether --flow-timeout or --max-flows were given: flows are written as they retire.
    public var bounded: Bool
    public var grouping: FlowGrouping?
    public var sort: FlowSort?
    public var top: Int?
    public var format: FlowFormat
    /// Whether flow rows name their ends and servers (DNS answers, ClientHellos in the capture).
    public var names: Bool
    /// Where the flows also go as IPFIX (`--ipfix`), with their own timestamps.
    public var ipfix: IPFIXOptions?

    public init(
        limits: FlowLimits, bounded: Bool, grouping: FlowGrouping?, sort: FlowSort?, top: Int?, format: FlowFormat,
        names: Bool = true, ipfix: IPFIXOptions? = nil
    ) {
        self.names = names
        self.ipfix = ipfix
        self.limits = limits
        self.bounded = bounded
        self.grouping = grouping
        self.sort = sort
        self.top = top
        self.format = format
    }

    /// Reads `source` to its end (or Ctrl-C) and writes the rows to `out`; `report` gets the
    /// warnings and the counts of flows that ended idle or were evicted.
    public func run(_ source: FileSource, out: ByteOutput, report: (String) -> Void) throws {
        var source = source
        // Flow rows name their ends and servers from what the capture holds (DNS answers, TLS
        // ClientHellos); hosts, ports and protocols rows have no names.
        let names = grouping == nil && self.names ? NameTable() : nil
        let sniffer = names == nil ? nil : NameSniffer()
        source.sniffer = sniffer
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        let exporter = try ipfix.map { options throws(IPFIXError) in try IPFIXExporter(options: options) }
        // The rows need no IP-layer bytes, round trips or ICMP types: only IPFIX records do.
        let table = FlowTable(limits: limits, keepsRetired: bounded, keepsDetails: exporter != nil)
        table.names = names
        let rows = FlowReport(
            grouping: grouping, sort: sort, top: top, bounded: bounded, inRetireOrder: format != .table)
        let writer = FlowWriter(format: format, grouping: grouping, names: names)
        if rows.streams { writer.header(into: &out.buffer) }
        var readError: (any Error)?
        var opened = false
        var outputError: OutputError?
        do {
            try source.stream(stop: stop, opened: { _ in opened = true }) { batch in
                if let sniffer { table.add(batch, events: sniffer.events) } else { table.add(batch) }
                if let exporter {
                    for f in table.retired { exporter.export(f, reason: IPFIXExporter.reason(f)) }
                }
                rows.take(from: table) { writer.write(.flow($0), into: &out.buffer) }
                do throws(OutputError) { try out.flushIfFull() } catch {
                    outputError = error
                    return false
                }
                return !stop.isRequested
            }
        } catch {
            if !opened { throw error }
            readError = error
        }
        if let outputError { throw outputError }
        if let exporter {
            for f in table.retired { exporter.export(f, reason: IPFIXExporter.reason(f)) }
            for f in table { exporter.export(f, reason: IPFIXExporter.reason(f)) }
            exporter.finish()
            report(exporter.summary)
        }
        try rows.finish(table)
        if !rows.streams { writer.header(into: &out.buffer) }
        try writer.rows(of: rows) { line in
            out.buffer += line
            try out.flushIfFull()
        }
        try out.flush()
        if let problem = rows.spillProblem { report("warning: \(problem); rows were kept in memory") }
        let c = table.counters
        if c.expired > 0 { report("\(c.expired) flows ended idle (--flow-timeout)") }
        if c.evicted > 0 { report("\(c.evicted) flows evicted (--max-flows reached)") }
        if let n = names?.counters, n.evictions > 0 || n.resets > 0 {
            report("name table full: \(n.evictions) addresses and \(n.resets) name stores forgotten, oldest first")
        }
        if let readError { throw readError }
    }
}

extension ConnectionOptions {
    /// Why `flows` cannot run with these options in `format`, in the words of the options; nil when
    /// it can. `flowRowOptions`: --by, --sort or --top was given (the flow model's).
    public func problem(format: FlowsFormat, connections: Bool, flowRowOptions: Bool) -> String? {
        do throws(SettingsProblem) {
            let model = try format.connectionFormat(connections: connections) != nil
            if !model && given { return Self.needModel }
            if model && flowRowOptions { return Self.flowRowsOnly }
            _ = try settings()
            return nil
        } catch {
            return error.description
        }
    }
}

extension ConnectionRun {
    /// `flows` with the connection model, whole: signals raise the stop flag (what was read is
    /// written), and `report` hears how many connections a full table ended early.
    public static func run(
        paths: [String], options: ConnectionOptions, format: ConnectionFormat, output: ByteOutput,
        filter: String? = nil, window: TimeWindow = TimeWindow(), report: (String) -> Void
    ) throws {
        let settings = try options.settings()
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        let counts = try run(
            paths: paths, settings: settings, format: format, output: output, stop: stop, filter: filter, window: window
        )
        if counts.evicted > 0 { report("\(counts.evicted) connections ended early (--max-flows reached)") }
    }
}
