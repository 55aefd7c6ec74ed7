public import PacketWire

/// One level of an encapsulation (Zeek's `EncapsulatingConn`): the tunnel's uid (a UDP tunnel's
/// outer connection; an IP-in-IP or GRE tunnel's own uid, one per pair of outer addresses) and
/// its type. Zeek compares levels by these (the addresses and ports it also compares come with
/// the uid).
public struct EncapsulatingConn: Sendable, Equatable {
    public var uid: ConnUID
    public var type: ConnTunnelType

    public init(uid: ConnUID, type: ConnTunnelType) {
        self.uid = uid
        self.type = type
    }
}

/// The tunnels around a packet, outermost first: at most `ConnTunnels.maxDepth` levels, a fixed-size
/// value.
public struct EncapsulationStack: Sendable, Equatable {
    public private(set) var depth = 0
    private var levels: (EncapsulatingConn, EncapsulatingConn, EncapsulatingConn, EncapsulatingConn) = (
        .none, .none, .none, .none
    )

    public init() {}

    public subscript(i: Int) -> EncapsulatingConn {
        switch i {
        case 0: levels.0
        case 1: levels.1
        case 2: levels.2
        default: levels.3
        }
    }

    /// The innermost level's type (`.none` without tunnels).
    public var lastType: ConnTunnelType { depth == 0 ? .none : self[depth - 1].type }
    /// The innermost level (Zeek's `c$tunnel[|c$tunnel|-1]`).
    public var last: EncapsulatingConn? { depth == 0 ? nil : self[depth - 1] }

    /// This stack with `level` inside it; unchanged when it is full (the tunnel steps stop at
    /// `ConnTunnels.maxDepth`).
    public func adding(_ level: EncapsulatingConn) -> EncapsulationStack {
        var s = self
        switch depth {
        case 0: s.levels.0 = level
        case 1: s.levels.1 = level
        case 2: s.levels.2 = level
        case 3: s.levels.3 = level
        default: return s
        }
        s.depth += 1
        return s
    }

    public static func == (a: EncapsulationStack, b: EncapsulationStack) -> Bool {
        guard a.depth == b.depth else { return false }
        for i in 0..<a.depth where a[i] != b[i] { return false }
        return true
    }
}

extension EncapsulatingConn {
    static let none = EncapsulatingConn(uid: ConnUID(hi: 0, lo: 0), type: .none)
}

/// A connection as `ConnectionTracker.process` hands it back: what the tunnel steps need.
public struct ConnHandle: Sendable {
    public var slot: Int32
    public var respPort: UInt16
    public var transport: ConnTransport
    /// The packet created the connection.
    public var created: Bool
}

/// The tunnel state of one connection.
struct ConnTunnelState {
    /// The encapsulation of its last packet (Zeek's `Connection::encapsulation`).
    var stack = EncapsulationStack()
    /// `tunnel_changed` events so far (Zeek stops at `Tunnel::max_changes_per_connection`).
    var changes = 0
    /// `tunnel_parents`.
    var parents: [ConnUID] = []
    /// Tunnel analyzers this connection violated (`ConnTunnelType.bit`).
    var violated: UInt16 = 0

    mutating func addParent(_ uid: ConnUID) {
        if !parents.contains(uid) { parents.append(uid) }
    }
}

extension ConnectionTracker {
    /// `Tunnel::max_changes_per_connection`.
    static let maxTunnelChanges = 5
    /// The history bit of `HIST_ANALYZER_LIMIT_REACHED` ('X').
    static let analyzerLimitBit: UInt32 = 0x400

    /// A new connection inside tunnels: `new_connection` puts the innermost level's uid in
    /// `tunnel_parents`.
    func startEncapsulation(_ slot: Int, _ stack: EncapsulationStack) {
        var state = ConnTunnelState()
        state.stack = stack
        if let last = stack.last { state.addParent(last.uid) }
        tunnelStates[Int32(slot)] = state
    }

    /// `Connection::CheckEncapsulation`: a packet whose encapsulation differs from the last one's
    /// is a change; each change adds the new innermost uid, up to the limit, past which the
    /// history gets an `X`.
    func checkEncapsulation(_ slot: Int, _ stack: EncapsulationStack) {
        var state = tunnelStates[Int32(slot)] ?? ConnTunnelState()
        guard state.stack != stack else { return }
        if state.changes >= ConnectionTracker.maxTunnelChanges {
            _ = slots[slot].checkHistory(ConnectionTracker.analyzerLimitBit, UInt8(ascii: "X"))
        } else {
            state.changes += 1
            if let last = stack.last { state.addParent(last.uid) }
        }
        state.stack = stack
        tunnelStates[Int32(slot)] = state
    }

    /// Sets the encapsulation a connection compares the next packet's with (no change counted).
    func replaceEncapsulation(_ slot: Int32, _ stack: EncapsulationStack) {
        tunnelStates[slot, default: ConnTunnelState()].stack = stack
    }

    /// The tunnel analyzers the connection violated.
    func violatedTunnels(_ slot: Int32) -> UInt16 { tunnelStates.isEmpty ? 0 : tunnelStates[slot]?.violated ?? 0 }

