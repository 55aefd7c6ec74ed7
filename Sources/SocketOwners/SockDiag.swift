import CNetLinux
import Glibc
public import PacketWire

/// One end of a conversation as the socket that owns it sees it: the protocol (6 TCP, 17 UDP),
/// the IP version, the local address and port, the remote address and port.
public struct SocketEnd: Hashable, Sendable {
    public var proto: UInt8
    public var version: UInt8
    public var local: IPAddress
    public var localPort: UInt16
    public var remote: IPAddress
    public var remotePort: UInt16

    public init(
        proto: UInt8, version: UInt8, local: IPAddress, localPort: UInt16, remote: IPAddress, remotePort: UInt16
    ) {
        self.proto = proto
        self.version = version
        self.local = local
        self.localPort = localPort
        self.remote = remote
        self.remotePort = remotePort
    }

    /// Whether the local address is a loopback address (127/8 or ::1): such traffic is only ever
    /// seen in the namespace that captures it.
    var isLoopback: Bool {
        version == 4 ? (local.v4 >> 24) == 127 : (local.hi == 0 && local.lo == 1)
    }
}

/// A socket as sock_diag reports it.
struct DiagSocket: Equatable {
    var family: UInt8
    var state: UInt8
    var local: IPAddress
    var localPort: UInt16
    var remote: IPAddress
    var remotePort: UInt16
    var uid: UInt32
    var inode: UInt32
}

/// A NETLINK_SOCK_DIAG socket (as `ss` uses): exact lookups of one socket by its addresses and
/// ports (`inet_diag_req_v2` without NLM_F_DUMP), and dumps of every TCP or UDP socket of a family.
/// The socket answers for the network namespace it was opened in.
final class SockDiag {
    let fd: Int32
    private var seq: UInt32 = 0
    private static let bufferSize = 65_536
    private var buffer = [UInt8](repeating: 0, count: SockDiag.bufferSize)

    static let sockDiagByFamily: UInt16 = 20
    static let tcpListen: UInt8 = 10
    static let tcpTimeWait: UInt8 = 6
    static let tcpNewSynRecv: UInt8 = 12
    static let requestLength = 16 + 56
    static let messageLength = 72

