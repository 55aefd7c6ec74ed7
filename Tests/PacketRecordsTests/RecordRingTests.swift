import Foundation
import PacketRecords
import PacketWire
import Testing

/// A record whose timestamp is its sequence number, so order and gaps are visible.
private func seq(_ n: Int) -> PacketRecord {
    PacketRecord(timestampNs: Int64(n), length: UInt32(60 + n % 1000), captured: 60, label: .udp)
}

private func push(_ ring: RecordRing, _ range: Range<Int>) -> Int {
    let records = range.map(seq)
    return records.withUnsafeBufferPointer { ring.push($0) }
}

/// Drains everything waiting (without waiting for more) and returns the sequence numbers, the
/// number of slices `drain` handed over, and what `drain` returned.
private func drainAll(_ ring: RecordRing) -> (seqs: [Int], slices: Int, open: Bool) {
    var seqs: [Int] = []
    var slices = 0
    let open = ring.drain(timeoutMs: 0) { batch in
        slices += 1
        seqs += batch.map { Int($0.timestampNs) }
    }
    return (seqs, slices, open)
}

@Suite struct RecordRingTests {
    @Test func capacityIsAPowerOfTwo() {
        #expect(RecordRing(capacity: 0).capacity == 2)
        #expect(RecordRing(capacity: 5).capacity == 8)
        #expect(RecordRing(capacity: 1024).capacity == 1024)
        #expect(RecordRing(capacity: 1025).capacity == 2048)
    }

    @Test func aFullRingTakesWhatFitsAndCountsTheRest() {
        let ring = RecordRing(capacity: 8)
        #expect(push(ring, 0..<5) == 5)
        #expect(push(ring, 5..<10) == 3)  // 8 slots: records 8 and 9 do not fit
        #expect(ring.droppedCount == 2)
        #expect(ring.occupancy == 8)
        #expect(push(ring, 10..<12) == 0)
        #expect(ring.droppedCount == 4)
        let out = drainAll(ring)
        #expect(out.seqs == Array(0..<8))
        #expect(out.open)
        #expect(ring.occupancy == 0)
        // Room again: the producer goes on where it is.
        #expect(push(ring, 12..<14) == 2)
        #expect(drainAll(ring).seqs == [12, 13])
        #expect(ring.droppedCount == 4)
    }

    @Test func recordsCrossTheEndOfTheSlotsInOrder() {
        let ring = RecordRing(capacity: 8)
        var next = 0
        var received: [Int] = []
        var twoSliceDrains = 0
        for _ in 0..<100 {
            #expect(push(ring, next..<(next + 3)) == 3)
            next += 3
            let out = drainAll(ring)
            received += out.seqs
            if out.slices == 2 { twoSliceDrains += 1 }
        }
        #expect(received == Array(0..<300))
        #expect(twoSliceDrains > 0)  // 3 does not divide 8: some batches wrap around
        #expect(ring.droppedCount == 0)
    }

    @Test func recordsPushedBeforeCloseAreDeliveredThenTheRingEnds() {
        let ring = RecordRing(capacity: 16)
        _ = push(ring, 0..<3)
        ring.close()
        let first = drainAll(ring)
        #expect(first.seqs == [0, 1, 2])
        #expect(first.open)
        let second = drainAll(ring)
        #expect(second.seqs.isEmpty)
        #expect(!second.open)
    }

    @Test func anEmptyOpenRingWaitsThenSaysMoreMayCome() {
        let ring = RecordRing(capacity: 16)
        var calls = 0
        let open = ring.drain(timeoutMs: 20) { _ in calls += 1 }
        #expect(open)
        #expect(calls == 0)
    }

    @Test func aPushWakesAWaitingConsumer() {
        let ring = RecordRing(capacity: 16)
        let producer = Thread {
            usleep(50_000)
            _ = push(ring, 0..<4)
        }
        producer.start()
        var got: [Int] = []
        let started = ContinuousClock.now
        // Each drain may wait 10 s; the push comes after 50 ms and must end the wait.
        let waitMs = 10_000
        while got.isEmpty && ContinuousClock.now - started < .seconds(20) {
            _ = ring.drain(timeoutMs: waitMs) { got += $0.map { Int($0.timestampNs) } }
        }
        #expect(got == [0, 1, 2, 3])
        // Woken by the push, not by the end of the wait: before half of it. Measured 0.05 s (2-core
        // machine); half the wait, 5 s, is a hundred times that.
        let took = ContinuousClock.now - started
        #expect(took < .milliseconds(waitMs / 2), "\(took)")
    }

