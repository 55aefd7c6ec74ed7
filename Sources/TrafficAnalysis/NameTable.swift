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
    public private(set) var counters = NameTableCounters()
    /// The id a flow holds when its first ClientHello had no server name.
    public static let helloWithoutName: UInt32 = .max

    // The name store of this epoch.
    private var epoch: UInt32 = 1
    private var store: UnsafeMutableRawPointer
    private var storeCount = 0
    private var storeCapacity = 4_096
    private var nameStarts: [UInt32] = []
    private var nameSlots: [UInt32]
    private var nameMask: Int

    // The address map: open addressing over entries, a doubly linked LRU list through them.
    private var addresses: [IPAddress]
    private var versions: [UInt8]
    private var nameIds: [UInt32]
    private var learnedNs: [Int64]
    private var prev: [Int32]
    private var next: [Int32]
    private var slots: [Int32]
    private var slotMask: Int
    private var head: Int32 = -1  // most recent
    private var tail: Int32 = -1  // least recent
    private var free: [Int32] = []

    public init(capacity: Int = 65_536, maxNames: Int = 65_536, maxNameBytes: Int = 4 << 20) {
        self.capacity = max(1, capacity)
        self.maxNames = min(max(1, maxNames), 0xFF_FFF0)
        self.maxNameBytes = max(256, maxNameBytes)
        var s = 16
        while s < self.capacity * 2 { s <<= 1 }
        slots = Array(repeating: -1, count: s)
        slotMask = s - 1
        var n = 16
        while n < self.maxNames * 2 { n <<= 1 }
        nameSlots = Array(repeating: 0, count: n)
        nameMask = n - 1
        store = .allocate(byteCount: storeCapacity, alignment: 8)
        addresses = []
        versions = []
        nameIds = []
        learnedNs = []
        prev = []
        next = []
    }

    deinit { store.deallocate() }

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
        counters.names = nameStarts.count
        return id
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h ^ (h >> 29)
    }

    /// The store is full: forget every name and address, and start a new epoch.
    private func reset() {
        epoch = epoch & 0xFF == 0xFF ? 1 : epoch + 1
        storeCount = 0
        nameStarts.removeAll(keepingCapacity: true)
        for i in nameSlots.indices { nameSlots[i] = 0 }
        for i in slots.indices { slots[i] = -1 }
        addresses.removeAll(keepingCapacity: true)
        versions.removeAll(keepingCapacity: true)
        nameIds.removeAll(keepingCapacity: true)
        learnedNs.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        free.removeAll(keepingCapacity: true)
        head = -1
        tail = -1
        counters.entries = 0
        counters.names = 0
        counters.resets &+= 1
    }

    // MARK: addresses

    @inline(__always)
    private static func hash(_ a: IPAddress, _ v: UInt8) -> Int {
        var h = (a.hi ^ (a.lo &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        h ^= UInt64(v)
        h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }

    private func find(_ a: IPAddress, _ v: UInt8) -> (slot: Int, entry: Int32) {
        var s = Self.hash(a, v) & slotMask
        while true {
            let e = slots[s]
            if e < 0 { return (s, -1) }
            if addresses[Int(e)] == a && versions[Int(e)] == v { return (s, e) }
            s = (s &+ 1) & slotMask
        }
    }

    /// The name id an address has now (0 when none) and when it was learned; marks it recently used.
    public func lookup(_ a: IPAddress, version v: UInt8) -> (id: UInt32, learnedNs: Int64) {
        guard counters.entries > 0, v != 0 else { return (0, 0) }
        let e = find(a, v).entry
        guard e >= 0 else { return (0, 0) }
        moveToFront(e)
        return (nameIds[Int(e)], learnedNs[Int(e)])
    }

    /// The name id an address has now (0 when none), without marking it used (for display).
    public func peek(_ a: IPAddress, version v: UInt8) -> UInt32 {
        guard counters.entries > 0, v != 0 else { return 0 }
        let e = find(a, v).entry
        return e >= 0 ? nameIds[Int(e)] : 0
    }

    /// Records that `a` is known as `name` from `timeNs` on.
    public func learn(_ a: IPAddress, version v: UInt8, name: UnsafeRawBufferPointer, at timeNs: Int64) {
        let id = intern(name)
        guard id != 0, v != 0 else { return }
        counters.learned &+= 1
        let (slot, found) = find(a, v)
        if found >= 0 {
            nameIds[Int(found)] = id
            learnedNs[Int(found)] = timeNs
            moveToFront(found)
            return
        }
        if counters.entries >= capacity {
            evictLeastRecent()
            return learn(a, version: v, name: name, at: timeNs)
        }
        let e: Int32
        if let reused = free.popLast() {
            e = reused
            addresses[Int(e)] = a
            versions[Int(e)] = v
            nameIds[Int(e)] = id
            learnedNs[Int(e)] = timeNs
        } else {
            e = Int32(addresses.count)
            addresses.append(a)
            versions.append(v)
            nameIds.append(id)
            learnedNs.append(timeNs)
            prev.append(-1)
            next.append(-1)
        }
        slots[slot] = e
        prev[Int(e)] = -1
        next[Int(e)] = head
        if head >= 0 { prev[Int(head)] = e }
        head = e
        if tail < 0 { tail = e }
        counters.entries += 1
    }

    /// Takes the events of a batch up to and including the packet at `index` (from `from` on);
    /// returns where it stopped. Server-name events are left for the caller (`serverName`).
    public func apply(_ events: NameEvents, from: Int, through index: Int, at timeNs: Int64) -> Int {
        var i = from
        while i < events.count {
            let e = events.event(i)
            if Int(e.index) > index { break }
            if e.kind == .address { learn(e.address, version: e.ipVersion, name: events.name(of: e), at: timeNs) }
            i += 1
        }
        return i
    }

    private func moveToFront(_ e: Int32) {
        guard head != e else { return }
        let p = prev[Int(e)]
        let n = next[Int(e)]
        if p >= 0 { next[Int(p)] = n }
        if n >= 0 { prev[Int(n)] = p } else { tail = p }
        prev[Int(e)] = -1
        next[Int(e)] = head
        if head >= 0 { prev[Int(head)] = e }
        head = e
    }

    private func evictLeastRecent() {
        let e = tail
        guard e >= 0 else { return }
        let p = prev[Int(e)]
        if p >= 0 { next[Int(p)] = -1 } else { head = -1 }
        tail = p
        removeSlot(of: e)
        free.append(e)
        counters.entries -= 1
        counters.evictions &+= 1
    }

    /// Backward-shift deletion of the slot that holds entry `e`.
    private func removeSlot(of e: Int32) {
        var hole = find(addresses[Int(e)], versions[Int(e)]).slot
        var j = hole
        while true {
            j = (j &+ 1) & slotMask
            let v = slots[j]
            if v < 0 { break }
            let home = Self.hash(addresses[Int(v)], versions[Int(v)]) & slotMask
            if (j &- home) & slotMask >= (j &- hole) & slotMask {
                slots[hole] = v
                hole = j
            }
        }
        slots[hole] = -1
    }
}
