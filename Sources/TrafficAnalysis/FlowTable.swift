public import PacketRecords
public import PacketWire

/// A flow's identity: the protocol label plus the unordered pair of endpoints. The endpoints are
/// kept in a canonical order (`a` is the smaller), so both directions of a conversation give the
/// same key. Packets without addresses have zero addresses, without ports zero ports and
/// `hasPorts` false, exactly as `sniff` prints them empty: all ARP packets form one flow.
public struct FlowKey: Hashable, Sendable {
    public var a: IPAddress
    public var b: IPAddress
    public var aPort: UInt16
    public var bPort: UInt16
    public var label: ProtocolLabel
    /// 0 (no addresses), 4 or 6.
    public var ipVersion: UInt8
    public var hasPorts: Bool

    public init(
        a: IPAddress, b: IPAddress, aPort: UInt16, bPort: UInt16, label: ProtocolLabel, ipVersion: UInt8,
        hasPorts: Bool
    ) {
        self.a = a
        self.b = b
        self.aPort = aPort
        self.bPort = bPort
        self.label = label
        self.ipVersion = ipVersion
        self.hasPorts = hasPorts
    }

    /// The key of a packet, and whether its sender is endpoint `b`.
    @inlinable @inline(__always)
    public static func of(_ d: Decoded) -> (key: FlowKey, senderIsB: Bool) {
        let hasIP = d.ipVersion != 0
        let s = hasIP ? d.src : .zero
        let t = hasIP ? d.dst : .zero
        let sp = d.hasPorts ? d.srcPort : 0
        let tp = d.hasPorts ? d.dstPort : 0
        let swap = s.hi != t.hi ? s.hi > t.hi : s.lo != t.lo ? s.lo > t.lo : sp > tp
        let key =
            swap
            ? FlowKey(a: t, b: s, aPort: tp, bPort: sp, label: d.label, ipVersion: d.ipVersion, hasPorts: d.hasPorts)
            : FlowKey(a: s, b: t, aPort: sp, bPort: tp, label: d.label, ipVersion: d.ipVersion, hasPorts: d.hasPorts)
        return (key, swap)
    }

