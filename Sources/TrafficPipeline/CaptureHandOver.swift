import Glibc

/// Live capture for the members of the capture group, as the Debian package installs pktstat
/// (`packaging/README.md`): `/usr/bin/pktstat` carries no capabilities, and
/// `/usr/lib/pktstat/pktstat-capture`, the same program with `cap_net_raw,cap_net_admin=ep`, is
/// executable by root and the `pktstat` group only. A live capture that lacks `CAP_NET_RAW` hands
/// itself over to that copy when this user may execute it; everyone else goes on and gets the
/// usual permission error. Reading files and the netinfo commands never run with capabilities.
enum CaptureHandOver {
    /// Where the package puts the capability-bearing copy, relative to our own executable's folder.
    static let relativePath = "../lib/pktstat/pktstat-capture"
    /// `CAP_NET_RAW` in `linux/capability.h`.
    static let netRawBit: UInt64 = 1 << 13

    /// Replaces this process with the capture copy, same arguments, when all of these hold: this
    /// process lacks `CAP_NET_RAW`, it is not that copy, and the copy exists and we may execute it.
    /// Returns otherwise, and when `execv` fails (the capture then fails with its usual error).
    static func ifPermitted() {
        guard !hasNetRaw(), let own = resolved("/proc/self/exe") else { return }
        let folder = own.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        guard let helper = resolved(folder + "/" + relativePath), helper != own,
            access(helper, X_OK) == 0
        else { return }
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        _ = execv(helper, argv)
    }

    /// Whether `CAP_NET_RAW` is in this process's effective set (`CapEff` in /proc/self/status).
    /// When that cannot be read, says yes, so that nothing is handed over.
    static func hasNetRaw() -> Bool {
        guard let status = readSmallFile("/proc/self/status") else { return true }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).filter { !$0.isWhitespace }
            guard let value = UInt64(hex, radix: 16) else { return true }
            return value & netRawBit != 0
        }
        return true
    }

    private static func resolved(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
