/// A read-only view of captured bytes in which every read is bounds-checked.
///
/// Reads return `nil` past the end instead of trapping: a packet cut short is normal input, and
/// the decoder labels it by what was captured. The view does not own its memory; it is valid only
/// as long as the buffer it was made from (in practice: inside the capture callback).
public struct Bytes {
    @usableFromInline let base: UnsafeRawPointer?
    public let count: Int

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress
        count = buffer.count
    }

    @inlinable
    public init(base: UnsafeRawPointer?, count: Int) {
        self.base = base
        self.count = base == nil ? 0 : max(0, count)
    }

    /// The bytes as a buffer (for a C function that reads a whole packet, such as a BPF filter).
    @inlinable
    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// True when `n` bytes starting at `offset` were captured.
    @inlinable
    public func has(_ n: Int, at offset: Int) -> Bool {
        offset >= 0 && n >= 0 && offset <= count && count - offset >= n
    }

    @inlinable
    public func u8(_ offset: Int) -> UInt8? {
        guard has(1, at: offset), let base else { return nil }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable
    public func u16be(_ offset: Int) -> UInt16? {
        guard has(2, at: offset), let base else { return nil }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable
    public func u16le(_ offset: Int) -> UInt16? {
        guard has(2, at: offset), let base else { return nil }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable
    public func u32be(_ offset: Int) -> UInt32? {
        guard has(4, at: offset), let base else { return nil }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable
    public func u32le(_ offset: Int) -> UInt32? {
        guard has(4, at: offset), let base else { return nil }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// 16 bytes starting at `offset` as two big-endian words (an IPv6 address), or nil.
    @inlinable
    public func u128be(_ offset: Int) -> (UInt64, UInt64)? {
        guard has(16, at: offset), let base else { return nil }
        let hi = UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let lo = UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        return (hi, lo)
    }
}
