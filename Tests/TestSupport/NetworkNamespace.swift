public import Foundation

/// Two network namespaces joined by a veth pair, made by the test and removed by `destroy()`.
/// Addresses are the test's own (documentation range 198.51.100.0/24); traffic never leaves them.
public final class VethPair: @unchecked Sendable {
    public let sender: String
    public let receiver: String
    public let senderInterface = "vsnd0"
    public let receiverInterface = "vrcv0"
    public let senderAddress = "198.51.100.1"
    public let receiverAddress = "198.51.100.2"

    public init(tag: String = "") throws {
        let id = "\(getpid())-\(tag.isEmpty ? String(UInt32.random(in: 0...UInt32.max), radix: 36) : tag)"
        sender = "pktstat-snd-\(id)"
        receiver = "pktstat-rcv-\(id)"
        try ip(["netns", "add", sender])
        try ip(["netns", "add", receiver])
        try ip([
            "-n", sender, "link", "add", senderInterface, "type", "veth", "peer", "name", receiverInterface, "netns",
            receiver,
        ])
        try ip(["-n", sender, "addr", "add", "\(senderAddress)/24", "dev", senderInterface])
        try ip(["-n", receiver, "addr", "add", "\(receiverAddress)/24", "dev", receiverInterface])
        // No IPv6 (no router solicitations or DAD on the wire): only the test's packets flow.
        for (ns, ifname) in [(sender, senderInterface), (receiver, receiverInterface)] {
            _ = try? shell(
                "ip netns exec \(ns) sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
            // No ICMP port-unreachable answers to the test's datagrams.
            _ = try? shell("ip netns exec \(ns) sysctl -qw net.ipv4.icmp_msgs_per_sec=0 net.ipv4.icmp_msgs_burst=0")
            try ip(["-n", ns, "link", "set", ifname, "up"])
            try ip(["-n", ns, "link", "set", "lo", "up"])
        }
        // Static neighbours: no ARP on the wire either.
        let mac = try shell("ip -n \(receiver) -br link show \(receiverInterface) | awk '{print $3}'").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if !mac.isEmpty {
            _ = try? ip([
                "-n", sender, "neigh", "replace", receiverAddress, "lladdr", mac, "dev", senderInterface, "nud",
                "permanent",
            ])
        }
    }

    public func destroy() {
        _ = try? ip(["netns", "del", sender])
        _ = try? ip(["netns", "del", receiver])
    }

    deinit { destroy() }

    private func ip(_ args: [String]) throws {
        let r = try run(try requireTool("ip"), args, timeout: 20)
        guard r.status == 0 else {
            throw NSError(
                domain: "VethPair", code: Int(r.status),
                userInfo: [NSLocalizedDescriptionKey: "ip \(args.joined(separator: " ")): \(r.stderr)"])
        }
    }

    /// Arguments that run `command` inside namespace `ns`.
    public static func exec(in ns: String, _ command: [String]) -> (String, [String]) {
        (TestPaths.tool("ip") ?? "/usr/sbin/ip", ["netns", "exec", ns] + command)
    }

    /// Sends `count` UDP datagrams of `size` payload bytes from the sender to the receiver, port
    /// `port`, one every `gapMs` milliseconds (bounded: count and time).
    public func sendUDP(count: Int, port: Int, size: Int = 32, gapMs: Int = 5) throws {
        let py = """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(\(count)):
                s.sendto(bytes(\(size)), ('\(receiverAddress)', \(port)))
                time.sleep(\(Double(gapMs) / 1000))
            """
        let (exe, args) = Self.exec(in: sender, [try requireTool("python3"), "-c", py])
        let r = try run(exe, args, timeout: 30)
        guard r.status == 0 else {
            throw NSError(
                domain: "VethPair", code: 1, userInfo: [NSLocalizedDescriptionKey: "send failed: \(r.stderr)"])
        }
    }
}

/// Sends UDP datagrams to 127.0.0.1 (loopback only), bounded in count.
public func sendLoopbackUDP(count: Int, port: Int, size: Int = 16, gapMs: Int = 2) throws {
    let py = """
        import socket, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(\(count)):
            s.sendto(bytes(\(size)), ('127.0.0.1', \(port)))
            time.sleep(\(Double(gapMs) / 1000))
        """
    let r = try run(try requireTool("python3"), ["-c", py], timeout: 30)
    guard r.status == 0 else {
        throw NSError(
            domain: "sendLoopbackUDP", code: 1, userInfo: [NSLocalizedDescriptionKey: "send failed: \(r.stderr)"])
    }
}
