import Glibc
public import PacketRecords
import PacketWire

/// The text formats of every writer: rows, series, summaries, flows.
public enum TextFormat: String, Sendable, CaseIterable {
    case table, csv, json
}

/// Formats packet records as CSV (RFC 4180, header row), JSON lines or a human table, appending
/// to a caller-owned byte buffer. The CSV and JSON columns are the README's contract:
/// `timestamp,length,captured,protocol,src,dst,sport,dport,interface,direction`.
public struct RecordWriter: Sendable {
    public let format: TextFormat
    /// Names for the interface indexes of SLL2 packets; an index not here is written as its number.
    public var interfaceNames = InterfaceNames()
    /// Whether the table has IFACE and DIR columns: only link types that carry them (Linux cooked
    /// captures) need them. CSV and JSON always have the columns.
    public var tableShowsInterface: Bool
    /// The table's columns, once its header is written (with the first row).
    @usableFromInline var columns: TableColumns?

    public init(format: TextFormat, tableShowsInterface: Bool = true) {
        self.format = format
        self.tableShowsInterface = tableShowsInterface
    }

    /// The CSV header. The table's header comes with its first row, sized for that row's addresses,
    /// and again, wider, before the first IPv6 row when the table began with IPv4 rows.
    public func header(into out: inout [UInt8]) {
        if format == .csv {
            out.append(ascii: "timestamp,length,captured,protocol,src,dst,sport,dport,interface,direction\n")
        }
    }

    /// Writes the table header for `columns`.
    func tableHeader(_ columns: TableColumns, into out: inout [UInt8]) {
        let start = out.count
        out.append(ascii: "TIME")
        for (title, column) in zip(columns.titles, columns.starts) {
            out.pad(from: start, to: column)
            out.append(ascii: title)
        }
        out.append(ascii: "\n")
    }

    @inlinable
    public mutating func write(_ r: PacketRecord, into out: inout [UInt8]) {
        var seconds = SecondsText()
        write(r, seconds: &seconds, into: &out)
    }

    /// Writes a batch; consecutive packets mostly share their second, so its digits are kept.
    public mutating func write(_ batch: UnsafeBufferPointer<PacketRecord>, into out: inout [UInt8]) {
        var seconds = SecondsText()
        for r in batch { write(r, seconds: &seconds, into: &out) }
    }

    @inlinable
    mutating func write(_ r: PacketRecord, seconds: inout SecondsText, into out: inout [UInt8]) {
        switch format {
        case .csv: csv(r, seconds: &seconds, into: &out)
        case .json: json(r, seconds: &seconds, into: &out)
        case .table: tableRow(r, into: &out)
        }
    }

    /// A table row, after the header when it is the first row or the first IPv6 row.
    @usableFromInline
    mutating func tableRow(_ r: PacketRecord, into out: inout [UInt8]) {
        let ipv6 = r.decoded.ipVersion == 6
        if columns == nil || (ipv6 && columns?.addressWidth != TableColumns.ipv6Width) {
            let widened = TableColumns(ipv6: ipv6, interface: tableShowsInterface)
            columns = widened
            tableHeader(widened, into: &out)
        }
        if let columns { table(r, columns, into: &out) }
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
            row.byte(UInt8(ascii: ","))
            interface(d.ifIndex, json: false, into: &row)
            row.byte(UInt8(ascii: ","))
            if d.direction != .unknown { row.ascii(d.direction == .incoming ? "in" : "out") }
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
            row.ascii(",\"interface\":")
            if d.ifIndex != 0 {
                row.byte(UInt8(ascii: "\""))
                interface(d.ifIndex, json: true, into: &row)
                row.byte(UInt8(ascii: "\""))
            } else {
                row.ascii("null")
            }
            switch d.direction {
            case .incoming: row.ascii(",\"direction\":\"in\"}\n")
            case .outgoing: row.ascii(",\"direction\":\"out\"}\n")
            case .unknown: row.ascii(",\"direction\":null}\n")
            }
        }
    }

    @usableFromInline
    func table(_ r: PacketRecord, _ columns: TableColumns, into out: inout [UInt8]) {
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
            let c = columns.starts
            row.pad(to: c[0])
            row.ascii(d.label.asciiName)
            row.pad(to: c[1])
            if d.ipVersion != 0 { row.address(d.src, version: d.ipVersion) } else { row.byte(UInt8(ascii: "-")) }
            row.pad(to: c[2])
            if d.hasPorts { row.decimal(UInt64(d.srcPort)) } else { row.byte(UInt8(ascii: "-")) }
            row.pad(to: c[3])
            if d.ipVersion != 0 { row.address(d.dst, version: d.ipVersion) } else { row.byte(UInt8(ascii: "-")) }
            row.pad(to: c[4])
            if d.hasPorts { row.decimal(UInt64(d.dstPort)) } else { row.byte(UInt8(ascii: "-")) }
            row.pad(to: c[5])
            if columns.interface {
                if d.ifIndex != 0 {
                    interface(d.ifIndex, json: false, table: true, into: &row)
                } else {
                    row.byte(UInt8(ascii: "-"))
                }
                row.pad(to: c[6])
                switch d.direction {
                case .incoming: row.ascii("in")
                case .outgoing: row.ascii("out")
                case .unknown: row.byte(UInt8(ascii: "-"))
                }
                row.pad(to: c[7])
            }
            row.decimal(UInt64(r.length))
            if r.captured < r.length {
                row.ascii(" (")
                row.decimal(UInt64(r.captured))
                row.ascii(" captured)")
            }
            row.byte(UInt8(ascii: "\n"))
        }
    }

    /// The interface's name (escaped for the format), or its index when the name is unknown.
    @usableFromInline
    func interface(_ index: UInt32, json: Bool, table: Bool = false, into row: inout RowBytes) {
        guard index != 0 else { return }
        guard let name = interfaceNames.names[index] else {
            row.decimal(UInt64(index))
            return
        }
        let text = table ? name.table : json ? name.json : name.csv
        text.withUnsafeBufferPointer { row.bytes($0) }
    }

    /// Hours, minutes, seconds and nanoseconds of the time of day, in local time (or UTC).
    func clock(_ ns: Int64) -> (UInt64, UInt64, UInt64, UInt64) {
        var seconds = time_t(ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000)
        let frac = UInt64(ns - Int64(seconds) * 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return (UInt64(max(0, parts.tm_hour)), UInt64(max(0, parts.tm_min)), UInt64(max(0, parts.tm_sec)), frac)
    }
}

