public import PacketWire

/// Turns packets into Zeek connections (`conn.log` records), with Zeek's semantics: who is the
/// originator (and the flip, `^`, by the likely server ports), TCP's endpoint state machine,
/// payload sizes from sequence numbers, gaps and missed bytes, history letters, the inactivity
/// timeouts and TCP's timers that end connections, reuse of a key after a close.
///
/// Memory: one fixed-size `Connection` per open connection (no references), a hash index and a
/// heap of deadlines; nothing is allocated per packet once the tables have grown. Connections leave
/// as Zeek would remove them (timeouts, closes, `maxConnections`) and are handed to `emit` then;
/// `finish` hands over the rest.
///
/// Not thread-safe.
public final class ConnectionTracker {
    public let settings: ConnectionSettings
    /// The connections, by slot: in chunks that never move, used in place (no copy per packet).
    var slots = ConnectionSlots()
    private var used = 0
    private var freeSlots: [Int32] = []
    private var index = SlotIndex()
    private var heap = DeadlineHeap()
    /// Tunnel state of connections that have any (encapsulation, violated tunnel analyzers), by
    /// slot: see Tunnels.swift.
    var tunnelStates: [Int32: ConnTunnelState] = [:]
    /// Zeek's network time: the largest packet time so far (microseconds).
    private var networkTime = Int64.min
    private var uidCounter: UInt64 = 0
    /// Connections ended early because `maxConnections` was reached.
    public private(set) var evicted: UInt64 = 0
    /// Packets that formed no connection (not IP, dropped by the IP layer, fragments, tunnels).
    public private(set) var ignoredPackets: UInt64 = 0

    public init(settings: ConnectionSettings) {
        self.settings = settings
        uidCounter = settings.uidSeed
    }

    deinit {
        slots.release(used: used)
        index.release()
        heap.release()
    }

    /// The number of open connections.
    public var count: Int { index.count }

    /// Takes one packet at `timestampNs` that came through `encapsulation` (the tunnels around it,
    /// outermost first); `emit` receives the connections that end before it. Returns the packet's
    /// connection, nil when it formed none.
    @discardableResult
    public func process(
        _ p: ConnPacket, timestampNs: Int64, encapsulation: EncapsulationStack = EncapsulationStack(),
        emit: (ConnectionRecord) -> Void
    ) -> ConnHandle? {
        track(p, timestampNs: timestampNs, encapsulation: encapsulation, emit: emit)
    }

    /// `process` for a packet outside tunnels (the common case: no encapsulation to carry).
    @discardableResult
    func process(_ p: ConnPacket, timestampNs: Int64, emit: (ConnectionRecord) -> Void) -> ConnHandle? {
        track(p, timestampNs: timestampNs, encapsulation: nil, emit: emit)
    }

