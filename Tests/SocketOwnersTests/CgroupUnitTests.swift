import SocketOwners
import Testing

/// The unit or container named by `/proc/PID/cgroup` lines, as systemd, Docker, Podman,
/// containerd's CRI and Kubernetes (both cgroup drivers) write them.
@Suite struct CgroupUnitTests {
    static let id = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
    static let pod = "1b2c3d4e-5f60-4718-93a4-b5c6d7e8f9a0"

    @Test(arguments: [
        ("0::/system.slice/nginx.service\n", "nginx.service"),
        ("0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope"),
        (
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope\n",
            "app-firefox-1234.scope"
        ),
        ("9:name=systemd:/system.slice/pkt-demo.service\n4:memory:/\n0::/\n", "pkt-demo.service"),
        ("12:pids:/docker/\(id)\n0::/\n", "docker:3f2a9c1b7d4e"),
        ("0::/system.slice/docker-\(id).scope\n", "docker:3f2a9c1b7d4e"),
        ("0::/machine.slice/libpod-\(id).scope/container\n", "podman:3f2a9c1b7d4e"),
        (
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(pod.replacingDashes).slice/"
                + "cri-containerd-\(id).scope\n",
            "pod:\(pod)/containerd:3f2a9c1b7d4e"
        ),
        ("0::/kubepods/besteffort/pod\(pod)/\(id)\n", "pod:\(pod)/container:3f2a9c1b7d4e"),
        (
            "0::/kubepods.slice/kubepods-pod\(pod.replacingDashes).slice/crio-\(id).scope\n",
            "pod:\(pod)/cri-o:3f2a9c1b7d4e"
        ),
        ("0::/\n", ""),
        // A 32-digit name is no container id; a path that names nothing gives nothing.
        ("4:memory:/process_api/0cc40df16bc87ddfc1b89a0221c477c9\n0::/\n", ""),
        ("0::/docker/not-an-id\n", ""),
        ("", ""),
    ])
    func unitOrContainer(_ text: String, _ expected: String) {
        #expect(CgroupUnit.parse(text) == expected)
    }
}

extension String {
    /// The systemd cgroup driver writes a pod uid with `_` for `-`.
    fileprivate var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}