    /// Opens one in the calling thread's network namespace; nil when the kernel refuses.
    init?() {
        let s = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_SOCK_DIAG)
        guard s >= 0 else { return nil }
        // Never wait long on an answer: the kernel answers at once or not at all.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = s
    }

    deinit { close(fd) }

    /// The socket that owns `end` in this namespace, as the kernel's own lookup finds it (TCP: the
    /// connection, never a listener or a closed socket; UDP: the connected or bound socket that
    /// would receive the end's packets). nil when there is none, or it has no inode (closed).
    func lookup(_ end: SocketEnd) -> DiagSocket? {
        let family = UInt8(end.version == 6 ? AF_INET6 : AF_INET)
        if end.proto == 6 {
            guard let s = query(family: family, proto: 6, end.local, end.localPort, end.remote, end.remotePort)
            else { return nil }
            guard s.state != Self.tcpListen, s.state != Self.tcpTimeWait, s.inode != 0, s.localPort == end.localPort,
                s.remotePort == end.remotePort
            else { return nil }
            return s
        }
        // UDP's exact lookup takes the remote end first ("src and dst are swapped for historical
        // reasons", udp_diag.c); older kernels took the local one: try both, keep the socket
        // whose local port is the end's.
        for swapped in [true, false] {
            let s =
                swapped
                ? query(family: family, proto: 17, end.remote, end.remotePort, end.local, end.localPort)
                : query(family: family, proto: 17, end.local, end.localPort, end.remote, end.remotePort)
            if let s, s.inode != 0, s.localPort == end.localPort, s.remotePort == 0 || s.remotePort == end.remotePort {
                return s
            }
        }
        return nil
    }

    /// Every socket of `proto` (6, 17) and `family` (AF_INET, AF_INET6) in this namespace, except
    /// TCP listeners and closed ones; false when the dump failed.
    func dump(proto: UInt8, family: UInt8, _ body: (DiagSocket) -> Void) -> Bool {
        var states: UInt32 = 0xFFFF_FFFF
        if proto == 6 {
            states &= ~(1 << UInt32(Self.tcpListen) | 1 << UInt32(Self.tcpTimeWait) | 1 << UInt32(Self.tcpNewSynRecv))
        }
        let request = Self.request(
            seq: nextSeq(), dump: true, family: family, proto: proto, states: states, .zero, 0, .zero, 0)
        guard sendRequest(request) else { return false }
        while true {
            let n = recv(fd, &buffer, Self.bufferSize, 0)
            guard n > 0 else { return false }
            var done = false
            let ok = walk(n) { type, payload in
                if type == 3 {  // NLMSG_DONE
                    done = true
                } else if type == 2 {  // NLMSG_ERROR
                    return false
                } else if type == Self.sockDiagByFamily, let s = Self.parse(payload) {
                    body(s)
                }
                return true
            }
            if !ok { return false }
            if done { return true }
        }
    }

    private func nextSeq() -> UInt32 {
        seq &+= 1
        return seq
    }

    private func query(
        family: UInt8, proto: UInt8, _ src: IPAddress, _ sport: UInt16, _ dst: IPAddress, _ dport: UInt16
    ) -> DiagSocket? {
        let mySeq = nextSeq()
        let request = Self.request(
            seq: mySeq, dump: false, family: family, proto: proto, states: 0xFFFF_FFFF, src, sport, dst, dport)
        guard sendRequest(request) else { return nil }
        // Read until the answer to this request (an earlier, timed-out answer may come first).
        for _ in 0..<4 {
            let n = recv(fd, &buffer, Self.bufferSize, 0)
            guard n > 0 else { return nil }
            var found: DiagSocket?
            var answered = false
            _ = walk(n) { type, payload in
                guard self.lastSeq == mySeq else { return true }
                answered = true
                if type == Self.sockDiagByFamily { found = Self.parse(payload) }
                return true
            }
            if answered { return found }
        }
        return nil
    }

    /// The sequence number of the message `walk` is on.
    private var lastSeq: UInt32 = 0

    /// Calls `body` with each message's type and payload in the first `n` bytes of the buffer;
    /// stops (false) when `body` says so or a length is wrong.
    private func walk(_ n: Int, _ body: (UInt16, UnsafeRawBufferPointer) -> Bool) -> Bool {
        buffer.withUnsafeBytes { raw in
            var o = 0
            while o + 16 <= n {
                let length = Int(raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))
                guard length >= 16, o + length <= n else { return false }
                let type = raw.loadUnaligned(fromByteOffset: o + 4, as: UInt16.self)
                lastSeq = raw.loadUnaligned(fromByteOffset: o + 8, as: UInt32.self)
                if !body(type, UnsafeRawBufferPointer(rebasing: raw[(o + 16)..<(o + length)])) { return false }
                o += (length + 3) & ~3
            }
            return true
        }
    }

    private func sendRequest(_ request: [UInt8]) -> Bool {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        return request.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { a in
                a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, bytes.baseAddress, bytes.count, 0, sa, socklen_t(MemoryLayout<sockaddr_nl>.size))
                        == bytes.count
                }
            }
        }
    }

    /// A netlink header and an `inet_diag_req_v2` (kernel's `inet_diag.h`): family, protocol,
    /// extensions, pad, states, then the socket id (sport, dport, src[4], dst[4], if, cookie[2]),
    /// ports and addresses in network order, the cookie INET_DIAG_NOCOOKIE.
    static func request(
        seq: UInt32, dump: Bool, family: UInt8, proto: UInt8, states: UInt32, _ src: IPAddress, _ sport: UInt16,
        _ dst: IPAddress, _ dport: UInt16
    ) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(requestLength)
        func u16(_ v: UInt16) { withUnsafeBytes(of: v) { b += $0 } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v) { b += $0 } }
        func address(_ a: IPAddress) {
            if family == UInt8(AF_INET) {
                withUnsafeBytes(of: a.v4.bigEndian) { b += $0 }
                b += [UInt8](repeating: 0, count: 12)
            } else {
                withUnsafeBytes(of: a.hi.bigEndian) { b += $0 }
                withUnsafeBytes(of: a.lo.bigEndian) { b += $0 }
            }
        }
        u32(UInt32(requestLength))
        u16(sockDiagByFamily)
        u16(dump ? UInt16(NLM_F_REQUEST | NLM_F_DUMP) : UInt16(NLM_F_REQUEST))
        u32(seq)
        u32(0)
        b += [family, proto, 0, 0]
        u32(states)
        u16(sport.bigEndian)
        u16(dport.bigEndian)
        address(src)
        address(dst)
        u32(0)
        u32(0xFFFF_FFFF)
        u32(0xFFFF_FFFF)
        return b
    }

    /// An `inet_diag_msg`: family, state, timer, retrans, the socket id, expires, rqueue, wqueue,
    /// uid, inode.
    static func parse(_ p: UnsafeRawBufferPointer) -> DiagSocket? {
        guard p.count >= messageLength else { return nil }
        let family = p[0]
        func port(_ o: Int) -> UInt16 { UInt16(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
        func address(_ o: Int) -> IPAddress {
            if family == UInt8(AF_INET) {
                return IPAddress(v4: UInt32(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
            }
            let hi = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
            let lo = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self))
            return IPAddress(hi: hi, lo: lo)
        }
        return DiagSocket(
            family: family, state: p[1], local: address(8), localPort: port(4), remote: address(24),
            remotePort: port(6), uid: p.loadUnaligned(fromByteOffset: 64, as: UInt32.self),
            inode: p.loadUnaligned(fromByteOffset: 68, as: UInt32.self))
    }
}
