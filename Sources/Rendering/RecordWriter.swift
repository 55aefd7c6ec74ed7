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
        var seconds = SecondsText()
        write(r, seconds: &seconds, into: &out)
    }

    /// Writes a batch; consecutive packets mostly share their second, so its digits are kept.
    public func write(_ batch: UnsafeBufferPointer<PacketRecord>, into out: inout [UInt8]) {
        var seconds = SecondsText()
        for r in batch { write(r, seconds: &seconds, into: &out) }
    }

    @inlinable
    func write(_ r: PacketRecord, seconds: inout SecondsText, into out: inout [UInt8]) {
        switch format {
        case .csv: csv(r, seconds: &seconds, into: &out)
        case .json: json(r, seconds: &seconds, into: &out)
        case .table: table(r, into: &out)
        }
    }

    @usableFromInline
    func csv(_ r: PacketRecord, seconds: inout SecondsText, into out: inout [UInt8]) {
        RowBytes.append(to: &out) { row in
            let d = r.decoded
            seconds.timestamp(r.timestampNs, into: &row)
            row.byte(UInt8(ascii: ","))
            row.decimal(UInt64(r.length))
            row.byte(UInt8(ascii: ","))
            row.decimal(UInt64(r.captured))
            row.byte(UInt8(ascii: ","))
            row.ascii(d.label.asciiName)
            row.byte(UInt8(ascii: ","))
            if d.ipVersion != 0 {
                row.address(d.src, version: d.ipVersion)
                row.byte(UInt8(ascii: ","))
                row.address(d.dst, version: d.ipVersion)
            } else {
                row.byte(UInt8(ascii: ","))
            }
            row.byte(UInt8(ascii: ","))
            if d.hasPorts {
                row.decimal(UInt64(d.srcPort))
                row.byte(UInt8(ascii: ","))
                row.decimal(UInt64(d.dstPort))
            } else {
                row.byte(UInt8(ascii: ","))
            }
            row.byte(UInt8(ascii: "\n"))
        }
    }

    @usableFromInline
    func json(_ r: PacketRecord, seconds: inout SecondsText, into out: inout [UInt8]) {
        RowBytes.append(to: &out) { row in
            let d = r.decoded
            row.ascii("{\"timestamp\":")
            seconds.timestamp(r.timestampNs, into: &row)
            row.ascii(",\"length\":")
            row.decimal(UInt64(r.length))
            row.ascii(",\"captured\":")
            row.decimal(UInt64(r.captured))
            row.ascii(",\"protocol\":\"")
            row.ascii(d.label.asciiName)
            row.ascii("\",\"src\":")
            if d.ipVersion != 0 {
                row.byte(UInt8(ascii: "\""))
                row.address(d.src, version: d.ipVersion)
                row.ascii("\",\"dst\":\"")
                row.address(d.dst, version: d.ipVersion)
                row.byte(UInt8(ascii: "\""))
            } else {
                row.ascii("null,\"dst\":null")
            }
            if d.hasPorts {
                row.ascii(",\"sport\":")
                row.decimal(UInt64(d.srcPort))
                row.ascii(",\"dport\":")
                row.decimal(UInt64(d.dstPort))
            } else {
                row.ascii(",\"sport\":null,\"dport\":null")
            }
            row.ascii("}\n")
        }
    }

    @usableFromInline
    func table(_ r: PacketRecord, into out: inout [UInt8]) {
        let (hour, minute, second, frac) = clock(r.timestampNs)
        RowBytes.append(to: &out) { row in
            let d = r.decoded
            row.decimal(hour, width: 2)
            row.byte(UInt8(ascii: ":"))
            row.decimal(minute, width: 2)
            row.byte(UInt8(ascii: ":"))
            row.decimal(second, width: 2)
            row.byte(UInt8(ascii: "."))
            row.decimal(frac, width: 9)
            row.pad(to: 20)
            row.ascii(d.label.asciiName)
            row.pad(to: 27)
            if d.ipVersion != 0 {
                row.endpoint(d.src, port: d.hasPorts ? d.srcPort : nil, version: d.ipVersion)
                row.pad(to: 53)
                row.endpoint(d.dst, port: d.hasPorts ? d.dstPort : nil, version: d.ipVersion)
            } else {
                row.byte(UInt8(ascii: "-"))
                row.pad(to: 53)
                row.byte(UInt8(ascii: "-"))
            }
            row.pad(to: 79)
            row.decimal(UInt64(r.length))
            if r.captured < r.length {
                row.ascii(" (")
                row.decimal(UInt64(r.captured))
                row.ascii(" captured)")
            }
            row.byte(UInt8(ascii: "\n"))
        }
    }

    /// Hours, minutes, seconds and nanoseconds of the time of day, in local time (or UTC).
    func clock(_ ns: Int64) -> (UInt64, UInt64, UInt64, UInt64) {
        var seconds = time_t(ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000)
        let frac = UInt64(ns - Int64(seconds) * 1_000_000_000)
        var parts = tm()
        if localTime { localtime_r(&seconds, &parts) } else { gmtime_r(&seconds, &parts) }
        return (UInt64(max(0, parts.tm_hour)), UInt64(max(0, parts.tm_min)), UInt64(max(0, parts.tm_sec)), frac)
    }
}

extension RowBytes {
    /// Spaces up to `column` (at least one).
    mutating func pad(to column: Int) {
        if count < column {
            while count < column { byte(UInt8(ascii: " ")) }
        } else {
            byte(UInt8(ascii: " "))
        }
    }

    mutating func endpoint(_ a: IPAddress, port: UInt16?, version: UInt8) {
        if let port {
            if version == 6 { byte(UInt8(ascii: "[")) }
            address(a, version: version)
            if version == 6 { byte(UInt8(ascii: "]")) }
            byte(UInt8(ascii: ":"))
            decimal(UInt64(port))
        } else {
            address(a, version: version)
        }
    }
}

/// The digits of the last whole second written, so the packets of one second format it once.
@usableFromInline
struct SecondsText {
    @usableFromInline var second: UInt64 = .max
    @usableFromInline var negative = false
    @usableFromInline var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    @usableFromInline var length = 0

    @inlinable init() {}

    @inlinable
    mutating func timestamp(_ ns: Int64, into row: inout RowBytes) {
        let m = ns.magnitude
        let sec = m / 1_000_000_000
        if sec != second || negative != (ns < 0) {
            second = sec
            negative = ns < 0
            let start = row.count
            if negative { row.byte(UInt8(ascii: "-")) }
            row.decimal(sec)
            length = row.count - start
            withUnsafeMutableBytes(of: &digits) { $0.baseAddress!.copyMemory(from: row.base + start, byteCount: length) }
        } else {
            withUnsafeBytes(of: digits) { (row.base + row.count).update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length) }
            row.count &+= length
        }
        row.byte(UInt8(ascii: "."))
        row.decimal(m % 1_000_000_000, width: 9)
    }
}
