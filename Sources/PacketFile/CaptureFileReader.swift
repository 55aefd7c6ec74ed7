import Glibc
public import PacketRecords
public import PacketWire

/// Reads pcap and pcapng capture files without libpcap, fast: large sequential `read()`s (for
/// regular files of 2 MiB or more, on a helper thread that stays one to three 1 MiB chunks
/// ahead), records parsed where they lie, each packet decoded straight from the buffer into a
/// fixed-size batch of `PacketRecord`s. No allocation, reference counting or dynamic dispatch per
/// packet; the caller's closure runs once per batch.
///
/// The format comes from the magic number, never the file name: pcap in either byte order with
/// microsecond or nanosecond timestamps (and the old 2.0–2.3 and "Kuznetzov" variants libpcap
/// reads), pcapng in either byte order with Enhanced, Simple and obsolete Packet Blocks, any
/// if_tsresol (10^-n, 2^-n) and if_tsoffset, several sections; other blocks are skipped.
///
/// What is accepted and rejected follows libpcap 1.10 (see `PcapFormat` and `PcapngFormat`),
/// so the packets and errors match what tcpdump shows for the same file. In particular a pcapng
/// file whose interfaces have different link types or snap lengths is an error after the packets
/// before the second interface, as in libpcap: pktstat decodes every packet of a file with one
/// link type.
///
/// Not thread-safe: use one reader from one thread. The helper thread, if any, ends at the end of
/// the file and is stopped and joined when the reader goes away.
public final class CaptureFileReader {
    /// Records per batch handed to `read`'s closure.
    public static let batchCapacity = 512

    /// The link-layer header type of the file (pcapng: of its first interface, which every
    /// interface shares), as stored in the file (LINKTYPE_ numbers).
    public let linkType: LinkType
    /// The snap length as libpcap reports it: the file's, or the link type's maximum when the
    /// file says 0 or something absurd.
    public let snapLength: Int
    /// "pcap", "pcap (ns)" or "pcapng".
    public let formatName: String
    /// "gzip" or "zstd" for a compressed capture (decompressed as it is read), else nil.
    public let compression: String?

    private enum Format {
        case pcap(PcapFormat)
        case pcapng(PcapngFormat)
    }

    private enum State {
        case reading
        case finished
        case failed(CaptureFileError)
    }

    private var input: InputBuffer
    private var format: Format
    private var state = State.reading
    /// The batch `read(_:)` fills, made on its first call (`read(into:)` fills the caller's).
    private var records: UnsafeMutablePointer<PacketRecord>?
    private let path: String
    private let readAhead: Bool
    /// Where reading goes on after `suspend()` (an offset in the decompressed bytes when
    /// compressed); nil while the file is open.
    private var suspendedAt: UInt64?
    /// `suspend()` closed the file (to reopen at `suspendedAt`, if anything is left to read).
    private var isClosed = false

    /// Opens `path` ("-" is standard input) and reads the file header (pcapng: up to the first
    /// interface). `readAhead` false reads a large file without the helper thread (for readers
    /// that read a little, or many at once).
    public convenience init(path: String, readAhead: Bool = true) throws(CaptureFileError) {
        let input = try CaptureFileReader.openInput(path, readAhead: readAhead)
        try self.init(input: input, path: path, readAhead: readAhead)
    }

    /// Reads standard input whose first bytes were already read (to tell a capture from text by
    /// its magic number): `prefix` is parsed first, then the rest of standard input.
    public convenience init(standardInputAfter prefix: [UInt8]) throws(CaptureFileError) {
        var input = InputBuffer(fd: STDIN_FILENO, isRegularFile: false)
        input.preload(prefix)
        try self.init(input: input, path: "-", readAhead: false)
    }

    private init(input: consuming InputBuffer, path: String, readAhead: Bool) throws(CaptureFileError) {
        var input = input
        do {
            format = try CaptureFileReader.detectFormat(&input, path: path)
        } catch {
            input.release()
            throw error
        }
        self.input = input
        self.path = path
        self.readAhead = readAhead
        compression = input.decompressor?.kind.name
        switch format {
        case .pcap(let pcap):
            linkType = LinkType(Int32(bitPattern: pcap.linkType))
            snapLength = Int(pcap.snapLength)
            formatName = pcap.nanosecond ? "pcap (ns)" : "pcap"
        case .pcapng(let pcapng):
            linkType = LinkType(Int32(bitPattern: pcapng.linkType))
            snapLength = Int(pcapng.snapLength)
            formatName = "pcapng"
        }
    }

    deinit {
        input.release()
        records?.deallocate()
    }

