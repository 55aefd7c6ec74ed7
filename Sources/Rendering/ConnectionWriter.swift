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

    /// One record.
    public func write(_ r: ConnectionRecord, into out: inout [UInt8]) {
        let tsv = format == .zeek
        let sep = tsv ? UInt8(ascii: "\t") : UInt8(ascii: ",")
        if format == .json {
            writeJSON(r, into: &out)
            return
        }
        func unset() { if tsv { out.append(UInt8(ascii: "-")) } }
        micros(r.startMicros, into: &out)
        out.append(sep)
        out.append(contentsOf: r.uid.text.utf8)
        out.append(sep)
        out.append(address: r.origAddress, version: r.ipVersion)
        out.append(sep)
        out.append(decimal: UInt64(r.origPort))
        out.append(sep)
        out.append(address: r.respAddress, version: r.ipVersion)
        out.append(sep)
        out.append(decimal: UInt64(r.respPort))
        out.append(sep)
        out.append(contentsOf: r.transport.name.utf8)
        out.append(sep)
        unset()  // service
        out.append(sep)
        if r.hasDuration { micros(r.durationMicros, into: &out) } else { unset() }
        out.append(sep)
        if r.hasDuration { out.append(decimal: r.origBytes) } else { unset() }
        out.append(sep)
        if r.hasDuration { out.append(decimal: r.respBytes) } else { unset() }
        out.append(sep)
        out.append(contentsOf: r.state.name.utf8)
        out.append(sep)
        if let v = r.localOrig { out.append(UInt8(ascii: v ? "T" : "F")) } else { unset() }
        out.append(sep)
        if let v = r.localResp { out.append(UInt8(ascii: v ? "T" : "F")) } else { unset() }
        out.append(sep)
        out.append(decimal: r.missedBytes)
        out.append(sep)
        if r.history.isEmpty { unset() } else { out.append(contentsOf: r.history.text.utf8) }
        out.append(sep)
        out.append(decimal: r.origPackets)
        out.append(sep)
        out.append(decimal: r.origIPBytes)
        out.append(sep)
        out.append(decimal: r.respPackets)
        out.append(sep)
        out.append(decimal: r.respIPBytes)
        out.append(sep)
        if r.tunnelParentUIDs.isEmpty {
            unset()  // tunnel_parents
        } else {
            // Zeek's set separator in TSV; a space in CSV, whose separator is the comma.
            for (i, uid) in r.tunnelParentUIDs.enumerated() {
                if i > 0 { out.append(tsv ? UInt8(ascii: ",") : UInt8(ascii: " ")) }
                out.append(contentsOf: uid.text.utf8)
            }
        }
        out.append(sep)
        out.append(decimal: UInt64(r.ipProto))
        out.append(sep)
        if let id = r.communityID { out.append(contentsOf: id.utf8) } else { unset() }
        out.append(sep)
        if let rtt = r.initialRTTNanos { micros(rtt / 1000, into: &out) } else { unset() }
        out.append(UInt8(ascii: "\n"))
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
