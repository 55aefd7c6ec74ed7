/// The payload parsers behind pktstat's names (`src_name`, `dst_name`, `server_name`): where a
/// TCP or UDP payload lies, the answers of a DNS response, the server name of a TLS ClientHello.
/// Pure and allocation-free like the decoder: every byte read through `Bytes`, every loop bounded,
/// no input can trap.

extension Bytes {
    /// The byte at `offset` without the optional (the caller checked `has`).
    @inlinable @inline(__always)
    func byte(_ offset: Int) -> UInt8 { u8(offset) ?? 0 }

    /// Copies `count` bytes at `offset` to `destination` when they were captured.
    @inlinable
    public func copy(_ count: Int, at offset: Int, to destination: UnsafeMutableRawPointer) -> Bool {
        guard has(count, at: offset), let base else { return false }
        if count > 0 { destination.copyMemory(from: base + offset, byteCount: count) }
        return true
    }
}

/// Where a TCP or UDP payload lies in the captured bytes.
public struct TransportPayload: Sendable, Equatable {
    /// Offset of the first payload byte.
    public var start: Int
    /// Offset just past the last payload byte that was captured (IP or UDP length, padding cut).
    public var end: Int
    /// TCP only: the segment's sequence number and whether SYN was set (else 0 and false).
    public var sequence: UInt32
    public var syn: Bool
    public var count: Int { end - start }

    /// The payload of a TCP or UDP packet that `Decoder` decoded into `d`; nil for other packets,
    /// fragments, or when the transport header was not captured.
    public static func locate(_ b: Bytes, _ d: Decoded) -> TransportPayload? {
        guard d.hasPorts, d.transportOffset != 0, d.label == .tcp || d.label == .udp else { return nil }
        let t = Int(d.transportOffset)
        // The end of the IP datagram (Ethernet padding cut), when its header is found: the IPv4
        // header just before the transport header (IHL 5 to 15), or the IPv6 header before it
        // and its extension headers (multiples of 8 bytes), its addresses the decoded ones.
        var end = b.count
        if let ip = ipHeader(b, d, before: t) {
            if d.ipVersion == 4, let total = b.u16be(ip + 2), total != 0 {
                end = min(end, ip + Int(total))
            } else if d.ipVersion == 6, let payload = b.u16be(ip + 4), payload != 0 {
                end = min(end, ip + 40 + Int(payload))
            }
        }
        if d.label == .udp {
            guard let length = b.u16be(t + 4), length >= 8 else { return nil }
            end = min(end, t + Int(length))
            guard end >= t + 8 else { return nil }
            return TransportPayload(start: t + 8, end: end, sequence: 0, syn: false)
        }
        guard let offsetByte = b.u8(t + 12), let flags = b.u8(t + 13), let seq = b.u32be(t + 4) else { return nil }
        let start = t + Int(offsetByte >> 4) * 4
        guard offsetByte >> 4 >= 5, start <= end else { return nil }
        return TransportPayload(start: start, end: end, sequence: seq, syn: flags & 0x02 != 0)
    }
}

extension TransportPayload {
    /// Where the IP header of a decoded packet starts, found back from its transport header.
    static func ipHeader(_ b: Bytes, _ d: Decoded, before t: Int) -> Int? {
        if d.ipVersion == 4 {
            for words in 5...15 {
                let ip = t - words * 4
                guard ip >= 0 else { return nil }
                if b.u8(ip) == 0x40 | UInt8(words), b.u32be(ip + 12) == d.src.v4, b.u32be(ip + 16) == d.dst.v4 {
                    return ip
                }
            }
        } else if d.ipVersion == 6 {
            for units in 0..<64 {
                let ip = t - 40 - units * 8
                guard ip >= 0 else { return nil }
                if let v = b.u8(ip), v >> 4 == 6, let src = b.u128be(ip + 8), src.0 == d.src.hi, src.1 == d.src.lo,
                    let dst = b.u128be(ip + 24), dst.0 == d.dst.hi, dst.1 == d.dst.lo
                {
                    return ip
                }
            }
        }
        return nil
    }
}

/// A DNS message (RFC 1035 4.1) read for its answers: the A and AAAA records of a response's
/// answer section, each with the name the client asked for (the first question; with a CNAME
/// chain, that is the name at its head). A response without a question (mDNS announcements)
/// names each address by its record's owner name.
public enum DNSMessage {
    /// At most this many compression pointers are followed in one name (loops end here).
    public static let maxPointers = 64
    /// The longest name kept, in presentation form (escapes included); longer names are cut.
    public static let maxNameLength = 255

