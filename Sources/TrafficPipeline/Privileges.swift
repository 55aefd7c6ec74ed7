import CNetLinux
import Glibc

/// Giving up root once the capture device is open (tcpdump's -Z).
public enum PrivilegeError: Error, CustomStringConvertible {
    case unknownUser(String)
    case failed(step: String, user: String, errno: Int32)
    case stillPrivileged(String)

    public var description: String {
        switch self {
        case .unknownUser(let u): "cannot drop privileges to '\(u)': no such user"
        case .failed(let step, let u, let e):
            "cannot drop privileges to '\(u)': \(step) failed: \(String(cString: strerror(e)))"
        case .stillPrivileged(let u): "cannot drop privileges to '\(u)': root could be regained; refusing to go on"
        }
    }

    public var hint: String? { "name an existing user with -Z USER, or -Z root to keep root" }
}

public enum Privileges {
    /// The user to become after opening the device: `-Z USER` if given; else `SUDO_USER` when
    /// running as root through sudo; else nobody (stay as we are). "root" means stay root.
    public static func target(explicit: String?) -> String? {
        if let explicit { return explicit == "root" ? nil : explicit }
        guard geteuid() == 0, let sudoUser = getenv("SUDO_USER").map({ String(cString: $0) }), !sudoUser.isEmpty,
            sudoUser != "root"
        else {
            return nil
        }
        return sudoUser
    }

    /// What every live command does once its device is open and its filter set (tcpdump's -Z,
    /// and what tcpdump does with libcap-ng): become `-Z USER` (or `SUDO_USER` under sudo), then,
    /// when not root, give up every capability: the package's capture copy and systemd's
    /// `AmbientCapabilities=` grant `CAP_NET_RAW`/`CAP_NET_ADMIN` for the open only, not for the
    /// hours a `serve` answers requests. Root that stays root (`-Z root`) keeps what it has.
    public static func relinquish(explicit: String?) throws(PrivilegeError) {
        if let user = target(explicit: explicit) { try drop(to: user) }
        if geteuid() != 0 { try clearCapabilities() }
    }

    /// Empties the effective, permitted, inheritable and ambient capability sets.
    public static func clearCapabilities() throws(PrivilegeError) {
        guard pktstat_clear_capabilities() == 0 else {
            let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "\(geteuid())"
            throw .failed(step: "capset", user: user, errno: errno)
        }
    }

    /// setgroups/initgroups, setgid, setuid, each checked; then proves root cannot come back.
    public static func drop(to user: String) throws(PrivilegeError) {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(user, &pwd, &buffer, buffer.count, &result) == 0, result != nil else {
            throw .unknownUser(user)
        }
        let uid = pwd.pw_uid
        let gid = pwd.pw_gid
        if geteuid() != 0 {
            // Not root: only "dropping" to ourselves is possible.
            if geteuid() == uid { return }
            throw .failed(step: "setuid", user: user, errno: EPERM)
        }
        guard initgroups(user, gid) == 0 else { throw .failed(step: "setgroups", user: user, errno: errno) }
        guard setgid(gid) == 0 else { throw .failed(step: "setgid", user: user, errno: errno) }
        guard setuid(uid) == 0 else { throw .failed(step: "setuid", user: user, errno: errno) }
        guard getuid() == uid, geteuid() == uid, getgid() == gid, getegid() == gid else {
            throw .stillPrivileged(user)
        }
        if uid != 0 && setuid(0) == 0 { throw .stillPrivileged(user) }
    }
}
