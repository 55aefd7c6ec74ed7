public import PacketRecords
public import PacketWire

/// Counters of the name table.
public struct NameTableCounters: Sendable, Equatable {
    /// Addresses with a name now (at most `capacity`).
    public var entries: Int = 0
    /// Address-to-name answers taken in.
    public var learned: UInt64 = 0
    /// Addresses forgotten because the table was full (least recently used first).
    public var evictions: UInt64 = 0
    /// Distinct names held now.
    public var names: Int = 0
    /// Times the name store filled up and started over (every address forgotten with it).
    public var resets: UInt64 = 0
    public init() {}
}

/// The names learned from the wire: a bounded map from address to the name a DNS response gave it
/// and when (an LRU of `capacity` addresses, counted), and a store of the distinct names, which
/// flows refer to by 32-bit ids (so a flow's state stays fixed-size). A name id stays valid until
/// the store fills (`maxNames` names or `maxNameBytes` bytes); then the store and the map start
/// over (counted in `resets`) and older ids read as empty. Per lookup: one hash, a probe or two;
/// learning a name allocates only when the store grows.
public final class NameTable {
    public let capacity: Int
    public let maxNames: Int
    public let maxNameBytes: Int
    /// The id a flow holds when its first ClientHello had no server name.
    public static let helloWithoutName: UInt32 = .max

    public var counters: NameTableCounters {
        var c = tallies
        c.entries = state.pointee.used
        c.names = nameStarts.count
        return c
    }
    private var tallies = NameTableCounters()

    // The name store of this epoch.
    private var epoch: UInt32 = 1
    private var store: UnsafeMutableRawPointer
    private var storeCount = 0
    private var storeCapacity = 4_096
    private var nameStarts: [UInt32] = []
    private var nameSlots: [UInt32]
    private var nameMask: Int

    /// One address: its name id, when it was learned, its neighbours in the LRU list.
    struct Entry {
        var address: IPAddress
        var nameId: UInt32
        var version: UInt8
        var prev: Int32
        var next: Int32
        var learnedNs: Int64
    }

    /// What changes per lookup, behind a pointer (no exclusivity checks on the lookup path).
    struct State {
        var used = 0
        var head: Int32 = -1  // most recent
        var tail: Int32 = -1  // least recent
    }

    // The address map: open addressing (8-byte slots: a 32-bit hash tag and the entry + 1; at
    // most half full, so a miss ends at an empty slot after a probe or two without reading an
    // entry), entries dense, a doubly linked LRU list through them.
    private let entries: UnsafeMutablePointer<Entry>
    private let slots: UnsafeMutablePointer<UInt64>
    private let slotMask: Int
    private let state: UnsafeMutablePointer<State>

    public init(capacity: Int = 65_536, maxNames: Int = 65_536, maxNameBytes: Int = 4 << 20) {
        self.capacity = min(max(1, capacity), 1 << 30)
        self.maxNames = min(max(1, maxNames), 0xFF_FFF0)
        self.maxNameBytes = max(256, maxNameBytes)
        var s = 16
        while s < self.capacity * 2 { s <<= 1 }
        slots = .allocate(capacity: s)
        slots.initialize(repeating: 0, count: s)
        slotMask = s - 1
        entries = .allocate(capacity: self.capacity)
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        var n = 16
        while n < self.maxNames * 2 { n <<= 1 }
        nameSlots = Array(repeating: 0, count: n)
        nameMask = n - 1
        store = .allocate(byteCount: storeCapacity, alignment: 8)
    }

    deinit {
        store.deallocate()
        slots.deallocate()
        entries.deallocate()
        state.deallocate()
    }

    // MARK: names

