public import PacketWire
public import TrafficAnalysis

/// Output formats of `flows` and `top --batch`.
public enum FlowFormat: String, Sendable, CaseIterable {
    case table, csv, json
}

/// One cell of a flows, hosts, ports or protocols row.
public enum FlowCell: Sendable, Equatable {
    case text(String)
    case count(UInt64)
    /// Epoch nanoseconds, printed with 9 decimals.
    case time(Int64)
    /// An address (version 4 or 6).
    case address(IPAddress, UInt8)
    /// A length of time in nanoseconds, printed in seconds with 6 decimals (as Zeek's intervals).
    case seconds(Int64)
    /// Absent: empty in CSV, null in JSON, `-` in tables.
    case none
}

/// Writes rows of cells as CSV (header line), JSON (an object per line) or an aligned table
/// (numbers right-aligned). The flow rows of `flows --format csv` (the conformance path, up to
/// millions of rows) go through `FlowWriter.csvRow`, which formats into stack scratch space.
public struct FlowWriter: Sendable {
    public let format: FlowFormat
    public let columns: [String]
    /// Whether group rows have a port column (`flows --by port`).
    public let withPort: Bool

    public init(format: FlowFormat, columns: [String]) {
        self.format = format
        self.columns = columns
        withPort = columns == Self.portColumns
    }

    /// A writer of `flows` rows: a row per flow, or per host, port or protocol.
    public init(format: FlowFormat, grouping: FlowGrouping?) {
        switch grouping {
        case nil: self.init(format: format, columns: Self.flowColumns)
        case .host: self.init(format: format, columns: Self.hostColumns)
        case .port: self.init(format: format, columns: Self.portColumns)
        case .byProtocol: self.init(format: format, columns: Self.protocolColumns)
        }
    }

    public static let flowColumns = [
        "first", "last", "protocol", "src", "sport", "dst", "dport", "packets", "bytes",
        "src_packets", "src_bytes", "dst_packets", "dst_bytes",
    ]
    /// The live views' flow rows (`top --batch`, serve's `/api/v1/flows`) end with these: Zeek's
    /// `conn_state` and the handshake's round trip as the TCP flags tell them (`Flow.tcpState`).
    public static let tcpColumns = ["tcp_state", "initial_rtt"]

    /// The `tcpColumns` cells of a flow (empty for other protocols, and while unknown).
    public static func tcpCells(_ f: Flow) -> [FlowCell] {
        [f.tcpState.map { .text($0.name) } ?? .none, f.initialRTTNanos.map { .seconds($0) } ?? .none]
    }

    public static let hostColumns = [
        "host", "flows", "packets", "bytes", "sent_packets", "sent_bytes", "received_packets", "received_bytes",
    ]
    public static let portColumns = ["protocol", "port", "flows", "packets", "bytes"]
    public static let protocolColumns = ["protocol", "flows", "packets", "bytes"]

    public static func cells(_ f: Flow) -> [FlowCell] {
        let v = f.key.ipVersion
        let src = f.src
        let dst = f.dst
        return [
            .time(f.first), .time(f.last), .text(f.key.label.name),
            v == 0 ? .none : .address(src.address, v), f.key.hasPorts ? .count(UInt64(src.port)) : .none,
            v == 0 ? .none : .address(dst.address, v), f.key.hasPorts ? .count(UInt64(dst.port)) : .none,
            .count(f.packets), .count(f.bytes), .count(f.srcPackets), .count(f.srcBytes),
            .count(f.dstPackets), .count(f.dstBytes),
        ]
    }

    public static func cells(_ h: HostTotals) -> [FlowCell] {
        [
            .address(h.address, h.ipVersion), .count(h.flows), .count(h.packets), .count(h.bytes),
            .count(h.sentPackets), .count(h.sentBytes), .count(h.receivedPackets), .count(h.receivedBytes),
        ]
    }

    public static func cells(_ g: GroupTotals, withPort: Bool) -> [FlowCell] {
        var row: [FlowCell] = [.text(g.label.name)]
        if withPort { row.append(g.hasPort ? .count(UInt64(g.port)) : .none) }
        return row + [.count(g.flows), .count(g.packets), .count(g.bytes)]
    }

    /// The cells of a report row.
    public func cells(_ row: FlowReportRow) -> [FlowCell] {
        switch row {
        case .flow(let f): Self.cells(f)
        case .host(let h): Self.cells(h)
        case .group(let g): Self.cells(g, withPort: withPort)
        }
    }

    /// A report row as CSV (flows through `csvRow`) or JSON.
    public func write(_ row: FlowReportRow, into out: inout [UInt8]) {
        if case .flow(let f) = row, format == .csv { return Self.csvRow(f, into: &out) }
        write(cells(row), into: &out)
    }

    /// The rows of a finished report, a line at a time, for `emit` to put somewhere: CSV or JSON
    /// lines; or a table, measured in a first pass over the rows, then its title line and the rows
    /// in a second. `emit` may not keep the array it is handed past the call (it is reused).
    public func rows(of report: FlowReport, _ emit: ([UInt8]) throws -> Void) throws {
        var line: [UInt8] = []
        guard format == .table else {
            return try report.forEachRow { row in
                line.removeAll(keepingCapacity: true)
                write(row, into: &line)
                try emit(line)
            }
        }
        var layout = FlowTableLayout(columns: columns)
        try report.forEachRow { layout.measure(cells($0)) }
        tableHeader(layout, into: &line)
        try emit(line)
        try report.forEachRow { row in
            line.removeAll(keepingCapacity: true)
            tableLine(cells(row), layout, into: &line)
            try emit(line)
        }
    }

