import Foundation
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

/// A reader of Zeek's ASCII log format (as zeek-cut reads it): `#separator` with `\xNN` escapes,
/// `#key<sep>value` header lines, `#fields`/`#types`, unset and empty fields, sets.
struct ZeekLogReader {
    var separator = "\t"
    var meta: [String: String] = [:]
    var fields: [String] = []
    var types: [String] = []
    var rows: [[String: String?]] = []
    var closed = false

    init(_ text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first, first.hasPrefix("#separator ") else { throw ReadError("no #separator") }
        separator = Self.unescape(String(first.dropFirst("#separator ".count)))
        for line in lines.dropFirst() {
            if closed { throw ReadError("line after #close") }
            let parts = line.components(separatedBy: separator)
            if line.hasPrefix("#") {
                let key = String(parts[0].dropFirst())
                let value = parts.dropFirst().joined(separator: separator)
                switch key {
                case "fields": fields = Array(parts.dropFirst())
                case "types": types = Array(parts.dropFirst())
                case "close": closed = true
                default: meta[key] = value
                }
                continue
            }
            guard parts.count == fields.count else { throw ReadError("row has \(parts.count) fields") }
            var row: [String: String?] = [:]
            for (name, raw) in zip(fields, parts) {
                row[name] = raw == meta["unset_field"] ? .some(nil) : Self.unescape(raw)
            }
            rows.append(row)
        }
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("\\x") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 3 < b.count, b[i + 1] == UInt8(ascii: "x"),
                let v = UInt8(String(decoding: b[(i + 2)...(i + 3)], as: UTF8.self), radix: 16)
            {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    struct ReadError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}

@Suite("Zeek conn.log writer")
struct ConnectionWriterTests {
    func sample() -> ConnectionRecord {
        var r = ConnectionRecord()
        r.startMicros = 1_700_000_000_123_456
        r.durationMicros = 1_500
        r.ipVersion = 4
        r.origAddress = IPAddress(v4: 0x0A00_0001)
        r.respAddress = IPAddress(v4: 0x0A00_0002)
        r.origPort = 40000
        r.respPort = 80
        r.transport = .tcp
        r.ipProto = 6
        r.origBytes = 100
        r.respBytes = 300
        r.state = .sf
        r.history = ConnHistory("ShADadFf")
        r.origPackets = 5
        r.origIPBytes = 300
        r.respPackets = 3
        r.respIPBytes = 420
        r.initialRTTNanos = 250_000
        return r
    }

    @Test func tsvReadsBackByZeekRules() throws {
        let w = ConnectionWriter(format: .zeek)
        var out: [UInt8] = []
        w.header(openTime: "2024-01-01-00-00-00", into: &out)
        w.write(sample(), into: &out)
        var noDuration = sample()
        noDuration.durationMicros = 0
        noDuration.history = ConnHistory()
        w.write(noDuration, into: &out)
        w.footer(closeTime: "2024-01-01-00-00-01", into: &out)
        let log = try ZeekLogReader(String(decoding: out, as: UTF8.self))
        #expect(log.separator == "\t")
        #expect(log.meta["path"] == "conn")
        #expect(log.meta["unset_field"] == "-")
        #expect(log.meta["empty_field"] == "(empty)")
        #expect(log.meta["set_separator"] == ",")
        #expect(log.closed)
        #expect(log.fields.count == log.types.count)
        #expect(log.fields.prefix(3) == ["ts", "uid", "id.orig_h"])
        let row = log.rows[0]
        #expect(row["ts"] == "1700000000.123456")
        #expect(row["duration"] == "0.001500")
        #expect(row["history"] == "ShADadFf")
        #expect(row["conn_state"] == "SF")
        #expect(row["initial_rtt"] == "0.000250")
        #expect(row["service"] == .some(nil))
        #expect(row["uid"]??.count == 18)
        let second = log.rows[1]
        #expect(second["duration"] == .some(nil))
        #expect(second["orig_bytes"] == .some(nil))
        #expect(second["history"] == .some(nil))
        #expect(second["orig_pkts"] == "5")
    }

    @Test func jsonLeavesUnsetFieldsOut() {
        var out: [UInt8] = []
        var r = sample()
        r.durationMicros = 0
        ConnectionWriter(format: .json).write(r, into: &out)
        let line = String(decoding: out, as: UTF8.self)
        #expect(line.hasPrefix("{\"ts\":1700000000.123456,\"uid\":\"C"))
        #expect(line.contains("\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":40000"))
        #expect(!line.contains("duration"))
        #expect(!line.contains("local_orig"))
        #expect(line.hasSuffix("}\n"))
    }

    @Test func csvHasHeaderAndEmptyUnset() {
        var out: [UInt8] = []
        let w = ConnectionWriter(format: .csv)
        w.header(openTime: "", into: &out)
        w.write(sample(), into: &out)
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        #expect(lines[0].hasPrefix("ts,uid,id.orig_h,id.orig_p"))
        #expect(lines[1].split(separator: ",", omittingEmptySubsequences: false).count == 24)
    }

    @Test func communityIDWhenSet() throws {
        var r = sample()
        r.communityID = "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        var out: [UInt8] = []
        let w = ConnectionWriter(format: .zeek)
        w.header(openTime: "x", into: &out)
        w.write(r, into: &out)
        w.footer(closeTime: "x", into: &out)
        let log = try ZeekLogReader(String(decoding: out, as: UTF8.self))
        #expect(log.rows[0]["community_id"] == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        var json: [UInt8] = []
        ConnectionWriter(format: .json).write(r, into: &json)
        #expect(String(decoding: json, as: UTF8.self).contains("\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\""))
    }

    @Test func logTimeIsZeekStyle() {
        #expect(ConnectionWriter.logTime(epochSeconds: 0) == "1970-01-01-00-00-00")
        #expect(ConnectionWriter.logTime(epochSeconds: 1_700_000_000) == "2023-11-14-22-13-20")
    }
}
