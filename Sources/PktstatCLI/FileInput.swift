import Glibc
import PacketCapture
import PacketFile
import PacketRecords
import PacketWire

/// Reads a capture file into record batches with the fastest reader that can do the job: our own
/// pcap/pcapng reader (large sequential reads, records parsed in place), or libpcap when a BPF
/// filter or a `-w` copy is asked for (libpcap runs the filter and writes the file).
struct FileInput {
    let path: String
    var filter: String?
    var writePath: String?
    var limits = RunLimits()
    /// Reading standard input: the bytes `StandardInput.sniff` already took from it.
    var stdinPrefix: [UInt8]?

    /// What `open` learned about the file, for the "reading from file" line.
    struct Opened {
        var linkTypeName: String
        var linkTypeDescription: String
        var snapLength: Int
    }

    /// Opens the file, calls `opened` (the place to drop privileges and print the status line),
    /// then streams batches to `body` until the end, the count limit, `stop`, or `body` returning
    /// false. Damage is thrown after every readable record was delivered.
    func stream(
        stop: StopFlag,
        opened: (Opened) throws -> Void,
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        if filter == nil && writePath == nil {
            try streamOwn(stop: stop, opened: opened, body: body)
        } else {
            try streamLibpcap(stop: stop, opened: opened, body: body)
        }
    }

    private func streamOwn(stop: StopFlag, opened: (Opened) throws -> Void, body: (UnsafeBufferPointer<PacketRecord>) -> Bool) throws {
        let reader =
            if let stdinPrefix, path == "-" {
                try CaptureFileReader(standardInputAfter: stdinPrefix)
            } else {
                try CaptureFileReader(path: path)
            }
        let names = PcapCapture.names(ofLinkType: reader.linkType)
        try opened(Opened(linkTypeName: names.name, linkTypeDescription: names.description, snapLength: reader.snapLength))
        var remaining = limits.count ?? .max
        try reader.read { batch in
            if stop.isRequested { return false }
            if UInt64(batch.count) >= remaining {
                _ = body(UnsafeBufferPointer(rebasing: batch[0..<Int(remaining)]))
                remaining = 0
                return false
            }
            remaining -= UInt64(batch.count)
            return body(batch)
        }
    }

    private func streamLibpcap(stop: StopFlag, opened: (Opened) throws -> Void, body: (UnsafeBufferPointer<PacketRecord>) -> Bool) throws {
        let capture = try PcapCapture.openFile(path)
        if let filter { try capture.setFilter(filter) }
        try opened(Opened(linkTypeName: capture.linkTypeName, linkTypeDescription: capture.linkTypeDescription, snapLength: Int(capture.snapLength)))
        if let writePath { try capture.startWriting(to: writePath) }
        var failure: CaptureError?
        do throws(CaptureError) {
            _ = try capture.run(limits: limits, stop: stop, batchSize: 512, onBatch: body)
        } catch {
            failure = error
        }
        do throws(CaptureError) { try capture.finishWriting() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}

extension CaptureFileError: CustomHintedError {}
extension CaptureError: CustomHintedError {}
extension PrivilegeError: CustomHintedError {}

/// An error with the one-line description and fix the CLI prints.
protocol CustomHintedError: Error, CustomStringConvertible {
    var hint: String? { get }
}

/// Standard input for `analyze -`: a pcap or pcapng capture, or the CSV `sniff --format csv` prints.
enum StandardInput {
    enum Kind {
        case capture
        case csv
    }

    /// Reads the first bytes of standard input and tells a capture (or a compressed capture, which
    /// the capture reader explains) from text by the magic number. The bytes read come back too,
    /// to be parsed first.
    static func sniff() -> (kind: Kind, prefix: [UInt8]) {
        var prefix = [UInt8](repeating: 0, count: 4)
        var got = 0
        while got < 4 {
            let n = prefix.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress! + got, 4 - got) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        prefix.removeLast(4 - got)
        return (isCaptureMagic(prefix) ? .capture : .csv, prefix)
    }

    static func isCaptureMagic(_ b: [UInt8]) -> Bool {
        guard b.count >= 2 else { return false }
        if b[0] == 0x1F && b[1] == 0x8B { return true }  // gzip
        guard b.count == 4 else { return false }
        let captureMagics: [[UInt8]] = [
            [0xD4, 0xC3, 0xB2, 0xA1], [0xA1, 0xB2, 0xC3, 0xD4],  // pcap, microseconds
            [0x4D, 0x3C, 0xB2, 0xA1], [0xA1, 0xB2, 0x3C, 0x4D],  // pcap, nanoseconds
            [0x34, 0xCD, 0xB2, 0xA1], [0xA1, 0xB2, 0xCD, 0x34],  // pcap, Kuznetzov
            [0x0A, 0x0D, 0x0D, 0x0A],  // pcapng section header
            [0x28, 0xB5, 0x2F, 0xFD], [0xFD, 0x37, 0x7A, 0x58],  // zstd, xz
        ]
        return captureMagics.contains(b)
    }
}
