import Dispatch
import Glibc
import Synchronization

/// Compresses closed capture files with `gzip` or `zstd`, one at a time, on its own queue, so the
/// capture thread only hands over a name and never waits. It also deletes the files a ring of
/// files lets go, in order, so a file is never deleted while it is being compressed.
///
/// The compressor runs in its own process group with default signal handling: the Ctrl-C that
/// stops pktstat (sent to the terminal's foreground group) does not cut a compression short.
final class CompressionWorker: Sendable {
    let compression: WritePlan.Compression
    private let queue = DispatchQueue(label: "pktstat.compress")
    private let firstFailure = Mutex<CaptureError?>(nil)

    init(_ compression: WritePlan.Compression) { self.compression = compression }

    /// Compresses `path` into `path` + suffix and removes `path` (later, on the worker).
    func compress(_ path: String) {
        let compression = compression
        queue.async { [self] in
            let argv = compression == .gzip ? ["gzip", "-f", "-q", path] : ["zstd", "-q", "-f", "--rm", path]
            if let problem = Self.run(argv) {
                firstFailure.withLock { $0 = $0 ?? .cannotWrite(path: path + compression.suffix, detail: problem) }
            }
        }
    }

    /// Deletes `path` and its compressed copy, after every compression queued before.
    func remove(_ path: String) {
        let suffix = compression.suffix
        queue.async {
            _ = unlink(path)
            _ = unlink(path + suffix)
        }
    }

    /// Waits for every queued job; the first failure, if any.
    func wait() -> CaptureError? {
        queue.sync {}
        return firstFailure.withLock { $0 }
    }

    /// Runs `argv` (found on PATH) with /dev/null for its standard streams; nil when it exited 0.
    private static func run(_ argv: [String]) -> String? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        guard spawned == 0 else { return "cannot run \(argv[0]): \(String(cString: strerror(spawned)))" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7F == 0
        let code = (status >> 8) & 0xFF
        if exited && code == 0 { return nil }
        return exited ? "\(argv[0]) exited with status \(code)" : "\(argv[0]) was killed by signal \(status & 0x7F)"
    }
}
