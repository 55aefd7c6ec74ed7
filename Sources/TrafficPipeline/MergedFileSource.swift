import Glibc
public import PacketCapture
public import PacketFile
public import PacketRecords

/// Several capture files (and folders of them) read as one capture: records merged by timestamp
/// as `mergecap` merges files (a k-way merge of the files' next packets; on equal times the file
/// given first goes first), each file read by our own reader (gzip and zstd too), with a time
/// window applied on the way.
///
/// Bounded: each file holds a few decoded records (512 for a handful of files, down to 8 for
/// 16,384 and more), and at most `maxOpenFiles` files are open at once. Every file is opened once
/// to read its first records; one that must wait for its turn is suspended (closed, keeping its
/// place) and reopened when its records are next, least recently used first, so 10,000 files
/// need a few dozen descriptors. Rotated files, which follow each other in time, are open one or
/// two at a time.
///
/// A file that cannot be opened or is damaged is reported (`problem`) with its name; the others
/// still count, and the stream throws `MultiFileError` at the end.
public struct MergedFileSource {
    /// Files and folders (a folder stands for the files in it, not its subfolders, by name).
    public var paths: [String]
    public var window: TimeWindow
    public var limits: RunLimits
    /// At most this many files open at once (default: a quarter of the descriptor limit, 4 to 64).
    public var maxOpenFiles: Int

    public init(paths: [String], window: TimeWindow = TimeWindow(), limits: RunLimits = RunLimits()) {
        self.paths = paths
        self.window = window
        self.limits = limits
        var limit = rlimit()
        let known = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0
        let soft = known ? Int(clamping: limit.rlim_cur) : 256
        maxOpenFiles = max(4, min(64, soft / 4))
    }

    /// The capture files `paths` name: files as given, folders replaced by their regular files
    /// (hidden ones left out) sorted by name. A path that does not exist is kept, for the reader
    /// to report.
    public static func expand(_ paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            var st = stat()
            guard path != "-", stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, let dir = opendir(path) else {
                files.append(path)
                continue
            }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name.hasPrefix(".") { continue }
                let full = path.hasSuffix("/") ? path + name : path + "/" + name
                var fst = stat()
                if stat(full, &fst) == 0 && fst.st_mode & S_IFMT == S_IFREG { names.append(full) }
            }
            closedir(dir)
            files += names.sorted()
        }
        return files
    }

    /// Opens every file (its first records), calls `opened` with the first file that opened,
    /// then streams merged batches to `body` until the end, the count limit, `stop`, or `body`
    /// returning false. Throws before `opened` when no file can be read at all; after the stream,
    /// `MultiFileError` when some could not be read to their end.
    public func stream(
        stop: StopFlag,
        opened: (FileSource.Opened) throws -> Void,
        problem: (String, CaptureFileError) -> Void = { _, _ in },
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        let files = Self.expand(paths)
        if files.isEmpty {
            throw CaptureFileError(
                .access, "\(paths.joined(separator: " ")): no capture files there",
                hint: "name files, or folders that hold them")
        }
        var merge = Merge(fileCount: files.count, window: window, maxOpen: maxOpenFiles)
        var failures: [(String, CaptureFileError)] = []
        func failed(_ path: String, _ error: CaptureFileError) {
            failures.append((path, error))
            problem(path, error)
        }
        var first: CaptureFileReader?
        for (index, path) in files.enumerated() where !stop.isRequested {
            do throws(CaptureFileError) {
                let reader = try CaptureFileReader(path: path, readAhead: files.count <= 4)
                if first == nil { first = reader }
                try merge.add(FileCursor(index: index, path: path, reader: reader, capacity: merge.batch))
            } catch {
                failed(path, error)
            }
        }
        guard let first else {
            throw failures.first?.1 ?? CaptureFileError(.access, "no capture file given", hint: "name files or folders")
        }
        let names = PcapCapture.names(ofLinkType: first.linkType)
        try opened(
            FileSource.Opened(
                linkTypeName: names.name, linkTypeDescription: names.description, snapLength: first.snapLength,
                isCSV: false))
        try merge.run(limits: limits, stop: stop, failed: failed, body: body)
        if !failures.isEmpty { throw MultiFileError(failures: failures, fileCount: files.count) }
    }
}

/// Some of several files could not be read to their end; the rest were.
public struct MultiFileError: Error, CustomStringConvertible, Sendable {
    public var failures: [(path: String, error: CaptureFileError)]
    public var fileCount: Int

    public var description: String {
        let (path, error) = failures[0]
        let others = failures.dropFirst().prefix(3).map(\.path).joined(separator: ", ")
        let more =
            failures.count > 4
            ? " (and \(failures.count - 1) more files: \(others), ...)"
            : failures.count > 1 ? " (and \(others))" : ""
        let what = error.description.hasPrefix(path) ? error.description : "\(path): \(error.description)"
        return what + more
    }

    public var hint: String? {
        "\(failures.count) of \(fileCount) files could not be read to the end; every other packet was counted"
    }
}

/// One file of a merge: its reader and its next decoded records.
final class FileCursor {
    let index: Int
    let path: String
    let reader: CaptureFileReader
    let pending: UnsafeMutableBufferPointer<PacketRecord>
    var head = 0
    var count = 0
    var isOpen = true
    var lastUse: UInt64 = 0

    init(index: Int, path: String, reader: CaptureFileReader, capacity: Int) {
        self.index = index
        self.path = path
        self.reader = reader
        pending = .allocate(capacity: capacity)
    }

    deinit { pending.deallocate() }

    var timestamp: Int64 { pending[head].timestampNs }

    /// Orders cursors as mergecap does: by the next packet's time, then by the order files were given.
    func precedes(_ other: FileCursor) -> Bool {
        let a = timestamp
        let b = other.timestamp
        return a < b || (a == b && index < other.index)
    }

    /// Reads the next records; false at the end of the file. Throws at damage.
    func refill() throws(CaptureFileError) -> Bool {
        head = 0
        count = try reader.read(into: pending)
        isOpen = true
        return count > 0
    }
}