    /// A tunnel analyzer met a damaged header on this connection: it ignores the connection from
    /// now on.
    func markViolated(_ slot: Int32, _ type: ConnTunnelType) {
        tunnelStates[slot, default: ConnTunnelState()].violated |= type.bit
    }

    /// `Tunnel::max_depth` reached inside this connection: `X` in its history.
    func analyzerLimitReached(_ slot: Int32) {
        _ = slots[Int(slot)].checkHistory(ConnectionTracker.analyzerLimitBit, UInt8(ascii: "X"))
    }

    /// A uid for an IP tunnel.
    func newTunnelUID() -> ConnUID { nextUID() }
}

/// The connection walk with Zeek's tunnels and fragment reassembly around `ConnectionTracker`:
/// each captured packet is walked (`ConnDecoder`), fragments are reassembled
/// (`FragmentReassembler`) and the datagram walked again, and every tunnel Zeek decapsulates is
/// followed (`ConnTunnels`): the outer packet counts for its own connection (UDP tunnels: VXLAN,
/// Geneve, Teredo, AYIYA, GTPv1, GRE over UDP) or for none (IP-in-IP, GRE), and the inner packet
/// for its connection, with the encapsulation that gives its `tunnel_parents`.
///
/// Allocation-free per packet once warm: the reassembled datagrams are written to buffers made
/// once, the IP tunnel table and the tracker's tables grow to their working size.
///
/// Not thread-safe.
public final class ConnectionDecapsulator {
    public let tracker: ConnectionTracker
    public let reassembler: FragmentReassembler
    private let verify: Bool
    /// Reassembled datagrams, one buffer per nesting level (a datagram inside a tunnel inside a
    /// datagram...).
    private var datagrams: [UnsafeMutableRawBufferPointer] = []
    /// IP tunnels (IP-in-IP, GRE) by their unordered pair of outer addresses: uid and last use.
    private var ipTunnels: [IPPair: (uid: ConnUID, last: Int64)] = [:]
    /// Zeek's `Tunnel::ip_tunnel_timeout` (24 hours), microseconds.
    static let ipTunnelTimeout: Int64 = 86_400_000_000
    /// At most this many IP tunnels are remembered (the table is emptied when it is full).
    static let maxIPTunnels = 65_536
    /// How many levels of reassembled datagrams nest at most.
    static let maxDatagramLevels = ConnTunnels.maxDepth + 2

    struct IPPair: Hashable {
        var a: IPAddress
        var b: IPAddress
    }

    public init(tracker: ConnectionTracker, reassembler: FragmentReassembler = FragmentReassembler()) {
        self.tracker = tracker
        self.reassembler = reassembler
        verify = tracker.settings.verifyChecksums
    }

    deinit {
        for d in datagrams { d.deallocate() }
    }

    /// Takes one captured packet (`length` on the wire) at `timestampNs`.
    public func process(
        _ b: Bytes, length: Int, linkType: LinkType, timestampNs: Int64, emit: (ConnectionRecord) -> Void
    ) {
        let p = ConnDecoder.decode(b, length: length, linkType: linkType, verifyChecksums: verify)
        // Most packets lead nowhere further: not IP, dropped, or TCP, ICMP and other protocols
        // (only UDP packets, fragments and IP tunnels are followed).
        switch p.kind {
        case .notIP, .dropped:
            tracker.process(p, timestampNs: timestampNs, emit: emit)
        case .packet:
            guard let c = tracker.process(p, timestampNs: timestampNs, emit: emit), c.transport == .udp else { return }
            udpTunnel(
                b, p, c, wireEnd: length, stack: EncapsulationStack(), level: 0, time: timestampNs, emit: emit)
        case .fragment, .tunnel:
            walk(b, p, wireEnd: length, stack: EncapsulationStack(), level: 0, time: timestampNs, emit: emit)
        }
    }

    /// Ends the connections (end of input).
    public func finish(emit: (ConnectionRecord) -> Void) { tracker.finish(emit: emit) }

    /// Walks `p` (from `b`) and what it encapsulates; returns the deepest encapsulation reached.
    @discardableResult
    private func walk(
        _ b: Bytes, _ p: ConnPacket, wireEnd: Int, stack: EncapsulationStack, level: Int, time: Int64,
        emit: (ConnectionRecord) -> Void
    ) -> EncapsulationStack {
        switch p.kind {
        case .fragment:
            // The tracker sees the fragment (network time advances, timers fire) but forms nothing.
            tracker.process(p, timestampNs: time, encapsulation: stack, emit: emit)
            guard level < ConnectionDecapsulator.maxDatagramLevels else { return stack }
            let out = datagram(level)
            let now = time / 1000 - (time % 1000 < 0 ? 1 : 0)
            guard let n = reassembler.add(b, p, now: now, into: out) else { return stack }
            let d = Bytes(UnsafeRawBufferPointer(start: out.baseAddress, count: n))
            let q = ConnDecoder.decodeReassembled(d, verifyChecksums: verify)
            return walk(d, q, wireEnd: n, stack: stack, level: level + 1, time: time, emit: emit)
        case .tunnel:
            tracker.process(p, timestampNs: time, encapsulation: stack, emit: emit)
            guard case .inner(let payload) = ConnTunnels.ip(b, p, depth: stack.depth) else { return stack }
            let outer = EncapsulatingConn(uid: ipTunnel(p.ip.src, p.ip.dst, time: time), type: payload.type)
            return inner(b, payload, stack: stack.adding(outer), level: level, time: time, emit: emit)
        case .packet:
            guard let c = tracker.process(p, timestampNs: time, encapsulation: stack, emit: emit) else {
                return stack
            }
            return udpTunnel(b, p, c, wireEnd: wireEnd, stack: stack, level: level, time: time, emit: emit)
        case .notIP, .dropped:
            tracker.process(p, timestampNs: time, encapsulation: stack, emit: emit)
            return stack
        }
    }

