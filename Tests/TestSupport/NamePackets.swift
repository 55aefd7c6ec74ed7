/// DNS messages, TLS ClientHellos and the Ethernet/IP/UDP/TCP frames that carry them, byte by byte,
/// for the tests of pktstat's names (`src_name`, `dst_name`, `server_name`).
public enum NamePackets {
    public static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    public static func be24(_ v: Int) -> [UInt8] { [UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    public static func be32(_ v: UInt32) -> [UInt8] { be16(UInt16(v >> 16)) + be16(UInt16(v & 0xFFFF)) }

    /// A name as DNS labels, ending with the root.
    public static func dnsName(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in s.split(separator: ".") {
            out.append(UInt8(label.utf8.count))
            out += Array(label.utf8)
        }
        return out + [0]
    }

    /// A resource record: owner (already encoded: labels or a pointer), type, class IN, TTL 60.
    public static func record(_ owner: [UInt8], type: UInt16, _ rdata: [UInt8]) -> [UInt8] {
        owner + be16(type) + be16(1) + be32(60) + be16(UInt16(rdata.count)) + rdata
    }

    public static func a(_ owner: [UInt8], _ v4: [UInt8]) -> [UInt8] { record(owner, type: 1, v4) }
    public static func aaaa(_ owner: [UInt8], _ v6: [UInt8]) -> [UInt8] { record(owner, type: 28, v6) }
    public static func cname(_ owner: [UInt8], _ target: String) -> [UInt8] { record(owner, type: 5, dnsName(target)) }

    /// A pointer to offset `o` of the message (RFC 1035 4.1.4).
    public static func pointer(_ o: UInt16) -> [UInt8] { be16(0xC000 | o) }

    /// A DNS message: a response (QR set) unless `response` is false; `question` nil for none.
    public static func dns(
        id: UInt16 = 0x1234, question: String?, answers: [[UInt8]], response: Bool = true, answerCount: Int? = nil
    ) -> [UInt8] {
        var m = be16(id) + be16(response ? 0x8180 : 0x0100)
        m += be16(question == nil ? 0 : 1) + be16(UInt16(answerCount ?? answers.count)) + be16(0) + be16(0)
        if let question { m += dnsName(question) + be16(1) + be16(1) }
        for a in answers { m += a }
        return m
    }

    /// A TLS 1.2-framed ClientHello (record and handshake headers) with an SNI extension naming
    /// `serverName` (none when nil) among a few others.
    public static func clientHello(serverName: String?, padding: Int = 0) -> [UInt8] {
        var ext: [UInt8] = []
        ext += be16(0x000A) + be16(4) + be16(2) + be16(0x001D)  // supported_groups
        if let serverName {
            let name = Array(serverName.utf8)
            let entry = [0] + be16(UInt16(name.count)) + name
            let list = be16(UInt16(entry.count)) + entry
            ext += be16(0) + be16(UInt16(list.count)) + list
        }
        ext += be16(0x0015) + be16(UInt16(padding)) + [UInt8](repeating: 0, count: padding)  // padding
        var body: [UInt8] = be16(0x0303) + [UInt8](repeating: 7, count: 32)
        body += [0]  // session id
        body += be16(4) + be16(0x1301) + be16(0x1302)  // cipher suites
        body += [1, 0]  // compression: null
        body += be16(UInt16(ext.count)) + ext
        let handshake = [1] + be24(body.count) + body
        return [22, 3, 1] + be16(UInt16(handshake.count)) + handshake
    }

    static let macs: [UInt8] = [0x02, 0, 0, 0, 0, 0x0B, 0x02, 0, 0, 0, 0, 0x0A]

    /// Ethernet + IPv4 (or IPv6 when the addresses are 16 bytes) + UDP.
    public static func udp(_ src: [UInt8], _ dst: [UInt8], _ sport: UInt16, _ dport: UInt16, _ payload: [UInt8])
        -> [UInt8]
    {
        let udp = be16(sport) + be16(dport) + be16(UInt16(8 + payload.count)) + be16(0) + payload
        return ip(src, dst, protocolNumber: 17, udp)
    }

    /// Ethernet + IPv4 (or IPv6) + TCP (flags: PSH ACK unless given; SYN 0x02).
    public static func tcp(
        _ src: [UInt8], _ dst: [UInt8], _ sport: UInt16, _ dport: UInt16, seq: UInt32, flags: UInt8 = 0x18,
        _ payload: [UInt8] = []
    ) -> [UInt8] {
        let tcp = be16(sport) + be16(dport) + be32(seq) + be32(1) + [0x50, flags] + be16(65535) + be16(0) + be16(0)
        return ip(src, dst, protocolNumber: 6, tcp + payload)
    }

    static func ip(_ src: [UInt8], _ dst: [UInt8], protocolNumber: UInt8, _ payload: [UInt8]) -> [UInt8] {
        if src.count == 16 {
            return macs + be16(0x86DD) + [0x60, 0, 0, 0] + be16(UInt16(payload.count)) + [protocolNumber, 64] + src
                + dst + payload
        }
        let total = 20 + payload.count
        return macs + be16(0x0800) + [0x45, 0] + be16(UInt16(total)) + [0, 1, 0x40, 0, 64, protocolNumber, 0, 0]
            + src + dst + payload
    }
}