    /// Reads the response in `b[start..<end]`. Writes the question name (presentation form, no
    /// trailing dot) into `name` (at least `maxNameLength` bytes) and calls `body(length, address,
    /// ipVersion)` for each A or AAAA answer, `length` being how many bytes of `name` hold the
    /// name for that answer. Returns the number of answers reported; 0 for queries, damaged
    /// messages and responses without addresses. Records after a damaged one are not read.
    public static func answers(
        _ b: Bytes, from start: Int, to end: Int, name: UnsafeMutableRawBufferPointer,
        _ body: (Int, IPAddress, UInt8) -> Void
    ) -> Int {
        guard end <= b.count, start >= 0, end - start >= 12, name.count >= maxNameLength else { return 0 }
        let m = Bytes(base: (b.base ?? UnsafeRawPointer(bitPattern: 1)!) + start, count: end - start)
        guard let flags = m.u16be(2), flags & 0x8000 != 0, let qd = m.u16be(4), let an = m.u16be(6), an > 0 else {
            return 0
        }
        var o = 12
        var questionLength = -1
        for q in 0..<Int(qd) {
            if q == 0 {
                guard let n = readName(m, at: o, into: name) else { return 0 }
                questionLength = n
            }
            guard let next = skipName(m, at: o) else { return 0 }
            o = next + 4
            guard o <= m.count else { return 0 }
        }
        var reported = 0
        for _ in 0..<Int(an) {
            let owner = o
            guard let next = skipName(m, at: o), let type = m.u16be(next), let rdLength = m.u16be(next + 8) else {
                return reported
            }
            let rdata = next + 10
            guard m.has(Int(rdLength), at: rdata) else { return reported }
            o = rdata + Int(rdLength)
            let address: IPAddress
            let version: UInt8
            if type == 1 && rdLength == 4, let v4 = m.u32be(rdata) {
                address = IPAddress(v4: v4)
                version = 4
            } else if type == 28 && rdLength == 16, let v6 = m.u128be(rdata) {
                address = IPAddress(hi: v6.0, lo: v6.1)
                version = 6
            } else {
                continue
            }
            var length = questionLength
            if length < 0 {
                guard let n = readName(m, at: owner, into: name) else { continue }
                length = n
            }
            if length == 0 { continue }
            body(length, address, version)
            reported += 1
        }
        return reported
    }

    /// The offset just past the name at `o` (its labels, then a zero byte or a pointer); nil when
    /// the name runs past the message.
    static func skipName(_ m: Bytes, at start: Int) -> Int? {
        var o = start
        // Each step advances at least one byte; a name holds at most 255 bytes on the wire.
        for _ in 0..<256 {
            guard let len = m.u8(o) else { return nil }
            if len == 0 { return o + 1 }
            if len & 0xC0 == 0xC0 { return m.has(2, at: o) ? o + 2 : nil }
            if len & 0xC0 != 0 { return nil }
            o += 1 + Int(len)
        }
        return nil
    }

    /// Writes the name at `o` in presentation form (labels joined by dots, a dot inside a label
    /// as `\.`, other bytes as `NameText` writes them) and
    /// returns its length (0 for the root); nil when it is damaged: runs past the message,
    /// follows more than `maxPointers` pointers, or uses the reserved label types.
    static func readName(_ m: Bytes, at start: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        var o = start
        var n = 0
        var jumps = 0
        let cap = min(out.count, maxNameLength)
        func put(_ c: UInt8) {
            if n < cap {
                out[n] = c
                n += 1
            }
        }
        for _ in 0..<(256 + maxPointers) {
            guard let len = m.u8(o) else { return nil }
            if len == 0 { return n }
            if len & 0xC0 == 0xC0 {
                guard let p = m.u16be(o) else { return nil }
                jumps += 1
                if jumps > maxPointers { return nil }
                o = Int(p & 0x3FFF)
                continue
            }
            if len & 0xC0 != 0 { return nil }
            guard m.has(Int(len), at: o + 1) else { return nil }
            if n > 0 { put(UInt8(ascii: ".")) }
            for i in 0..<Int(len) {
                let c = m.byte(o + 1 + i)
                if c == UInt8(ascii: ".") {
                    put(UInt8(ascii: "\\"))
                    put(c)
                } else {
                    NameText.escape(c, put)
                }
            }
            o += 1 + Int(len)
        }
        return nil
    }
}

/// How names are written: printable ASCII as is, except that a comma, a double quote, a
/// backslash and every byte outside 0x21-0x7E are written `\DDD` (decimal, as in DNS zone
/// files), so a name never needs quoting in CSV and never holds a control character.
public enum NameText {
    @inlinable
    public static func escape(_ c: UInt8, _ put: (UInt8) -> Void) {
        if c > 0x20 && c < 0x7F && c != UInt8(ascii: ",") && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
            put(c)
        } else {
            put(UInt8(ascii: "\\"))
            put(UInt8(ascii: "0") + c / 100)
            put(UInt8(ascii: "0") + c / 10 % 10)
            put(UInt8(ascii: "0") + c % 10)
        }
    }

    /// Writes `count` bytes at `offset` of `b`, escaped, to `out` (at most `capacity` bytes; a
    /// name is cut there); returns how many bytes were written, 0 when they were not captured.
    public static func write(
        _ b: Bytes, at offset: Int, count: Int, to out: UnsafeMutableRawPointer, capacity: Int
    ) -> Int {
        guard b.has(count, at: offset) else { return 0 }
        var n = 0
        for i in 0..<count {
            escape(b.byte(offset + i)) { c in
                if n < capacity {
                    out.storeBytes(of: c, toByteOffset: n, as: UInt8.self)
                    n += 1
                }
            }
        }
        return n
    }
}

