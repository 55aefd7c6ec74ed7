public import PacketWire

/// A name learned from one packet of a batch: an address a DNS response answered (with the name
/// asked for), or the server name of a TLS ClientHello (for the packet's own flow).
public struct NameEvent: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// A DNS response's A or AAAA answer: `address` is known as the name.
        case address
        /// A ClientHello completed in this packet: the name is its SNI (empty when it has none).
        case serverName
    }
    /// The position in the batch of the packet that carried it.
    public var index: Int32
    public var kind: Kind
    public var ipVersion: UInt8
    public var address: IPAddress
    /// Where the name lies in the sniffer's byte arena, and its length.
    public var nameStart: Int32
    public var nameLength: Int32
}

/// What the sniffer saw and what it gave up.
public struct NameSnifferCounters: Sendable, Equatable {
    /// DNS responses with at least one A or AAAA answer.
    public var dnsResponses: UInt64 = 0
    /// Addresses learned from them.
    public var dnsAnswers: UInt64 = 0
    /// ClientHellos read to their server name (or to their end).
    public var clientHellos: UInt64 = 0
    /// ClientHellos split over segments whose rest never came in order, in time, or that were
    /// pushed out by newer ones.
    public var abandonedHellos: UInt64 = 0
    /// Names not kept because a batch held more than the event space.
    public var droppedEvents: UInt64 = 0
    public init() {}
}

/// The name events of one batch of records, in packet order, with their name bytes: what a
/// `NameSniffer` found while the batch was decoded (or what a live consumer took from the
/// capture thread for the records it drains), for `FlowTable.add(_:events:)`.
///
/// Bounded: at most `maxEvents` events and `arenaBytes` of names; once half of either is used,
/// `needsFlush` asks for the batch to be handed over early (one packet, at most 4,096 answers,
/// never fills the other half); what still does not fit is counted in `dropped`.
public final class NameEvents {
    public static let maxEvents = 16_384
    public static let arenaBytes = 2 << 20

    public private(set) var count = 0
    public private(set) var dropped: UInt64 = 0
    private let events: UnsafeMutablePointer<NameEvent>
    let arena: UnsafeMutableRawPointer
    private(set) var arenaUsed = 0

    public init() {
        events = .allocate(capacity: Self.maxEvents)
        arena = .allocate(byteCount: Self.arenaBytes, alignment: 8)
    }

    deinit {
        events.deallocate()
        arena.deallocate()
    }

    /// Whether the batch should be handed over now (half the space is used).
    @inline(__always)
    public var needsFlush: Bool { count >= Self.maxEvents / 2 || arenaUsed >= Self.arenaBytes / 2 }

    /// The event at position `i` (0..<count).
    public func event(_ i: Int) -> NameEvent { events[i] }

    /// The name bytes of an event (valid until `clear`).
    public func name(of e: NameEvent) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: arena + Int(e.nameStart), count: Int(e.nameLength))
    }

    /// Forgets every event.
    public func clear() {
        count = 0
        arenaUsed = 0
    }

    /// Forgets the events from position `n` on (those of records that were not handed over).
    public func truncate(to n: Int) {
        guard n < count else { return }
        count = max(0, n)
        arenaUsed = count == 0 ? 0 : Int(events[count - 1].nameStart + events[count - 1].nameLength)
    }

    /// Appends an event whose name `fill` writes (at most `DNSMessage.maxNameLength` bytes) and
    /// returns the length of; returns where the name went.
    @discardableResult
    public func append(
        kind: NameEvent.Kind, version: UInt8, address: IPAddress, index: Int,
        _ fill: (UnsafeMutableRawPointer) -> Int
    ) -> (start: Int, length: Int)? {
        guard count < Self.maxEvents, arenaUsed + DNSMessage.maxNameLength <= Self.arenaBytes else {
            dropped &+= 1
            return nil
        }
        let start = arenaUsed
        let length = min(fill(arena + start), DNSMessage.maxNameLength)
        arenaUsed += length
        appendEvent(kind: kind, version: version, address: address, index: index, name: (start, length))
        return (start, length)
    }

    /// Appends an event whose name is already in the arena (another event's).
    public func appendEvent(
        kind: NameEvent.Kind, version: UInt8, address: IPAddress, index: Int, name: (start: Int, length: Int)
    ) {
        guard count < Self.maxEvents else {
            dropped &+= 1
            return
        }
        events[count] = NameEvent(
            index: Int32(truncatingIfNeeded: index), kind: kind, ipVersion: version, address: address,
            nameStart: Int32(name.start), nameLength: Int32(name.length))
        count += 1
    }
}

