import Glibc
public import PacketRecords
import PacketWire

/// Output formats for per-packet rows.
public enum RecordFormat: String, Sendable, CaseIterable {
    case table, csv, json
}

/// Formats packet records as CSV (RFC 4180, header row), JSON lines or a human table, appending
/// to a caller-owned byte buffer. The CSV and JSON columns are the README's contract:
/// `timestamp,length,captured,protocol,src,dst,sport,dport`.
public struct RecordWriter: Sendable {
    public let format: RecordFormat
    /// Local-time clock labels in the table (UTC when false).
    public var localTime = true

    public init(format: RecordFormat) { self.format = format }

    public func header(into out: inout [UInt8]) {
        switch format {
        case .csv: out.append(ascii: "timestamp,length,captured,protocol,src,dst,sport,dport\n")
        case .json: break
        case .table:
            let start = out.count
            out.append(ascii: "TIME")
            out.pad(from: start, to: 20)
            out.append(ascii: "PROTO")
            out.pad(from: start, to: 27)
            out.append(ascii: "SOURCE")
            out.pad(from: start, to: 53)
            out.append(ascii: "DESTINATION")
            out.pad(from: start, to: 79)
            out.append(ascii: "LENGTH\n")
        }
    }

    @inlinable
    public func write(_ r: PacketRecord, into out: inout [UInt8]) {
        switch format {
        case .csv: csv(r, into: &out)
        case .json: json(r, into: &out)
        case .table: table(r, into: &out)
        }
    }

    public func write(_ batch: UnsafeBufferPointer<PacketRecord>, into out: inout [UInt8]) {
        for r in batch { write(r, into: &out) }
    }

    @usableFromInline
    func csv(_ r: PacketRecord, into out: inout [UInt8]) {
        out.append(timestampNs: r.timestampNs)
        out.append(UInt8(ascii: ","))
        out.append(decimal: UInt64(r.length))
        out.append(UInt8(ascii: ","))
        out.append(decimal: UInt64(r.captured))
        out.append(UInt8(ascii: ","))
        out.append(ascii: r.decoded.label.asciiName)
        out.append(UInt8(ascii: ","))
        let d = r.decoded
        if d.ipVersion != 0 {
            out.append(address: d.src, version: d.ipVersion)
            out.append(UInt8(ascii: ","))
            out.append(address: d.dst, version: d.ipVersion)
        } else {
            out.append(UInt8(ascii: ","))
        }
        out.append(UInt8(ascii: ","))
        if d.hasPorts {
            out.append(decimal: UInt64(d.srcPort))
            out.append(UInt8(ascii: ","))
            out.append(decimal: UInt64(d.dstPort))
        } else {
            out.append(UInt8(ascii: ","))
        }
        out.append(UInt8(ascii: "\n"))
    }

    @usableFromInline
    func json(_ r: PacketRecord, into out: inout [UInt8]) {
        let d = r.decoded
        out.append(ascii: "{\"timestamp\":")
        out.append(timestampNs: r.timestampNs)
        out.append(ascii: ",\"length\":")
        out.append(decimal: UInt64(r.length))
        out.append(ascii: ",\"captured\":")
        out.append(decimal: UInt64(r.captured))
        out.append(ascii: ",\"protocol\":\"")
        out.append(ascii: d.label.asciiName)
        out.append(ascii: "\",\"src\":")
        if d.ipVersion != 0 {
            out.append(UInt8(ascii: "\""))
            out.append(address: d.src, version: d.ipVersion)
            out.append(ascii: "\",\"dst\":\"")
            out.append(address: d.dst, version: d.ipVersion)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(ascii: "null,\"dst\":null")
        }
        if d.hasPorts {
            out.append(ascii: ",\"sport\":")
            out.append(decimal: UInt64(d.srcPort))
            out.append(ascii: ",\"dport\":")
            out.append(decimal: UInt64(d.dstPort))
        } else {
            out.append(ascii: ",\"sport\":null,\"dport\":null")
        }
        out.append(ascii: "}\n")
    }

    @usableFromInline
    func table(_ r: PacketRecord, into out: inout [UInt8]) {
        let start = out.count
        clock(r.timestampNs, into: &out)
        out.pad(from: start, to: 20)
        out.append(ascii: r.decoded.label.asciiName)
        out.pad(from: start, to: 27)
        let d = r.decoded
        if d.ipVersion != 0 {
            endpoint(d.src, port: d.hasPorts ? d.srcPort : nil, version: d.ipVersion, into: &out)
            out.pad(from: start, to: 53)
            endpoint(d.dst, port: d.hasPorts ? d.dstPort : nil, version: d.ipVersion, into: &out)
        } else {
            out.append(UInt8(ascii: "-"))
            out.pad(from: start, to: 53)
            out.append(UInt8(ascii: "-"))
        }
        out.pad(from: start, to: 79)
        out.append(decimal: UInt64(r.length))
        if r.captured < r.length {
            out.append(ascii: " (")
            out.append(decimal: UInt64(r.captured))
            out.append(ascii: " captured)")
        }
        out.append(UInt8(ascii: "\n"))
    }

    func endpoint(_ a: IPAddress, port: UInt16?, version: UInt8, into out: inout [UInt8]) {
        if let port {
            if version == 6 { out.append(UInt8(ascii: "[")) }
            out.append(address: a, version: version)
            if version == 6 { out.append(UInt8(ascii: "]")) }
            out.append(UInt8(ascii: ":"))
            out.append(decimal: UInt64(port))
        } else {
            out.append(address: a, version: version)
        }
    }

    /// HH:MM:SS.nnnnnnnnn in local time (or UTC).
    func clock(_ ns: Int64, into out: inout [UInt8]) {
        var seconds = time_t(ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000)
        let frac = UInt64(ns - Int64(seconds) * 1_000_000_000)
        var parts = tm()
        if localTime { localtime_r(&seconds, &parts) } else { gmtime_r(&seconds, &parts) }
        out.append(decimal: UInt64(max(0, parts.tm_hour)), width: 2)
        out.append(UInt8(ascii: ":"))
        out.append(decimal: UInt64(max(0, parts.tm_min)), width: 2)
        out.append(UInt8(ascii: ":"))
        out.append(decimal: UInt64(max(0, parts.tm_sec)), width: 2)
        out.append(UInt8(ascii: "."))
        out.append(decimal: frac, width: 9)
    }
}