    /// The name of an id, nil when it has none or is from an earlier epoch of the store.
    public func name(_ id: UInt32) -> UnsafeRawBufferPointer? {
        guard id != 0, id != Self.helloWithoutName, id >> 24 == epoch & 0xFF else { return nil }
        let i = Int(id & 0xFF_FFFF) - 1
        guard i < nameStarts.count else { return nil }
        let start = Int(nameStarts[i])
        let end = i + 1 < nameStarts.count ? Int(nameStarts[i + 1]) : storeCount
        return UnsafeRawBufferPointer(start: store + start, count: end - start)
    }

    /// The name of an id as a string ("" when none).
    public func string(_ id: UInt32) -> String {
        guard let bytes = name(id) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of a name, stored if new; 0 for an empty name.
    public func intern(_ name: UnsafeRawBufferPointer) -> UInt32 {
        guard name.count > 0 else { return 0 }
        let h = Self.hash(name)
        var s = Int(truncatingIfNeeded: h) & nameMask
        while true {
            let id = nameSlots[s]
            if id == 0 { break }
            if let stored = self.name(id), stored.elementsEqual(name) { return id }
            s = (s &+ 1) & nameMask
        }
        if nameStarts.count >= maxNames || storeCount + name.count > maxNameBytes {
            reset()
            return intern(name)
        }
        if storeCount + name.count > storeCapacity {
            var grown = storeCapacity * 2
            while grown < storeCount + name.count { grown *= 2 }
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 8)
            bigger.copyMemory(from: store, byteCount: storeCount)
            store.deallocate()
            store = bigger
            storeCapacity = grown
        }
        nameStarts.append(UInt32(storeCount))
        (store + storeCount).copyMemory(from: name.baseAddress!, byteCount: name.count)
        storeCount += name.count
        let id = (epoch & 0xFF) << 24 | UInt32(nameStarts.count)
        nameSlots[s] = id
        return id
    }

