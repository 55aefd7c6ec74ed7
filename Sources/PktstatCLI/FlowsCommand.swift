public import ArgumentParser
import OutputSinks
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

enum FlowGrouping: String, CaseIterable, ExpressibleByArgument {
    case host
    case byProtocol = "protocol"
    case port
}

extension FlowFormat: ExpressibleByArgument {}
extension FlowSort: ExpressibleByArgument {}

/// `pktstat flows`: the conversations in a capture file (or sniff's CSV on stdin).
struct Flows: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Conversations in a capture: packets and bytes per flow, host, protocol or port.",
        discussion: """
            Examples:
              pktstat flows capture.pcap                      a table, a row per flow
              pktstat flows capture.pcap --format csv > flows.csv
              pktstat flows capture.pcap --sort bytes --top 10
              pktstat flows capture.pcap --by host --top 10   top talkers
              pktstat flows capture.pcap --by port            per protocol and destination port
              pktstat flows capture.pcap --filter 'tcp port 443'
              sudo pktstat sniff -c 1000 --format csv | pktstat flows -

            A flow is the protocol label plus the unordered pair of endpoints (address, port) of its packets, as sniff \
            prints them: both directions are one flow; all ARP packets are one flow, as are all 'other' packets; ICMP \
            flows are keyed by the address pair; non-first fragments (no ports) form a flow of their own. The flow's \
            src is the sender of its first packet; first and last are its smallest and largest timestamps; src_* \
            counts what src sent, dst_* what the other side sent.

            CSV columns: \
            first,last,protocol,src,sport,dst,dport,packets,bytes,src_packets,src_bytes,dst_packets,dst_bytes, rows in \
            the order of each flow's first packet (--sort bytes|packets|first to change it). --by host: \
            host,flows,packets,bytes,sent_packets,sent_bytes,received_packets,received_bytes (flows without addresses \
            left out); --by port: protocol,port (the flow's dport),flows,packets,bytes; --by protocol: \
            protocol,flows,packets,bytes; these are sorted by bytes unless --sort says otherwise.

            The count is exact: every flow is kept until the end (about 100 bytes each). --flow-timeout and \
            --max-flows bound the memory instead: a flow idle longer than the timeout (in capture time) or evicted \
            from a full table (one of the least recently seen) is written when it leaves, and a later packet of it \
            starts a new flow; the rows still in the table follow, by first timestamp.
            """
    )

    @OptionGroup var inputs: CaptureInputs
    var input: String { inputs.input }

    @Option(help: "Output: table, csv or json (one object per line).")
    var format: FlowFormat = .table

    @Option(help: "Order: bytes or packets (most first), or first (earliest first packet first).")
    var sort: FlowSort?

    @Option(help: ArgumentHelp("Print only the first N rows.", valueName: "n"))
    var top: Int?

    @Option(
        help: ArgumentHelp("Aggregate per host, protocol or port instead of per flow.", valueName: "host|protocol|port")
    )
    var by: FlowGrouping?

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax) applied to the file.", valueName: "expression"))
    var filter: String?

    @OptionGroup var bounds: FlowBoundOptions

    func validate() throws {
        if let top, top <= 0 { throw ValidationError("--top must be a positive number of rows (got \(top))") }
        if input == "-" && filter != nil {
            throw ValidationError("--filter needs a capture file; it does not work on standard input")
        }
    }

    func run() throws {
        try ErrorReport.run { try flows() }
    }

    private var bounded: Bool { bounds.given }

    private func flows() throws {
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        let limits = bounds.limits(defaultTimeoutNs: nil, defaultMax: .max)
        let table = FlowTable(limits: limits, keepsRetired: bounded)
        let out = ByteOutput.standardOutput()
        // Flows leaving a bounded table are written at once when rows need no order.
        let streaming = bounded && by == nil && sort == nil && format != .table
        let writer = FlowWriter(format: format, columns: columns)
        if streaming { writer.header(into: &out.buffer) }
        var kept: [Flow] = []
        var readError: (any Error)?
        var opened = false
        var outputError: OutputError?
        do {
            let source = try inputs.source(filter: filter)
            try source.stream(stop: stop, opened: { _ in opened = true }) { batch in
                table.add(batch)
                guard !table.retired.isEmpty else { return !stop.isRequested }
                if streaming {
                    for f in table.retired { write(f, writer, into: &out.buffer) }
                    do throws(OutputError) { try out.flushIfFull() } catch {
                        outputError = error
                        return false
                    }
                } else {
                    kept += table.retired
                }
                table.retired.removeAll(keepingCapacity: true)
                return !stop.isRequested
            }
        } catch {
            if !opened { throw error }
            readError = error
        }
        if let outputError { throw outputError }
        try output(table, kept: kept, streaming: streaming, writer: writer, out: out)
        reportBounds(table.counters)
        if let readError { throw readError }
    }

    private var columns: [String] {
        switch by {
        case nil: FlowWriter.flowColumns
        case .host: FlowWriter.hostColumns
        case .port: FlowWriter.portColumns
        case .byProtocol: FlowWriter.protocolColumns
        }
    }

    private func write(_ f: Flow, _ writer: FlowWriter, into out: inout [UInt8]) {
        if format == .csv { FlowWriter.csvRow(f, into: &out) } else { writer.write(FlowWriter.cells(f), into: &out) }
    }

    /// The rows still to write: the table's flows (and, when bounded, those that left it).
    private func output(
        _ table: FlowTable, kept: [Flow], streaming: Bool, writer: FlowWriter, out: ByteOutput
    ) throws(OutputError) {
        if !streaming { writer.header(into: &out.buffer) }
        if by != nil {
            // The table itself when nothing left it: no copy of a million flows.
            if kept.isEmpty { return try aggregates(table, writer: writer, out: out) }
            return try aggregates(kept + Array(table), writer: writer, out: out)
        }
        if bounded {
            let all = kept + Array(table)
            return try flowRows(all, order: FlowViews.order(all, by: sort ?? .first, top: top), writer, out)
        }
        try flowRows(table, order: sort == nil ? nil : FlowViews.order(table, by: sort, top: top), writer, out)
    }

    private func flowRows<C: RandomAccessCollection<Flow>>(
        _ flows: C, order: [C.Index]?, _ writer: FlowWriter, _ out: ByteOutput
    ) throws(OutputError) {
        if format == .table {
            let rows = (order ?? Array(flows.indices.prefix(top ?? .max))).map { FlowWriter.cells(flows[$0]) }
            writer.table(rows, into: &out.buffer)
            return try out.flush()
        }
        for i in order ?? Array(flows.indices.prefix(top ?? .max)) {
            write(flows[i], writer, into: &out.buffer)
            try out.flushIfFull()
        }
        try out.flush()
    }

    private func aggregates(_ flows: some Sequence<Flow>, writer: FlowWriter, out: ByteOutput) throws(OutputError) {
        let rows: [[FlowCell]]
        switch by {
        case .host:
            let hosts = FlowViews.sorted(
                FlowViews.hosts(flows), by: sort, top: top, packets: \.packets, bytes: \.bytes, first: \.first)
            rows = hosts.map(FlowWriter.cells)
        case .port, .byProtocol, nil:
            let byPort = by == .port
            let groups = FlowViews.sorted(
                FlowViews.groups(flows, byPort: byPort), by: sort, top: top, packets: \.packets, bytes: \.bytes,
                first: \.first)
            rows = groups.map { FlowWriter.cells($0, withPort: byPort) }
        }
        if format == .table {
            writer.table(rows, into: &out.buffer)
        } else {
            for r in rows { writer.write(r, into: &out.buffer) }
        }
        try out.flush()
    }

    private func reportBounds(_ c: FlowTableCounters) {
        if c.expired > 0 { Console.line("\(c.expired) flows ended idle (--flow-timeout)") }
        if c.evicted > 0 { Console.line("\(c.evicted) flows evicted (--max-flows reached)") }
    }
}
