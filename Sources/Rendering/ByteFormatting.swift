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
        RowBytes.append(to: &self) { $0.decimal(value) }
    }

    @inlinable
    public mutating func append(decimal value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        append(decimal: value.magnitude)
    }

    /// Appends `value` zero-padded to exactly `width` digits (value must fit).
    @inlinable
    public mutating func append(decimal value: UInt64, width: Int) {
        RowBytes.append(to: &self) { $0.decimal(value, width: width) }
    }

    /// Epoch nanoseconds as seconds with exactly 9 fractional digits: `1700000000.123456000`.
    @inlinable
    public mutating func append(timestampNs ns: Int64) {
        RowBytes.append(to: &self) { $0.timestamp(ns) }
    }

    /// An IPv4 or IPv6 address in its usual text form (RFC 5952 for IPv6).
    public mutating func append(address: IPAddress, version: UInt8) {
        RowBytes.append(to: &self) { $0.address(address, version: version) }
    }

    /// Appends `s` as a JSON string literal, quotes included (RFC 8259: quote, backslash and every
    /// control character escaped, DEL too). The one JSON string escaper of Rendering.
    public mutating func append(jsonString s: String) {
        append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): append(ascii: "\\\"")
            case UInt8(ascii: "\\"): append(ascii: "\\\\")
            case 0x0A: append(ascii: "\\n")
            case 0x0D: append(ascii: "\\r")
            case 0x09: append(ascii: "\\t")
            case 0x08: append(ascii: "\\b")
            case 0x0C: append(ascii: "\\f")
            case 0..<0x20, 0x7F:
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
        if used < column {
            append(contentsOf: repeatElement(UInt8(ascii: " "), count: column - used))
        } else {
            append(UInt8(ascii: " "))
        }
    }
}
