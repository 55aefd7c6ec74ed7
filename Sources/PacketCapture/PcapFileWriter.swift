import CPcap
import Glibc

/// One capture file written in whole records, so that the file on disk always ends at a record
/// boundary: a `kill -9` at any instant leaves a file `tcpdump -r` reads without "truncated".
///
/// libpcap's `pcap_dump` goes through a stdio buffer that is flushed when it fills, in the middle
/// of a record. Here the file header goes out at once, then records are buffered and handed to
/// `write(2)` only at record boundaries. A failed write cuts the file back to the last whole record.
///
/// The one instant this cannot cover: Linux copies a `write(2)` page by page and stops at a page
/// boundary when the process is killed, so a SIGKILL that lands while the kernel copies a flush
/// can leave part of a record (a file cut at a multiple of 4096 bytes). The chance is the share of
/// time spent inside write(2): nil for steady traffic, about 2 in 100 random kills under a
/// loopback flood of 1400-byte datagrams. No single process can close it: the file size grows as
/// the kernel copies, and pcap has no padding record that could align records to pages.
final class WholeRecordFile {
    let path: String
    private let fd: Int32
    private let ownsFD: Bool
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var used = 0
    /// Bytes of whole records (and the header) known to be in the file.
    private var committed: Int64 = 0
    /// The first write failure; once set nothing more is written and `flush` throws it.
    private(set) var failure: CaptureError?
    private var closed = false

    /// Creates (or truncates) `path` ("-": standard output).
    init(path: String, bufferBytes: Int) throws(CaptureError) {
        self.path = path
        if path == "-" {
            fd = STDOUT_FILENO
            ownsFD = false
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw .cannotWrite(path: path, detail: String(cString: strerror(errno))) }
            ownsFD = true
        }
        capacity = max(256 << 10, bufferBytes)
        buffer = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    /// Bytes in the file once the buffered records are written.
    var size: Int64 { committed + Int64(used) }

    /// Room for one record of `count` bytes at the end of the buffer (written by the caller, then
    /// `commit`ted); the buffer is written first when the record does not fit. Nil after a failure.
    func reserve(_ count: Int) -> UnsafeMutableRawPointer? {
        guard failure == nil else { return nil }
        if used + count > capacity {
            do throws(CaptureError) { try flush() } catch { return nil }
        }
        if count > capacity {
            // Larger than the snap length said (a file may): grow rather than cut the record.
            buffer.deallocate()
            capacity = count
            buffer = .allocate(byteCount: capacity, alignment: 8)
        }
        return buffer + used
    }

    func commit(_ count: Int) { used += count }

    /// Appends `bytes` as one record (headers and other blocks).
    func append(_ bytes: [UInt8]) {
        guard let p = reserve(bytes.count) else { return }
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        commit(bytes.count)
    }

    /// Hands the buffered whole records to the kernel. On failure the file is cut back to the last
    /// whole record and nothing more is written.
    func flush() throws(CaptureError) {
        if let failure { throw failure }
        guard used > 0 else { return }
        var done = 0
        while done < used {
            let n = write(fd, buffer + done, used - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let saved = n < 0 ? errno : ENOSPC
                if ownsFD { _ = ftruncate(fd, off_t(committed)) }
                used = 0
                let error = CaptureError.cannotWrite(path: path, detail: String(cString: strerror(saved)))
                failure = error
                throw error
            }
            done += n
        }
        committed += Int64(used)
        used = 0
    }

    /// Flushes and closes the file.
    func finish() throws(CaptureError) {
        defer { close() }
        try flush()
    }

    private func close() {
        guard !closed else { return }
        closed = true
        if ownsFD { _ = Glibc.close(fd) }
    }
}

/// Counters for the end of a file (the pcapng Interface Statistics Block).
struct EndStats {
    var kernel: KernelStats?
    /// Packets handed over since the capture started.
    var delivered: UInt64
    var nowNs: Int64
}

/// A capture file in one format: records go in whole, in order.
protocol RecordFileWriter: AnyObject {
    var path: String { get }
    /// Bytes in the file once the buffered records are written.
    var size: Int64 { get }
    /// Packets written so far.
    var packets: Int { get }
    /// The bytes appending this packet adds to the file (its record, and any block it needs first).
    func appendSize(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?) -> Int
    /// The most bytes `finish` may add after the last packet.
    var trailerSize: Int { get }
    func append(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?, timestampNs: Int64)
    func flush() throws(CaptureError)
    func finish(_ stats: EndStats) throws(CaptureError)
}

/// The `-w` file as classic pcap, exactly as `pcap_dump` writes it (nanosecond magic for live
/// captures), in whole records.
final class PcapFileWriter: RecordFileWriter {
    private let file: WholeRecordFile
    private(set) var packets = 0

    /// Creates (or truncates) `path` ("-": standard output) and writes `header` (see
    /// `fileHeader(handle:path:)`).
    init(path: String, header: [UInt8], snapLength: Int) throws(CaptureError) {
        file = try WholeRecordFile(path: path, bufferBytes: 16 + snapLength)
        file.append(header)
        try file.flush()
    }

    var path: String { file.path }
    var size: Int64 { file.size }

    func appendSize(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?) -> Int {
        16 + Int(h.pointee.caplen)
    }

    var trailerSize: Int { 0 }

    /// Appends one record (16-byte header in host byte order, as `pcap_dump` writes it, then
    /// `caplen` bytes). A failure is kept for `flush` to throw.
    func append(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?, timestampNs: Int64) {
        let caplen = Int(h.pointee.caplen)
        guard let record = file.reserve(16 + caplen) else { return }
        record.storeBytes(of: UInt32(truncatingIfNeeded: h.pointee.ts.tv_sec), toByteOffset: 0, as: UInt32.self)
        record.storeBytes(of: UInt32(truncatingIfNeeded: h.pointee.ts.tv_usec), toByteOffset: 4, as: UInt32.self)
        record.storeBytes(of: h.pointee.caplen, toByteOffset: 8, as: UInt32.self)
        record.storeBytes(of: h.pointee.len, toByteOffset: 12, as: UInt32.self)
        if let data, caplen > 0 { (record + 16).copyMemory(from: data, byteCount: caplen) }
        file.commit(16 + caplen)
        packets += 1
    }

    func flush() throws(CaptureError) { try file.flush() }

    func finish(_ stats: EndStats) throws(CaptureError) { try file.finish() }

    /// The 24-byte file header exactly as libpcap writes it for `handle` (taken from
    /// `pcap_dump_fopen` on a memory stream: magic, version, snap length and link type).
    static func fileHeader(handle: OpaquePointer, path: String) throws(CaptureError) -> [UInt8] {
        var bytes: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&bytes, &size) else {
            throw .cannotWrite(path: path, detail: String(cString: strerror(errno)))
        }
        guard let dumper = pcap_dump_fopen(handle, stream) else {
            fclose(stream)
            free(bytes)
            throw .cannotWrite(path: path, detail: String(cString: pcap_geterr(handle)))
        }
        pcap_dump_close(dumper)  // fclose: the stream's bytes and size are final
        defer { free(bytes) }
        guard let bytes, size > 0 else { throw .cannotWrite(path: path, detail: "libpcap wrote no file header") }
        return bytes.withMemoryRebound(to: UInt8.self, capacity: size) {
            Array(UnsafeBufferPointer(start: $0, count: size))
        }
    }
}
