public import PacketWire

/// IPv4 and IPv6 fragment reassembly as Zeek's `FragReassembler` does it (src/Frag.cc,
/// src/Reassem.cc), in bounded memory.
///
/// Zeek's rules: fragments are grouped by source, destination and identification; the datagram
/// keeps the IP header of the fragment that arrived first (IPv6: its unfragmentable part), with the
/// next header of the fragment at offset 0; where fragments overlap the bytes that arrived first
/// stand (Zeek reports `fragment_overlap` or `fragment_inconsistency` and keeps them); the size is
/// known from the last fragment (no MF), grows when a fragment reaches past it, and when the bytes
/// from 0 are contiguous up to the size (or past it with a hole beyond) the datagram is complete; a
/// fragment without payload completes nothing; a group is dropped `frag_timeout` (5 minutes) after
/// its first fragment; a completed group is removed, so a late duplicate starts a new one.
///
/// Bounds Zeek does not have (it holds fragments until the timeout): at most `capacity` pending
/// datagrams and `maxBytes` of buffers (the oldest group is dropped to make room), at most
/// `maxRanges` separate pieces per datagram and `maxDatagram` payload bytes (a fragment beyond is
/// dropped). Buffers are kept for reuse: after the first datagrams, nothing is allocated per
/// fragment. The reassembled datagram is written to a caller's buffer, contiguous, from its IP
/// header, for `ConnDecoder.decodeReassembled`.
///
/// Not thread-safe.
public final class FragmentReassembler {
    /// Zeek's `frag_timeout` default, in microseconds.
    public static let defaultTimeout: Int64 = 300_000_000
    /// The largest payload of a datagram: the last fragment offset (8 × 8191) plus a full packet.
    public static let maxDatagram = 65_528 + 65_535
    /// The largest unfragmentable part kept (an IPv4 header is at most 60 bytes).
    public static let maxHeader = 256
    /// Where a buffer's payload starts (the header is kept before it).
    static let payloadStart = maxHeader

    public let capacity: Int
    public let maxBytes: Int
    public let maxRanges: Int
    public let timeout: Int64

    struct Key: Hashable {
        var src: IPAddress
        var dst: IPAddress
        var id: UInt32
        var version: UInt8
    }

    struct Entry {
        var key: Key
        var created: Int64
        var buffer: UnsafeMutableRawBufferPointer
        var headerLength: Int
        /// IPv6: where the next header that announced the fragment header is, in the header.
        var nextHeaderAt: Int
        var nextProto: UInt8
        /// 0: not known yet.
        var size: Int
        /// Received byte ranges of the payload, sorted, disjoint, merged.
        var ranges: ContiguousArray<Range<Int>>
        var inUse: Bool
    }

    private var entries: [Entry] = []
    private var index: [Key: Int32] = [:]
    private var freeEntries: [Int32] = []
    private var pool: [UnsafeMutableRawBufferPointer] = []
    /// Bytes of the buffers of pending datagrams, and of the pool.
    public private(set) var bytesInUse = 0
    private var poolBytes = 0
    /// The earliest creation time among pending datagrams (a lower bound).
    private var oldest = Int64.max

    /// Groups dropped: timed out, or evicted for room.
    public private(set) var timedOut: UInt64 = 0
    public private(set) var evicted: UInt64 = 0
    /// Fragments dropped for the bounds (too many pieces, too large).
    public private(set) var refused: UInt64 = 0

    public init(
        capacity: Int = 1024, maxBytes: Int = 32 << 20, maxRanges: Int = 256, timeout: Int64 = defaultTimeout
    ) {
        precondition(capacity > 0 && maxBytes > 0 && maxRanges > 0)
        self.capacity = capacity
        self.maxBytes = maxBytes
        self.maxRanges = maxRanges
        self.timeout = timeout
        index.reserveCapacity(capacity)
    }

    deinit {
        for e in entries where e.buffer.count > 0 { e.buffer.deallocate() }
        for b in pool { b.deallocate() }
    }

    /// Pending datagrams.
    public var pending: Int { index.count }
    /// Bytes held: pending datagrams' buffers and the pool of free ones (at most `maxBytes`).
    public var bytesHeld: Int { bytesInUse + poolBytes }