    @inline(__always)
    private func track(
        _ p: ConnPacket, timestampNs: Int64, encapsulation: EncapsulationStack?,
        emit: (ConnectionRecord) -> Void
    ) -> ConnHandle? {
        // Zeek reads captures at microsecond precision.
        // Floor division (no overflow near Int64.min, which damaged captures can hold).
        let t = timestampNs / 1000 - (timestampNs % 1000 < 0 ? 1 : 0)
        if t > networkTime { networkTime = t }
        expire(upTo: networkTime, emit: emit)
        guard p.kind == .packet else {
            ignoredPackets &+= 1
            return nil
        }
        let proto = p.ip.proto
        let transport: ConnTransport
        var srcPort: UInt16 = 0
        var dstPort: UInt16 = 0
        var oneWay = false
        switch proto {
        case ConnIPProtocol.tcp:
            transport = .tcp
        case ConnIPProtocol.udp:
            transport = .udp
        case ConnIPProtocol.icmp, ConnIPProtocol.icmpv6:
            transport = .icmp
        case 2:
            // IGMP has its own analyzer in Zeek and forms no connection.
            ignoredPackets &+= 1
            return nil
        default:
            transport = .unknown
        }
        switch transport {
        case .tcp, .udp:
            guard p.hasTransportHeader else {
                ignoredPackets &+= 1
                return nil
            }
            srcPort = p.srcPort
            dstPort = p.dstPort
        case .icmp:
            guard p.hasTransportHeader else {
                ignoredPackets &+= 1
                return nil
            }
            srcPort = UInt16(p.icmpType)
            dstPort = ConnectionTracker.icmpCounterpart(
                type: p.icmpType, code: p.icmpCode, v6: proto == ConnIPProtocol.icmpv6, oneWay: &oneWay)
        case .unknown:
            break
        }
        let key = ConnKey(
            src: p.ip.src, srcPort: srcPort, dst: p.ip.dst, dstPort: dstPort, proto: proto, version: p.ip.version,
            oneWay: oneWay)
        var slot: Int
        var created = true
        if let found = index.find(key, in: slots) {
            slot = found
            created = false
            if transport == .tcp && slots[slot].isReuse(p) {
                remove(slot, emit: emit)
                slot = create(key, p, transport, srcPort, dstPort, t, emit: emit)
                created = true
            }
        } else {
            slot = create(key, p, transport, srcPort, dstPort, t, emit: emit)
        }
        if let encapsulation, encapsulation.depth > 0 {
            if created { startEncapsulation(slot, encapsulation) } else { checkEncapsulation(slot, encapsulation) }
        } else if !created && !tunnelStates.isEmpty && tunnelStates[Int32(slot)] != nil {
            checkEncapsulation(slot, EncapsulationStack())
        }
        deliver(slot, p, srcPort: srcPort, time: t, nanos: timestampNs)
        slots[slot].lastPacket = networkTime
        schedule(slot)
        return ConnHandle(
            slot: Int32(slot), respPort: slots[slot].respPort, transport: slots[slot].transport, created: created)
    }

    /// Ends every open connection (end of input), in order of their first packet.
    public func finish(emit: (ConnectionRecord) -> Void) {
        // Sorted by keys read once into an array (a comparison that read two connections cost a
        // pair of cache misses per step). The keys are unique: the uid's high half is a bijection
        // of a counter.
        var open = index.allSlots().map { (start: slots[$0].start, uid: slots[$0].uid.hi, slot: $0) }
        open.sort { ($0.start, $0.uid) < ($1.start, $1.uid) }
        for entry in open { remove(entry.slot, emit: emit) }
        heap.removeAll()
    }

    // MARK: - Connections

    private func create(
        _ key: ConnKey, _ p: ConnPacket, _ transport: ConnTransport, _ srcPort: UInt16, _ dstPort: UInt16,
        _ t: Int64, emit: (ConnectionRecord) -> Void
    ) -> Int {
        if index.count >= settings.maxConnections { evictOne(emit: emit) }
        let timeout: Int64
        switch transport {
        case .tcp, .udp: timeout = settings.udpTimeout
        case .icmp: timeout = settings.icmpTimeout
        case .unknown: timeout = settings.otherTimeout
        }
        // The slot first: the connection is made in place (a copy is 896 bytes).
        let slot: Int
        var generation: UInt32 = 0
        if let free = freeSlots.popLast() {
            slot = Int(free)
            generation = slots[slot].generation &+ 1
        } else {
            if used == slots.capacity { slots.addChunk() }
            slot = used
            used += 1
        }
        let c = slots.pointer(slot)
        c.initialize(
            to: Connection(
                key: key, transport: transport, ipVersion: p.ip.version, ipProto: p.ip.proto, origAddress: p.ip.src,
                respAddress: p.ip.dst, origPort: srcPort, respPort: dstPort, uid: nextUID(), start: t, last: t,
                lastPacket: t, inactivityTimeout: timeout))
        c.pointee.generation = generation
        c.pointee.tcpTimeout = settings.tcpTimeout
        if transport == .tcp { c.pointee.expireChain0 = t + Connection.synTimeout }
        // IPBasedAnalyzer::NewConn: flip when the first packet likely came from the server.
        var flip = false
        if transport == .tcp {
            let flags = p.tcpFlags
            if flags & TCPFlag.syn == 0 || flags & TCPFlag.ack != 0 {
                if settings.serverPorts.contains(srcPort, tcp: true) {
                    if settings.serverPorts.contains(dstPort, tcp: true) {
                        flip = flags & TCPFlag.syn == 0 && srcPort < dstPort
                    } else {
                        flip = true
                    }
                }
            }
        } else if transport == .udp {
            flip =
                settings.serverPorts.contains(srcPort, tcp: false)
                && !settings.serverPorts.contains(dstPort, tcp: false)
        }
        if flip && !(p.ip.version == 4 && p.ip.dst.v4 == 0xFFFF_FFFF) { c.pointee.flipRoles() }
        // Zeek's DNS analyzer, attached by the responder port when the DNS scripts are loaded
        // (which put 53/udp among the likely server ports), ends idle UDP sessions early.
        if transport == .udp && settings.serverPorts.contains(53, tcp: false)
            && ConnectionTracker.isDNSPort(c.pointee.respPort)
        {
            c.pointee.dnsExpireBase = t + ConnectionTracker.dnsSessionTimeout
        }
        index.insert(slot, in: slots)
        return slot
    }

