public import PacketWire
import Synchronization

/// The names a live capture's `NameSniffer` found, handed from the capture thread to the consumer
/// beside the `RecordRing`: a bounded single-producer/single-consumer ring of entries, each the
/// event, its name (at most 255 bytes, in the entry) and the position in the record ring of the
/// record that carried it, so the consumer applies it just before that record. The producer never
/// waits: an entry that does not fit is counted (`droppedCount`) and its name is not learned.
public final class NameRing: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private static let stride = 288
    private let slots: UnsafeMutableRawPointer
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    private let dropped = Atomic<UInt64>(0)

    /// `capacity` entries, rounded up to a power of two (4,096 by default: 1.2 MB).
    public init(capacity: Int = 4_096) {
        var c = 2
        while c < capacity { c <<= 1 }
        self.capacity = c
        mask = c - 1
        slots = .allocate(byteCount: c * Self.stride, alignment: 16)
    }

    deinit { slots.deallocate() }

    /// Names that did not fit.
    public var droppedCount: UInt64 { dropped.load(ordering: .relaxed) }

    // MARK: producer side

    /// Copies the events of the first `accepted` records of a batch whose first record went to
    /// position `recordBase` of the record ring (events of records the ring dropped are left out).
    public func push(_ events: NameEvents, recordBase: Int, accepted: Int) {
        let n = events.count
        guard n > 0 else { return }
        var t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        for i in 0..<n {
            let e = events.event(i)
            guard Int(e.index) < accepted else { break }
            guard t - h < capacity else {
                dropped.wrappingAdd(1, ordering: .relaxed)
                continue
            }
            let slot = slots + (t & mask) * Self.stride
            slot.storeBytes(of: Int64(recordBase + Int(e.index)), toByteOffset: 0, as: Int64.self)
            slot.storeBytes(of: e.kind.rawValue, toByteOffset: 8, as: UInt8.self)
            slot.storeBytes(of: e.ipVersion, toByteOffset: 9, as: UInt8.self)
            let name = events.name(of: e)
            let length = min(name.count, DNSMessage.maxNameLength)
            slot.storeBytes(of: UInt16(length), toByteOffset: 10, as: UInt16.self)
            slot.storeBytes(of: e.address.hi, toByteOffset: 16, as: UInt64.self)
            slot.storeBytes(of: e.address.lo, toByteOffset: 24, as: UInt64.self)
            if length > 0, let base = name.baseAddress { (slot + 32).copyMemory(from: base, byteCount: length) }
            t += 1
        }
        tail.store(t, ordering: .releasing)
    }

    // MARK: consumer side

    /// Replaces the content of `events` with the entries of the records at positions
    /// `base..<end` of the record ring (index: position minus `base`), in order; entries of
    /// earlier positions are skipped.
    public func take(from base: Int, to end: Int, into events: NameEvents) {
        events.clear()
        var h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        while h != t {
            let slot = slots + (h & mask) * Self.stride
            let position = Int(slot.load(fromByteOffset: 0, as: Int64.self))
            if position >= end { break }
            h += 1
            guard position >= base else { continue }
            let kind = NameEvent.Kind(rawValue: slot.load(fromByteOffset: 8, as: UInt8.self)) ?? .address
            let version = slot.load(fromByteOffset: 9, as: UInt8.self)
            let length = Int(slot.load(fromByteOffset: 10, as: UInt16.self))
            let address = IPAddress(
                hi: slot.load(fromByteOffset: 16, as: UInt64.self), lo: slot.load(fromByteOffset: 24, as: UInt64.self))
            events.append(kind: kind, version: version, address: address, index: position - base) { to in
                to.copyMemory(from: slot + 32, byteCount: length)
                return length
            }
        }
        head.store(h, ordering: .releasing)
    }
}