/// The table's columns after TIME: where each starts. Addresses and ports have their own columns,
/// each as wide as its widest text (an IPv4 address is at most 15 characters, an IPv6 one 39, an
/// interface name 15), so no row can push the next column out of line: a table of IPv4 packets
/// stays within 80 columns, and widens (with a new header) at its first IPv6 packet.
@usableFromInline
struct TableColumns: Sendable {
    static let ipv4Width = 15
    static let ipv6Width = 39
    let addressWidth: Int
    let interface: Bool
    let titles: [StaticString]
    /// Start of PROTO, SOURCE, SPORT, DESTINATION, DPORT, then IFACE and DIR if shown, then LENGTH.
    let starts: [Int]

    init(ipv6: Bool, interface: Bool) {
        addressWidth = ipv6 ? Self.ipv6Width : Self.ipv4Width
        self.interface = interface
        var titles: [StaticString] = ["PROTO", "SOURCE", "SPORT", "DESTINATION", "DPORT"]
        var widths = [7, addressWidth + 1, 6, addressWidth + 1, 6]
        if interface {
            titles += ["IFACE", "DIR"]
            widths += [16, 4]
        }
        titles.append("LENGTH")
        var starts = [20]
        for w in widths { starts.append(starts[starts.count - 1] + w) }
        self.titles = titles
        self.starts = starts
    }
}

/// Interface index → name, with each name already escaped for CSV, JSON and the table, so a row
/// costs one dictionary lookup and one copy.
public struct InterfaceNames: Sendable {
    @usableFromInline
    struct Name: Sendable {
        var csv: [UInt8]
        var json: [UInt8]
        /// At most 15 bytes (IFNAMSIZ - 1), so the table column holds it.
        var table: [UInt8]
    }
    @usableFromInline var names: [UInt32: Name] = [:]

    public init() {}

    public init(_ names: [UInt32: String]) {
        for (index, name) in names {
            let bytes = Array(name.utf8)
            var csv = bytes
            if bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 < 0x20 }) {
                let quote = UInt8(ascii: "\"")
                csv = [quote] + bytes.flatMap { $0 == quote ? [$0, $0] : [$0] } + [quote]
            }
            var json: [UInt8] = []
            for b in bytes {
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { json.append(UInt8(ascii: "\\")) }
                json.append(b < 0x20 ? UInt8(ascii: "?") : b)
            }
            let table = bytes.prefix(15).map { $0 < 0x20 ? UInt8(ascii: "?") : $0 }
            self.names[index] = Name(csv: Array(csv.prefix(64)), json: Array(json.prefix(64)), table: table)
        }
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

    @usableFromInline mutating func bytes(_ b: UnsafeBufferPointer<UInt8>) {
        guard let src = b.baseAddress, !b.isEmpty else { return }
        (base + count).update(from: src, count: b.count)
        count &+= b.count
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
            withUnsafeMutableBytes(of: &digits) {
                $0.baseAddress!.copyMemory(from: row.base + start, byteCount: length)
            }
        } else {
            withUnsafeBytes(of: digits) {
                (row.base + row.count).update(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length)
            }
            row.count &+= length
        }
        row.byte(UInt8(ascii: "."))
        row.decimal(m % 1_000_000_000, width: 9)
    }
}
