import PacketWire

/// Builds packets byte by byte for the decoder tests. Checksums are left zero: the decoder does not
/// validate them (rule 6).
enum Build {
    static let macA: [UInt8] = [0x02, 0, 0, 0, 0, 0x0A]
    static let macB: [UInt8] = [0x02, 0, 0, 0, 0, 0x0B]

    static let v4A: [UInt8] = [192, 0, 2, 1]
    static let v4B: [UInt8] = [198, 51, 100, 2]
    /// 2001:db8::a and 2001:db8::b
    static let v6A: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x0A]
    static let v6B: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x0B]

    static let v4AValue: UInt32 = 0xC000_0201
    static let v4BValue: UInt32 = 0xC633_6402
    static let v6AValue = IPAddress(hi: 0x2001_0DB8_0000_0000, lo: 0x0A)
    static let v6BValue = IPAddress(hi: 0x2001_0DB8_0000_0000, lo: 0x0B)

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
    static func le32(_ v: UInt32) -> [UInt8] { be32(v).reversed() }
    static func filler(_ n: Int, from start: UInt8 = 0) -> [UInt8] {
        (0..<n).map { start &+ UInt8(truncatingIfNeeded: $0) }
    }

    // MARK: link layers

    /// Ethernet II. Each tag is (TPID, VLAN id); the last inner type is `type`.
    static func ether(_ type: UInt16, _ payload: [UInt8], tags: [(tpid: UInt16, vid: UInt16)] = []) -> [UInt8] {
        let types = tags.map(\.tpid) + [type]
        var frame = macB + macA + be16(types[0])
        for (index, tag) in tags.enumerated() {
            frame += be16(tag.vid & 0x0FFF) + be16(types[index + 1])
        }
        return frame + payload
    }

    /// 802.3: a length field, then LLC.
    static func llc8023(_ payload: [UInt8]) -> [UInt8] {
        let llc: [UInt8] = [0x42, 0x42, 0x03] + payload
        return [0x01, 0x80, 0xC2, 0, 0, 0] + macA + be16(UInt16(llc.count)) + llc
    }

    static let arphrdEther: UInt16 = 1
    static let arphrdNetlink: UInt16 = 824

    static func sll(_ proto: UInt16, _ payload: [UInt8], hatype: UInt16 = arphrdEther) -> [UInt8] {
        be16(0) + be16(hatype) + be16(6) + macA + [0, 0] + be16(proto) + payload
    }

    static func sll2(_ proto: UInt16, _ payload: [UInt8], hatype: UInt16 = arphrdEther) -> [UInt8] {
        be16(proto) + be16(0) + be32(2) + be16(hatype) + [0, 6] + macA + [0, 0] + payload
    }

    static func nullFamily(_ family: UInt32, bigEndian: Bool) -> [UInt8] {
        bigEndian ? be32(family) : le32(family)
    }

    static func vlanTag(_ vid: UInt16, inner: UInt16) -> [UInt8] { be16(vid) + be16(inner) }

    // MARK: network layers

    static func ipv4(
        _ proto: UInt8, _ payload: [UInt8], src: [UInt8] = v4A, dst: [UInt8] = v4B,
        fragment: UInt16 = 0x4000, version: UInt8 = 4, ihl: UInt8? = nil, options: [UInt8] = []
    ) -> [UInt8] {
        let headerWords = ihl ?? UInt8(5 + options.count / 4)
        let total = UInt16(20 + options.count + payload.count)
        var h: [UInt8] = [version << 4 | headerWords, 0] + be16(total) + be16(0x1000) + be16(fragment)
        h += [64, proto, 0, 0] + src + dst + options
        return h + payload
    }

    static func ipv6(_ next: UInt8, _ payload: [UInt8], src: [UInt8] = v6A, dst: [UInt8] = v6B, version: UInt8 = 6)
        -> [UInt8]
    {
        [version << 4, 0, 0, 0] + be16(UInt16(payload.count)) + [next, 64] + src + dst + payload
    }

    /// Hop-by-hop or destination options: (units + 1) * 8 bytes, one PadN option.
    static func options(_ next: UInt8, units: UInt8 = 0) -> [UInt8] {
        let size = (Int(units) + 1) * 8
        return [next, units, 1, UInt8(size - 4)] + [UInt8](repeating: 0, count: size - 4)
    }

    /// Routing header type 0, segments left 0, one address (24 bytes).
    static func routing(_ next: UInt8) -> [UInt8] {
        [next, 2, 0, 0, 0, 0, 0, 0] + v6B
    }

    static func fragment(_ next: UInt8, offsetUnits: UInt16, more: Bool) -> [UInt8] {
        [next, 0] + be16(offsetUnits << 3 | (more ? 1 : 0)) + be32(0x1234_5678)
    }

    /// IPv4 fragment field: offset in 8-byte units, the MF flag.
    static func fragmentField(offsetUnits: UInt16, more: Bool) -> UInt16 {
        offsetUnits & 0x1FFF | (more ? 0x2000 : 0)
    }

    // MARK: transport and others

    static func tcp(_ sport: UInt16, _ dport: UInt16) -> [UInt8] {
        be16(sport) + be16(dport) + be32(1000) + be32(0) + [0x50, 0x02] + be16(64240) + [0, 0, 0, 0]
    }

    static func udp(_ sport: UInt16, _ dport: UInt16, _ payload: [UInt8] = filler(8)) -> [UInt8] {
        be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    static func sctp(_ sport: UInt16, _ dport: UInt16) -> [UInt8] {
        be16(sport) + be16(dport) + be32(0) + be32(0) + [1, 0] + be16(20) + be32(0x0102_0304) + be32(65536)
            + be16(10) + be16(10) + be32(1)
    }

    static func icmpEcho() -> [UInt8] { [8, 0, 0, 0, 0x12, 0x34, 0, 1] + filler(8) }
    static func icmpv6Echo() -> [UInt8] { [128, 0, 0, 0, 0x12, 0x34, 0, 1] + filler(8) }

    static func arp(op: UInt16 = 1) -> [UInt8] {
        be16(1) + be16(0x0800) + [6, 4] + be16(op) + macA + v4A + [UInt8](repeating: 0, count: 6) + v4B
    }
}

/// Decodes `bytes` as captured with `linkType`.
func decode(_ bytes: [UInt8], _ linkType: LinkType) -> Decoded {
    bytes.withUnsafeBytes { Decoder.decode(Bytes($0), linkType: linkType) }
}

/// Decodes the first `count` bytes of `bytes` only.
func decode(_ bytes: [UInt8], prefix count: Int, _ linkType: LinkType) -> Decoded {
    decode(Array(bytes.prefix(count)), linkType)
}