    /// A 64-bit hash (multiply and xor-shift); its top 32 bits tag the index slot.
    @inline(__always)
    var hash64: UInt64 {
        var h = (a.hi ^ (a.lo &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        h ^= (b.hi &* 0xC2B2_AE3D_27D4_EB4F) ^ b.lo
        h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
        h ^= UInt64(aPort) << 40 | UInt64(bPort) << 24 | UInt64(label.rawValue) << 8 | UInt64(ipVersion)
        h ^= hasPorts ? 0x5555 : 0
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }
}

/// Why a flow left the table (IPFIX's `flowEndReason` is made from it).
public enum FlowEnd: UInt8, Sendable {
    /// Still in the table, or ended by the end of the input.
    case open
    /// Idle longer than the timeout.
    case idle
    /// A slice of a long flow cut by the active timeout.
    case active
    /// Evicted from a full table.
    case evicted
}

/// One conversation: its key, which endpoint sent its first packet (the flow's `src`), its
/// smallest and largest timestamps, what each side sent (frame bytes, and IP-layer bytes for
/// IPFIX), for TCP the flags each side sent and the handshake's round trip, and the ids of its
/// names in the flow table's `NameTable` (0: none), for ICMP each side's first type and code. The
/// value a table hands out (128 bytes); the table keeps it in two parts (`FlowCore`, and
/// `FlowDetail` when asked for).
public struct Flow: Sendable, Equatable {
    public var key: FlowKey
    /// The flow's `src` (the sender of its first packet) is endpoint `b` of the key.
    public var srcIsB: Bool
    /// Why it left the table (`open` while it is there). Kept in padding.
    public var end: FlowEnd = .open
    /// TCP: every flag the src sent (the OR of its packets' flag bytes); 0 for other protocols.
    public var srcTCPFlags: UInt8
    /// TCP: every flag the dst sent.
    public var dstTCPFlags: UInt8
    /// The handshake as the flags tell it (`Handshake` bits).
    var handshake: UInt8
    /// Microseconds: while the handshake is pending, the time of the src's last SYN after
    /// `first`; once it completed, the round trip (`initialRTTNanos`).
    var handshakeMicros: UInt32
    public var first: Int64
    public var last: Int64
    public var srcPackets: UInt64
    public var srcBytes: UInt64
    public var dstPackets: UInt64
    public var dstBytes: UInt64
    /// IP-layer bytes (`PacketRecord.ipBytes`) each side sent.
    public var srcIPBytes: UInt64
    public var dstIPBytes: UInt64
    /// Name ids (`NameTable`): what DNS had answered for each end's address when the flow began,
    /// and the server name of its first ClientHello (`NameTable.helloWithoutName` when it had none).
    public var srcName: UInt32 = 0
    public var dstName: UInt32 = 0
    public var serverName: UInt32 = 0
    /// ICMP and ICMPv6: `type * 256 + code` of the first packet each side sent (0 for other
    /// protocols). The flow is keyed by the address pair, so it may carry other types too.
    public var srcICMPTypeCode: UInt16 = 0
    public var dstICMPTypeCode: UInt16 = 0

    public var packets: UInt64 { srcPackets &+ dstPackets }
    public var bytes: UInt64 { srcBytes &+ dstBytes }

    /// The flow's src endpoint (address, port) and dst endpoint, in the flow's orientation.
    public var src: (address: IPAddress, port: UInt16) { srcIsB ? (key.b, key.bPort) : (key.a, key.aPort) }
    public var dst: (address: IPAddress, port: UInt16) { srcIsB ? (key.a, key.aPort) : (key.b, key.bPort) }

    init(key: FlowKey, senderIsB: Bool, at ts: Int64) {
        self.key = key
        srcIsB = senderIsB
        srcTCPFlags = 0
        dstTCPFlags = 0
        handshake = 0
        handshakeMicros = 0
        first = ts
        last = ts
        srcPackets = 0
        srcBytes = 0
        dstPackets = 0
        dstBytes = 0
        srcIPBytes = 0
        dstIPBytes = 0
    }
}

/// Limits that keep the table bounded for live use.
public struct FlowLimits: Sendable, Equatable {
    /// Flows whose newest packet is older than this (relative to the newest time seen) leave the
    /// table; nil: never (exact, for files).
    public var idleTimeoutNs: Int64?
    /// At most this many flows; a new flow beyond it evicts one of the least recently seen.
    public var maxFlows: Int

    public init(idleTimeoutNs: Int64? = nil, maxFlows: Int = 1_000_000) {
        self.idleTimeoutNs = idleTimeoutNs
        self.maxFlows = max(1, maxFlows)
    }
}

/// Counters of what left the table before the end.
public struct FlowTableCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Flows dropped for being idle longer than the timeout.
    public var expired: UInt64 = 0
    /// Flows evicted because the table was full (`maxFlows`).
    public var evicted: UInt64 = 0
    /// Flows cut by the active timeout (`expireActive`).
    public var sliced: UInt64 = 0
    public init() {}
}

/// The flow table: flows in a dense array (chunks of 4,096, so growing never copies them) indexed
/// by an open-addressing hash index (linear probing, 8-byte slots holding a 32-bit hash tag and
/// the flow's position, at most 70% full). Per packet: one hash, a probe or two, one update in
/// place; no allocation except a new chunk every 4,096 flows. Flows leave the table (idle
/// timeout, eviction) by swapping the last flow into their place; the index slot is removed by
/// backward shifting, so there are no tombstones.
///
/// Without removals the dense order is the order of each flow's first packet.
///
/// Each flow's `FlowCore` (104 bytes) is in the dense array; its `FlowDetail` (IP-layer bytes,
/// the handshake's time, ICMP types: 24 bytes) in a parallel one, only when `keepsDetails`.
public final class FlowTable: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public let limits: FlowLimits
    public private(set) var counters = FlowTableCounters()
    /// Whether flows leaving the table are kept in `retired` (for `flows --flow-timeout`).
    public let keepsRetired: Bool
    /// Whether flows keep their IP-layer bytes, handshake round trip and ICMP types (IPFIX and
    /// the live views read them; `flows` rows do not).
    public let keepsDetails: Bool
    /// Flows that left the table, in the order they left, when `keepsRetired`; the caller empties it.
    public var retired: [Flow] = []
    public private(set) var count = 0
    /// Called with each flow as it enters the table (its first packet counted), on the thread
    /// that adds packets: live attribution looks its sockets up. Never per packet.
    public var onNewFlow: ((Flow) -> Void)?
    /// Called with each flow as it leaves the table (idle, sliced, evicted), before it is
    /// overwritten: `serve --history` counts what the flow carried since its last minute.
    public var onRemove: ((Flow) -> Void)?
    /// The newest packet time seen (ns), the clock of the idle timeout.
    public private(set) var newestNs: Int64 = .min
    /// Where new flows take their `srcName` and `dstName` from, and the names their ids refer
    /// to; nil: flows get no names.
    public var names: NameTable?

