import PacketCapture

/// What `pktstat --version` prints: pktstat's version and the libpcap it runs with.
enum Version {
    static let pktstat = "0.9.0"
    static var text: String { "pktstat \(pktstat)\n\(Libpcap.version)" }
}
