import PacketWire

/// The open connections by key: open addressing with linear probing, a cheap multiplicative hash,
/// backward-shift deletion, and doubling at half full. No allocation except when it grows.
///
/// An entry is the key's 32-bit hash and the slot (`hash << 32 | slot + 1`; 0 is empty): a probe
/// compares hashes first and reads a connection (cache lines away) only when they are equal, and
/// deleting and growing find each entry's home from its hash, without reading connections.
struct SlotIndex {
    private var table: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private(set) var count = 0

    init() {
        mask = 1023
        table = .allocate(capacity: mask + 1)
        table.initialize(repeating: 0, count: mask + 1)
    }

    func release() { table.deallocate() }

    @inline(__always)
    static func hash(_ k: ConnKey) -> UInt32 {
        var h = k.a1.hi &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ k.a1.lo) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ k.a2.hi) &* 0x94D0_49BB_1331_11EB
        h = (h ^ k.a2.lo) &* 0x9E37_79B9_7F4A_7C15
        h =
            (h ^ (UInt64(k.p1) << 32 | UInt64(k.p2) << 16 | UInt64(k.proto) << 8 | UInt64(k.version)))
            &* 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: h ^ (h >> 31))
    }

    @inline(__always)
    private static func entry(_ hash: UInt32, _ slot: Int) -> UInt64 { UInt64(hash) << 32 | UInt64(slot + 1) }

    @inline(__always)
    private static func slot(_ e: UInt64) -> Int { Int(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1 }

    @inline(__always)
    private func home(_ e: UInt64) -> Int { Int(truncatingIfNeeded: e >> 32) & mask }

    /// The slot holding `key`, or nil.
    @inline(__always)
    func find(_ key: ConnKey, in slots: ConnectionSlots) -> Int? {
        let h = SlotIndex.hash(key)
        var i = Int(h) & mask
        while true {
            let e = table[i]
            if e == 0 { return nil }
            if UInt32(truncatingIfNeeded: e >> 32) == h, slots[SlotIndex.slot(e)].key == key {
                return SlotIndex.slot(e)
            }
            i = (i + 1) & mask
        }
    }

    /// Adds `slot` under its connection's key (not present).
    mutating func insert(_ slot: Int, in slots: ConnectionSlots) {
        if (count + 1) * 2 > mask + 1 { grow() }
        let h = SlotIndex.hash(slots[slot].key)
        var i = Int(h) & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = SlotIndex.entry(h, slot)
        count += 1
    }

    /// Removes `slot` (indexed under its connection's key).
    mutating func remove(_ slot: Int, in slots: ConnectionSlots) {
        let wanted = SlotIndex.entry(SlotIndex.hash(slots[slot].key), slot)
        var i = home(wanted)
        while table[i] != wanted {
            if table[i] == 0 { return }
            i = (i + 1) & mask
        }
        // Backward-shift: move later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while table[j] != 0 {
            let home = home(table[j])
            // Move j to the hole when its home is not cyclically within (hole, j].
            let distanceToJ = (j - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToJ {
                table[hole] = table[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        table[hole] = 0
        count -= 1
    }

    /// Every indexed slot.
    func allSlots() -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        for i in 0...mask where table[i] != 0 { out.append(SlotIndex.slot(table[i])) }
        return out
    }

    private mutating func grow() {
        let old = table
        let oldSize = mask + 1
        mask = oldSize * 2 - 1
        table = .allocate(capacity: mask + 1)
        table.initialize(repeating: 0, count: mask + 1)
        for i in 0..<oldSize where old[i] != 0 {
            var j = home(old[i])
            while table[j] != 0 { j = (j + 1) & mask }
            table[j] = old[i]
        }
        old.deallocate()
    }
}
