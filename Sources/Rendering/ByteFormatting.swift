import Glibc
public import PacketWire

/// Formatting straight into a reused byte buffer: no `String` per field on the per-packet path.
extension Array where Element == UInt8 {
    @inlinable
    public mutating func append(ascii s: StaticString) {
        s.withUTF8Buffer { append(contentsOf: $0) }
    }

    /// Appends an unsigned decimal.
    @inlinable
    public mutating func append(decimal value: UInt64) {
        if value < 10 {
            append(UInt8(truncatingIfNeeded: value) &+ 48)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for 20 digits
        let n = Swift.withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var v = value
            var i = raw.count
            while v > 0 {
                i -= 1
                raw[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                v /= 10
            }
            append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
            return raw.count - i
        }
        _ = n
    }

    @inlinable
    public mutating func append(decimal value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        append(decimal: value.magnitude)
    }

    /// Appends `value` zero-padded to exactly `width` digits (value must fit).
    @inlinable
    public mutating func append(decimal value: UInt64, width: Int) {
        var v = value
        let start = count
        for _ in 0..<width { append(48) }
        var i = count - 1
        while i >= start {
            self[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
            v /= 10
            i -= 1
        }
    }

    /// Epoch nanoseconds as seconds with exactly 9 fractional digits: `1700000000.123456000`.
    @inlinable
    public mutating func append(timestampNs ns: Int64) {
        if ns < 0 { append(UInt8(ascii: "-")) }
        let m = ns.magnitude
        append(decimal: m / 1_000_000_000)
        append(UInt8(ascii: "."))
        append(decimal: m % 1_000_000_000, width: 9)
    }

    /// An IPv4 or IPv6 address in its usual text form (RFC 5952 for IPv6).
    public mutating func append(address: IPAddress, version: UInt8) {
        if version == 4 {
            let v = address.v4
            append(decimal: UInt64(v >> 24))
            append(UInt8(ascii: "."))
            append(decimal: UInt64((v >> 16) & 0xFF))
            append(UInt8(ascii: "."))
            append(decimal: UInt64((v >> 8) & 0xFF))
            append(UInt8(ascii: "."))
            append(decimal: UInt64(v & 0xFF))
            return
        }
        var raw: (UInt64, UInt64) = (address.hi.bigEndian, address.lo.bigEndian)
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        Swift.withUnsafeBytes(of: &raw) { src in
            Swift.withUnsafeMutableBytes(of: &text) { dst in
                let p = dst.baseAddress!.assumingMemoryBound(to: CChar.self)
                if inet_ntop(AF_INET6, src.baseAddress, p, socklen_t(dst.count)) != nil {
                    append(contentsOf: UnsafeRawBufferPointer(start: dst.baseAddress, count: strlen(p)))
                }
            }
        }
    }

    /// Appends `s` as a JSON string literal, quotes included.
    public mutating func append(jsonString s: String) {
        append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): append(ascii: "\\\"")
            case UInt8(ascii: "\\"): append(ascii: "\\\\")
            case 0x0A: append(ascii: "\\n")
            case 0x0D: append(ascii: "\\r")
            case 0x09: append(ascii: "\\t")
            case 0..<0x20:
                append(ascii: "\\u00")
                let hex: StaticString = "0123456789abcdef"
                hex.withUTF8Buffer { h in
                    append(h[Int(b >> 4)])
                    append(h[Int(b & 0xF)])
                }
            default: append(b)
            }
        }
        append(UInt8(ascii: "\""))
    }

    /// Pads with spaces up to `column` bytes after `lineStart`.
    @inlinable
    public mutating func pad(from lineStart: Int, to column: Int) {
        let used = count - lineStart
        if used < column { append(contentsOf: repeatElement(UInt8(ascii: " "), count: column - used)) }
        else { append(UInt8(ascii: " ")) }
    }
}