/// Reads names from packet payloads as the packets are decoded (by the file reader's batch sink,
/// or the capture thread): DNS responses (UDP and TCP, ports 53 and 5353) and TLS ClientHellos
/// (any TCP port), reassembling a ClientHello split over segments. It keeps the events of the
/// current batch in `events`, in packet order, for the flow table to apply packet by packet (so a
/// response that comes after a flow's first packet is not used for it); the caller clears them
/// after each batch.
///
/// Bounded: `events` is (see `NameEvents`); at most `maxPending` ClientHellos wait for their next
/// segment, each at most one TLS record (16 KiB) and at most `pendingTimeoutNs` (capture time) old. Per packet that is
/// neither DNS nor TCP with payload: two comparisons. No allocation after the first pending
/// ClientHello of each slot.
public final class NameSniffer {
    public static let maxPending = 64
    public static let pendingTimeoutNs: Int64 = 10_000_000_000

    public var counters: NameSnifferCounters {
        var c = sniffed
        c.droppedEvents = events.dropped
        return c
    }
    private var sniffed = NameSnifferCounters()
    /// The names found in the current batch.
    public let events = NameEvents()
    private let scratch: UnsafeMutableRawBufferPointer

    private struct Pending {
        var src: IPAddress
        var dst: IPAddress
        var srcPort: UInt16
        var dstPort: UInt16
        var nextSequence: UInt32
        var have: Int
        var need: Int
        var startedNs: Int64
        var buffer: UnsafeMutableRawPointer?
        var active: Bool
    }
    private var pending: [Pending]
    /// How many ClientHellos wait, behind a pointer: the per-packet test reads it without the
    /// exclusivity check a stored `var` of a class costs.
    @usableFromInline let waiting: UnsafeMutablePointer<Int>
    private var pendingCount: Int {
        get { waiting.pointee }
        set { waiting.pointee = newValue }
    }

    public init() {
        scratch = .allocate(byteCount: DNSMessage.maxNameLength + 1, alignment: 8)
        waiting = .allocate(capacity: 1)
        waiting.initialize(to: 0)
        pending = Array(
            repeating: Pending(
                src: .zero, dst: .zero, srcPort: 0, dstPort: 0, nextSequence: 0, have: 0, need: 0, startedNs: 0,
                buffer: nil, active: false),
            count: Self.maxPending)
    }

    deinit {
        scratch.deallocate()
        waiting.deallocate()
        for p in pending { p.buffer?.deallocate() }
    }

    /// How many ClientHellos wait for their next segment now.
    public var pendingHellos: Int { pendingCount }

    /// Looks at one decoded packet (`index`: its position in the batch being built). Returns
    /// whether the batch should be handed over now (`NameEvents.needsFlush`). Inlined: what is not
    /// DNS, and TCP whose first payload byte is not a TLS handshake record's while no ClientHello
    /// waits, costs a few comparisons and one read.
    @inlinable @inline(__always)
    public func take(_ b: Bytes, _ d: Decoded, timestampNs: Int64, index: Int) -> Bool {
        let t = Int(d.transportOffset)
        guard t != 0 else { return false }
        let dns = Self.isDNSPort(d.srcPort) || Self.isDNSPort(d.dstPort)
        if d.label == .tcp {
            if !dns && waiting.pointee == 0 {
                guard let offset = b.u8(t &+ 12), b.u8(t &+ Int(offset >> 4) &* 4) == 22 else { return false }
            }
        } else if d.label != .udp || !dns {
            return false
        }
        return inspect(b, d, timestampNs: timestampNs, index: index)
    }

    @inlinable @inline(__always)
    static func isDNSPort(_ p: UInt16) -> Bool { p == 53 || p == 5353 }

    /// The packet past the quick tests; whether the batch should be handed over now.
    @usableFromInline
    func inspect(_ b: Bytes, _ d: Decoded, timestampNs: Int64, index: Int) -> Bool {
        look(b, d, timestampNs: timestampNs, index: index)
        return events.needsFlush
    }

    private func look(_ b: Bytes, _ d: Decoded, timestampNs: Int64, index: Int) {
        guard let payload = TransportPayload.locate(b, d), payload.count > 0 else { return }
        if d.label == .udp {
            dns(b, from: payload.start, to: payload.end, index: index)
            return
        }
        if pendingCount > 0 && continueHello(b, d, payload, timestampNs: timestampNs, index: index) { return }
        if Self.isDNSPort(d.srcPort) || Self.isDNSPort(d.dstPort) {
            // DNS over TCP: messages behind a 2-byte length, whole in this segment.
            var o = payload.start
            for _ in 0..<16 {
                guard let length = b.u16be(o), length > 0, o + 2 + Int(length) <= payload.end else { break }
                dns(b, from: o + 2, to: o + 2 + Int(length), index: index)
                o += 2 + Int(length)
            }
            return
        }
        guard TLSClientHello.mayStart(b, at: payload.start) else { return }
        switch TLSClientHello.parse(b, from: payload.start, to: payload.end) {
        case .notHello: return
        case .serverName(let start, let count):
            sniffed.clientHellos &+= 1
            emitServerName(b, start: start, count: count, index: index)
        case .needMore(let total):
            startHello(b, d, payload, total: total, timestampNs: timestampNs)
        }
    }

