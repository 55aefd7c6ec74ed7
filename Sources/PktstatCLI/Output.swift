import Glibc

/// Errors of the CLI layer itself: writing output.
enum OutputError: Error, CustomStringConvertible {
    /// The reader went away (`| head`): end quietly.
    case closedPipe
    case writeFailed(name: String, errno: Int32)
    /// The temporary file of `IntervalStore` could not be read back.
    case readBackFailed(errno: Int32)

    var description: String {
        switch self {
        case .closedPipe: "output pipe closed"
        case .writeFailed(let name, let e): "cannot write to \(name): \(String(cString: strerror(e)))"
        case .readBackFailed(let e): "cannot read back the temporary interval file: \(String(cString: strerror(e)))"
        }
    }
}

/// A byte buffer written to a file descriptor with write(2): no stdio, so a failed write (a full
/// disk, a closed pipe) is seen at once and reported, never lost in a buffer.
final class ByteOutput {
    let fd: Int32
    let name: String
    let ownsDescriptor: Bool
    var buffer: [UInt8] = []
    /// Flush when this many bytes are waiting.
    var threshold = 64 * 1024

    init(fd: Int32, name: String, ownsDescriptor: Bool = false) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = ownsDescriptor
        buffer.reserveCapacity(threshold * 2)
    }

    static func standardOutput() -> ByteOutput { ByteOutput(fd: 1, name: "standard output") }

    /// The temporary file that becomes `name` on `commit()`; nil when writing in place.
    private var pendingPath: String?

    /// Opens a file for writing, whole or not at all: the bytes go to a temporary file in the same
    /// folder, renamed over `path` by `commit()`; without a commit (an error, a signal) the old
    /// file stays as it was. Paths that are not regular files (`/dev/stdout`, a FIFO) are written
    /// in place.
    static func file(_ path: String) throws(OutputError) -> ByteOutput {
        if path == "-" { return standardOutput() }
        var st = stat()
        if stat(path, &st) == 0 && st.st_mode & S_IFMT != S_IFREG {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .writeFailed(name: path, errno: errno) }
            return ByteOutput(fd: fd, name: path, ownsDescriptor: true)
        }
        let (fd, temporary) = try AtomicFile.createTemporary(beside: path)
        let out = ByteOutput(fd: fd, name: path, ownsDescriptor: true)
        out.pendingPath = temporary
        return out
    }

    /// Flushes, and for an atomic file, syncs it and renames it into place.
    func commit() throws(OutputError) {
        try flush()
        guard let temporary = pendingPath else { return }
        try AtomicFile.install(fd: fd, temporary: temporary, as: name)
        pendingPath = nil
    }

    deinit {
        if let pendingPath { unlink(pendingPath) }
        if ownsDescriptor { close(fd) }
    }

    var isTerminal: Bool { isatty(fd) == 1 }

    func flushIfFull() throws(OutputError) {
        if buffer.count >= threshold { try flush() }
    }

    func flush() throws(OutputError) {
        var offset = 0
        let total = buffer.count
        while offset < total {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, total - offset) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                buffer.removeAll(keepingCapacity: true)
                if e == EPIPE { throw .closedPipe }
                throw .writeFailed(name: name, errno: e)
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
    }
}

/// Files that appear whole or not at all: a temporary file in the destination's folder, synced and
/// renamed over the destination (rename(2) replaces it atomically).
enum AtomicFile {
    /// Creates `.NAME.XXXXXX` beside `path`, with the permissions a new file would get.
    static func createTemporary(beside path: String) throws(OutputError) -> (fd: Int32, path: String) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((folder + "." + base + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .writeFailed(name: path, errno: errno) }
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
        return (fd, String(cString: template))
    }

    /// Syncs the temporary file and renames it to `path`.
    static func install(fd: Int32, temporary: String, as path: String) throws(OutputError) {
        if fsync(fd) != 0 && errno != EINVAL { throw .writeFailed(name: path, errno: errno) }
        if rename(temporary, path) != 0 { throw .writeFailed(name: path, errno: errno) }
    }
}

/// Messages for people go to stderr, unbuffered, a line at a time.
enum Console {
    static func line(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// The one line printed for a failure: the problem, then the fix.
    static func error(_ description: String, hint: String? = nil) {
        if let hint { line("error: \(description); \(hint)") } else { line("error: \(description)") }
    }
}