    static let chunkShift = 12
    static let chunkSize = 1 << chunkShift
    private var chunks: [UnsafeMutablePointer<FlowCore>] = []
    private var detailChunks: [UnsafeMutablePointer<FlowDetail>] = []
    private var slots: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private var nextSweepNs: Int64 = .min
    private var random: UInt64 = 0x2545_F491_4F6C_DD1D

    public init(limits: FlowLimits = FlowLimits(), keepsRetired: Bool = false, keepsDetails: Bool = true) {
        self.limits = limits
        self.keepsRetired = keepsRetired
        self.keepsDetails = keepsDetails
        mask = 1023
        slots = .allocate(capacity: 1024)
        slots.initialize(repeating: 0, count: 1024)
    }

    deinit {
        for c in chunks { c.deallocate() }
        for c in detailChunks { c.deallocate() }
        slots.deallocate()
    }

    /// The flow at a dense position (0..<count).
    public subscript(i: Int) -> Flow { Flow(pointer(i).pointee, keepsDetails ? detail(i).pointee : FlowDetail()) }

    @inline(__always)
    private func pointer(_ i: Int) -> UnsafeMutablePointer<FlowCore> {
        chunks[i >> Self.chunkShift] + (i & (Self.chunkSize - 1))
    }

    @inline(__always)
    private func detail(_ i: Int) -> UnsafeMutablePointer<FlowDetail> {
        detailChunks[i >> Self.chunkShift] + (i & (Self.chunkSize - 1))
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        for r in batch { add(r) }
    }

    /// Adds a batch with the names its payloads held (`NameSniffer.events`): before each packet the names its DNS answers
    /// taught are learned (so they name the flows that begin with it or later, never earlier
    /// ones), after it the server name of a ClientHello it completed goes to its flow (if that
    /// flow has none yet). Without `names`, the events are ignored.
    public func add(_ batch: UnsafeBufferPointer<PacketRecord>, events: NameEvents) {
        add(batch, events: events, range: 0..<batch.count)
    }

    /// Adds the packets of `range` of a batch with the name events of those packets (a batch
    /// added in parts: `serve --history` cuts a batch where a minute ends).
    public func add(_ batch: UnsafeBufferPointer<PacketRecord>, events: NameEvents, range: Range<Int>) {
        let n = events.count
        guard let names, n > 0 else { return add(UnsafeBufferPointer(rebasing: batch[range])) }
        var e = 0
        while e < n && Int(events.event(e).index) < range.lowerBound { e += 1 }
        var done = range.lowerBound
        while e < n {
            // The packets before the next one with names go through the plain loop.
            let i = Swift.min(Int(events.event(e).index), range.upperBound)
            if i > done { add(UnsafeBufferPointer(rebasing: batch[done..<i])) }
            guard i < range.upperBound else {
                done = i
                break
            }
            let r = batch[i]
            let first = e
            e = names.apply(events, from: e, through: i, at: r.timestampNs)
            add(r)
            done = i + 1
            for j in first..<e {
                let event = events.event(j)
                guard event.kind == .serverName, let at = position(of: FlowKey.of(r.decoded).key) else { continue }
                let f = pointer(at)
                guard f.pointee.serverName == 0 else { continue }
                let id = names.intern(events.name(of: event))
                f.pointee.serverName = id == 0 ? NameTable.helloWithoutName : id
            }
        }
        if done < range.upperBound { add(UnsafeBufferPointer(rebasing: batch[done..<range.upperBound])) }
    }

