/// Zeek's TCP endpoint states (`TCP_ENDPOINT_*`).
enum TCPState: UInt8 {
    case inactive = 0
    case synSent = 1
    case synAckSent = 2
    case partial = 3
    case established = 4
    case closed = 5
    case reset = 6
}

/// TCP flag bits.
enum TCPFlag {
    static let fin: UInt8 = 0x01
    static let syn: UInt8 = 0x02
    static let rst: UInt8 = 0x04
    static let ack: UInt8 = 0x10
}

/// The byte ranges one side sent that were not yet acknowledged (Zeek's reassembler block list),
/// kept as at most `capacity` disjoint ranges in relative sequence space, merged when they touch.
/// Past the capacity the two closest ranges are merged (the hole between them counts as seen).
/// The count and the first ranges share a cache line (a connection in order holds one range).
struct RangeList {
    static let capacity = 8
    var count = 0
    /// lower 0, upper 0, lower 1, upper 1, ...
    var bounds:
        (
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    @inline(__always)
    func lo(_ i: Int) -> UInt64 { bound(2 * i) }
    @inline(__always)
    func hi(_ i: Int) -> UInt64 { bound(2 * i + 1) }

    @inline(__always)
    func bound(_ i: Int) -> UInt64 {
        switch i {
        case 0: bounds.0
        case 1: bounds.1
        case 2: bounds.2
        case 3: bounds.3
        case 4: bounds.4
        case 5: bounds.5
        case 6: bounds.6
        case 7: bounds.7
        case 8: bounds.8
        case 9: bounds.9
        case 10: bounds.10
        case 11: bounds.11
        case 12: bounds.12
        case 13: bounds.13
        case 14: bounds.14
        default: bounds.15
        }
    }

    mutating func set(_ i: Int, _ l: UInt64, _ u: UInt64) {
        withUnsafeMutableBytes(of: &bounds) {
            $0.storeBytes(of: l, toByteOffset: i * 16, as: UInt64.self)
            $0.storeBytes(of: u, toByteOffset: i * 16 + 8, as: UInt64.self)
        }
    }

    mutating func remove(at i: Int) {
        var j = i
        while j + 1 < count {
            set(j, lo(j + 1), hi(j + 1))
            j += 1
        }
        count -= 1
    }

    /// Adds [l, u), merging with the ranges it touches.
    mutating func insert(_ l: UInt64, _ u: UInt64) {
        guard l < u else { return }
        var newLo = l
        var newHi = u
        var i = 0
        while i < count {
            if hi(i) < newLo || lo(i) > newHi {
                i += 1
                continue
            }
            newLo = min(newLo, lo(i))
            newHi = max(newHi, hi(i))
            remove(at: i)
        }
        if count == RangeList.capacity {
            // Merge the two closest neighbours to make room.
            var best = 0
            var bestGap = UInt64.max
            for k in 0..<(count - 1) where lo(k + 1) - hi(k) < bestGap {
                bestGap = lo(k + 1) - hi(k)
                best = k
            }
            set(best, lo(best), hi(best + 1))
            remove(at: best + 1)
        }
        var at = 0
        while at < count && lo(at) < newLo { at += 1 }
        var j = count
        while j > at {
            set(j, lo(j - 1), hi(j - 1))
            j -= 1
        }
        set(at, newLo, newHi)
        count += 1
    }

    /// Bytes held.
    var size: UInt64 {
        var total: UInt64 = 0
        for i in 0..<count { total &+= hi(i) - lo(i) }
        return total
    }
}

/// One side of a TCP connection: Zeek's `TCP_Endpoint` and its `TCP_Reassembler`'s sequence
/// bookkeeping (no data is kept, only which ranges were seen). What every packet reads or
/// changes; the rest of a side is in `TCPEndpointRare` and its ranges in a `RangeList`, kept
/// apart in `Connection` so that a packet touches few cache lines.
struct TCPEndpoint {
    var state = TCPState.inactive
    var prevState = TCPState.inactive
    var isOrig: Bool
    var didClose = false
    var skipDeliveries = false
    var didEOF = false
    var windowScale: Int8 = 0
    var startSeq: Int64 = 0
    var lastSeq: UInt32 = 0
    var ackSeq: UInt32 = 0
    var seqWraps: UInt32 = 0
    var ackWraps: UInt32 = 0
    var window: UInt32 = 0
    var windowSeq: UInt32 = 0
    var windowAckSeq: UInt32 = 0
    var finCount: UInt32 = 0
    var rstCount: UInt32 = 0
    // The reassembler.
    var lastReassem: UInt64 = 1
    var trimSeq: UInt64 = 1

    init(isOrig: Bool) { self.isOrig = isOrig }

    mutating func setState(_ s: TCPState) {
        if s != state {
            prevState = state
            state = s
        }
    }

    static func full(_ seq: UInt32, _ wraps: UInt32) -> UInt64 { UInt64(wraps) << 32 &+ UInt64(seq) }

    func relative(_ seq: UInt32, _ wraps: UInt32) -> UInt64 {
        TCPEndpoint.full(seq, wraps) &- UInt64(bitPattern: startSeq)
    }

    mutating func updateLastSeq(_ seq: UInt32) {
        if seq < lastSeq { seqWraps &+= 1 }
        lastSeq = seq
    }

    mutating func updateAckSeq(_ seq: UInt32) {
        if seq < ackSeq { ackWraps &+= 1 }
        ackSeq = seq
    }

    mutating func initSeqs(start: UInt32, last: UInt32) {
        startSeq = Int64(start)
        ackSeq = start
        lastSeq = last
    }

    /// True if none of this side's data has been acknowledged (one octet allowed, for the SYN).
    var noDataAcked: Bool {
        let ack = TCPEndpoint.full(ackSeq, ackWraps)
        let start = UInt64(bitPattern: startSeq)
        return ack == start || ack == start &+ 1
    }

    /// Zeek's `TCP_Endpoint::Size`: payload bytes by the sequence numbers.
    func size(peerState: TCPState) -> UInt64 {
        if prevState == .synSent && state == .reset && peerState == .inactive && !noDataAcked { return 0 }
        let last64 = TCPEndpoint.full(lastSeq, seqWraps)
        let ack64 = TCPEndpoint.full(ackSeq, ackWraps)
        var size = (last64 > ack64 ? last64 : ack64) &- UInt64(bitPattern: startSeq)
        if size != 0 { size -= 1 }
        if finCount > 0 && size != 0 { size -= 1 }
        return size
    }

    var isClean: Bool { state == .established || (state == .closed && prevState == .established) }

    var isActive: Bool { state != .inactive && !didClose }
}

/// The parts of a side that only some packets touch: the FIN's sequence, the last SYN, FIN and
/// RST positions of the history and the counters of the scaled history letters.
struct TCPEndpointRare {
    var finSeq: UInt64 = 0
    var histLastSYN: UInt64 = 0
    var histLastFIN: UInt64 = 0
    var histLastRST: UInt64 = 0
    var gapCount: UInt32 = 0
    var gapThreshold: UInt32 = 1
    var checksumCount: UInt32 = 0
    var checksumThreshold: UInt32 = 1
    var retransmitCount: UInt32 = 0
    var retransmitThreshold: UInt32 = 1
    var zeroWindowCount: UInt32 = 0
    var zeroWindowThreshold: UInt32 = 1
}

/// `seq_delta`: the signed distance between two sequence numbers.
@inline(__always)
func seqDelta(_ a: UInt32, _ b: UInt32) -> Int32 { Int32(bitPattern: a &- b) }
