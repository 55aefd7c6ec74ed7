import Glibc
public import PacketCapture
import PacketFile
public import PacketRecords
import PacketWire

/// A record source read to its end: a capture file, or standard input holding a capture or the CSV
/// `sniff --format csv` prints. Files are read by the fastest reader that can do the job: our own
/// pcap/pcapng reader (large sequential reads, records parsed in place), or libpcap when a BPF
/// filter or a copy (`-w`) is asked for (libpcap runs the filter and writes the copy).
///
/// Several paths, a folder, or a time window: the files are merged by timestamp and the window
/// applied (`MergedFileSource`), with our own reader (no filter or copy there).
public struct FileSource {
    /// A path, or "-" for standard input.
    public var path: String { paths[0] }
    /// Files and folders read as one capture (one path: the file, as before).
    public let paths: [String]
    /// Packets outside it are left out; whole files outside it are skipped.
    public var window = TimeWindow()
    public var filter: String?
    /// Where libpcap writes a copy of the packets read (`sniff -r F -w COPY`).
    public var copyPath: String?
    public var limits: RunLimits
    /// Whether standard input may hold sniff's CSV instead of a capture (`analyze -`).
    public var acceptsCSV: Bool
    /// Reads names from the payloads as one capture is read (`flows`); each batch's events are
    /// there during the call that hands it over. Not used for sniff's CSV, or for several files
    /// or a time window (merged).
    public var sniffer: NameSniffer?

    public init(
        path: String, filter: String? = nil, copyPath: String? = nil, limits: RunLimits = RunLimits(),
        acceptsCSV: Bool = false
    ) {
        self.init(paths: [path], filter: filter, copyPath: copyPath, limits: limits, acceptsCSV: acceptsCSV)
    }

    /// Several files and folders (`analyze ring/`, `sniff -r a -r b`), merged by timestamp.
    public init(
        paths: [String], window: TimeWindow = TimeWindow(), filter: String? = nil, copyPath: String? = nil,
        limits: RunLimits = RunLimits(), acceptsCSV: Bool = false
    ) {
        precondition(!paths.isEmpty, "a file source needs a path")
        self.paths = paths
        self.window = window
        self.filter = filter
        self.copyPath = copyPath
        self.limits = limits
        self.acceptsCSV = acceptsCSV
    }

    /// What opening learned about the input, for the "reading from file" line.
    public struct Opened: Sendable {
        public var linkTypeName: String
        public var linkTypeDescription: String
        public var snapLength: Int
        /// The input is sniff's CSV (no link type, no snap length).
        public var isCSV: Bool
    }

    /// Opens the input, calls `opened` (the place to drop privileges and print the status line),
    /// then streams batches to `body` until the end, the count limit, `stop`, or `body` returning
    /// false. An input that cannot be opened throws before `opened`; damage is thrown after every
    /// readable record was delivered.
    public func stream(
        stop: StopFlag,
        opened: (Opened) throws -> Void,
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        if paths.count > 1 || !window.isEverything || isDirectory(path) {
            return try streamMerged(stop: stop, opened: opened, body: body)
        }
        var prefix: [UInt8]?
        if path == "-" && acceptsCSV {
            let sniffed = StandardInput.sniff()
            if sniffed.kind == .csv {
                return try streamCSV(prefix: sniffed.prefix, stop: stop, opened: opened, body: body)
            }
            prefix = sniffed.prefix
        }
        if filter == nil && copyPath == nil {
            try streamOwn(prefix: prefix, stop: stop, opened: opened, body: body)
        } else {
            precondition(prefix == nil, "libpcap cannot read standard input after its first bytes were taken")
            if let kind = CaptureFileReader.compression(ofFile: path) {
                throw FileSourceError(
                    "\(path) is \(kind)-compressed: a filter or -w reads it through libpcap, which cannot",
                    hint: "decompress it first (\(kind) -dk \(path)), or drop the filter")
            }
            try streamLibpcap(stop: stop, opened: opened, body: body)
        }
    }

    /// Whether the merge (which reads folders) must read `path`.
    private func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return path != "-" && stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }

    private func streamMerged(
        stop: StopFlag, opened: (Opened) throws -> Void, body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        if paths.contains("-") {
            throw FileSourceError(
                "standard input ('-') is read alone",
                hint: "give files and folders, or '-' alone without --since/--until")
        }
        if filter != nil || copyPath != nil {
            throw FileSourceError(
                "a filter or -w reads one file, not several or a time window",
                hint: "merge the files first (mergecap -w all.pcap FILES), or drop the filter")
        }
        var merged = MergedFileSource(paths: paths, window: window, limits: limits)
        merged.limits = limits
        try merged.stream(stop: stop, opened: opened, body: body)
    }

    private func streamCSV(
        prefix: [UInt8], stop: StopFlag, opened: (Opened) throws -> Void,
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        var isOpen = false
        var remaining = limits.count ?? .max
        try CSVRecordInput.read(fd: STDIN_FILENO, name: "standard input", prefix: prefix) { batch in
            if !isOpen {
                isOpen = true
                do { try opened(Opened(linkTypeName: "", linkTypeDescription: "", snapLength: 0, isCSV: true)) } catch {
                    return false
                }
            }
            return Self.deliver(batch, remaining: &remaining, stop: stop, body)
        }
    }

    private func streamOwn(
        prefix: [UInt8]?, stop: StopFlag, opened: (Opened) throws -> Void,
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        let reader =
            if let prefix {
                try CaptureFileReader(standardInputAfter: prefix)
            } else {
                try CaptureFileReader(path: path)
            }
        let names = PcapCapture.names(ofLinkType: reader.linkType)
        try opened(
            Opened(
                linkTypeName: names.name, linkTypeDescription: names.description, snapLength: reader.snapLength,
                isCSV: false))
        var remaining = limits.count ?? .max
        try reader.read(sniffer: sniffer) { batch in Self.deliver(batch, remaining: &remaining, stop: stop, body) }
    }

    /// Hands `batch` to `body`, cut at the count limit; false ends the stream.
    private static func deliver(
        _ batch: UnsafeBufferPointer<PacketRecord>, remaining: inout UInt64, stop: StopFlag,
        _ body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) -> Bool {
        if stop.isRequested { return false }
        if UInt64(batch.count) >= remaining {
            _ = body(UnsafeBufferPointer(rebasing: batch[0..<Int(remaining)]))
            remaining = 0
            return false
        }
        remaining -= UInt64(batch.count)
        return body(batch)
    }

    private func streamLibpcap(
        stop: StopFlag, opened: (Opened) throws -> Void, body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        let capture = try PcapCapture.openFile(path)
        if let filter { try capture.setFilter(filter) }
        try opened(
            Opened(
                linkTypeName: capture.linkTypeName, linkTypeDescription: capture.linkTypeDescription,
                snapLength: Int(capture.snapLength), isCSV: false))
        if let copyPath { try capture.startWriting(to: copyPath) }
        var failure: CaptureError?
        do throws(CaptureError) {
            _ = try capture.run(limits: limits, stop: stop, batchSize: 512, sniffer: sniffer, onBatch: body)
        } catch {
            failure = error
        }
        do throws(CaptureError) { try capture.finishWriting() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
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

/// A request the file source cannot carry out as given.
public struct FileSourceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var hint: String?

    init(_ description: String, hint: String? = nil) {
        self.description = description
        self.hint = hint
    }
}