    @inline(__always)
    public func add(_ r: PacketRecord) {
        let (key, senderIsB) = FlowKey.of(r.decoded)
        let ts = r.timestampNs
        let i = findOrInsert(key, senderIsB: senderIsB, at: ts)
        let f = pointer(i)
        let bytes = UInt64(r.length)
        let fromSrc = senderIsB == f.pointee.srcIsB
        if fromSrc {
            f.pointee.srcPackets &+= 1
            f.pointee.srcBytes &+= bytes
        } else {
            f.pointee.dstPackets &+= 1
            f.pointee.dstBytes &+= bytes
        }
        let flags = r.decoded.tcpFlags
        if flags != 0 {
            if fromSrc { f.pointee.srcTCPFlags |= flags } else { f.pointee.dstTCPFlags |= flags }
        }
        if keepsDetails {
            let d = detail(i)
            let ipBytes = UInt64(r.ipBytes)
            if fromSrc {
                d.pointee.srcIPBytes &+= ipBytes
                if f.pointee.srcPackets == 1 { d.pointee.srcICMPTypeCode = r.decoded.icmpTypeCode }
            } else {
                d.pointee.dstIPBytes &+= ipBytes
                if f.pointee.dstPackets == 1 { d.pointee.dstICMPTypeCode = r.decoded.icmpTypeCode }
            }
            if flags != 0 { FlowHandshake.saw(flags, fromSrc: fromSrc, at: ts, f, d) }
        }
        if ts < f.pointee.first {
            if keepsDetails { FlowHandshake.moveFirst(to: ts, f, detail(i)) }
            f.pointee.first = ts
        }
        if ts > f.pointee.last { f.pointee.last = ts }
        counters.packets &+= 1
        counters.bytes &+= bytes
        if ts > newestNs {
            newestNs = ts
            if let timeout = limits.idleTimeoutNs, ts >= nextSweepNs {
                if nextSweepNs != .min { expire(olderThan: ts &- timeout) }
                nextSweepNs = ts &+ Swift.max(1, timeout / 4)
            }
        }
    }

    /// The dense position of the flow with this key, nil when it is not in the table.
    public func position(of key: FlowKey) -> Int? {
        let tag = key.hash64 >> 32
        var s = Int(truncatingIfNeeded: tag) & mask
        while true {
            let v = slots[s]
            if v == 0 { return nil }
            if v >> 32 == tag {
                let i = Int(truncatingIfNeeded: v & 0xFFFF_FFFF) &- 1
                if pointer(i).pointee.key == key { return i }
            }
            s = (s &+ 1) & mask
        }
    }

    /// Removes the flows whose newest packet is older than `cutoffNs` (counted as expired).
    public func expire(olderThan cutoffNs: Int64) {
        var i = count - 1
        while i >= 0 {
            if pointer(i).pointee.last < cutoffNs {
                remove(at: i, end: .idle)
                counters.expired &+= 1
            }
            i -= 1
        }
    }

    /// Removes the flows whose first packet is older than `cutoffNs` (the active timeout: a long
    /// flow leaves in slices; its next packet starts a new flow). Counted as `sliced`.
    public func expireActive(startedBefore cutoffNs: Int64) {
        var i = count - 1
        while i >= 0 {
            if pointer(i).pointee.first < cutoffNs {
                remove(at: i, end: .active)
                counters.sliced &+= 1
            }
            i -= 1
        }
    }