    /// Adds the fragment `p` (kind `.fragment`, walked from `b`) at time `now` (microseconds).
    /// When it completes its datagram, the datagram is written to `out` from its IP header and its
    /// length returned (nil otherwise, or when it does not fit in `out`).
    public func add(_ b: Bytes, _ p: ConnPacket, now: Int64, into out: UnsafeMutableRawBufferPointer) -> Int? {
        expire(now)
        let key = Key(src: p.ip.src, dst: p.ip.dst, id: p.fragmentID, version: p.ip.version)
        let offset = Int(p.fragmentOffset)
        let length = Int(p.transportLength)
        let upper = offset + length
        guard length >= 0, upper <= FragmentReassembler.maxDatagram else {
            refused &+= 1
            return nil
        }
        let slot: Int
        if let found = index[key] {
            slot = Int(found)
        } else {
            guard let created = create(key, b, p, now: now) else { return nil }
            slot = created
        }
        if offset == 0 { entries[slot].nextProto = p.ip.proto }
        // The size: set by the last fragment, grown by any fragment past it.
        if !p.moreFragments {
            if entries[slot].size == 0 || upper > entries[slot].size { entries[slot].size = upper }
        }
        if entries[slot].size != 0 && upper > entries[slot].size { entries[slot].size = upper }
        if length == 0 { return nil }
        guard reserve(slot, upTo: upper) else {
            refused &+= 1
            return nil
        }
        guard insert(slot, b, from: Int(p.transportOffset), offset: offset, length: length) else {
            refused &+= 1
            return nil
        }
        return complete(slot, into: out)
    }

    /// Drops the groups whose timeout passed at `now`.
    public func expire(_ now: Int64) {
        guard oldest != .max, now >= oldest &+ timeout else { return }
        var earliest = Int64.max
        for i in entries.indices where entries[i].inUse {
            if now >= entries[i].created &+ timeout {
                timedOut &+= 1
                release(i)
            } else {
                earliest = min(earliest, entries[i].created)
            }
        }
        oldest = earliest
    }

    // MARK: - Groups

    private func create(_ key: Key, _ b: Bytes, _ p: ConnPacket, now: Int64) -> Int? {
        let ipStart = Int(p.ipOffset)
        let headerLength: Int
        var nextHeaderAt = 0
        if p.ip.version == 6 {
            headerLength = Int(p.fragmentHeaderOffset)
            guard headerLength >= 40 else { return nil }
        } else {
            headerLength = Int(p.ipHeaderLength)
        }
        guard headerLength <= FragmentReassembler.maxHeader, b.has(headerLength, at: ipStart) else {
            refused &+= 1
            return nil
        }
        if p.ip.version == 6 {
            // The last next-header field before the fragment header.
            var at = 6
            var o = 40
            while o < headerLength {
                guard let next = b.u8(ipStart + at), let units = b.u8(ipStart + o + 1) else { return nil }
                at = o
                o += next == 51 ? (Int(units) + 2) * 4 : (Int(units) + 1) * 8
            }
            guard o == headerLength else { return nil }
            nextHeaderAt = at
        }
        if index.count >= capacity { evictOldest() }
        let slot: Int
        if let free = freeEntries.popLast() {
            slot = Int(free)
        } else {
            slot = entries.count
            entries.append(
                Entry(
                    key: key, created: now, buffer: UnsafeMutableRawBufferPointer(start: nil, count: 0),
                    headerLength: 0, nextHeaderAt: 0, nextProto: 0, size: 0, ranges: [], inUse: false))
            entries[slot].ranges.reserveCapacity(8)
        }
        entries[slot].key = key
        entries[slot].created = now
        entries[slot].headerLength = headerLength
        entries[slot].nextHeaderAt = nextHeaderAt
        entries[slot].nextProto = p.ip.proto
        entries[slot].size = 0
        entries[slot].ranges.removeAll(keepingCapacity: true)
        entries[slot].inUse = true
        index[key] = Int32(slot)
        oldest = min(oldest, now)
        // The header of the first fragment to arrive.
        guard reserve(slot, upTo: 0) else {
            release(slot)
            return nil
        }
        _ = b.copy(from: ipStart, count: headerLength, to: entries[slot].buffer.baseAddress!)
        return slot
    }

    /// Makes the buffer of `slot` hold the payload up to `upper`, from the pool or grown.
    private func reserve(_ slot: Int, upTo upper: Int) -> Bool {
        let needed = FragmentReassembler.payloadStart + upper
        let have = entries[slot].buffer.count
        if needed <= have { return true }
        var size = max(have, 2048)
        while size < needed { size *= 2 }
        let fresh: UnsafeMutableRawBufferPointer
        if let i = pool.lastIndex(where: { $0.count >= size }) {
            fresh = pool.remove(at: i)
            poolBytes -= fresh.count
        } else {
            // Room for the new buffer beside the old one: free pooled buffers first, then drop
            // the oldest groups (whose buffers go to the pool, and are freed on the next turn).
            while bytesHeld + size > maxBytes {
                if let spare = pool.popLast() {
                    poolBytes -= spare.count
                    spare.deallocate()
                } else if !evictOldest(sparing: slot) {
                    break
                }
            }
            guard bytesHeld + size <= maxBytes else { return false }
            fresh = .allocate(byteCount: size, alignment: 8)
        }
        bytesInUse += fresh.count
        let old = entries[slot].buffer
        if old.count > 0 {
            // Only the header and the received ranges matter; copying the whole old buffer is
            // simplest.
            fresh.copyMemory(from: UnsafeRawBufferPointer(old))
            bytesInUse -= old.count
            recycle(old)
        }
        entries[slot].buffer = fresh
        return true
    }