/// The server name (SNI, RFC 6066) of a TLS ClientHello at the start of a TCP payload.
public enum TLSClientHello {
    /// The largest TLS record (2^14 bytes of content, RFC 8446 5.1, plus its 5-byte header).
    public static let maxRecord = 16_384 + 5

    public enum Result: Equatable, Sendable {
        /// The bytes do not start a ClientHello.
        case notHello
        /// A ClientHello whose server name lies past what is here: this many bytes (from the start
        /// of the record) hold it all.
        case needMore(Int)
        /// A ClientHello with a host name at `start` (an offset in the bytes given), `count` bytes
        /// long; 0 and 0 when it has none.
        case serverName(start: Int, count: Int)
    }

    /// Whether a payload starting with these bytes may be a ClientHello (a handshake record of
    /// TLS 1.x whose message type is 1); the cheap test made on every TCP payload.
    @inlinable
    public static func mayStart(_ b: Bytes, at o: Int) -> Bool {
        guard let type = b.u8(o), type == 22, let major = b.u8(o + 1), major == 3 else { return false }
        guard let handshake = b.u8(o + 5) else { return b.has(1, at: o + 2) }
        return handshake == 1
    }

    /// Reads the record at `b[start..<end]`.
    public static func parse(_ b: Bytes, from start: Int, to end: Int) -> Result {
        guard end <= b.count, start >= 0, end >= start else { return .notHello }
        let m = Bytes(base: (b.base ?? UnsafeRawPointer(bitPattern: 1)!) + start, count: end - start)
        guard let type = m.u8(0) else { return .needMore(5) }
        guard type == 22 else { return .notHello }
        guard let major = m.u8(1) else { return .needMore(5) }
        guard major == 3 else { return .notHello }
        guard let recordLength = m.u16be(3) else { return .needMore(5) }
        guard recordLength >= 4, Int(recordLength) + 5 <= maxRecord else { return .notHello }
        let recordEnd = 5 + Int(recordLength)
        let need = Result.needMore(recordEnd)
        guard let handshake = m.u8(5) else { return need }
        guard handshake == 1 else { return .notHello }
        guard let lengthHi = m.u8(6), let lengthLo = m.u16be(7) else { return need }
        // The message may go on in a next record; what is in this one is read.
        let bodyEnd = min(recordEnd, 9 + (Int(lengthHi) << 16 | Int(lengthLo)))
        let v = Bytes(base: (b.base ?? UnsafeRawPointer(bitPattern: 1)!) + start, count: min(m.count, bodyEnd))
        let complete = m.count >= bodyEnd
        let more: Result = complete ? .serverName(start: 0, count: 0) : need
        // client_version (2), random (32), session id.
        var o = 9 + 2 + 32
        guard let sessionLength = v.u8(o) else { return more }
        o += 1 + Int(sessionLength)
        guard let suites = v.u16be(o) else { return more }
        o += 2 + Int(suites)
        guard let compressions = v.u8(o) else { return more }
        o += 1 + Int(compressions)
        guard let extensionsLength = v.u16be(o) else { return more }
        o += 2
        let extensionsEnd = o + Int(extensionsLength)
        // Each extension takes at least 4 bytes: at most 16 K of them fit in a record.
        while o + 4 <= extensionsEnd {
            guard let extType = v.u16be(o), let extLength = v.u16be(o + 2) else { return more }
            let data = o + 4
            if extType == 0 {
                guard v.has(Int(extLength), at: data) else { return more }
                return serverName(v, from: data, to: data + Int(extLength), start: start)
            }
            o = data + Int(extLength)
        }
        return complete || o >= extensionsEnd ? .serverName(start: 0, count: 0) : more
    }

    /// The first host_name in a server_name extension's data.
    static func serverName(_ v: Bytes, from data: Int, to end: Int, start: Int) -> Result {
        guard let listLength = v.u16be(data) else { return .serverName(start: 0, count: 0) }
        var o = data + 2
        let listEnd = min(end, o + Int(listLength))
        while o + 3 <= listEnd {
            guard let nameType = v.u8(o), let nameLength = v.u16be(o + 1) else { break }
            let name = o + 3
            guard name + Int(nameLength) <= listEnd else { break }
            if nameType == 0 { return .serverName(start: start + name, count: Int(nameLength)) }
            o = name + Int(nameLength)
        }
        return .serverName(start: 0, count: 0)
    }
}
