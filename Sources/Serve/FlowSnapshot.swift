import Rendering
public import TrafficAnalysis

/// The flow table as the API sees it: a copy taken on the pipeline thread once a second (the
/// table itself belongs to that thread), ordered and aggregated per request.
public struct FlowSnapshot: Sendable {
    public var flows: [Flow] = []
    /// The local processes at each flow's src and dst ends (empty without attribution).
    public var owners: [(src: ProcessOwner?, dst: ProcessOwner?)] = []
    public var counters = FlowTableCounters()
    /// Capture time of the copy (CLOCK_REALTIME ns); 0 before the first.
    public var takenNs: Int64 = 0

    public init() {}

    public init(
        flows: [Flow], owners: [(src: ProcessOwner?, dst: ProcessOwner?)] = [], counters: FlowTableCounters,
        takenNs: Int64
    ) {
        self.flows = flows
        self.owners = owners
        self.counters = counters
        self.takenNs = takenNs
    }

    /// Totals per local process over the flows in the table: `{"by":…,"active_flows":N,
    /// "taken":T,"rows":[{pid,process,unit,flows,packets,bytes,sent_*,received_*}]}`. A process
    /// sent what the end it owns sent; a flow between two sockets of one process counts whole, both
    /// ways.
    public func processesJSON(by: FlowSort, top: Int) -> String {
        struct Totals {
            var owner: ProcessOwner
            var flows: UInt64 = 0
            var packets: UInt64 = 0
            var bytes: UInt64 = 0
            var sent: (packets: UInt64, bytes: UInt64) = (0, 0)
            var received: (packets: UInt64, bytes: UInt64) = (0, 0)
            var first: Int64 = .max
        }
        var at: [ProcessOwner: Int] = [:]
        var rows: [Totals] = []
        for (i, f) in flows.enumerated() where i < owners.count {
            let (s, d) = owners[i]
            func add(_ o: ProcessOwner, sent: (UInt64, UInt64), received: (UInt64, UInt64)) {
                let j = at[o] ?? rows.count
                if j == rows.count {
                    at[o] = j
                    rows.append(Totals(owner: o))
                }
                rows[j].flows += 1
                rows[j].packets += f.packets
                rows[j].bytes += f.bytes
                rows[j].sent.packets += sent.0
                rows[j].sent.bytes += sent.1
                rows[j].received.packets += received.0
                rows[j].received.bytes += received.1
                rows[j].first = min(rows[j].first, f.first)
            }
            let fromSrc = (f.srcPackets, f.srcBytes)
            let fromDst = (f.dstPackets, f.dstBytes)
            if let s, let d, s == d {
                add(s, sent: (f.packets, f.bytes), received: (f.packets, f.bytes))
                continue
            }
            if let s { add(s, sent: fromSrc, received: fromDst) }
            if let d { add(d, sent: fromDst, received: fromSrc) }
        }
        let sorted = FlowViews.sorted(rows, by: by, top: top, packets: \.packets, bytes: \.bytes, first: \.first)
        let columns = [
            "pid", "process", "unit", "flows", "packets", "bytes", "sent_packets", "sent_bytes", "received_packets",
            "received_bytes",
        ]
        let writer = FlowWriter(format: .json, columns: columns)
        var out: [UInt8] = []
        for t in sorted {
            let cells: [FlowCell] =
                FlowScreen.ownerCells(t.owner) + [
                    .count(t.flows), .count(t.packets), .count(t.bytes), .count(t.sent.packets), .count(t.sent.bytes),
                    .count(t.received.packets), .count(t.received.bytes),
                ]
            writer.write(cells, into: &out)
        }
        let text = String(decoding: out, as: UTF8.self).split(separator: "\n").joined(separator: ",")
        return "{\"by\":\"\(by.rawValue)\",\"active_flows\":\(flows.count),"
            + "\"taken\":\(takenNs == 0 ? "null" : ServeJSON.seconds(takenNs)),\"rows\":[\(text)]}"
    }

    public enum View: String, Sendable, CaseIterable { case flow, host, port }

    /// `{"view":…,"by":…,"active_flows":N,"taken":T,"rows":[…]}`; rows as `flows --format json` prints.
    public func json(view: View, by: FlowSort, top: Int) -> String {
        var out: [UInt8] = []
        switch view {
        case .flow:
            let columns = FlowWriter.flowColumns + FlowWriter.tcpColumns + FlowScreen.ownerColumns
            let writer = FlowWriter(format: .json, columns: columns)
            for i in FlowViews.order(flows, by: by, top: top) {
                let (src, dst) = i < owners.count ? owners[i] : (nil, nil)
                let cells =
                    FlowWriter.cells(flows[i]) + FlowWriter.tcpCells(flows[i]) + FlowScreen.ownerCells(src)
                    + FlowScreen.ownerCells(dst)
                writer.write(cells, into: &out)
            }
        case .host:
            let writer = FlowWriter(format: .json, columns: FlowWriter.hostColumns)
            let rows = FlowViews.sorted(
                FlowViews.hosts(flows), by: by, top: top, packets: \.packets, bytes: \.bytes, first: \.first)
            for h in rows { writer.write(FlowWriter.cells(h), into: &out) }
        case .port:
            let writer = FlowWriter(format: .json, columns: FlowWriter.portColumns)
            let rows = FlowViews.sorted(
                FlowViews.groups(flows, byPort: true), by: by, top: top, packets: \.packets, bytes: \.bytes,
                first: \.first)
            for g in rows { writer.write(FlowWriter.cells(g, withPort: true), into: &out) }
        }
        let rows = String(decoding: out, as: UTF8.self).split(separator: "\n").joined(separator: ",")
        return "{\"view\":\"\(view.rawValue)\",\"by\":\"\(by.rawValue)\",\"active_flows\":\(flows.count),"
            + "\"taken\":\(takenNs == 0 ? "null" : ServeJSON.seconds(takenNs)),\"rows\":[\(rows)]}"
    }
}