    /// Delivers records in batches until the end of file, or until body returns false. Throws
    /// after delivering every readable record when the file is damaged.
    ///
    /// Each batch holds up to `batchCapacity` records and is valid only during the call. When
    /// `body` returns false, reading stops after that batch; a later call continues with the
    /// next packet. Reading from a pipe, the pending records are delivered before every read that
    /// might wait, so a live writer's packets are not held back.
    ///
    /// - Returns: the number of records delivered by this call.
    /// With a `sniffer`, it reads the names in the payloads as the records are decoded; each batch's
    /// events are there during the call that hands it over.
    @discardableResult
    public func read(
        sniffer: NameSniffer? = nil, _ body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws(CaptureFileError) -> UInt64 {
        let records = self.records ?? .allocate(capacity: CaptureFileReader.batchCapacity)
        self.records = records
        let (delivered, error) = withoutActuallyEscaping(body) { body in
            var sink = BatchSink(
                records: records, capacity: CaptureFileReader.batchCapacity, linkType: linkType, body: body,
                sniffer: sniffer)
            let error = run(&sink)
            return (sink.delivered, error)
        }
        if let error { throw error }
        return delivered
    }

    /// Hands every packet's captured bytes to `body`, undecoded, until the end of the file or until
    /// `body` returns false (a later call goes on with the next packet). Throws after every readable
    /// packet was delivered when the file is damaged. For decoders other than `Decoder` (the
    /// connection walk); the bytes are valid only during the call.
    ///
    /// - Returns: the number of packets delivered by this call.
    @discardableResult
    public func readPackets(_ body: (RawPacket) -> Bool) throws(CaptureFileError) -> UInt64 {
        let (delivered, error) = withoutActuallyEscaping(body) { body in
            var sink = RawSink(body: body)
            let error = run(&sink)
            return (sink.delivered, error)
        }
        if let error { throw error }
        return delivered
    }

    /// Decodes the next records into `buffer` (as many as fit; fewer at the end of the file, and
    /// from a pipe when the next read might wait). Returns how many; 0 only at the end of the
    /// file. Throws, with no records delivered, at the damage, after every readable record was.
    public func read(into buffer: UnsafeMutableBufferPointer<PacketRecord>) throws(CaptureFileError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var sink = BatchSink(records: base, capacity: buffer.count, linkType: linkType, body: { _ in false })
        let error = run(&sink)
        if let error { throw error }
        return Int(sink.delivered)
    }

    /// The time of the file's last packet, from its tail, without reading it through: for an
    /// uncompressed pcap file (see `PcapFormat.lastTimestamp`); nil for pcapng, compressed files,
    /// pipes, and when the tail does not parse.
    public func lastTimestampFromTail() -> Int64? {
        guard case .pcap(let pcap) = format, compression == nil, path != "-" else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return pcap.lastTimestamp(fd: fd, fileSize: Int64(st.st_size))
    }

    /// True once the end of the file was reached (or damage, which the next read throws).
    public var isAtEnd: Bool {
        if case .reading = state { return false }
        return true
    }

    /// Closes the file and frees its buffers, keeping the place: the next read reopens it and
    /// goes on there (`lseek`; a compressed file is decompressed again up to the place). For
    /// readers of many files at once, so that they need few descriptors. Standard input and a
    /// reader at its end stay as they are.
    public func suspend() {
        guard !isClosed, path != "-" else { return }
        // At the end (or the damage) there is nothing more to read: the file just closes.
        if case .reading = state { suspendedAt = input.offset }
        isClosed = true
        input.release()
        input = InputBuffer(fd: -1, isRegularFile: false, capacity: 16)
        records?.deallocate()
        records = nil
    }

    /// Reopens a suspended file at its place (a file that changed in between is read as it now is).
    private func resume(at offset: UInt64) throws(CaptureFileError) {
        input.release()
        input = try CaptureFileReader.openInput(path, readAhead: readAhead, offset: offset)
        suspendedAt = nil
        isClosed = false
    }

    /// Parses from where the last call stopped. Returns the error to throw, if any.
    private func run<Sink: PacketSink>(_ sink: inout Sink) -> CaptureFileError? {
        switch state {
        case .finished: return nil
        case .failed(let error): return error
        case .reading: break
        }
        if let offset = suspendedAt {
            do throws(CaptureFileError) { try resume(at: offset) } catch {
                state = .failed(error)
                return error
            }
        }
        // The hot loop works on locals: no exclusivity checks or reference counting per packet.
        var input = self.input
        let end: ScanEnd
        switch format {
        case .pcap(let pcap):
            end = pcap.scan(&input, into: &sink)
        case .pcapng(var pcapng):
            end = pcapng.scan(&input, into: &sink)
            format = .pcapng(pcapng)
        }
        self.input = input
        switch end {
        case .stopped:
            return nil
        case .end:
            state = .finished
            _ = sink.flush()
            return nil
        case .failed(let error):
            state = .failed(error)
            // Every readable record first; if the caller stops there, the error waits for the
            // next call.
            return sink.flush() ? error : nil
        }
    }

    private static func openInput(
        _ path: String, readAhead: Bool = true, offset: UInt64 = 0
    ) throws(CaptureFileError) -> InputBuffer {
        let fd: Int32
        if path == "-" {
            fd = STDIN_FILENO
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw openError(path, errno) }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = openError(path, errno)
            if fd != STDIN_FILENO { close(fd) }
            throw error
        }
        let fileType = st.st_mode & S_IFMT
        if fileType == S_IFDIR {
            if fd != STDIN_FILENO { close(fd) }
            throw openError(path, EISDIR)
        }
        let regular = fileType == S_IFREG
        if regular {
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        }
        // A compressed regular file is recognised here, before reading ahead starts; from a pipe,
        // by `detectFormat` in the first bytes.
        var decompressor: Decompressor?
        if regular, let kind = compressionKind(fd) {
            decompressor = Decompressor(kind: kind, fd: fd)
            if decompressor == nil {
                close(fd)
                throw CaptureFileError(
                    .access, "\(path): cannot start the \(kind.name) decompressor", hint: "free some memory")
            }
        }
        if offset > 0 {
            if let decompressor {
                guard decompressor.skip(offset) else {
                    close(fd)
                    throw decompressor.failure ?? .truncated("\(path) became shorter while it was read")
                }
            } else if lseek(fd, off_t(offset), SEEK_SET) < 0 {
                let error = openError(path, errno)
                close(fd)
                throw error
            }
        }
        // A small uncompressed file gets a buffer its size (many small files, opened in turn).
        let size = Int(st.st_size)
        let capacity =
            regular && decompressor == nil && size < InputBuffer.defaultCapacity
            ? max(4096, (size + 4095) & ~4095) : InputBuffer.defaultCapacity
        return InputBuffer(
            fd: fd, isRegularFile: regular, size: Int64(st.st_size), capacity: capacity, offset: offset,
            readAhead: readAhead, decompressor: decompressor)
    }

