import Glibc

/// The file's bytes, read with large sequential `read()`s, parsed where they lie.
///
/// Parsers look at `base + start ..< base + end` in place and advance `start` past what they have
/// consumed. When a record or block does not fit in what is buffered, `fill(need:)` makes it fit.
/// Memory grows only when one record or block is larger than the whole buffer, and then only as
/// far as the data backs it (the parsers check a regular file's size first; from a pipe it grows
/// by doubling as the bytes arrive), so a length field can never make us allocate memory the
/// input does not hold.
///
/// Two ways of reading:
/// - directly (pipes, small files): `read()` into one reused buffer; a partial record is moved to
///   the front before each refill;
/// - ahead (regular files of 2 MiB or more): a `Prefetcher` thread reads 1 MiB chunks while the
///   parser works on the previous one. The view is a chunk itself; only a record that spans two
///   chunks is copied, into the staging buffer, and parsing goes on in the next chunk after it.
///
/// A plain value: the reader copies it into a local for the hot loop (no exclusivity checks, no
/// reference counting per packet) and stores it back afterwards. The memory is owned by the reader.
struct InputBuffer {
    /// Bytes read per refill when reading directly (a multiple of the page size). 256 KiB keeps
    /// the buffer within the L2 cache while the parser walks it.
    static let defaultCapacity = 256 * 1024

    let fd: Int32
    let isRegularFile: Bool
    /// The bytes the parser sees.
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// First unconsumed byte.
    var start = 0
    /// One past the last byte available.
    private(set) var end = 0
    /// File offset of `base[0]`.
    private(set) var baseOffset: UInt64 = 0
    private(set) var atEOF = false
    /// `errno` of a failed `read()`, 0 if none. Reading stops at the first error.
    private(set) var readErrno: Int32 = 0

    /// The buffer this value owns: the read buffer, or (reading ahead) the staging buffer.
    private var own: UnsafeMutableRawPointer
    private var ownCapacity: Int
    private let prefetcher: Prefetcher?
    /// Reading ahead: the view is a chunk, to give back when parsing leaves it.
    private var viewIsChunk = false
    /// Reading ahead: the chunk after the view, from `pendingOffset` on (file offset of its start:
    /// `pendingFileOffset`).
    private var pending: (base: UnsafeMutableRawPointer, count: Int)?
    private var pendingOffset = 0
    private var pendingFileOffset: UInt64 = 0
    private var nextChunkFileOffset: UInt64 = 0

    /// Decompresses the descriptor's bytes (gzip, zstd); nil when they are read as they are.
    private(set) var decompressor: Decompressor?

    /// `size` is the file's size (regular files), `offset` the file offset the descriptor is at
    /// (the reader resuming), `readAhead` false for a reader that reads only a little (a peek).
    /// With a `decompressor` the bytes parsed are the decompressed ones: the input behaves as a
    /// pipe (no size known), read ahead on the helper thread when the compressed file is large.
    init(
        fd: Int32, isRegularFile: Bool, size: Int64 = 0, capacity: Int = InputBuffer.defaultCapacity,
        offset: UInt64 = 0, readAhead: Bool = true, decompressor: Decompressor? = nil
    ) {
        self.fd = fd
        self.isRegularFile = isRegularFile && decompressor == nil
        self.capacity = capacity
        self.decompressor = decompressor
        own = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        ownCapacity = capacity
        base = own
        baseOffset = offset
        nextChunkFileOffset = offset
        let minimum = decompressor == nil ? Prefetcher.minimumFileSize : Prefetcher.minimumCompressedSize
        prefetcher =
            isRegularFile && readAhead && size >= minimum ? Prefetcher(fd: fd, decompressor: decompressor) : nil
    }

    /// The bytes buffered so far are compressed: from now on the parser sees them, and the rest
    /// of the descriptor, decompressed. Only before parsing starts, and only when reading
    /// directly (pipes; regular files are recognised before the buffer is made). False when the
    /// library cannot start (no memory).
    mutating func startDecompressing(_ kind: Decompressor.Kind) -> Bool {
        precondition(prefetcher == nil && baseOffset == 0 && start == 0, "decompress from the start, directly only")
        let prefix = UnsafeRawBufferPointer(start: base, count: end)
        guard let d = Decompressor(kind: kind, fd: fd, prefix: prefix) else { return false }
        decompressor = d
        end = 0
        atEOF = false
        return true
    }

