import Glibc
import PacketRecords
import PacketWire

/// A line of CSV on standard input that is not what `pktstat sniff --format csv` writes.
public struct CSVInputError: Error, CustomStringConvertible {
    public var source: String
    public var line: Int
    public var problem: String

    public var description: String { "\(source) line \(line): \(problem)" }
    public var hint: String? {
        "'analyze -' and 'flows -' read the CSV that 'pktstat sniff --format csv' prints (columns timestamp,length,captured,protocol,...)"
    }
}

/// Reads sniff's CSV (`timestamp,length,captured,protocol,...`, columns by name) back into
/// records, in batches, streaming: memory does not grow with the input.
enum CSVRecordInput {
    /// `prefix`: bytes already read from `fd` (to sniff the input's kind), parsed first.
    static func read(
        fd: Int32, name: String, prefix: [UInt8] = [], _ body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        var parser = Parser(source: name)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = prefix
        var batch: [PacketRecord] = []
        batch.reserveCapacity(512)
        func deliver() -> Bool {
            defer { batch.removeAll(keepingCapacity: true) }
            return batch.isEmpty || batch.withUnsafeBufferPointer(body)
        }
        reading: while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CSVInputError(source: name, line: parser.line + 1, problem: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            pending.append(contentsOf: chunk[0..<n])
            var start = 0
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                if let r = try parser.line(pending[start..<nl]) {
                    batch.append(r)
                    if batch.count == 512 && !deliver() { break reading }
                }
                start = nl + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty, let r = try parser.line(pending[...]) { batch.append(r) }
        _ = deliver()
        if parser.line == 0 {
            throw CSVInputError(source: name, line: 1, problem: "no input (expected a header line)")
        }
    }

    struct Parser {
        let source: String
        var line = 0
        var timestampColumn = -1
        var lengthColumn = -1
        var capturedColumn = -1
        var protocolColumn = -1
        /// src, dst, sport, dport (-1 when absent): flows need them.
        var endpointColumns = (-1, -1, -1, -1)

        mutating func line(_ bytes: ArraySlice<UInt8>) throws -> PacketRecord? {
            line += 1
            var text = bytes
            if text.last == 0x0D { text = text.dropLast() }
            let fields = text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            if line == 1 {
                var cells = fields.map { String(decoding: $0, as: UTF8.self).trimmingSpaces }
                if let first = cells.first, first.hasPrefix("\u{FEFF}") { cells[0] = String(first.dropFirst()) }
                timestampColumn = cells.firstIndex(of: "timestamp") ?? -1
                lengthColumn = cells.firstIndex(of: "length") ?? -1
                capturedColumn = cells.firstIndex(of: "captured") ?? -1
                protocolColumn = cells.firstIndex(of: "protocol") ?? -1
                endpointColumns = (
                    cells.firstIndex(of: "src") ?? -1, cells.firstIndex(of: "dst") ?? -1,
                    cells.firstIndex(of: "sport") ?? -1, cells.firstIndex(of: "dport") ?? -1
                )
                guard timestampColumn >= 0, lengthColumn >= 0 else {
                    let shown = String(decoding: text.prefix(60), as: UTF8.self)
                    throw CSVInputError(
                        source: source, line: 1, problem: "header '\(shown)' has no timestamp and length columns")
                }
                return nil
            }
            if text.isEmpty { return nil }
            func field(_ i: Int, _ what: String) throws -> ArraySlice<UInt8> {
                guard i < fields.count else {
                    throw CSVInputError(
                        source: source, line: line, problem: "\(fields.count) fields, no \(what) column")
                }
                return fields[i]
            }
            let tsText = try field(timestampColumn, "timestamp")
            guard let ts = Self.timestamp(tsText) else {
                throw CSVInputError(
                    source: source, line: line,
                    problem:
                        "'\(String(decoding: tsText, as: UTF8.self))' is not a timestamp (epoch seconds such as 1700000000.123456789)"
                )
            }
            let lenText = try field(lengthColumn, "length")
            guard let length = Self.integer(lenText) else {
                throw CSVInputError(
                    source: source, line: line,
                    problem: "length '\(String(decoding: lenText, as: UTF8.self))' is not a whole number of bytes")
            }
            var captured = length
            if capturedColumn >= 0 {
                let capText = try field(capturedColumn, "captured")
                guard let c = Self.integer(capText) else {
                    throw CSVInputError(
                        source: source, line: line,
                        problem: "captured '\(String(decoding: capText, as: UTF8.self))' is not a whole number of bytes"
                    )
                }
                captured = c
            }
            var label = ProtocolLabel.other
            if protocolColumn >= 0 {
                let name = String(decoding: try field(protocolColumn, "protocol"), as: UTF8.self)
                guard let l = ProtocolLabel(name: name) else {
                    throw CSVInputError(source: source, line: line, problem: "unknown protocol label '\(name)'")
                }
                label = l
            }
            var record = PacketRecord(timestampNs: ts, length: length, captured: captured, label: label)
            try endpoints(fields, into: &record.decoded)
            return record
        }

        /// Addresses and ports from the src, dst, sport and dport columns, when present and not empty.
        func endpoints(_ fields: [ArraySlice<UInt8>], into d: inout Decoded) throws {
            let (s, t, sp, tp) = endpointColumns
            func cell(_ i: Int) -> ArraySlice<UInt8> { i >= 0 && i < fields.count ? fields[i] : [] }
            if !cell(s).isEmpty || !cell(t).isEmpty {
                guard let src = Self.address(cell(s)), let dst = Self.address(cell(t)), src.version == dst.version
                else {
                    let shown =
                        String(decoding: cell(s), as: UTF8.self) + "," + String(decoding: cell(t), as: UTF8.self)
                    throw CSVInputError(
                        source: source, line: line, problem: "src,dst '\(shown)' are not two IPv4 or two IPv6 addresses"
                    )
                }
                d.ipVersion = src.version
                d.src = src.address
                d.dst = dst.address
            }
            if !cell(sp).isEmpty || !cell(tp).isEmpty {
                guard let a = Self.integer(cell(sp)), let b = Self.integer(cell(tp)), a <= 65535, b <= 65535 else {
                    let shown =
                        String(decoding: cell(sp), as: UTF8.self) + "," + String(decoding: cell(tp), as: UTF8.self)
                    throw CSVInputError(
                        source: source, line: line, problem: "sport,dport '\(shown)' are not two port numbers")
                }
                d.hasPorts = true
                d.srcPort = UInt16(a)
                d.dstPort = UInt16(b)
            }
        }

        /// An IPv4 or IPv6 address in text (inet_pton), with its version.
        static func address(_ s: ArraySlice<UInt8>) -> (address: IPAddress, version: UInt8)? {
            guard !s.isEmpty, s.count < 64 else { return nil }
            let text = String(decoding: s, as: UTF8.self)
            var v6 = in6_addr()
            if inet_pton(AF_INET6, text, &v6) == 1 {
                let b = withUnsafeBytes(of: v6) { Array($0) }
                let hi = b[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let lo = b[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                return (IPAddress(hi: hi, lo: lo), 6)
            }
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
            return (IPAddress(v4: UInt32(bigEndian: v4.s_addr)), 4)
        }

        static func integer(_ s: ArraySlice<UInt8>) -> UInt32? {
            guard !s.isEmpty, s.count <= 10 else { return nil }
            var v: UInt64 = 0
            for b in s {
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + UInt64(b - 48)
            }
            return v <= UInt64(UInt32.max) ? UInt32(v) : nil
        }

        /// `[-]seconds[.fraction]` with at most 9 fractional digits, to nanoseconds.
        static func timestamp(_ s: ArraySlice<UInt8>) -> Int64? {
            var rest = s[...]
            var negative = false
            if rest.first == UInt8(ascii: "-") {
                negative = true
                rest = rest.dropFirst()
            }
            let dot = rest.firstIndex(of: UInt8(ascii: "."))
            let whole = dot.map { rest[rest.startIndex..<$0] } ?? rest
            let frac = dot.map { rest[rest.index(after: $0)...] } ?? []
            guard !whole.isEmpty, whole.count <= 11, frac.count <= 9 else { return nil }
            var seconds: Int64 = 0
            for b in whole {
                guard b >= 48, b <= 57 else { return nil }
                seconds = seconds * 10 + Int64(b - 48)
            }
            var nanos: Int64 = 0
            for b in frac {
                guard b >= 48, b <= 57 else { return nil }
                nanos = nanos * 10 + Int64(b - 48)
            }
            for _ in frac.count..<9 { nanos *= 10 }
            let ns = seconds * 1_000_000_000 + nanos
            return negative ? -ns : ns
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
