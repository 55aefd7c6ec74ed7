import Rendering
public import TrafficAnalysis

/// The flow table as the API sees it: a copy taken on the pipeline thread once a second (the
/// table itself belongs to that thread), ordered and aggregated per request.
public struct FlowSnapshot: Sendable {
    public var flows: [Flow] = []
    public var counters = FlowTableCounters()
    /// Capture time of the copy (CLOCK_REALTIME ns); 0 before the first.
    public var takenNs: Int64 = 0

    public init() {}

    public init(flows: [Flow], counters: FlowTableCounters, takenNs: Int64) {
        self.flows = flows
        self.counters = counters
        self.takenNs = takenNs
    }

    public enum View: String, Sendable, CaseIterable { case flow, host, port }

    /// `{"view":…,"by":…,"active_flows":N,"taken":T,"rows":[…]}`; rows as `flows --format json` prints.
    public func json(view: View, by: FlowSort, top: Int) -> String {
        var out: [UInt8] = []
        switch view {
        case .flow:
            let writer = FlowWriter(format: .json, columns: FlowWriter.flowColumns + FlowWriter.tcpColumns)
            for i in FlowViews.order(flows, by: by, top: top) {
                writer.write(FlowWriter.cells(flows[i]) + FlowWriter.tcpCells(flows[i]), into: &out)
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
