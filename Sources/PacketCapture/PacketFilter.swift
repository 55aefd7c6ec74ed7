import CPcap
public import PacketWire

/// A BPF filter (tcpdump syntax) compiled for one link type and run on packets in memory:
/// `pcap_open_dead` and `pcap_offline_filter`, for readers that are not libpcap's (the connection
/// model's raw packets). The same program a capture's `setFilter` would install.
public final class PacketFilter {
    private var program = bpf_program()

    /// Compiles `expression` for captures of `linkType`.
    public init(_ expression: String, linkType: LinkType) throws(CaptureError) {
        guard let dead = pcap_open_dead(linkType.rawValue, 262_144) else {
            throw .badFilter(expression: expression, detail: "libpcap cannot open a handle for this link type")
        }
        defer { pcap_close(dead) }
        guard pcap_compile(dead, &program, expression, 1, bpf_u_int32(0xFFFF_FFFF)) == 0 else {
            throw .badFilter(expression: expression, detail: String(cString: pcap_geterr(dead)))
        }
    }

    deinit { pcap_freecode(&program) }

    /// Whether the packet (`bytes` as captured, `length` on the wire) passes the filter.
    public func matches(_ bytes: UnsafeRawBufferPointer, length: Int) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var header = pcap_pkthdr()
        header.caplen = bpf_u_int32(truncatingIfNeeded: bytes.count)
        header.len = bpf_u_int32(truncatingIfNeeded: max(length, bytes.count))
        return withUnsafePointer(to: &program) { p in
            pcap_offline_filter(p, &header, base.assumingMemoryBound(to: UInt8.self)) != 0
        }
    }
}