    @inline(__always)
    private func deliver(_ slot: Int, _ p: ConnPacket, srcPort: UInt16, time t: Int64, nanos: Int64) {
        let isOrig = p.ip.src == slots[slot].origAddress && srcPort == slots[slot].origPort
        switch slots[slot].transport {
        case .tcp:
            guard p.tcpHeaderComplete else { return }
            if p.checksum == .bad {
                slots[slot].tcpChecksumError(isOrig: isOrig)
                return
            }
            let orig = slots[slot].processTCP(senderIsOrig: isOrig, p, time: t, nanos: nanos, settings: settings)
            slots[slot].count(isOrig: orig, ipBytes: p.ipTotalLength)
        case .udp:
            if p.checksum == .bad {
                slots[slot].udpChecksumError(isOrig: isOrig)
                return
            }
            slots[slot].last = t
            let length = Int64(p.udpLength) - 8
            if isOrig {
                _ = slots[slot].checkHistory(0x1, UInt8(ascii: "D"))
                slots[slot].requestLength = max(slots[slot].requestLength, 0) + length
            } else {
                _ = slots[slot].checkHistory(0x2, UInt8(ascii: "d"))
                slots[slot].replyLength = max(slots[slot].replyLength, 0) + length
            }
            slots[slot].count(isOrig: isOrig, ipBytes: p.ipTotalLength)
        case .icmp:
            if p.checksum == .bad { return }
            slots[slot].last = t
            let length = Int64(p.transportLength) - 8
            if isOrig {
                slots[slot].requestLength = max(slots[slot].requestLength, 0) + length
            } else {
                slots[slot].replyLength = max(slots[slot].replyLength, 0) + length
            }
            if p.transportCaptured >= p.transportLength { slots[slot].count(isOrig: isOrig, ipBytes: p.ipTotalLength) }
        case .unknown:
            slots[slot].last = t
            slots[slot].count(isOrig: isOrig, ipBytes: p.ipTotalLength)
        }
    }

    private func remove(_ slot: Int, emit: (ConnectionRecord) -> Void) {
        guard index.find(slots[slot].key, in: slots) == slot else { return }
        // The record first, from the connection in place (a copy is 944 bytes).
        var r = record(of: slots.pointer(slot))
        index.remove(slot, in: slots)
        slots[slot].scheduledAt = .max
        slots[slot].generation &+= 1
        freeSlots.append(Int32(slot))
        if let state = tunnelStates.removeValue(forKey: Int32(slot)) {
            r.tunnelParentUIDs = state.parents
            r.tunnelParents = state.parents.count
        }
        emit(r)
    }

    private func evictOne(emit: (ConnectionRecord) -> Void) {
        while let entry = heap.pop() {
            let slot = Int(entry.slot)
            guard slots[slot].generation == entry.generation, slots[slot].scheduledAt == entry.deadline else {
                continue
            }
            evicted &+= 1
            remove(slot, emit: emit)
            return
        }
        // No deadline left (cannot happen while connections are open): end any one.
        if let slot = index.allSlots().first {
            evicted &+= 1
            remove(slot, emit: emit)
        }
    }

