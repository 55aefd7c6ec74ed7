import CNetLinux
import Glibc
import SystemPackage

/// Checked reads over netlink bytes (host byte order, as the kernel sends them).
/// Every read is bounds-checked; nothing is loaded as a C struct.
struct NetlinkBytes {
    let bytes: [UInt8]

    struct Short: Error {
        let offset: Int
        let needed: Int
    }

    func u8(_ o: Int) throws(Short) -> UInt8 {
        guard o >= 0, o < bytes.count else { throw Short(offset: o, needed: 1) }
        return bytes[o]
    }

    func u16(_ o: Int) throws(Short) -> UInt16 {
        guard o >= 0, bytes.count - o >= 2 else { throw Short(offset: o, needed: 2) }
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt16.self) }
    }

    func u32(_ o: Int) throws(Short) -> UInt32 {
        guard o >= 0, bytes.count - o >= 4 else { throw Short(offset: o, needed: 4) }
        return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
    }

    func i32(_ o: Int) throws(Short) -> Int32 { Int32(bitPattern: try u32(o)) }

    func slice(_ range: Range<Int>) throws(Short) -> ArraySlice<UInt8> {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw Short(offset: range.lowerBound, needed: range.count)
        }
        return bytes[range]
    }
}

/// One netlink attribute: its type (with the nested/byte-order bits cleared) and where its data is.
struct NetlinkAttribute {
    let type: UInt16
    let data: Range<Int>
}

/// The parts of the netlink wire format pktstat uses (`<linux/netlink.h>`, `<linux/rtnetlink.h>`).
/// The numbers are kernel ABI and never change.
enum Netlink {
    static let headerSize = 16  // struct nlmsghdr
    static let noop: UInt16 = 1  // NLMSG_NOOP
    static let error: UInt16 = 2  // NLMSG_ERROR
    static let done: UInt16 = 3  // NLMSG_DONE
    static let overrun: UInt16 = 4  // NLMSG_OVERRUN
    static let flagRequest: UInt16 = 0x1  // NLM_F_REQUEST
    static let flagMulti: UInt16 = 0x2  // NLM_F_MULTI
    static let flagDumpInterrupted: UInt16 = 0x10  // NLM_F_DUMP_INTR
    static let flagDump: UInt16 = 0x300  // NLM_F_ROOT | NLM_F_MATCH

    static let newRoute: UInt16 = 24  // RTM_NEWROUTE
    static let getRoute: UInt16 = 26  // RTM_GETROUTE
    static let newAddress: UInt16 = 20  // RTM_NEWADDR
    static let getAddress: UInt16 = 22  // RTM_GETADDR

    static func align(_ n: Int) -> Int { (n + 3) & ~3 }

    /// A message: type, flags, sequence number and where its payload is in the datagram.
    struct Message {
        let type: UInt16
        let flags: UInt16
        let sequence: UInt32
        let payload: Range<Int>
    }

    /// Splits one datagram into messages. Throws on a length that does not fit.
    static func messages(in b: NetlinkBytes) throws(NetlinkBytes.Short) -> [Message] {
        var out: [Message] = []
        var o = 0
        while b.bytes.count - o >= headerSize {
            let len = Int(try b.u32(o))
            guard len >= headerSize, len <= b.bytes.count - o else { throw .init(offset: o, needed: len) }
            out.append(
                Message(
                    type: try b.u16(o + 4), flags: try b.u16(o + 6), sequence: try b.u32(o + 8),
                    payload: (o + headerSize)..<(o + len)))
            o += align(len)
        }
        return out
    }

    /// The attributes in `range` (after a fixed family header).
    static func attributes(in b: NetlinkBytes, _ range: Range<Int>) throws(NetlinkBytes.Short) -> [NetlinkAttribute] {
        var out: [NetlinkAttribute] = []
        var o = range.lowerBound
        while range.upperBound - o >= 4 {
            let len = Int(try b.u16(o))
            let type = try b.u16(o + 2) & 0x3FFF  // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
            guard len >= 4, o + len <= range.upperBound else { throw .init(offset: o, needed: len) }
            out.append(NetlinkAttribute(type: type, data: (o + 4)..<(o + len)))
            o += align(len)
        }
        return out
    }

    /// An address attribute of the given family; nil for a wrong length.
    static func address(_ b: NetlinkBytes, _ r: Range<Int>, family: UInt8) -> IPAddress? {
        guard r.upperBound <= b.bytes.count else { return nil }
        let s = b.bytes[r]
        if family == UInt8(AF_INET), let a = IPv4Address(bytes: s) { return .v4(a) }
        if family == UInt8(AF_INET6), let a = IPv6Address(bytes: s) { return .v6(a) }
        return nil
    }

    /// A request: nlmsghdr + a zeroed family header whose first byte is the address family.
    static func dumpRequest(type: UInt16, family: UInt8, familyHeaderSize: Int, sequence: UInt32) -> [UInt8] {
        let len = headerSize + familyHeaderSize
        var req = [UInt8](repeating: 0, count: len)
        req.withUnsafeMutableBytes { p in
            p.storeBytes(of: UInt32(len), toByteOffset: 0, as: UInt32.self)
            p.storeBytes(of: type, toByteOffset: 4, as: UInt16.self)
            p.storeBytes(of: flagRequest | flagDump, toByteOffset: 6, as: UInt16.self)
            p.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
        }
        req[headerSize] = family
        return req
    }

