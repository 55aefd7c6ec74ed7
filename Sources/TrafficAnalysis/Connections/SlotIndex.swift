import PacketWire

/// The open connections by key: open addressing with linear probing over slot numbers (the keys
/// live in the connections themselves), a cheap multiplicative hash, backward-shift deletion, and
/// doubling at half full. No allocation except when it grows.
struct SlotIndex {
    private var table: UnsafeMutablePointer<Int32>
    private var mask: Int
    private(set) var count = 0

    init() {
        mask = 1023
        table = .allocate(capacity: mask + 1)
        table.initialize(repeating: -1, count: mask + 1)
    }

    func release() { table.deallocate() }

    @inline(__always)
    static func hash(_ k: ConnKey) -> Int {
        var h = k.a1.hi &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ k.a1.lo) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ k.a2.hi) &* 0x94D0_49BB_1331_11EB
        h = (h ^ k.a2.lo) &* 0x9E37_79B9_7F4A_7C15
        h =
            (h ^ (UInt64(k.p1) << 32 | UInt64(k.p2) << 16 | UInt64(k.proto) << 8 | UInt64(k.version)))
            &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h ^ (h >> 31))
    }

    /// The slot holding `key`, or nil.
    @inline(__always)
    func find(_ key: ConnKey, in slots: ConnectionSlots) -> Int? {
        var i = SlotIndex.hash(key) & mask
        while true {
            let s = table[i]
            if s < 0 { return nil }
            if slots[Int(s)].key == key { return Int(s) }
            i = (i + 1) & mask
        }
    }

    /// Adds `slot` under its connection's key (not present).
    mutating func insert(_ slot: Int, in slots: ConnectionSlots) {
        if (count + 1) * 2 > mask + 1 { grow(slots) }
        var i = SlotIndex.hash(slots[slot].key) & mask
        while table[i] >= 0 { i = (i + 1) & mask }
        table[i] = Int32(slot)
        count += 1
    }

    /// Removes `slot` (indexed under its connection's key).
    mutating func remove(_ slot: Int, in slots: ConnectionSlots) {
        var i = SlotIndex.hash(slots[slot].key) & mask
        while table[i] != Int32(slot) {
            if table[i] < 0 { return }
            i = (i + 1) & mask
        }
        // Backward-shift: move later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while table[j] >= 0 {
            let home = SlotIndex.hash(slots[Int(table[j])].key) & mask
            // Move j to the hole when its home is not cyclically within (hole, j].
            let distanceToJ = (j - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToJ {
                table[hole] = table[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        table[hole] = -1
        count -= 1
    }

    /// Every indexed slot.
    func allSlots() -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        for i in 0...mask where table[i] >= 0 { out.append(Int(table[i])) }
        return out
    }

    private mutating func grow(_ slots: ConnectionSlots) {
        let old = table
        let oldSize = mask + 1
        mask = oldSize * 2 - 1
        table = .allocate(capacity: mask + 1)
        table.initialize(repeating: -1, count: mask + 1)
        for i in 0..<oldSize where old[i] >= 0 {
            var j = SlotIndex.hash(slots[Int(old[i])].key) & mask
            while table[j] >= 0 { j = (j + 1) & mask }
            table[j] = old[i]
        }
        old.deallocate()
    }
}