    private func dns(_ b: Bytes, from start: Int, to end: Int, index: Int) {
        // The answers of one question share its name: it is stored once.
        var last = (start: -1, length: 0)
        let found = DNSMessage.answers(b, from: start, to: end, name: scratch) { length, address, version in
            let name = UnsafeRawBufferPointer(start: scratch.baseAddress, count: length)
            if last.start >= 0, last.length == length,
                UnsafeRawBufferPointer(start: events.arena + last.start, count: length).elementsEqual(name)
            {
                events.appendEvent(kind: .address, version: version, address: address, index: index, name: last)
                return
            }
            let stored = events.append(kind: .address, version: version, address: address, index: index) { to in
                to.copyMemory(from: scratch.baseAddress!, byteCount: length)
                return length
            }
            if let stored { last = stored }
        }
        if found > 0 {
            sniffed.dnsResponses &+= 1
            sniffed.dnsAnswers &+= UInt64(found)
        }
    }

    private func emitServerName(_ b: Bytes, start: Int, count: Int, index: Int) {
        events.append(kind: .serverName, version: 0, address: .zero, index: index) { to in
            NameText.write(
                b, at: start, count: min(count, DNSMessage.maxNameLength), to: to, capacity: DNSMessage.maxNameLength)
        }
    }

    // MARK: ClientHellos over several segments

    private func startHello(_ b: Bytes, _ d: Decoded, _ payload: TransportPayload, total: Int, timestampNs: Int64) {
        let slot = freeSlot(timestampNs: timestampNs)
        if pending[slot].buffer == nil {
            pending[slot].buffer = .allocate(byteCount: TLSClientHello.maxRecord, alignment: 8)
        }
        guard let buffer = pending[slot].buffer else { return }
        let n = min(payload.count, total, TLSClientHello.maxRecord)
        guard b.copy(n, at: payload.start, to: buffer) else { return }
        pending[slot].src = d.src
        pending[slot].dst = d.dst
        pending[slot].srcPort = d.srcPort
        pending[slot].dstPort = d.dstPort
        pending[slot].nextSequence = payload.sequence &+ UInt32(payload.count) &+ (payload.syn ? 1 : 0)
        pending[slot].have = n
        pending[slot].need = min(total, TLSClientHello.maxRecord)
        pending[slot].startedNs = timestampNs
        pending[slot].active = true
        pendingCount += 1
    }

    /// A free slot: an empty one, else one that timed out, else the oldest (abandoned).
    private func freeSlot(timestampNs: Int64) -> Int {
        var oldest = 0
        for i in 0..<pending.count {
            if !pending[i].active { return i }
            if pending[i].startedNs < pending[oldest].startedNs { oldest = i }
        }
        release(oldest)
        return oldest
    }

    private func release(_ slot: Int) {
        guard pending[slot].active else { return }
        pending[slot].active = false
        pendingCount -= 1
        sniffed.abandonedHellos &+= 1
    }

    /// Feeds a segment to the ClientHello its direction is waiting for; true when it was one.
    private func continueHello(
        _ b: Bytes, _ d: Decoded, _ payload: TransportPayload, timestampNs: Int64, index: Int
    ) -> Bool {
        for i in 0..<pending.count where pending[i].active {
            if timestampNs &- pending[i].startedNs > Self.pendingTimeoutNs {
                release(i)
                continue
            }
            let p = pending[i]
            guard p.srcPort == d.srcPort, p.dstPort == d.dstPort, p.src == d.src, p.dst == d.dst else { continue }
            guard payload.sequence == p.nextSequence, let buffer = p.buffer else {
                // A retransmission of what was taken is ignored; a gap ends the wait.
                if Int32(bitPattern: payload.sequence &- p.nextSequence) > 0 { release(i) }
                return true
            }
            let n = min(payload.count, p.need - p.have)
            guard b.copy(n, at: payload.start, to: buffer + p.have) else {
                release(i)
                return true
            }
            pending[i].have += n
            pending[i].nextSequence = p.nextSequence &+ UInt32(payload.count)
            if pending[i].have < p.need { return true }
            let whole = Bytes(base: UnsafeRawPointer(buffer), count: pending[i].have)
            pending[i].active = false
            pendingCount -= 1
            if case .serverName(let start, let count) = TLSClientHello.parse(whole, from: 0, to: whole.count) {
                sniffed.clientHellos &+= 1
                emitServerName(whole, start: start, count: count, index: index)
            }
            return true
        }
        return false
    }
}