    /// The tunnel a UDP packet of connection `c` may carry: followed when there is one. Returns
    /// the deepest encapsulation reached.
    @discardableResult
    private func udpTunnel(
        _ b: Bytes, _ p: ConnPacket, _ c: ConnHandle, wireEnd: Int, stack: EncapsulationStack, level: Int,
        time: Int64, emit: (ConnectionRecord) -> Void
    ) -> EncapsulationStack {
        guard c.transport == .udp, p.checksum != .bad else { return stack }
        let outcome = ConnTunnels.udp(
            b, payload: Int(p.transportOffset) + 8, captured: Int(p.transportCaptured) - 8, end: b.count,
            wireEnd: wireEnd, respPort: c.respPort, violated: tracker.violatedTunnels(c.slot),
            depth: stack.depth, lastType: stack.lastType)
        switch outcome {
        case .none:
            return stack
        case .violation(let type):
            tracker.markViolated(c.slot, type)
            return stack
        case .depthExceeded:
            tracker.analyzerLimitReached(c.slot)
            return stack
        case .inner(let payload):
            // GRE over UDP is an IP tunnel between the outer addresses; the others are the
            // UDP connection.
            let uid = payload.type == .gre ? ipTunnel(p.ip.src, p.ip.dst, time: time) : tracker.uid(of: c.slot)
            let outer = EncapsulatingConn(uid: uid, type: payload.type)
            let deepest = inner(b, payload, stack: stack.adding(outer), level: level, time: time, emit: emit)
            // Zeek keeps a new connection's encapsulation as a pointer to its packet's stack,
            // which the levels inside then grow: it ends up as the deepest one (so the next
            // packet, one level up, is a change).
            if c.created && stack.depth > 0 { tracker.replaceEncapsulation(c.slot, deepest) }
            return deepest
        }
    }

    private func inner(
        _ b: Bytes, _ payload: ConnTunnelPayload, stack: EncapsulationStack, level: Int, time: Int64,
        emit: (ConnectionRecord) -> Void
    ) -> EncapsulationStack {
        guard stack.depth <= ConnTunnels.maxDepth else { return stack }
        if payload.layer == .ieee80211 {
            var cursor = 0
            // Each subframe consumes bytes, so this ends.
            while let sub = ConnTunnels.ieee80211Subframe(b, frame: payload, cursor: &cursor) {
                let q = ConnDecoder.decodeInner(b, sub, verifyChecksums: verify)
                walk(
                    b.prefix(sub.offset + sub.captured), q, wireEnd: sub.wireEnd, stack: stack, level: level,
                    time: time, emit: emit)
            }
            // Zeek pops the levels of each subframe.
            return stack
        }
        let q = ConnDecoder.decodeInner(b, payload, verifyChecksums: verify)
        return walk(
            b.prefix(payload.offset + payload.captured), q, wireEnd: payload.wireEnd, stack: stack, level: level,
            time: time, emit: emit)
    }

    /// The buffer for reassembled datagrams at nesting `level`, made once.
    private func datagram(_ level: Int) -> UnsafeMutableRawBufferPointer {
        while datagrams.count <= level {
            datagrams.append(
                .allocate(
                    byteCount: FragmentReassembler.maxHeader + FragmentReassembler.maxDatagram, alignment: 8))
        }
        return datagrams[level]
    }

    /// The uid of the IP tunnel between `x` and `y` (either way round), made on first use.
    private func ipTunnel(_ x: IPAddress, _ y: IPAddress, time: Int64) -> ConnUID {
        let key = x.hi < y.hi || (x.hi == y.hi && x.lo < y.lo) ? IPPair(a: x, b: y) : IPPair(a: y, b: x)
        let now = time / 1000
        if let found = ipTunnels[key], now - found.last < ConnectionDecapsulator.ipTunnelTimeout {
            ipTunnels[key] = (found.uid, now)
            return found.uid
        }
        if ipTunnels.count >= ConnectionDecapsulator.maxIPTunnels { ipTunnels.removeAll(keepingCapacity: true) }
        let uid = tracker.newTunnelUID()
        ipTunnels[key] = (uid, now)
        return uid
    }
}