    private func recycle(_ buffer: UnsafeMutableRawBufferPointer) {
        if pool.count < 16 && bytesHeld + buffer.count <= maxBytes {
            pool.append(buffer)
            poolBytes += buffer.count
        } else {
            buffer.deallocate()
        }
    }

    /// Copies the parts of a fragment no earlier fragment covered, and records its range.
    private func insert(_ slot: Int, _ b: Bytes, from source: Int, offset: Int, length: Int) -> Bool {
        guard b.has(length, at: source), entries[slot].ranges.count < maxRanges else { return false }
        let start = offset
        let end = offset + length
        let base = entries[slot].buffer.baseAddress! + FragmentReassembler.payloadStart
        var position = start
        func copy(_ from: Int, _ to: Int) {
            guard to > from else { return }
            _ = b.copy(from: source + (from - start), count: to - from, to: base + from)
        }
        for r in entries[slot].ranges {
            if r.upperBound <= position { continue }
            if r.lowerBound >= end { break }
            copy(position, min(r.lowerBound, end))
            position = max(position, r.upperBound)
            if position >= end { break }
        }
        copy(position, end)
        // Merge [start, end) into the ranges.
        var ranges = entries[slot].ranges
        entries[slot].ranges = []
        var i = 0
        while i < ranges.count && ranges[i].upperBound < start { i += 1 }
        var lower = start
        var upper = end
        var j = i
        while j < ranges.count && ranges[j].lowerBound <= end {
            lower = min(lower, ranges[j].lowerBound)
            upper = max(upper, ranges[j].upperBound)
            j += 1
        }
        ranges.replaceSubrange(i..<j, with: CollectionOfOne(lower..<upper))
        entries[slot].ranges = ranges
        return true
    }

    /// `BlockInserted`: whether the datagram is whole; if so it is written to `out` and the group
    /// removed.
    private func complete(_ slot: Int, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let ranges = entries[slot].ranges
        guard let first = ranges.first, first.lowerBound == 0, entries[slot].size != 0 else { return nil }
        if ranges.count > 1 {
            // A hole: complete only when the contiguous part reaches the size.
            guard first.upperBound >= entries[slot].size else { return nil }
            entries[slot].size = first.upperBound
        } else if first.upperBound > entries[slot].size {
            entries[slot].size = first.upperBound
        } else if first.upperBound < entries[slot].size {
            return nil
        }
        let e = entries[slot]
        let total = e.headerLength + e.size
        defer { release(slot) }
        guard total <= out.count, let destination = out.baseAddress, let source = e.buffer.baseAddress else {
            refused &+= 1
            return nil
        }
        destination.copyMemory(from: source, byteCount: e.headerLength)
        (destination + e.headerLength).copyMemory(
            from: source + FragmentReassembler.payloadStart, byteCount: e.size)
        let length16 = UInt16(truncatingIfNeeded: e.key.version == 6 ? total - 40 : total)
        if e.key.version == 6 {
            destination.storeBytes(of: length16.bigEndian, toByteOffset: 4, as: UInt16.self)
            destination.storeBytes(of: e.nextProto, toByteOffset: e.nextHeaderAt, as: UInt8.self)
        } else {
            destination.storeBytes(of: length16.bigEndian, toByteOffset: 2, as: UInt16.self)
            // No longer a fragment: MF and the offset cleared (DF kept).
            let flags = destination.load(fromByteOffset: 6, as: UInt8.self) & 0x40
            destination.storeBytes(of: flags, toByteOffset: 6, as: UInt8.self)
            destination.storeBytes(of: UInt8(0), toByteOffset: 7, as: UInt8.self)
        }
        return total
    }

    private func release(_ slot: Int) {
        guard entries[slot].inUse else { return }
        index[entries[slot].key] = nil
        entries[slot].inUse = false
        let buffer = entries[slot].buffer
        bytesInUse -= buffer.count
        entries[slot].buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        if buffer.count > 0 { recycle(buffer) }
        freeEntries.append(Int32(slot))
    }

    /// Drops the oldest pending group (not `sparing`); false when there is none.
    @discardableResult
    private func evictOldest(sparing: Int = -1) -> Bool {
        var victim = -1
        for i in entries.indices where entries[i].inUse && i != sparing {
            if victim < 0 || entries[i].created < entries[victim].created { victim = i }
        }
        guard victim >= 0 else { return false }
        evicted &+= 1
        release(victim)
        return true
    }
}
