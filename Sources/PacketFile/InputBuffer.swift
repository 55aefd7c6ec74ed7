import Glibc

/// The file's bytes, read with large sequential `read()`s into one reused buffer.
///
/// Parsers look at `base + start ..< base + end` in place and advance `start` past what they have
/// consumed. When a record or block does not fit in what is buffered, `fill(need:)` moves the
/// unconsumed tail to the front and reads more. The buffer grows only when one record or block is
/// larger than the whole buffer, and then only as far as the data actually arrives (doubling), so
/// a length field can never make us allocate memory the file does not back.
///
/// A plain value without references: the reader copies it into a local for the hot loop (no
/// exclusivity checks, no ARC) and stores it back afterwards. The memory is owned by the reader.
struct InputBuffer {
    /// Bytes read per refill when nothing else is known (a multiple of the page size). 256 KiB
    /// keeps the buffer within the L2 cache while the parser walks it.
    static let defaultCapacity = 256 * 1024

    let fd: Int32
    let isRegularFile: Bool
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// First unconsumed byte.
    var start = 0
    /// One past the last byte read.
    private(set) var end = 0
    /// File offset of `base[0]`.
    private(set) var baseOffset: UInt64 = 0
    private(set) var atEOF = false
    /// `errno` of a failed `read()`, 0 if none. Reading stops at the first error.
    private(set) var readErrno: Int32 = 0

    init(fd: Int32, isRegularFile: Bool, capacity: Int = InputBuffer.defaultCapacity) {
        self.fd = fd
        self.isRegularFile = isRegularFile
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    /// Frees the memory and closes the descriptor (unless it is standard input).
    func release() {
        base.deallocate()
        if fd != STDIN_FILENO { close(fd) }
    }

    @inline(__always)
    var available: Int { end - start }

    @inline(__always)
    var cursor: UnsafeRawPointer { UnsafeRawPointer(base + start) }

    /// File offset of the first unconsumed byte.
    var offset: UInt64 { baseOffset + UInt64(start) }

    /// For a regular file, the bytes between the first unconsumed byte and the file's current
    /// end (buffered or not); nil for pipes and terminals.
    func remainingInFile() -> UInt64? {
        guard isRegularFile else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = UInt64(max(0, st.st_size))
        let position = baseOffset + UInt64(end)
        // The file may have been truncated under us; what is buffered is still there.
        return UInt64(end - start) + (size > position ? size - position : 0)
    }

    /// Makes `need` bytes available from `start` if the input has them. Returns the bytes
    /// available, fewer than `need` only at the end of the input or after a read error.
    ///
    /// Callers check `need` against the format's limits (and, for regular files, against
    /// `remainingInFile()`) before asking for more than `capacity`.
    mutating func fill(need: Int) -> Int {
        while end - start < need && !atEOF && readErrno == 0 {
            // Move the partial record to the front (less than one record: cheap), so every read
            // is as large as the buffer allows.
            if start > 0 { compact() }
            if end == capacity { grow(to: min(need, capacity * 2)) }
            let n = Glibc.read(fd, base + end, capacity - end)
            if n > 0 {
                end += n
            } else if n == 0 {
                atEOF = true
            } else if errno != EINTR {
                readErrno = errno
            }
        }
        return end - start
    }

    /// Moves the unconsumed bytes to the front of the buffer.
    private mutating func compact() {
        let count = end - start
        if count > 0 { memmove(base, base + start, count) }
        baseOffset += UInt64(start)
        start = 0
        end = count
    }

    private mutating func grow(to newCapacity: Int) {
        guard newCapacity > capacity else { return }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        let count = end - start
        if count > 0 { bigger.copyMemory(from: base + start, byteCount: count) }
        base.deallocate()
        base = bigger
        baseOffset += UInt64(start)
        capacity = newCapacity
        start = 0
        end = count
    }
}

/// Loads of file fields in the byte order the file was written in.
struct FieldOrder {
    let bigEndian: Bool

    @inline(__always)
    func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        let raw = p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }

    @inline(__always)
    func u32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        let raw = p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    @inline(__always)
    func u64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        let raw = p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
    }
}
