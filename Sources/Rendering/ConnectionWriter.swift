import History
public import TrafficAnalysis

/// Output formats of the connection model (`flows --format zeek`, or csv/json with
/// `--connections`).
public enum ConnectionFormat: Sendable {
    /// Zeek's ASCII (TSV) log: the `#` header lines, a row per connection, `#close`.
    case zeek
    /// The same columns as CSV with a header line; unset fields empty.
    case csv
    /// Zeek's JSON log: an object per line, unset fields left out.
    case json
}

/// Writes `ConnectionRecord`s as Zeek's `conn.log` (TSV or JSON) or CSV, with Zeek's columns, then
/// `community_id` (unset until Community ID is computed) and pktstat's `initial_rtt`.
public struct ConnectionWriter: Sendable {
    public let format: ConnectionFormat

    public init(format: ConnectionFormat) { self.format = format }

    /// Column names and Zeek types, in order.
    public static let columns: [(name: String, type: String)] = [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
        ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"), ("duration", "interval"),
        ("orig_bytes", "count"), ("resp_bytes", "count"), ("conn_state", "string"), ("local_orig", "bool"),
        ("local_resp", "bool"), ("missed_bytes", "count"), ("history", "string"), ("orig_pkts", "count"),
        ("orig_ip_bytes", "count"), ("resp_pkts", "count"), ("resp_ip_bytes", "count"),
        ("tunnel_parents", "set[string]"), ("ip_proto", "count"), ("community_id", "string"),
        ("initial_rtt", "interval"),
    ]

