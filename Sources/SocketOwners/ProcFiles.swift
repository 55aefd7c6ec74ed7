import Glibc

/// What `/proc` says about processes: the pids, the sockets each holds (`/proc/PID/fd`, links
/// `socket:[INODE]`), its name (`comm`), its cgroup and its network namespace. Reading another
/// user's fd folder needs root (CAP_SYS_PTRACE); what cannot be read is skipped.
enum ProcFiles {
    /// The pids of every process (thread-group leaders: the numeric entries of /proc).
    static func pids() -> [Int32] {
        var out: [Int32] = []
        guard let dir = opendir("/proc") else { return out }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { number($0) }
            if let pid { out.append(pid) }
        }
        return out
    }

    /// The socket inodes a process holds (empty when it is gone or cannot be read).
    static func socketInodes(_ pid: Int32, into body: (UInt32) -> Void) {
        let path = "/proc/\(pid)/fd"
        guard let dir = opendir(path) else { return }
        defer { closedir(dir) }
        let dfd = dirfd(dir)
        let linkSize = 64
        var link = [CChar](repeating: 0, count: linkSize)
        while let entry = readdir(dir) {
            if entry.pointee.d_type != UInt8(DT_LNK) && entry.pointee.d_type != UInt8(DT_UNKNOWN) { continue }
            let n = withUnsafePointer(to: entry.pointee.d_name) { name in
                name.withMemoryRebound(to: CChar.self, capacity: 256) { readlinkat(dfd, $0, &link, linkSize) }
            }
            // "socket:[12345]"
            guard n > 9, n < linkSize else { continue }
            let inode = link.withUnsafeBytes { raw -> UInt32? in
                guard raw.starts(with: "socket:[".utf8), raw[n - 1] == UInt8(ascii: "]") else { return nil }
                var v: UInt64 = 0
                for i in 8..<(n - 1) {
                    let c = raw[i]
                    guard c >= 48 && c <= 57 else { return nil }
                    v = v * 10 + UInt64(c - 48)
                    if v > UInt64(UInt32.max) { return nil }
                }
                return UInt32(v)
            }
            if let inode { body(inode) }
        }
    }

    /// The network namespace of a process (the inode of /proc/PID/ns/net), nil when unreadable.
    static func netNamespace(_ pid: Int32) -> UInt64? {
        var st = stat()
        guard stat("/proc/\(pid)/ns/net", &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// A process's name as the kernel keeps it (at most 15 bytes), nil when it is gone.
    static func comm(_ pid: Int32) -> String? {
        guard var text = read("/proc/\(pid)/comm", limit: 64) else { return nil }
        if text.last == "\n" { text.removeLast() }
        return text
    }

    /// The cgroup file of a process, nil when it is gone.
    static func cgroup(_ pid: Int32) -> String? { read("/proc/\(pid)/cgroup", limit: 16_384) }

    /// The first `limit` bytes of a small file.
    static func read(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, limit - total) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            total += n
        }
        return String(decoding: bytes[0..<total], as: UTF8.self)
    }

    /// A decimal number that is a whole NUL-terminated name, or nil.
    private static func number(_ name: UnsafeRawBufferPointer) -> Int32? {
        var v: Int64 = 0
        var digits = 0
        for c in name {
            if c == 0 { break }
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
            digits += 1
            if v > Int64(Int32.max) { return nil }
        }
        return digits == 0 ? nil : Int32(v)
    }
}