    // MARK: - Timers

    private func deadline(_ slot: Int) -> Int64 {
        // Through the table's pointer: a `Connection` argument would be a copy of 944 bytes.
        if slots[slot].transport == .tcp { return slots[slot].tcpDeadline() }
        let c = slots.pointer(slot)
        var d = c.pointee.last &+ c.pointee.inactivityTimeout
        if c.pointee.dnsExpireBase != .max {
            // DNS_Analyzer::ExpireTimer: ticks every 10 s from the start; it removes the
            // connection at the first tick 9 s or more after its last packet.
            let due = max(c.pointee.last + ConnectionTracker.dnsSessionTimeout - 1_000_000, c.pointee.lastPacket + 1)
            var tick = c.pointee.dnsExpireBase
            if tick < due {
                let steps = (due - tick + ConnectionTracker.dnsSessionTimeout - 1) / ConnectionTracker.dnsSessionTimeout
                tick += steps * ConnectionTracker.dnsSessionTimeout
            }
            d = min(d, tick)
        }
        return d
    }

    /// `dns_session_timeout`, and the UDP ports Zeek's DNS scripts attach the analyzer to.
    static let dnsSessionTimeout: Int64 = 10_000_000
    static func isDNSPort(_ port: UInt16) -> Bool { port == 53 || port == 137 || port == 5353 || port == 5355 }

    private func schedule(_ slot: Int) {
        let d = deadline(slot)
        if d < slots[slot].scheduledAt {
            slots[slot].scheduledAt = d
            heap.push(DeadlineHeap.Entry(deadline: d, slot: Int32(slot), generation: slots[slot].generation))
        }
    }

    /// Removes every connection whose timers fire at or before `now`.
    private func expire(upTo now: Int64, emit: (ConnectionRecord) -> Void) {
        while let top = heap.top, top.deadline <= now {
            _ = heap.pop()
            let slot = Int(top.slot)
            guard slots[slot].generation == top.generation, slots[slot].scheduledAt == top.deadline else { continue }
            let d = deadline(slot)
            if d <= now {
                remove(slot, emit: emit)
            } else {
                slots[slot].scheduledAt = d
                heap.push(DeadlineHeap.Entry(deadline: d, slot: top.slot, generation: top.generation))
            }
        }
    }

    // MARK: - Records

    /// The uid of the connection in `slot` (from a `ConnHandle` of the current packet).
    func uid(of slot: Int32) -> ConnUID { slots[Int(slot)].uid }

