import Rendering
public import TrafficAnalysis

/// The flow table as the API sees it: a copy taken on the pipeline thread once a second (the
/// table itself belongs to that thread), ordered and aggregated per request.
public struct FlowSnapshot: Sendable {
    public var flows: [Flow] = []
    public var counters = FlowTableCounters()
    /// Capture time of the copy (CLOCK_REALTIME ns); 0 before the first.
    public var takenNs: Int64 = 0
    /// The names the flows' name ids stood for when the copy was taken.
    public var names: [UInt32: String] = [:]

    public init() {}

    public init(flows: [Flow], counters: FlowTableCounters, takenNs: Int64, names: [UInt32: String] = [:]) {
        self.flows = flows
        self.counters = counters
        self.takenNs = takenNs
        self.names = names
    }

    /// A copy of `table`, with the names of its flows read from `nameTable` (on the thread that
    /// owns both).
    public init(_ table: FlowTable, takenNs: Int64, nameTable: NameTable?) {
        var names: [UInt32: String] = [:]
        var flows: [Flow] = []
        flows.reserveCapacity(table.count)
        for f in table {
            flows.append(f)
            guard let nameTable else { continue }
            for id in [f.srcName, f.dstName, f.serverName] where id != 0 && names[id] == nil {
                names[id] = nameTable.string(id)
            }
        }
        self.init(flows: flows, counters: table.counters, takenNs: takenNs, names: names)
    }

    public enum View: String, Sendable, CaseIterable { case flow, host, port }

    /// `{"view":…,"by":…,"active_flows":N,"taken":T,"rows":[…]}`; rows as `flows --format json` prints.
    public func json(view: View, by: FlowSort, top: Int) -> String {
        var out: [UInt8] = []
        switch view {
        case .flow:
            let writer = FlowWriter(
                format: .json, columns: FlowWriter.flowColumns + FlowWriter.tcpColumns + FlowWriter.nameColumns)
            for i in FlowViews.order(flows, by: by, top: top) {
                let f = flows[i]
                let cells = FlowWriter.cells(f) + FlowWriter.tcpCells(f) + FlowWriter.nameCells(f) { names[$0] ?? "" }
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