    /// The header: Zeek's `#` lines (TSV), the column names (CSV), nothing (JSON). `openTime` is
    /// the `#open` time as Zeek writes it (`2024-01-01-12-00-00`).
    public func header(openTime: String, into out: inout [UInt8]) {
        switch format {
        case .zeek:
            out.append(ascii: "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
            out.append(ascii: "#path\tconn\n#open\t")
            out.append(contentsOf: openTime.utf8)
            out.append(ascii: "\n#fields")
            for c in Self.columns {
                out.append(UInt8(ascii: "\t"))
                out.append(contentsOf: c.name.utf8)
            }
            out.append(ascii: "\n#types")
            for c in Self.columns {
                out.append(UInt8(ascii: "\t"))
                out.append(contentsOf: c.type.utf8)
            }
            out.append(UInt8(ascii: "\n"))
        case .csv:
            for (i, c) in Self.columns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: c.name.utf8)
            }
            out.append(UInt8(ascii: "\n"))
        case .json:
            break
        }
    }

    /// The end: `#close` (TSV); nothing otherwise.
    public func footer(closeTime: String, into out: inout [UInt8]) {
        guard format == .zeek else { return }
        out.append(ascii: "#close\t")
        out.append(contentsOf: closeTime.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// The longest TSV or CSV row (every number at its widest, IPv6 addresses, a full history,
    /// the tunnel parents of every change Zeek counts) fits in this many bytes.
    static let rowCapacity = 1024

    /// One record.
    public func write(_ r: ConnectionRecord, into out: inout [UInt8]) {
        if format == .json {
            writeJSON(r, into: &out)
            return
        }
        let tsv = format == .zeek
        // The row is formatted in scratch space and appended in one copy.
        RowBytes.append(to: &out, capacity: ConnectionWriter.rowCapacity) { row in
            ConnectionWriter.row(r, tsv: tsv, into: &row)
        }
    }

    private static func row(_ r: ConnectionRecord, tsv: Bool, into row: inout RowBytes) {
        let sep = tsv ? UInt8(ascii: "\t") : UInt8(ascii: ",")
        func unset(_ row: inout RowBytes) { if tsv { row.byte(UInt8(ascii: "-")) } }
        micros(r.startMicros, into: &row)
        row.byte(sep)
        uid(r.uid, into: &row)
        row.byte(sep)
        row.address(r.origAddress, version: r.ipVersion)
        row.byte(sep)
        row.decimal(UInt64(r.origPort))
        row.byte(sep)
        row.address(r.respAddress, version: r.ipVersion)
        row.byte(sep)
        row.decimal(UInt64(r.respPort))
        row.byte(sep)
        row.ascii(r.transport.staticName)
        row.byte(sep)
        unset(&row)  // service
        row.byte(sep)
        if r.hasDuration { micros(r.durationMicros, into: &row) } else { unset(&row) }
        row.byte(sep)
        if r.hasDuration { row.decimal(r.origBytes) } else { unset(&row) }
        row.byte(sep)
        if r.hasDuration { row.decimal(r.respBytes) } else { unset(&row) }
        row.byte(sep)
        row.ascii(r.state.staticName)
        row.byte(sep)
        if let v = r.localOrig { row.byte(UInt8(ascii: v ? "T" : "F")) } else { unset(&row) }
        row.byte(sep)
        if let v = r.localResp { row.byte(UInt8(ascii: v ? "T" : "F")) } else { unset(&row) }
        row.byte(sep)
        row.decimal(r.missedBytes)
        row.byte(sep)
        if r.history.isEmpty { unset(&row) } else { r.history.withBytes { row.bytes($0) } }
        row.byte(sep)
        row.decimal(r.origPackets)
        row.byte(sep)
        row.decimal(r.origIPBytes)
        row.byte(sep)
        row.decimal(r.respPackets)
        row.byte(sep)
        row.decimal(r.respIPBytes)
        row.byte(sep)
        if r.tunnelParentUIDs.isEmpty {
            unset(&row)  // tunnel_parents
        } else {
            // Zeek's set separator in TSV; a space in CSV, whose separator is the comma.
            for (i, parent) in r.tunnelParentUIDs.enumerated() {
                if i > 0 { row.byte(tsv ? UInt8(ascii: ",") : UInt8(ascii: " ")) }
                uid(parent, into: &row)
            }
        }
        row.byte(sep)
        row.decimal(UInt64(r.ipProto))
        row.byte(sep)
        if let id = r.communityIDText { id.withBytes { row.bytes($0) } } else { unset(&row) }
        row.byte(sep)
        if let rtt = r.initialRTTNanos { micros(rtt / 1000, into: &row) } else { unset(&row) }
        row.byte(UInt8(ascii: "\n"))
    }

    private static func uid(_ u: ConnUID, into row: inout RowBytes) {
        u.write(to: row.base + row.count)
        row.count &+= ConnUID.length
    }

    /// Microseconds as Zeek prints times and intervals: seconds, '.', six digits.
    private static func micros(_ us: Int64, into row: inout RowBytes) {
        if us < 0 { row.byte(UInt8(ascii: "-")) }
        let v = us.magnitude
        row.decimal(v / 1_000_000)
        row.byte(UInt8(ascii: "."))
        row.decimal(v % 1_000_000, width: 6)
    }

    private func writeJSON(_ r: ConnectionRecord, into out: inout [UInt8]) {
        out.append(ascii: "{\"ts\":")
        micros(r.startMicros, into: &out)
        out.append(ascii: ",\"uid\":")
        out.append(jsonString: r.uid.text)
        out.append(ascii: ",\"id.orig_h\":\"")
        out.append(address: r.origAddress, version: r.ipVersion)
        out.append(ascii: "\",\"id.orig_p\":")
        out.append(decimal: UInt64(r.origPort))
        out.append(ascii: ",\"id.resp_h\":\"")
        out.append(address: r.respAddress, version: r.ipVersion)
        out.append(ascii: "\",\"id.resp_p\":")
        out.append(decimal: UInt64(r.respPort))
        out.append(ascii: ",\"proto\":\"")
        out.append(contentsOf: r.transport.name.utf8)
        out.append(UInt8(ascii: "\""))
        if r.hasDuration {
            out.append(ascii: ",\"duration\":")
            micros(r.durationMicros, into: &out)
            out.append(ascii: ",\"orig_bytes\":")
            out.append(decimal: r.origBytes)
            out.append(ascii: ",\"resp_bytes\":")
            out.append(decimal: r.respBytes)
        }
        out.append(ascii: ",\"conn_state\":\"")
        out.append(contentsOf: r.state.name.utf8)
        out.append(UInt8(ascii: "\""))
        if let v = r.localOrig {
            out.append(ascii: ",\"local_orig\":")
            if v { out.append(ascii: "true") } else { out.append(ascii: "false") }
        }
        if let v = r.localResp {
            out.append(ascii: ",\"local_resp\":")
            if v { out.append(ascii: "true") } else { out.append(ascii: "false") }
        }
        out.append(ascii: ",\"missed_bytes\":")
        out.append(decimal: r.missedBytes)
        if !r.history.isEmpty {
            out.append(ascii: ",\"history\":")
            out.append(jsonString: r.history.text)
        }
        out.append(ascii: ",\"orig_pkts\":")
        out.append(decimal: r.origPackets)
        out.append(ascii: ",\"orig_ip_bytes\":")
        out.append(decimal: r.origIPBytes)
        out.append(ascii: ",\"resp_pkts\":")
        out.append(decimal: r.respPackets)
        out.append(ascii: ",\"resp_ip_bytes\":")
        out.append(decimal: r.respIPBytes)
        if !r.tunnelParentUIDs.isEmpty {
            out.append(ascii: ",\"tunnel_parents\":[")
            for (i, uid) in r.tunnelParentUIDs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(jsonString: uid.text)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(ascii: ",\"ip_proto\":")
        out.append(decimal: UInt64(r.ipProto))
        if let id = r.communityID {
            out.append(ascii: ",\"community_id\":")
            out.append(jsonString: id)
        }
        if let rtt = r.initialRTTNanos {
            out.append(ascii: ",\"initial_rtt\":")
            micros(rtt / 1000, into: &out)
        }
        out.append(ascii: "}\n")
    }

    /// Microseconds as Zeek prints times and intervals: seconds, '.', six digits.
    private func micros(_ us: Int64, into out: inout [UInt8]) {
        var v = us
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            v = -v
        }
        out.append(decimal: UInt64(v / 1_000_000))
        out.append(UInt8(ascii: "."))
        out.append(decimal: UInt64(v % 1_000_000), width: 6)
    }

    /// Zeek's `#open`/`#close` time text for epoch seconds (UTC): `YYYY-MM-DD-HH-MM-SS`.
    public static func logTime(epochSeconds s: Int64) -> String {
        let days = s >= 0 ? s / 86400 : (s - 86399) / 86400
        let secs = s - days * 86400
        let (y, m, d) = CivilDate.fromDays(days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))-\(two(secs / 3600))-\(two(secs % 3600 / 60))-\(two(secs % 60))"
    }
}
