import Dispatch
import Synchronization

/// A bounded single-producer/single-consumer ring of records, handed over in batches.
///
/// The producer (the capture thread) never waits: `push` copies what fits and counts the rest as
/// dropped. The consumer drains whatever is there in at most two contiguous slices. Positions are
/// monotonically increasing counters; the slot is `position & mask`. Only the producer writes
/// `tail`, only the consumer writes `head`, so one acquire/release pair per batch is all the
/// synchronisation there is.
public final class RecordRing: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<PacketRecord>
    private let head = Atomic<Int>(0)
    private let tail = Atomic<Int>(0)
    private let dropped = Atomic<UInt64>(0)
    private let closed = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)

    /// `capacity` is rounded up to a power of two (at least 2).
    public init(capacity: Int) {
        var c = 2
        while c < capacity { c <<= 1 }
        self.capacity = c
        mask = c - 1
        slots = .allocate(capacity: c)
    }

    deinit {
        slots.deallocate()
    }

    /// Records the producer could not hand over because the ring was full.
    public var droppedCount: UInt64 { dropped.load(ordering: .relaxed) }

    /// Records waiting for the consumer.
    public var occupancy: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }

    // MARK: producer side

    /// The position the next pushed record takes (producer side only).
    public var nextPosition: Int { tail.load(ordering: .relaxed) }

    /// Copies as many records as fit, counts the rest as dropped, and wakes the consumer.
    /// Returns the number accepted. Never blocks.
    @discardableResult
    public func push(_ batch: UnsafeBufferPointer<PacketRecord>) -> Int {
        push(batch) { _, _ in }
    }

    /// `push`, calling `beforePublishing` with the position of the batch's first record and the
    /// number accepted after the records are copied and before the consumer can see them: what
    /// travels beside the records (`NameRing`) is there when the consumer drains them.
    @discardableResult
    public func push(
        _ batch: UnsafeBufferPointer<PacketRecord>, beforePublishing: (_ position: Int, _ accepted: Int) -> Void
    ) -> Int {
        guard let src = batch.baseAddress, !batch.isEmpty else { return 0 }
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        let free = capacity - (t - h)
        let n = min(free, batch.count)
        if n < batch.count { dropped.wrappingAdd(UInt64(batch.count - n), ordering: .relaxed) }
        if n > 0 {
            let start = t & mask
            let first = min(n, capacity - start)
            (slots + start).update(from: src, count: first)
            if first < n { slots.update(from: src + first, count: n - first) }
            beforePublishing(t, n)
            tail.store(t + n, ordering: .releasing)
        }
        wakeup.signal()
        return n
    }

    /// Ends the stream: the consumer drains what is left, then `drain` reports the end.
    public func close() {
        closed.store(true, ordering: .releasing)
        wakeup.signal()
    }

    // MARK: consumer side

    /// Hands every waiting record to `body` (in one or two slices), then frees their slots.
    /// Waits up to `timeoutMs` when the ring is empty. Returns false once the ring is closed and
    /// empty: nothing more will come.
    public func drain(timeoutMs: Int = 50, _ body: (UnsafeBufferPointer<PacketRecord>) throws -> Void) rethrows -> Bool
    {
        try drain(timeoutMs: timeoutMs) { slice, _ in try body(slice) }
    }

    /// `drain`, also handing over the position of each slice's first record (`nextPosition` when
    /// it was pushed), to match the records with what travelled beside them (`NameRing`).
    public func drain(
        timeoutMs: Int = 50, _ body: (UnsafeBufferPointer<PacketRecord>, _ position: Int) throws -> Void
    ) rethrows -> Bool {
        var h = head.load(ordering: .relaxed)
        var t = tail.load(ordering: .acquiring)
        if t == h {
            if closed.load(ordering: .acquiring) {
                // Re-check: the producer may have pushed just before closing.
                t = tail.load(ordering: .acquiring)
                if t == h { return false }
            } else {
                _ = wakeup.wait(timeout: .now() + .milliseconds(timeoutMs))
                t = tail.load(ordering: .acquiring)
                if t == h { return !closed.load(ordering: .acquiring) || tail.load(ordering: .acquiring) != h }
            }
        }
        while h != t {
            let start = h & mask
            let n = min(t - h, capacity - start)
            try body(UnsafeBufferPointer(start: slots + start, count: n), h)
            h += n
            head.store(h, ordering: .releasing)
        }
        return true
    }
}