    /// One `read()` of the descriptor, or of the decompressed stream.
    @inline(__always)
    private func readSome(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        if let decompressor {
            let n = decompressor.read(into: buffer, count: count)
            if n < 0 { errno = EIO }
            return n
        }
        return Glibc.read(fd, buffer, count)
    }

    /// Puts bytes already read from the descriptor (a sniffed magic number) in front of what
    /// `fill` reads next. Only before parsing starts, and only when reading directly.
    mutating func preload(_ bytes: [UInt8]) {
        precondition(prefetcher == nil && start == 0 && end == 0, "preload before reading, directly only")
        if bytes.count > capacity { grow(to: bytes.count) }
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        end = bytes.count
    }

    /// Stops reading ahead, frees the memory and closes the descriptor (unless it is standard
    /// input).
    func release() {
        prefetcher?.shutdown()
        own.deallocate()
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
        // The file may have been truncated under us; what is buffered is still there.
        return max(UInt64(end - start), size > offset ? size - offset : 0)
    }

    /// Makes `need` bytes available from `start` if the input has them. Returns the bytes
    /// available, fewer than `need` only at the end of the input or after a read error.
    ///
    /// Callers check `need` against the format's limits (and, for regular files, against
    /// `remainingInFile()`) before asking for more than `capacity`.
    mutating func fill(need: Int) -> Int {
        if prefetcher != nil { return fillAhead(need: need) }
        while end - start < need && !atEOF && readErrno == 0 {
            // Move the partial record to the front (less than one record: cheap), so every read
            // is as large as the buffer allows.
            if start > 0 { compact() }
            if end == capacity { grow(to: min(need, capacity * 2)) }
            let n = readSome(base + end, capacity - end)
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

    /// Moves the unconsumed bytes to the front of the own buffer (which is the view).
    private mutating func compact() {
        let count = end - start
        if count > 0 { memmove(base, base + start, count) }
        baseOffset += UInt64(start)
        start = 0
        end = count
    }

    /// Grows the own buffer (which is the view), keeping the unconsumed bytes.
    private mutating func grow(to newCapacity: Int) {
        guard newCapacity > capacity else { return }
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        let count = end - start
        if count > 0 { bigger.copyMemory(from: base + start, byteCount: count) }
        own.deallocate()
        own = bigger
        ownCapacity = newCapacity
        base = bigger
        baseOffset += UInt64(start)
        capacity = newCapacity
        start = 0
        end = count
    }

    /// `fill` when reading ahead.
    private mutating func fillAhead(need: Int) -> Int {
        guard let prefetcher else { return end - start }
        while end - start < need {
            if pending == nil {
                if atEOF || readErrno != 0 { break }
                guard let chunk = prefetcher.next() else {
                    atEOF = true
                    readErrno = prefetcher.failure
                    break
                }
                pending = chunk
                pendingOffset = 0
                pendingFileOffset = nextChunkFileOffset
                nextChunkFileOffset += UInt64(chunk.count)
            }
            let next = pending!
            if start == end {
                // Nothing left in the view: go on in the next chunk, without copying.
                if viewIsChunk { prefetcher.releaseOldest() }
                base = next.base
                baseOffset = pendingFileOffset
                start = pendingOffset
                end = next.count
                capacity = Prefetcher.chunkSize
                viewIsChunk = true
                pending = nil
                continue
            }
            // A record spans chunks: gather it in the staging buffer.
            if viewIsChunk {
                let count = end - start
                if ownCapacity < max(need, count) {
                    own.deallocate()
                    ownCapacity = max(need, count, ownCapacity * 2)
                    own = UnsafeMutableRawPointer.allocate(byteCount: ownCapacity, alignment: 16)
                }
                own.copyMemory(from: base + start, byteCount: count)
                prefetcher.releaseOldest()
                viewIsChunk = false
                baseOffset += UInt64(start)
                base = own
                capacity = ownCapacity
                start = 0
                end = count
            } else {
                if start > 0 { compact() }
                if need > capacity { grow(to: max(need, capacity * 2)) }
            }
            let take = min(need - (end - start), next.count - pendingOffset)
            (base + end).copyMemory(from: next.base + pendingOffset, byteCount: take)
            end += take
            pendingOffset += take
            if pendingOffset == next.count {
                prefetcher.releaseOldest()
                pending = nil
            }
        }
        return end - start
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