    /// "gzip" or "zstd" when `path` is a regular file compressed with it (by its magic number),
    /// else nil (also when it cannot be opened).
    public static func compression(ofFile path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return compressionKind(fd)?.name
    }

    /// gzip or zstd, by the first bytes of a regular file (read with `pread`: the offset stays).
    private static func compressionKind(_ fd: Int32) -> Decompressor.Kind? {
        var magic: UInt32 = 0
        guard pread(fd, &magic, 4, 0) == 4 else { return nil }
        return withUnsafeBytes(of: &magic) { Decompressor.Kind.detect($0.baseAddress!, count: 4) }
    }

    private static func openError(_ path: String, _ code: Int32) -> CaptureFileError {
        let name = path == "-" ? "standard input" : path
        switch code {
        case ENOENT:
            return CaptureFileError(.access, "\(name): no such file", hint: "check the path")
        case EISDIR:
            return CaptureFileError(.access, "\(name): is a directory", hint: "give a capture file, not a directory")
        case EACCES, EPERM:
            return CaptureFileError(
                .access, "\(name): permission denied", hint: "check the file's permissions, or read it as its owner")
        default:
            return CaptureFileError(.access, "\(name): \(String(cString: strerror(code)))")
        }
    }

    private static func detectFormat(_ input: inout InputBuffer, path: String) throws(CaptureFileError) -> Format {
        let available = input.fill(need: 4)
        if let error = input.readError {
            if input.readErrno == EISDIR { throw openError(path, EISDIR) }
            throw error
        }
        guard available >= 4 else {
            throw CaptureFileError(
                .truncated, "truncated dump file; tried to read 4 file header bytes, only got \(available)",
                hint: available == 0 ? "the file is empty" : nil)
        }
        if input.decompressor == nil, let kind = Decompressor.Kind.detect(input.cursor, count: available) {
            // A compressed pipe: the bytes read so far start the compressed stream.
            guard input.startDecompressing(kind) else {
                throw CaptureFileError(.access, "cannot start the \(kind.name) decompressor", hint: "free some memory")
            }
            return try detectFormat(&input, path: path)
        }
        if let pcap = try PcapFormat.open(&input) { return .pcap(pcap) }
        if input.cursor.loadUnaligned(as: UInt32.self) == PcapngFormat.sectionHeader,
            let pcapng = try PcapngFormat.open(&input)
        {
            return .pcapng(pcapng)
        }
        if let compressor = compression(input.cursor, input.available) {
            throw CaptureFileError(
                .compressed, "file is compressed (\(compressor.name)): run '\(compressor.tool)' first",
                hint: "for example: \(compressor.tool) -k FILE, then read the uncompressed file")
        }
        throw CaptureFileError(
            .unsupportedFormat, "unknown file format",
            hint: "pktstat reads pcap and pcapng files (tcpdump -w, tshark -w, dumpcap, editcap)")
    }

    /// Recognises the compressed files we do not decompress (gzip and zstd we do) by their magic
    /// numbers (libpcap would say "unknown file format"; the fix is more useful).
    private static func compression(_ p: UnsafeRawPointer, _ count: Int) -> (name: String, tool: String)? {
        func starts(with bytes: [UInt8]) -> Bool {
            count >= bytes.count && bytes.indices.allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == bytes[$0] }
        }
        if starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return ("xz", "unxz") }
        if starts(with: [0x42, 0x5A, 0x68]) { return ("bzip2", "bunzip2") }
        if starts(with: [0x04, 0x22, 0x4D, 0x18]) { return ("lz4", "unlz4") }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) { return ("zip", "unzip") }
        return nil
    }
}
