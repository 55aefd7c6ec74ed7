import CPcap
import Glibc

/// A capture device as `pcap_findalldevs` lists it (what `tcpdump -D` prints).
public struct CaptureDevice: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var isLoopback: Bool
    public var isUp: Bool
    public var isRunning: Bool
    public var isWireless: Bool
    /// "Connected", "Disconnected", "Not applicable" or nil when unknown.
    public var connection: String?

    /// tcpdump's flag list: "[Up, Running, Connected]".
    public var flagText: String {
        var f: [String] = []
        if isLoopback { f.append("Loopback") }
        if isUp { f.append("Up") }
        if isRunning { f.append("Running") }
        if isWireless { f.append("Wireless") }
        if let connection { f.append(connection) }
        return "[" + f.joined(separator: ", ") + "]"
    }

    /// What `tcpdump -D` prints: a numbered line per device, `1.eth0 (description) [Up, Running]`.
    public static func listText(_ devices: [CaptureDevice]) -> String {
        devices.enumerated().map { i, d in
            "\(i + 1).\(d.name)\(d.description.map { " (\($0))" } ?? "") \(d.flagText)\n"
        }.joined()
    }

    /// Every device libpcap can open, in libpcap's order (up and running, non-loopback first).
    public static func all() throws(CaptureError) -> [CaptureDevice] {
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &err) == 0 else {
            throw .listInterfacesFailed(detail: errorText(err))
        }
        defer { if let list { pcap_freealldevs(list) } }
        var out: [CaptureDevice] = []
        var cursor = list
        while let d = cursor {
            let flags = d.pointee.flags
            let status: String? =
                switch flags & UInt32(PCAP_IF_CONNECTION_STATUS) {
                case UInt32(PCAP_IF_CONNECTION_STATUS_CONNECTED): "Connected"
                case UInt32(PCAP_IF_CONNECTION_STATUS_DISCONNECTED): "Disconnected"
                case UInt32(PCAP_IF_CONNECTION_STATUS_NOT_APPLICABLE): "Not applicable"
                default: nil
                }
            out.append(
                CaptureDevice(
                    name: String(cString: d.pointee.name),
                    description: d.pointee.description.map { String(cString: $0) },
                    isLoopback: flags & UInt32(PCAP_IF_LOOPBACK) != 0,
                    isUp: flags & UInt32(PCAP_IF_UP) != 0,
                    isRunning: flags & UInt32(PCAP_IF_RUNNING) != 0,
                    isWireless: flags & UInt32(PCAP_IF_WIRELESS) != 0,
                    connection: status
                ))
            cursor = d.pointee.next
        }
        return out
    }

    /// The interface tcpdump would pick with no -i: the first one libpcap lists.
    public static func defaultInterface() throws(CaptureError) -> String {
        let devices = try all()
        guard let first = devices.first else {
            throw .noDefaultInterface(detail: "libpcap found no interface to capture on")
        }
        return first.name
    }
}

extension CaptureDevice {
    /// Interface index → name for every interface now (`if_nameindex`), for naming the
    /// interface of SLL2 packets captured live.
    public static func indexNames() -> [UInt32: String] {
        guard let list = if_nameindex() else { return [:] }
        defer { if_freenameindex(list) }
        var names: [UInt32: String] = [:]
        var i = 0
        while list[i].if_index != 0, let name = list[i].if_name {
            names[list[i].if_index] = String(cString: name)
            i += 1
        }
        return names
    }
}
