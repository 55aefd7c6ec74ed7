import Glibc

/// Errors of the CLI layer itself: writing output.
enum OutputError: Error, CustomStringConvertible {
    /// The reader went away (`| head`): end quietly.
    case closedPipe
    case writeFailed(name: String, errno: Int32)

    var description: String {
        switch self {
        case .closedPipe: "output pipe closed"
        case .writeFailed(let name, let e): "cannot write to \(name): \(String(cString: strerror(e)))"
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
    private var atomic: AtomicFile?

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
        let file = try AtomicFile(path)
        let out = ByteOutput(fd: file.fd, name: path)
        out.atomic = file
        return out
    }

    /// Flushes, and for an atomic file, syncs it and renames it into place.
    func commit() throws(OutputError) {
        try flush()
        try atomic?.commit()
        atomic = nil
    }

    deinit {
        // An atomic file never committed is discarded by its own deinit.
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
