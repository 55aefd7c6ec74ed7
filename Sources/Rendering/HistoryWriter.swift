public import History

/// `pktstat history`'s formats: rows (as `flows` prints them) or a bar chart.
public enum HistoryFormat: String, Sendable, CaseIterable {
    case table, csv, json, svg

    /// The row format; nil for the chart.
    public var flowFormat: FlowFormat? {
        switch self {
        case .table: .table
        case .csv: .csv
        case .json: .json
        case .svg: nil
        }
    }
}

/// `pktstat history` output: a row per bucket and name, as CSV, JSON lines or an aligned table;
/// and the 95th percentile line.
public enum HistoryWriter {
    public static func write(
        _ rows: [HistoryQuery.Row], dimension: HistoryDimension, resolution: HistoryResolution, format: FlowFormat,
        into out: inout [UInt8]
    ) {
        let columns = ["time", dimension.rawValue, "packets", "bytes", "bits_per_second"]
        let cells: [[FlowCell]] = rows.map { r in
            [
                format == .table ? .text(label(r.start, resolution)) : .count(UInt64(max(0, r.start))), .text(r.name),
                .count(r.counts.packets), .count(r.counts.bytes), .count(r.bitsPerSecond),
            ]
        }
        let writer = FlowWriter(format: format, columns: columns)
        if format == .table {
            writer.table(cells, into: &out)
            return
        }
        writer.header(into: &out)
        for c in cells { writer.write(c, into: &out) }
    }

    public static func write(_ p: HistoryQuery.Percentile?, format: FlowFormat, into out: inout [UInt8]) {
        let columns = ["since", "until", "intervals", "percentile_95_bits_per_second"]
        let row: [FlowCell] =
            p.map {
                [
                    .count(UInt64(max(0, $0.since))), .count(UInt64(max(0, $0.until))), .count(UInt64($0.intervals)),
                    .count($0.bitsPerSecond),
                ]
            } ?? [.none, .none, .count(0), .none]
        let writer = FlowWriter(format: format, columns: columns)
        if format == .table {
            writer.table([row], into: &out)
            return
        }
        writer.header(into: &out)
        writer.write(row, into: &out)
    }

    /// A bucket's start as people read it at its resolution (UTC).
    static func label(_ start: Int64, _ r: HistoryResolution) -> String {
        let text = CivilDate.rfc3339(seconds: start)
        switch r {
        case .fiveMinutes, .hour: return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
        case .day: return String(text.prefix(10))
        case .month: return String(text.prefix(7))
        }
    }
}