    /// The CSV header line (JSON has none; a table's is written by `table`).
    public func header(into out: inout [UInt8]) {
        guard format == .csv else { return }
        out.append(contentsOf: columns.joined(separator: ",").utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// One CSV or JSON row (each cell formatted on its own, so no row is too long).
    public func write(_ row: [FlowCell], into out: inout [UInt8]) {
        let json = format == .json
        if json { out.append(UInt8(ascii: "{")) }
        for (i, cell) in row.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            if json {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: columns[i].utf8)
                out.append(contentsOf: "\":".utf8)
            }
            RowBytes.append(to: &out) { $0.cell(cell, json: json) }
        }
        out.append(contentsOf: (json ? "}\n" : "\n").utf8)
    }

    /// A flow as a CSV row, without building cells (millions of rows).
    public static func csvRow(_ f: Flow, into out: inout [UInt8]) {
        RowBytes.append(to: &out) { r in
            let v = f.key.ipVersion
            let src = f.src
            let dst = f.dst
            r.timestamp(f.first)
            r.byte(UInt8(ascii: ","))
            r.timestamp(f.last)
            r.byte(UInt8(ascii: ","))
            r.ascii(f.key.label.asciiName)
            r.byte(UInt8(ascii: ","))
            if v != 0 { r.address(src.address, version: v) }
            r.byte(UInt8(ascii: ","))
            if f.key.hasPorts { r.decimal(UInt64(src.port)) }
            r.byte(UInt8(ascii: ","))
            if v != 0 { r.address(dst.address, version: v) }
            r.byte(UInt8(ascii: ","))
            if f.key.hasPorts { r.decimal(UInt64(dst.port)) }
            for n in [f.packets, f.bytes, f.srcPackets, f.srcBytes, f.dstPackets, f.dstBytes] {
                r.byte(UInt8(ascii: ","))
                r.decimal(n)
            }
            r.byte(UInt8(ascii: "\n"))
        }
    }

    /// An aligned table: upper-case titles, every column as wide as its widest cell, numbers
    /// right-aligned, `-` for absent values.
    public func table(_ rows: [[FlowCell]], into out: inout [UInt8]) {
        var layout = FlowTableLayout(columns: columns)
        for row in rows { layout.measure(row) }
        tableHeader(layout, into: &out)
        for row in rows { tableLine(row, layout, into: &out) }
    }

    /// The title line of a table laid out by `layout` (measured over every row first).
    public func tableHeader(_ layout: FlowTableLayout, into out: inout [UInt8]) {
        line(columns.map { .text($0.uppercased()) }, layout, into: &out)
    }

    /// One line of a table laid out by `layout`: rows too many to hold are measured in a first
    /// pass, then written a line at a time in a second.
    public func tableLine(_ row: [FlowCell], _ layout: FlowTableLayout, into out: inout [UInt8]) {
        line(row, layout, into: &out)
    }

    private func line(_ cells: [FlowCell], _ layout: FlowTableLayout, into out: inout [UInt8]) {
        for (i, c) in cells.enumerated() {
            if i > 0 { out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: " ")]) }
            let pad = layout.widths[i] - Self.tableWidth(c)
            if layout.numeric[i] { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad)) }
            RowBytes.append(to: &out) { $0.cell(c, json: false, dash: true) }
            if !layout.numeric[i] && i != cells.count - 1 {
                out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: pad))
            }
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// The bytes a cell takes in a table.
    static func tableWidth(_ c: FlowCell) -> Int {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: RowBytes.capacity) { scratch in
            var row = RowBytes(scratch.baseAddress!)
            row.cell(c, json: false, dash: true)
            return row.count
        }
    }

    static func isNumeric(_ c: FlowCell) -> Bool {
        switch c {
        case .count, .seconds: true
        default: false
        }
    }
}

/// The column widths and alignment of an aligned table, measured a row at a time: every column as
/// wide as its title and its widest cell; numbers right-aligned (the first row's numeric cells).
public struct FlowTableLayout: Sendable {
    public private(set) var widths: [Int]
    public private(set) var numeric: [Bool]
    private var measured = false

    public init(columns: [String]) {
        widths = columns.map { $0.uppercased().utf8.count }
        numeric = columns.map { _ in false }
    }

    /// Widens the columns to fit `row`.
    public mutating func measure(_ row: [FlowCell]) {
        if !measured {
            measured = true
            numeric = row.map(FlowWriter.isNumeric)
        }
        for (i, c) in row.enumerated() { widths[i] = Swift.max(widths[i], FlowWriter.tableWidth(c)) }
    }
}

extension RowBytes {
    mutating func text(_ s: String) {
        for b in s.utf8.prefix(RowBytes.capacity / 4) { byte(b) }
    }

    mutating func cell(_ c: FlowCell, json: Bool, dash: Bool = false) {
        switch c {
        case .text(let s):
            if json { byte(UInt8(ascii: "\"")) }
            text(s)
            if json { byte(UInt8(ascii: "\"")) }
        case .count(let n): decimal(n)
        case .time(let t): timestamp(t)
        case .seconds(let ns):
            if ns < 0 { byte(UInt8(ascii: "-")) }
            let us = ns.magnitude / 1000
            decimal(us / 1_000_000)
            byte(UInt8(ascii: "."))
            decimal(us % 1_000_000, width: 6)
        case .address(let a, let v):
            if json { byte(UInt8(ascii: "\"")) }
            address(a, version: v)
            if json { byte(UInt8(ascii: "\"")) }
        case .none:
            if json { ascii("null") } else if dash { byte(UInt8(ascii: "-")) }
        }
    }
}
