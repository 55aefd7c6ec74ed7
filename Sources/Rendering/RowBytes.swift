public import PacketWire

/// A cursor over a fixed scratch buffer that one output row is formatted into, then appended to
/// the output in one copy. Hand-written for the per-packet path: appending to `[UInt8]` byte by
/// byte costs a uniqueness check and a capacity check per byte, and libc's `inet_ntop` goes
/// through `sprintf`; both showed up at the top of the profile of `sniff --format csv`.
///
/// The caller guarantees the room (`RowBytes.capacity` covers the longest row any writer makes).
@usableFromInline
struct RowBytes {
    @usableFromInline static let capacity = 512
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline var count = 0

    @inlinable init(_ base: UnsafeMutablePointer<UInt8>) { self.base = base }

    /// Formats one row into stack scratch space and appends it to `out`.
    @inlinable
    static func append(to out: inout [UInt8], capacity: Int = RowBytes.capacity, _ body: (inout RowBytes) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { scratch in
            var row = RowBytes(scratch.baseAddress!)
            body(&row)
            out.append(contentsOf: UnsafeBufferPointer(start: scratch.baseAddress, count: row.count))
        }
    }

    @inlinable mutating func byte(_ b: UInt8) {
        base[count] = b
        count &+= 1
    }

    @inlinable mutating func ascii(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        (base + count).update(from: s.utf8Start, count: n)
        count &+= n
    }

    @inlinable mutating func bytes(_ b: UnsafeRawBufferPointer) {
        guard let start = b.baseAddress, b.count > 0 else { return }
        (base + count).update(from: start.assumingMemoryBound(to: UInt8.self), count: b.count)
        count &+= b.count
    }

    @inlinable mutating func decimal(_ value: UInt64) {
        // Count digits by comparison (no division), then write two digits per step.
        var digits = 1
        var limit: UInt64 = 10
        while value >= limit {
            digits &+= 1
            if digits == 20 { break }
            limit &*= 10
        }
        decimal(value, width: digits)
    }

    /// Exactly `width` digits, zero-padded (the value must fit).
    @inlinable mutating func decimal(_ value: UInt64, width: Int) {
        let pairs: StaticString =
            "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        let table = pairs.utf8Start
        var v = value
        var i = count &+ width
        while i &- count >= 2 {
            let r = Int(v % 100)
            v /= 100
            i &-= 2
            base[i] = table[r &* 2]
            base[i &+ 1] = table[r &* 2 &+ 1]
        }
        if i > count { base[count] = UInt8(truncatingIfNeeded: v % 10) &+ 48 }
        count &+= width
    }

    /// Epoch nanoseconds as seconds with exactly 9 fractional digits.
    @inlinable mutating func timestamp(_ ns: Int64) {
        if ns < 0 { byte(UInt8(ascii: "-")) }
        let m = ns.magnitude
        decimal(m / 1_000_000_000)
        byte(UInt8(ascii: "."))
        decimal(m % 1_000_000_000, width: 9)
    }

    @inlinable mutating func ipv4(_ v: UInt32) {
        decimal(UInt64(v >> 24))
        byte(UInt8(ascii: "."))
        decimal(UInt64((v >> 16) & 0xFF))
        byte(UInt8(ascii: "."))
        decimal(UInt64((v >> 8) & 0xFF))
        byte(UInt8(ascii: "."))
        decimal(UInt64(v & 0xFF))
    }

    @inlinable mutating func hex16(_ w: UInt16) {
        var shift = 12
        while shift > 0 && (w >> UInt16(shift)) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            let d = UInt8((w >> UInt16(shift)) & 0xF)
            byte(d < 10 ? d &+ 48 : d &+ 87)
            shift -= 4
        }
    }

    /// IPv6 text as RFC 5952 (and glibc's inet_ntop) writes it: lower-case hex without leading
    /// zeros, the longest run of two or more zero groups (the first on a tie) as `::`, and the
    /// IPv4-compatible and IPv4-mapped forms (`::1.2.3.4`, `::ffff:1.2.3.4`) with a dotted tail.
    @inlinable mutating func ipv6(hi: UInt64, lo: UInt64) {
        func group(_ i: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (i < 4 ? hi >> UInt64(48 - 16 * i) : lo >> UInt64(48 - 16 * (i - 4))))
        }
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for i in 0..<8 {
            if group(i) == 0 {
                if runStart < 0 { runStart = i }
                let length = i - runStart + 1
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
            } else {
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        let embedsIPv4 = bestStart == 0 && (bestLength == 6 || (bestLength == 5 && group(5) == 0xFFFF))
        var i = 0
        while i < 8 {
            if i == bestStart {
                byte(UInt8(ascii: ":"))
                if i == 0 { byte(UInt8(ascii: ":")) }
                i += bestLength
                if embedsIPv4 {
                    if bestLength == 5 { ascii("ffff:") }
                    ipv4(UInt32(truncatingIfNeeded: lo))
                    return
                }
                continue
            }
            hex16(group(i))
            if i < 7 { byte(UInt8(ascii: ":")) }
            i += 1
        }
    }

    @inlinable mutating func address(_ a: IPAddress, version: UInt8) {
        if version == 4 { ipv4(a.v4) } else { ipv6(hi: a.hi, lo: a.lo) }
    }
}