    func nextUID() -> ConnUID {
        uidCounter &+= 1
        var z = uidCounter &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        var y = z &+ 0x9E37_79B9_7F4A_7C15
        y = (y ^ (y >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        return ConnUID(hi: z, lo: UInt32(truncatingIfNeeded: y ^ (y >> 29)))
    }

    private func record(of pointer: UnsafeMutablePointer<Connection>) -> ConnectionRecord {
        var r = ConnectionRecord()
        let c = UnsafePointer(pointer)
        r.startMicros = c.pointee.start
        r.durationMicros = c.pointee.last - c.pointee.start
        r.uid = c.pointee.uid
        r.ipVersion = c.pointee.ipVersion
        r.origAddress = c.pointee.origAddress
        r.respAddress = c.pointee.respAddress
        r.origPort = c.pointee.origPort
        r.respPort = c.pointee.respPort
        r.transport = c.pointee.transport
        r.ipProto = c.pointee.ipProto
        r.history = c.pointee.history
        r.missedBytes = c.pointee.missedBytes
        r.origPackets = c.pointee.origPackets
        r.origIPBytes = c.pointee.origIPBytes
        r.respPackets = c.pointee.respPackets
        r.respIPBytes = c.pointee.respIPBytes
        // Of the endpoints as logged (ICMP: type and code as the ports, as Zeek logs and hashes them).
        r.communityIDText = settings.communityID.text(
            source: c.pointee.origAddress, sourcePort: c.pointee.origPort, destination: c.pointee.respAddress,
            destinationPort: c.pointee.respPort,
            protocolNumber: c.pointee.ipProto, ipVersion: c.pointee.ipVersion)
        if !settings.localNets.isEmpty {
            r.localOrig = settings.isLocal(c.pointee.origAddress, version: c.pointee.ipVersion)
            r.localResp = settings.isLocal(c.pointee.respAddress, version: c.pointee.ipVersion)
        }
        switch c.pointee.transport {
        case .tcp:
            // The endpoints read in place (a copy of each is a quarter of the connection).
            let origFirst = c.pointee.origIndex == 0
            let os = origFirst ? c.pointee.e0.state : c.pointee.e1.state
            let rs = origFirst ? c.pointee.e1.state : c.pointee.e0.state
            r.origBytes = origFirst ? c.pointee.e0.size(peerState: rs) : c.pointee.e1.size(peerState: rs)
            r.respBytes = origFirst ? c.pointee.e1.size(peerState: os) : c.pointee.e0.size(peerState: os)
            r.state = ConnectionTracker.tcpState(
                os: os, rs: rs, noPayload: r.origBytes == 0 && r.respBytes == 0,
                ConnectionTracker.isRSTOS0History(c.pointee.history))
            if c.pointee.rttNanos >= 0 { r.initialRTTNanos = c.pointee.rttNanos }
        case .udp:
            r.origBytes = UInt64(max(c.pointee.requestLength, 0))
            r.respBytes = UInt64(max(c.pointee.replyLength, 0))
            let o = c.pointee.requestLength >= 0
            let s = c.pointee.replyLength >= 0
            r.state = o ? (s ? .sf : .s0) : (s ? .shr : .oth)
        case .icmp:
            r.origBytes = UInt64(max(c.pointee.requestLength, 0))
            r.respBytes = UInt64(max(c.pointee.replyLength, 0))
            r.state = .oth
        case .unknown:
            r.state = .oth
        }
        return r
    }

    /// `conn_state()` of Zeek's `base/protocols/conn/main.zeek` for TCP, from the endpoint
    /// states, whether neither side sent payload, and whether the
    /// history matches `/\^?S[^HAFGIQ]*R.*/` (asked only when it matters).
    static func tcpState(
        os: TCPState, rs: TCPState, noPayload: Bool, _ rstos0: @autoclosure () -> Bool
    ) -> ConnState {
        let oInactive = os == .inactive || os == .partial
        let rInactive = rs == .inactive || rs == .partial
        if rs == .reset {
            if os == .synSent || os == .synAckSent || (os == .reset && noPayload) {
                return .rej
            }
            return oInactive ? .rstrh : .rstr
        }
        if os == .reset {
            if rInactive { return rstos0() ? .rstos0 : .oth }
            return .rsto
        }
        if rs == .closed && os == .closed { return .sf }
        if os == .closed { return rInactive ? .sh : .s2 }
        if rs == .closed { return oInactive ? .shr : .s3 }
        if os == .synSent && rs == .inactive { return .s0 }
        if os == .established && rs == .established { return .s1 }
        return .oth
    }

    /// `/\^?S[^HAFGIQ]*R.*/` matched against the whole history.
    static func isRSTOS0History(_ h: ConnHistory) -> Bool {
        var i = 0
        let n = Int(h.count)
        if i < n && h[i] == UInt8(ascii: "^") { i += 1 }
        guard i < n, h[i] == UInt8(ascii: "S") else { return false }
        i += 1
        while i < n {
            let c = h[i]
            if c == UInt8(ascii: "R") { return true }
            if "HAFGIQ".utf8.contains(c) { return false }
            i += 1
        }
        return false
    }

    /// Zeek's ICMP "responder port": the counterpart type of request/reply messages, else the code
    /// (and the message is one-way: its key keeps its direction).
    static func icmpCounterpart(type: UInt8, code: UInt8, v6: Bool, oneWay: inout Bool) -> UInt16 {
        oneWay = false
        if v6 {
            switch type {
            case 128: return 129
            case 129: return 128
            case 133: return 134
            case 134: return 133
            case 135: return 136
            case 136: return 135
            case 130: return 131
            case 131: return 130
            case 139: return 140
            case 140: return 139
            case 144: return 145
            case 145: return 144
            default:
                oneWay = true
                return UInt16(code)
            }
        }
        switch type {
        case 8: return 0
        case 0: return 8
        case 13: return 14
        case 14: return 13
        case 15: return 16
        case 16: return 15
        case 10: return 9
        case 9: return 10
        case 17: return 18
        case 18: return 17
        default:
            oneWay = true
            return UInt16(code)
        }
    }
}

extension Connection {
    mutating func count(isOrig: Bool, ipBytes: UInt32) {
        if isOrig {
            origPackets &+= 1
            origIPBytes &+= UInt64(ipBytes)
        } else {
            respPackets &+= 1
            respIPBytes &+= UInt64(ipBytes)
        }
    }

    mutating func tcpChecksumError(isOrig: Bool) {
        let i = isOrig ? origIndex : respIndex
        var count = self[rare: i].checksumCount
        var threshold = self[rare: i].checksumThreshold
        scaledHistory(self[i].isOrig ? UInt8(ascii: "C") : UInt8(ascii: "c"), &count, &threshold)
        self[rare: i].checksumCount = count
        self[rare: i].checksumThreshold = threshold
    }

    mutating func udpChecksumError(isOrig: Bool) {
        if isOrig {
            var count = requestChecksumCount
            var threshold = requestChecksumThreshold
            scaledHistory(UInt8(ascii: "C"), &count, &threshold)
            requestChecksumCount = count
            requestChecksumThreshold = threshold
        } else {
            var count = replyChecksumCount
            var threshold = replyChecksumThreshold
            scaledHistory(UInt8(ascii: "c"), &count, &threshold)
            replyChecksumCount = count
            replyChecksumThreshold = threshold
        }
    }
}

/// A binary min-heap of connection deadlines; stale entries are skipped when popped. The entries
/// live in storage of its own (no uniqueness or bounds checks per step; a million entries make
/// each pop a chain of cache misses already) and move by holes rather than swaps: the same
/// comparisons as the textbook swaps, so the same order of equal deadlines. Entry `k` is stored
/// one entry after the start of 64-byte aligned storage, so two siblings (`2i+1`, `2i+2`) always
/// share a cache line: a step down reads one line, not two.
struct DeadlineHeap {
    struct Entry {
        var deadline: Int64
        var slot: Int32
        var generation: UInt32
    }

    private var storage: UnsafeMutableRawPointer
    private var items: UnsafeMutablePointer<Entry>
    private var capacity: Int
    private(set) var count = 0

    init() {
        capacity = 1024
        (storage, items) = DeadlineHeap.allocate(capacity)
    }

    private static func allocate(_ capacity: Int) -> (UnsafeMutableRawPointer, UnsafeMutablePointer<Entry>) {
        let stride = MemoryLayout<Entry>.stride
        let storage = UnsafeMutableRawPointer.allocate(byteCount: (capacity + 1) * stride, alignment: 64)
        let items = (storage + stride).bindMemory(to: Entry.self, capacity: capacity)
        return (storage, items)
    }

    /// Frees the storage (the owner calls it once, at its end).
    func release() { storage.deallocate() }

    var top: Entry? { count > 0 ? items[0] : nil }

    mutating func removeAll() { count = 0 }

    mutating func push(_ e: Entry) {
        if count == capacity {
            let (biggerStorage, bigger) = DeadlineHeap.allocate(capacity * 2)
            bigger.moveInitialize(from: items, count: count)
            storage.deallocate()
            (storage, items) = (biggerStorage, bigger)
            capacity *= 2
        }
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].deadline <= e.deadline { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = e
    }

    mutating func pop() -> Entry? {
        guard count > 0 else { return nil }
        let first = items[0]
        count -= 1
        if count > 0 {
            let last = items[count]
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                var smallest = last.deadline
                if l < count && items[l].deadline < smallest {
                    m = l
                    smallest = items[l].deadline
                }
                if r < count && items[r].deadline < smallest { m = r }
                if m == i { break }
                items[i] = items[m]
                i = m
            }
            items[i] = last
        }
        return first
    }
}
