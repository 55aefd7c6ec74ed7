import Glibc
import SystemPackage

/// Errors of the CLI layer itself: writing output.
public enum OutputError: Error, CustomStringConvertible {
    /// The reader went away (`| head`): end quietly.
    case closedPipe
    case writeFailed(name: String, errno: Int32)

    public var description: String {
        switch self {
        case .closedPipe: "output pipe closed"
        case .writeFailed(let name, let e): "cannot write to \(name): \(String(cString: strerror(e)))"
        }
    }
}

/// A byte buffer written to a file descriptor with write(2): no stdio, so a failed write (a full
/// disk, a closed pipe) is seen at once and reported, never lost in a buffer.
public final class ByteOutput {
    public let fd: Int32
    public let name: String
    let ownsDescriptor: Bool
    public var buffer: [UInt8] = []
    /// Flush when this many bytes are waiting.
    public var threshold = 64 * 1024

    public init(fd: Int32, name: String, ownsDescriptor: Bool = false) {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = ownsDescriptor
        buffer.reserveCapacity(threshold * 2)
    }

    public static func standardOutput() -> ByteOutput { ByteOutput(fd: 1, name: "standard output") }

    /// The temporary file that becomes `name` on `commit()`; nil when writing in place.
    private var atomic: AtomicFile?

    /// Opens a file for writing, whole or not at all: the bytes go to a temporary file in the same
    /// folder, renamed over `path` by `commit()`; without a commit (an error, a signal) the old
    /// file stays as it was. Paths that are not regular files (`/dev/stdout`, a FIFO) are written
    /// in place.
    public static func file(_ path: String) throws(OutputError) -> ByteOutput {
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
    public func commit() throws(OutputError) {
        try flush()
        try atomic?.commit()
        atomic = nil
    }

    deinit {
        // An atomic file never committed is discarded by its own deinit.
        if ownsDescriptor { close(fd) }
    }

    public var isTerminal: Bool { isatty(fd) == 1 }

    public func flushIfFull() throws(OutputError) {
        if buffer.count >= threshold { try flush() }
    }

    public func flush() throws(OutputError) {
        defer { buffer.removeAll(keepingCapacity: true) }
        do {
            _ = try buffer.withUnsafeBytes { try FileDescriptor(rawValue: fd).writeAll($0) }
        } catch let e as Errno {
            if e == .brokenPipe { throw .closedPipe }
            throw .writeFailed(name: name, errno: e.rawValue)
        } catch {
            throw .writeFailed(name: name, errno: EIO)
        }
    }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
    }
}
