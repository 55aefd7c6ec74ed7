/// Everything that can go wrong opening, filtering, reading or writing a capture.
/// `description` is the one line the CLI prints; `hint` says how to fix it.
public enum CaptureError: Error, CustomStringConvertible, Sendable {
    case permissionDenied(interface: String, detail: String)
    case promiscuousPermissionDenied(interface: String, detail: String)
    case noSuchInterface(String, detail: String)
    case interfaceDown(String)
    case activationFailed(interface: String, detail: String)
    case noDefaultInterface(detail: String)
    case listInterfacesFailed(detail: String)
    case badFilter(expression: String, detail: String)
    case cannotOpenFile(path: String, detail: String)
    case readFailed(path: String, detail: String)
    case captureFailed(interface: String, detail: String)
    case cannotWrite(path: String, detail: String)

    public var description: String {
        switch self {
        case .permissionDenied(let i, let d):
            "cannot capture on \(i): permission denied (\(d))"
        case .promiscuousPermissionDenied(let i, _):
            "cannot put \(i) in promiscuous mode: permission denied"
        case .noSuchInterface(let i, _):
            "cannot capture on \(i): no such interface"
        case .interfaceDown(let i):
            "cannot capture on \(i): the interface is down"
        case .activationFailed(let i, let d):
            "cannot capture on \(i): \(d)"
        case .noDefaultInterface(let d):
            "no interface to capture on" + (d.isEmpty ? "" : " (\(d))")
        case .listInterfacesFailed(let d):
            "cannot list interfaces: \(d)"
        case .badFilter(let e, let d):
            "bad filter expression '\(e)': \(d)"
        case .cannotOpenFile(let p, let d):
            "cannot read \(p): \(d)"
        case .readFailed(let p, let d):
            "error reading \(p): \(d)"
        case .captureFailed(let i, let d):
            "capture on \(i) failed: \(d)"
        case .cannotWrite(let p, let d):
            "cannot write \(p): \(d)"
        }
    }

    public var hint: String? {
        switch self {
        case .permissionDenied, .promiscuousPermissionDenied:
            "capturing needs CAP_NET_RAW: run with sudo; with the Debian package, ask to be added to the pktstat "
                + "group; built from source, once: sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v pktstat)\""
        case .noSuchInterface:
            "run 'pktstat sniff -D' to list the interfaces you can capture on"
        case .interfaceDown(let i):
            "bring it up with: sudo ip link set \(i) up"
        case .noDefaultInterface:
            "name one with -i (see 'pktstat sniff -D')"
        case .badFilter:
            "filters use tcpdump's syntax, see 'man pcap-filter' (e.g. 'udp port 53', 'host 192.0.2.1')"
        case .cannotOpenFile(_, let d):
            d.contains("compressed")
                ? "decompress it first (gunzip, xz -d, zstd -d)" : "check the path; files must be pcap or pcapng"
        case .readFailed:
            "the packets before the damage were read; the file may be truncated or corrupt"
        case .cannotWrite:
            "check the directory exists, is writable and has free space"
        case .activationFailed, .captureFailed, .listInterfacesFailed:
            nil
        }
    }
}

/// libpcap's error buffer as text.
func errorText(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
