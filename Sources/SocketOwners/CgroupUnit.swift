/// The systemd unit or the container a process runs in, read from its `/proc/PID/cgroup`.
public enum CgroupUnit {
    /// The unit or container named by the lines of a `/proc/PID/cgroup` file (cgroup v1 and v2):
    /// a container when a path shows one (`docker:<12 hex>`, `podman:<12 hex>`,
    /// `containerd:<12 hex>`, `cri-o:<12 hex>`, prefixed by `pod:<uid>/` when the path names a
    /// Kubernetes pod), else the innermost systemd unit (`nginx.service`, `session-3.scope`),
    /// else "". Paths are read, never guessed from: a path that names nothing gives "".
    public static func parse(_ text: String) -> String {
        var unit = ""
        var unitRank = -1
        for line in text.split(separator: "\n") {
            // hierarchy-ID:controllers:path; the path may itself hold colons.
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if let container = container(path) { return container }
            // Units from the v2 line ("0::") or systemd's v1 hierarchy; other controllers' paths
            // usually repeat them, but any line that names one will do.
            let rank = parts[0] == "0" || parts[1] == "name=systemd" ? 1 : 0
            if let u = systemdUnit(path), rank > unitRank {
                unit = u
                unitRank = rank
            }
        }
        return unit
    }

    /// The innermost path component that is a systemd service or scope.
    static func systemdUnit(_ path: String) -> String? {
        for c in path.split(separator: "/").reversed() where c.hasSuffix(".service") || c.hasSuffix(".scope") {
            return String(c)
        }
        return nil
    }

    /// A container runtime's id in the path: `docker-<id>.scope` or `docker/<id>` (Docker),
    /// `libpod-<id>.scope` or `libpod-<id>` (Podman), `cri-containerd-<id>.scope` (containerd's CRI),
    /// `crio-<id>.scope` (CRI-O), and a bare `<id>` under a Kubernetes `pod<uid>` component.
    static func container(_ path: String) -> String? {
        let components = path.split(separator: "/").map(String.init)
        var pod: String?
        var found: String?
        for (i, c) in components.enumerated() {
            if let uid = podUID(c) { pod = uid }
            var name = c
            if name.hasSuffix(".scope") { name.removeLast(6) }
            let prefixes: [(String, String)] = [
                ("docker-", "docker"), ("libpod-conmon-", ""), ("libpod-", "podman"),
                ("cri-containerd-", "containerd"), ("crio-conmon-", ""), ("crio-", "cri-o"),
            ]
            var matched = false
            for (prefix, runtime) in prefixes where name.hasPrefix(prefix) {
                matched = true
                let id = String(name.dropFirst(prefix.count))
                if !runtime.isEmpty, isContainerID(id) { found = "\(runtime):\(id.prefix(12))" }
                break
            }
            if matched { continue }
            if isContainerID(name), i > 0 {
                let parent = components[i - 1]
                if parent == "docker" {
                    found = "docker:\(name.prefix(12))"
                } else if parent == "libpod_parent" || parent.hasPrefix("libpod") {
                    found = "podman:\(name.prefix(12))"
                } else if podUID(parent) != nil {
                    found = "container:\(name.prefix(12))"
                }
            }
        }
        if let pod {
            return found.map { "pod:\(pod)/\($0)" } ?? "pod:\(pod)"
        }
        return found
    }

    /// The uid in a Kubernetes pod component: `pod<uid>` (cgroupfs driver) or
    /// `kubepods-<class>-pod<uid>.slice` / `kubepods-pod<uid>.slice` (systemd driver, `_` for `-`).
    static func podUID(_ c: String) -> String? {
        var s = Substring(c)
        if s.hasSuffix(".slice") { s = s.dropLast(6) }
        let uid: Substring
        if s.hasPrefix("pod") {
            uid = s.dropFirst(3)
        } else if s.hasPrefix("kubepods"), let dash = s.lastIndex(of: "-"), s[dash...].hasPrefix("-pod") {
            uid = s[s.index(dash, offsetBy: 4)...]
        } else {
            return nil
        }
        let text = String(uid.map { $0 == "_" ? "-" : $0 })
        let hex = text.filter { $0 != "-" }
        guard hex.count == 32, hex.allSatisfy(\.isHexDigit) else { return nil }
        return text
    }

    /// 64 lowercase hex digits: the id Docker, Podman and the CRI runtimes give a container.
    static func isContainerID(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