    /// A hash of a name, 8 bytes at a time (multiply and xor-shift).
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(bytes.count)
        var o = 0
        while o + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            o += 8
        }
        while o < bytes.count {
            h = (h ^ UInt64(bytes[o])) &* 0x0000_0100_0000_01B3
            o += 1
        }
        return h ^ (h >> 32)
    }

    /// The store is full: forget every name and address, and start a new epoch.
    private func reset() {
        epoch = epoch & 0xFF == 0xFF ? 1 : epoch + 1
        storeCount = 0
        nameStarts.removeAll(keepingCapacity: true)
        for i in nameSlots.indices { nameSlots[i] = 0 }
        slots.update(repeating: 0, count: slotMask + 1)
        state.pointee = State()
        tallies.resets &+= 1
    }

    // MARK: addresses

    @inline(__always)
    private static func hash(_ a: IPAddress, _ v: UInt8) -> UInt64 {
        var h = (a.hi ^ (a.lo &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        h ^= UInt64(v)
        h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 32)
    }

    /// The slot holding `a` (its entry) or the empty slot where it would go (entry -1).
    @inline(__always)
    private func find(_ a: IPAddress, _ v: UInt8) -> (slot: Int, entry: Int32) {
        let h = Self.hash(a, v)
        let tag = h >> 32
        var s = Int(truncatingIfNeeded: h) & slotMask
        while true {
            let x = slots[s]
            if x == 0 { return (s, -1) }
            if x >> 32 == tag {
                let e = Int32(truncatingIfNeeded: x & 0xFFFF_FFFF) &- 1
                if entries[Int(e)].address == a && entries[Int(e)].version == v { return (s, e) }
            }
            s = (s &+ 1) & slotMask
        }
    }

    /// The name id an address has now (0 when none) and when it was learned; marks it recently used.
    @inline(__always)
    public func lookup(_ a: IPAddress, version v: UInt8) -> (id: UInt32, learnedNs: Int64) {
        guard state.pointee.used > 0, v != 0 else { return (0, 0) }
        let e = find(a, v).entry
        guard e >= 0 else { return (0, 0) }
        moveToFront(e)
        return (entries[Int(e)].nameId, entries[Int(e)].learnedNs)
    }

    /// The name id an address has now (0 when none), without marking it used (for display).
    public func peek(_ a: IPAddress, version v: UInt8) -> UInt32 {
        guard state.pointee.used > 0, v != 0 else { return 0 }
        let e = find(a, v).entry
        return e >= 0 ? entries[Int(e)].nameId : 0
    }

    /// Records that `a` is known as `name` from `timeNs` on.
    public func learn(_ a: IPAddress, version v: UInt8, name: UnsafeRawBufferPointer, at timeNs: Int64) {
        learn(a, version: v, id: intern(name), at: timeNs)
    }

    /// Records that `a` is known by the name of `id` (from `intern`) from `timeNs` on.
    public func learn(_ a: IPAddress, version v: UInt8, id: UInt32, at timeNs: Int64) {
        guard id != 0, v != 0, name(id) != nil else { return }
        tallies.learned &+= 1
        var (slot, found) = find(a, v)
        if found >= 0 {
            entries[Int(found)].nameId = id
            entries[Int(found)].learnedNs = timeNs
            moveToFront(found)
            return
        }
        let e: Int32
        if state.pointee.used >= capacity {
            // Full: the least recently used entry makes room, and is reused.
            e = state.pointee.tail
            unlink(e)
            removeSlot(of: e)
            tallies.evictions &+= 1
            slot = find(a, v).slot
        } else {
            e = Int32(state.pointee.used)
            state.pointee.used += 1
        }
        let tag = Self.hash(a, v) >> 32
        slots[slot] = tag << 32 | UInt64(UInt32(e) + 1)
        entries[Int(e)] = Entry(address: a, nameId: id, version: v, prev: -1, next: -1, learnedNs: timeNs)
        pushFront(e)
    }

    /// Takes the events of a batch up to and including the packet at `index` (from `from` on);
    /// returns where it stopped. Server-name events are left for the caller (`FlowTable`).
    public func apply(_ events: NameEvents, from: Int, through index: Int, at timeNs: Int64) -> Int {
        var i = from
        // The answers of one response share their name's bytes: interned once.
        var last = (start: Int32(-1), length: Int32(0), id: UInt32(0))
        while i < events.count {
            let e = events.event(i)
            if Int(e.index) > index { break }
            if e.kind == .address {
                if e.nameStart != last.start || e.nameLength != last.length || name(last.id) == nil {
                    last = (e.nameStart, e.nameLength, intern(events.name(of: e)))
                }
                learn(e.address, version: e.ipVersion, id: last.id, at: timeNs)
            }
            i += 1
        }
        return i
    }

    private func unlink(_ e: Int32) {
        let p = entries[Int(e)].prev
        let n = entries[Int(e)].next
        if p >= 0 { entries[Int(p)].next = n } else { state.pointee.head = n }
        if n >= 0 { entries[Int(n)].prev = p } else { state.pointee.tail = p }
    }

    private func pushFront(_ e: Int32) {
        let head = state.pointee.head
        entries[Int(e)].prev = -1
        entries[Int(e)].next = head
        if head >= 0 { entries[Int(head)].prev = e }
        state.pointee.head = e
        if state.pointee.tail < 0 { state.pointee.tail = e }
    }

    private func moveToFront(_ e: Int32) {
        guard state.pointee.head != e else { return }
        unlink(e)
        pushFront(e)
    }

    /// Backward-shift deletion of the slot that holds entry `e`.
    private func removeSlot(of e: Int32) {
        var hole = find(entries[Int(e)].address, entries[Int(e)].version).slot
        var j = hole
        while true {
            j = (j &+ 1) & slotMask
            let x = slots[j]
            if x == 0 { break }
            let o = Int32(truncatingIfNeeded: x & 0xFFFF_FFFF) &- 1
            let home = Int(truncatingIfNeeded: Self.hash(entries[Int(o)].address, entries[Int(o)].version)) & slotMask
            if (j &- home) & slotMask >= (j &- hole) & slotMask {
                slots[hole] = x
                hole = j
            }
        }
        slots[hole] = 0
    }
}