    /// One producer thread, one consumer thread, a small ring and a consumer that starts late:
    /// records arrive in order, the ones lost are exactly the ones counted as dropped, and every
    /// record pushed before `close` is delivered.
    @Test func producerAndConsumerOnTwoThreadsLoseOnlyWhatIsCounted() {
        let ring = RecordRing(capacity: 256)
        let total = 200_000
        let batch = 64
        let done = DispatchSemaphore(value: 0)
        let producer = Thread {
            var n = 0
            while n < total {
                _ = push(ring, n..<min(total, n + batch))
                n += batch
                if n % (batch * 50) == 0 { sched_yield() }
            }
            ring.close()
            done.signal()
        }
        producer.start()
        // Start draining only once the ring has overflowed, so drops happen on any machine.
        let waitStart = Date()
        while ring.droppedCount == 0 && Date().timeIntervalSince(waitStart) < 10 { usleep(1000) }
        var received: [Int] = []
        received.reserveCapacity(total)
        var open = true
        let started = Date()
        while open && Date().timeIntervalSince(started) < 60 {
            open = ring.drain(timeoutMs: 50) { b in
                for r in b { received.append(Int(r.timestampNs)) }
            }
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(!open)
        #expect(ring.droppedCount > 0)
        #expect(UInt64(received.count) + ring.droppedCount == UInt64(total))
        // In order, no duplicates, no torn or stale slot.
        #expect(zip(received, received.dropFirst()).allSatisfy { $0 < $1 })
        #expect(received.allSatisfy { $0 >= 0 && $0 < total })
    }

    /// Names travel beside their records (the live capture's `NameRing`): pushed before the
    /// records are published, every delivered record that carried a name gets it, on its own
    /// record, even when the consumer drains while the producer pushes. (Pushed after, as they
    /// once were, a drain between the two lost the name: seen as a live row without its name.)
    @Test func namesPushedBeforePublishingReachTheirRecords() {
        let ring = RecordRing(capacity: 256)
        let names = NameRing()
        let total = 100_000
        let batch = 16
        let producer = Thread {
            let events = NameEvents()
            var n = 0
            while n < total {
                events.clear()
                // One name a batch, on the record whose sequence number is a multiple of 5.
                for k in n..<min(total, n + batch) where k % 5 == 0 {
                    events.append(kind: .address, version: 4, address: IPAddress(hi: 0, lo: UInt64(k)), index: k - n) {
                        $0.storeBytes(of: 0x61, as: UInt8.self)
                        return 1
                    }
                }
                let records = (n..<min(total, n + batch)).map(seq)
                records.withUnsafeBufferPointer { b in
                    ring.push(b) { base, accepted in names.push(events, recordBase: base, accepted: accepted) }
                }
                n += batch
            }
            ring.close()
        }
        producer.start()
        let taken = NameEvents()
        var named = 0
        var wrong = 0
        var missing = 0
        var open = true
        let started = Date()
        while open && Date().timeIntervalSince(started) < 60 {
            open = ring.drain(timeoutMs: 50) { b, position in
                names.take(from: position, to: position + b.count, into: taken)
                var found = Set<Int>()
                for i in 0..<taken.count {
                    let e = taken.event(i)
                    if Int(e.address.lo) == Int(b[Int(e.index)].timestampNs) {
                        found.insert(Int(e.index))
                    } else {
                        wrong += 1
                    }
                }
                for (i, r) in b.enumerated() where r.timestampNs % 5 == 0 {
                    if found.contains(i) { named += 1 } else { missing += 1 }
                }
            }
        }
        #expect(!open)
        #expect(names.droppedCount == 0)
        #expect(wrong == 0 && missing == 0 && named > 0, "\(named) named, \(missing) missing, \(wrong) wrong")
    }
}

@Suite struct StopFlagTests {
    @Test func aRequestFromAnotherThreadIsSeenWithItsSignal() {
        let flag = StopFlag()
        #expect(!flag.isRequested)
        #expect(flag.signal == 0)
        let t = Thread { flag.request(signal: SIGTERM) }
        t.start()
        let started = Date()
        while !flag.isRequested && Date().timeIntervalSince(started) < 10 { usleep(1000) }
        #expect(flag.isRequested)
        #expect(flag.signal == SIGTERM)
    }

    @Test func aPlainRequestKeepsNoSignal() {
        let flag = StopFlag()
        flag.request()
        #expect(flag.isRequested)
        #expect(flag.signal == 0)
    }
}