    @inline(__always)
    private func findOrInsert(_ key: FlowKey, senderIsB: Bool, at ts: Int64) -> Int {
        let tag = key.hash64 >> 32
        var s = Int(truncatingIfNeeded: tag) & mask
        while true {
            let v = slots[s]
            if v == 0 { break }
            if v >> 32 == tag {
                let i = Int(truncatingIfNeeded: v & 0xFFFF_FFFF) &- 1
                if pointer(i).pointee.key == key { return i }
            }
            s = (s &+ 1) & mask
        }
        return insert(key, senderIsB: senderIsB, at: ts, tag: tag)
    }

    private func insert(_ key: FlowKey, senderIsB: Bool, at ts: Int64, tag: UInt64) -> Int {
        if count >= limits.maxFlows { evictOne() }
        if (count + 1) * 10 > (mask + 1) * 7 { grow() }
        let i = count
        if i >> Self.chunkShift == chunks.count {
            chunks.append(.allocate(capacity: Self.chunkSize))
            if keepsDetails { detailChunks.append(.allocate(capacity: Self.chunkSize)) }
        }
        pointer(i).initialize(to: FlowCore(key: key, senderIsB: senderIsB, at: ts))
        if keepsDetails { detail(i).initialize(to: FlowDetail()) }
        if let names, key.ipVersion != 0 { name(pointer(i), names) }
        count += 1
        place(tag: tag, index: i)
        if let onNewFlow { onNewFlow(self[i]) }
        return i
    }

    private func name(_ f: UnsafeMutablePointer<FlowCore>, _ names: NameTable) {
        let v = f.pointee.key.ipVersion
        f.pointee.srcName = names.lookup(f.pointee.srcAddress, version: v).id
        f.pointee.dstName = names.lookup(f.pointee.dstAddress, version: v).id
    }

    private func place(tag: UInt64, index: Int) {
        var s = Int(truncatingIfNeeded: tag) & mask
        while slots[s] != 0 { s = (s &+ 1) & mask }
        slots[s] = tag << 32 | UInt64(index + 1)
    }

    private func grow() {
        let capacity = (mask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        mask = capacity - 1
        for i in 0..<count { place(tag: pointer(i).pointee.key.hash64 >> 32, index: i) }
    }

    /// The slot that points at dense position `i`.
    private func slot(of i: Int) -> Int {
        let tag = pointer(i).pointee.key.hash64 >> 32
        var s = Int(truncatingIfNeeded: tag) & mask
        let wanted = tag << 32 | UInt64(i + 1)
        while slots[s] != wanted { s = (s &+ 1) & mask }
        return s
    }

    /// Removes the flow at `i` (retiring it): backward-shift its slot out, move the last flow in.
    private func remove(at i: Int, end: FlowEnd) {
        if onRemove != nil || keepsRetired {
            var flow = self[i]
            flow.end = end
            onRemove?(flow)
            if keepsRetired { retired.append(flow) }
        }
        var hole = slot(of: i)
        var j = hole
        while true {
            j = (j &+ 1) & mask
            let v = slots[j]
            if v == 0 { break }
            let home = Int(truncatingIfNeeded: v >> 32) & mask
            if (j &- home) & mask >= (j &- hole) & mask {
                slots[hole] = v
                hole = j
            }
        }
        slots[hole] = 0
        let last = count - 1
        if i != last {
            let s = slot(of: last)
            pointer(i).pointee = pointer(last).pointee
            if keepsDetails { detail(i).pointee = detail(last).pointee }
            slots[s] = (slots[s] >> 32) << 32 | UInt64(i + 1)
        }
        count -= 1
    }

    /// Evicts one of the least recently seen flows: the oldest `last` of 8 sampled at random
    /// (approximate LRU, as Redis does: constant time, no list to maintain per packet).
    private func evictOne() {
        guard count > 0 else { return }
        var victim = -1
        var oldest = Int64.max
        for _ in 0..<8 {
            random ^= random << 13
            random ^= random >> 7
            random ^= random << 17
            let i = Int(truncatingIfNeeded: random % UInt64(count))
            if pointer(i).pointee.last < oldest {
                oldest = pointer(i).pointee.last
                victim = i
            }
        }
        remove(at: victim, end: .evicted)
        counters.evicted &+= 1
    }
}