    /// A single request (not a dump): nlmsghdr with NLM_F_REQUEST, the family header, then each
    /// attribute (rtattr: length, type, data padded to 4 bytes).
    static func request(
        type: UInt16, familyHeader: [UInt8], attributes: [(type: UInt16, data: [UInt8])], sequence: UInt32
    ) -> [UInt8] {
        var body = familyHeader
        for a in attributes {
            withUnsafeBytes(of: UInt16(4 + a.data.count)) { body += $0 }
            withUnsafeBytes(of: a.type) { body += $0 }
            body += a.data
            while body.count % 4 != 0 { body.append(0) }
        }
        var req: [UInt8] = []
        withUnsafeBytes(of: UInt32(headerSize + body.count)) { req += $0 }
        withUnsafeBytes(of: type) { req += $0 }
        withUnsafeBytes(of: flagRequest) { req += $0 }
        withUnsafeBytes(of: sequence) { req += $0 }
        withUnsafeBytes(of: UInt32(0)) { req += $0 }
        return req + body
    }
}

/// A NETLINK_ROUTE socket that runs dumps and single requests. Closed on deinit.
struct NetlinkSocket: ~Copyable {
    private let fd: Int32
    private var sequence: UInt32

    init() throws(NetInfoError) {
        let s = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(NETLINK_ROUTE))
        guard s >= 0 else { throw .netlinkSocket(call: "socket", Errno(rawValue: errno)) }
        var local = sockaddr_nl()
        local.nl_family = sa_family_t(AF_NETLINK)
        let rc = withUnsafePointer(to: &local) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
            }
        }
        guard rc == 0 else {
            let e = Errno(rawValue: errno)
            close(s)
            throw .netlinkSocket(call: "bind", e)
        }
        fd = s
        sequence = UInt32(truncatingIfNeeded: time(nil))
    }

    deinit { close(fd) }

    /// Sends one request (built for the sequence number it is given) and returns the kernel's one
    /// answer. An `NLMSG_ERROR` answer with a code throws `.netlinkRefused`.
    mutating func request(
        name: String, _ build: (UInt32) -> [UInt8]
    ) throws(NetInfoError) -> (type: UInt16, bytes: NetlinkBytes, payload: Range<Int>) {
        sequence &+= 1
        let seq = sequence
        try send(build(seq))
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for _ in 0..<64 {  // datagrams of other sequence numbers are skipped, a bounded number of them
            let (b, messages) = try receive(name: name, into: &buffer)
            for m in messages where m.sequence == seq {
                guard m.type == Netlink.error else { return (m.type, b, m.payload) }
                let code = (try? b.i32(m.payload.lowerBound)) ?? -EPROTO
                throw .netlinkRefused(request: name, Errno(rawValue: code == 0 ? EPROTO : -code))
            }
        }
        throw .netlinkMalformed(request: name, reason: "no answer with the request's sequence number")
    }

    private func send(_ request: [UInt8]) throws(NetInfoError) {
        let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw .netlinkSocket(call: "send", Errno(rawValue: errno)) }
    }

    /// One datagram (recv retried on EINTR), split into its messages.
    private func receive(
        name: String, into buffer: inout [UInt8]
    ) throws(NetInfoError) -> (NetlinkBytes, [Netlink.Message]) {
        var n: Int
        repeat {
            n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
        } while n < 0 && errno == EINTR
        guard n >= 0 else { throw .netlinkSocket(call: "recv", Errno(rawValue: errno)) }
        if n > buffer.count {
            throw .netlinkMalformed(request: name, reason: "a \(n)-byte message did not fit the buffer")
        }
        if n == 0 { throw .netlinkMalformed(request: name, reason: "the socket closed before the answer ended") }
        let b = NetlinkBytes(bytes: Array(buffer[0..<n]))
        do {
            return (b, try Netlink.messages(in: b))
        } catch {
            throw .netlinkMalformed(request: name, reason: "bad message length at byte \(error.offset)")
        }
    }

    /// Sends a dump request and returns every reply message's type and payload bytes, in order.
    /// Retries (up to three times) when the kernel flags the dump as interrupted by a change.
    mutating func dump(
        name: String, type: UInt16, family: UInt8, familyHeaderSize: Int
    ) throws(NetInfoError) -> [(type: UInt16, bytes: NetlinkBytes, payload: Range<Int>)] {
        for _ in 0..<3 {
            sequence &+= 1
            let seq = sequence
            try send(Netlink.dumpRequest(type: type, family: family, familyHeaderSize: familyHeaderSize, sequence: seq))
            var out: [(type: UInt16, bytes: NetlinkBytes, payload: Range<Int>)] = []
            var interrupted = false
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            receiving: while true {
                let (b, messages) = try receive(name: name, into: &buffer)
                for m in messages {
                    if m.sequence != seq { continue }
                    if m.flags & Netlink.flagDumpInterrupted != 0 { interrupted = true }
                    switch m.type {
                    case Netlink.done:
                        break receiving
                    case Netlink.error:
                        let code = (try? b.i32(m.payload.lowerBound)) ?? -EPROTO
                        if code == 0 { continue }
                        throw .netlinkRefused(request: name, Errno(rawValue: -code))
                    case Netlink.noop, Netlink.overrun:
                        continue
                    default:
                        out.append((m.type, b, m.payload))
                    }
                }
            }
            if !interrupted { return out }
        }
        throw .netlinkInterrupted(request: name)
    }
}
