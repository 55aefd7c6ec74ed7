import CZlib
import CZstd
import Glibc

/// A compressed capture, decompressed as it is read: gzip through zlib, zstd through libzstd,
/// recognised by the magic number (never the name). Streaming: memory is the two libraries'
/// state plus one input buffer, whatever the file size. Concatenated gzip members and zstd
/// frames are read one after the other, as `gzip -dc` and `zstd -dc` do.
///
/// Used by one thread at a time: the reader's, or the read-ahead thread's when there is one.
final class Decompressor {
    enum Kind: Sendable {
        case gzip, zstd

        var name: String { self == .gzip ? "gzip" : "zstd" }

        /// The kind whose magic number `p` starts with (at least 4 bytes readable), if any.
        static func detect(_ p: UnsafeRawPointer, count: Int) -> Kind? {
            guard count >= 4 else { return nil }
            if p.load(as: UInt8.self) == 0x1F && p.load(fromByteOffset: 1, as: UInt8.self) == 0x8B { return .gzip }
            if UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) == 0xFD2F_B528 { return .zstd }
            return nil
        }
    }

    static let inputCapacity = 128 * 1024

    let kind: Kind
    private let fd: Int32
    private let input: UnsafeMutableRawPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var inputEOF = false
    private var zlib: UnsafeMutablePointer<z_stream>?
    private var zstd: OpaquePointer?
    /// True between frames or members (a clean place for the input to end).
    private var betweenFrames = true
    private var ended = false
    /// Why decompression stopped early; set once, read after `read` returned -1.
    private(set) var failure: CaptureFileError?

    /// Decompresses what `fd` holds after `prefix` (compressed bytes already read from it).
    init?(kind: Kind, fd: Int32, prefix: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        self.kind = kind
        self.fd = fd
        input = .allocate(byteCount: max(Decompressor.inputCapacity, prefix.count), alignment: 16)
        if let base = prefix.baseAddress, prefix.count > 0 {
            input.copyMemory(from: base, byteCount: prefix.count)
            inputEnd = prefix.count
        }
        switch kind {
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 32: a window of 32 KiB, gzip or zlib header detected automatically.
            guard inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                input.deallocate()
                return nil
            }
            zlib = stream
        case .zstd:
            guard let context = ZSTD_createDStream() else {
                input.deallocate()
                return nil
            }
            zstd = context
        }
    }

    deinit {
        if let zlib {
            inflateEnd(zlib)
            zlib.deallocate()
        }
        if let zstd { ZSTD_freeDStream(zstd) }
        input.deallocate()
    }

    /// Fills `buffer` with up to `count` decompressed bytes. Returns how many (fewer only at the
    /// end), 0 at a clean end, -1 when the input is damaged, cut short or unreadable (`failure`).
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Int {
        var produced = 0
        while produced < count && !ended && failure == nil {
            // Hand over what is decompressed before a read that might wait (a live pipe).
            if inputStart == inputEnd && produced > 0 { break }
            if inputStart == inputEnd && !refill() { break }
            if inputStart == inputEnd {
                // The compressed input ended: cleanly only between frames.
                if !betweenFrames { fail(truncated: true, "") }
                ended = true
                break
            }
            let out = buffer + produced
            let n = kind == .gzip ? inflateSome(out, count - produced) : zstdSome(out, count - produced)
            if n < 0 { break }
            produced += n
        }
        if produced > 0 { return produced }
        return failure == nil ? 0 : -1
    }

    /// Decompresses and drops the first `count` bytes (a reader resuming where it was). False
    /// when the stream ends or fails before.
    func skip(_ count: UInt64) -> Bool {
        let scratchSize = 64 * 1024
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
        defer { scratch.deallocate() }
        var left = count
        while left > 0 {
            let n = read(into: scratch, count: Int(min(left, UInt64(scratchSize))))
            if n <= 0 { return false }
            left -= UInt64(n)
        }
        return true
    }

    /// Reads more compressed bytes; false after a read error (`failure` set).
    private func refill() -> Bool {
        if inputEOF { return true }
        inputStart = 0
        inputEnd = 0
        while true {
            let n = Glibc.read(fd, input, Decompressor.inputCapacity)
            if n > 0 {
                inputEnd = n
                return true
            }
            if n == 0 {
                inputEOF = true
                return true
            }
            if errno != EINTR {
                failure = CaptureFileError(.access, "error reading dump file: \(String(cString: strerror(errno)))")
                return false
            }
        }
    }

    private func inflateSome(_ out: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let z = zlib else { return -1 }
        if betweenFrames {
            // After a member, only another gzip member may follow; anything else is ignored, as
            // gzip -d does with trailing garbage (tape padding, zeros).
            if inputEnd - inputStart >= 1 && input.load(fromByteOffset: inputStart, as: UInt8.self) != 0x1F {
                ended = true
                return 0
            }
        }
        z.pointee.next_in = (input + inputStart).assumingMemoryBound(to: Bytef.self)
        z.pointee.avail_in = uInt(inputEnd - inputStart)
        z.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        z.pointee.avail_out = uInt(min(count, Int(UInt32.max)))
        let before = z.pointee.avail_out
        let code = inflate(z, Z_NO_FLUSH)
        inputStart = inputEnd - Int(z.pointee.avail_in)
        let produced = Int(before - z.pointee.avail_out)
        switch code {
        case Z_OK, Z_BUF_ERROR:
            betweenFrames = false
        case Z_STREAM_END:
            betweenFrames = true
            inflateReset(z)
        default:
            let detail = z.pointee.msg.map { String(cString: $0) } ?? "code \(code)"
            fail(truncated: false, detail)
            return produced > 0 ? produced : -1
        }
        return produced
    }

    private func zstdSome(_ out: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let z = zstd else { return -1 }
        var inBuffer = ZSTD_inBuffer(src: input + inputStart, size: inputEnd - inputStart, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: out, size: count, pos: 0)
        let code = ZSTD_decompressStream(z, &outBuffer, &inBuffer)
        inputStart += inBuffer.pos
        if ZSTD_isError(code) != 0 {
            fail(truncated: false, String(cString: ZSTD_getErrorName(code)))
            return outBuffer.pos > 0 ? outBuffer.pos : -1
        }
        // 0: a frame is complete and flushed.
        betweenFrames = code == 0
        return outBuffer.pos
    }

    private func fail(truncated: Bool, _ detail: String) {
        if truncated {
            failure = CaptureFileError(
                .truncated, "\(kind.name) data ends before the end of its stream; the file was cut short",
                hint: "the packets before the cut were read; a capture still being compressed, or an interrupted copy")
        } else {
            failure = CaptureFileError(
                .corrupt, "\(kind.name) data is damaged (\(detail))",
                hint: "the packets before the damage were read; check the file with '\(kind.name) -t'")
        }
    }
}
