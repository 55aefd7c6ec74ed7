import Glibc
import SystemPackage

/// A file that appears whole or not at all: the bytes go to a temporary file in the same folder
/// (`.NAME.XXXXXX`, so the rename stays on one file system), which `commit` fsyncs and renames over
/// NAME. Until then an older NAME is untouched; `discard` (or dropping the value) removes the
/// temporary file. Created early, it also shows at once that the folder is writable.
public final class AtomicFile {
    public let path: String
    public let temporaryPath: String
    public private(set) var fd: Int32
    private var finished = false

    public init(_ path: String) throws(OutputError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((dir + "." + base + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .writeFailed(name: path, errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
        temporaryPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // mkstemp makes it 0600; give it the mode open(2) with 0644 would.
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o644 & ~mask)
    }

    deinit { discard() }

    /// Appends bytes to the temporary file.
    public func write(_ bytes: [UInt8]) throws(OutputError) {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch let e as Errno {
            throw .writeFailed(name: path, errno: e.rawValue)
        } catch {
            throw .writeFailed(name: path, errno: EIO)
        }
    }

    /// Flushes the temporary file to disk and renames it to `path`.
    public func commit() throws(OutputError) {
        guard !finished else { return }
        finished = true
        let synced = fsync(fd) == 0
        let e = errno
        close(fd)
        guard synced else {
            unlink(temporaryPath)
            throw .writeFailed(name: path, errno: e)
        }
        guard rename(temporaryPath, path) == 0 else {
            let e = errno
            unlink(temporaryPath)
            throw .writeFailed(name: path, errno: e)
        }
    }

    /// Removes the temporary file; `path` is left as it was.
    public func discard() {
        guard !finished else { return }
        finished = true
        close(fd)
        unlink(temporaryPath)
    }
}
