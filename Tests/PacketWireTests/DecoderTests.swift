import PacketWire
import Testing

/// The decoder on hand-built packets, following the protocol label rule (conformance README,
/// "The protocol label", rules 1-6). Expectations come from the rule, not from running the decoder.
@Suite struct DecoderTests {
    // MARK: - Rule 3: IP protocol numbers

    /// Every IP protocol number with a name of its own (rule 3).
    static let named: [(UInt8, ProtocolLabel)] = [
        (6, .tcp), (17, .udp), (1, .icmp), (58, .icmpv6), (2, .igmp), (47, .gre), (50, .esp), (51, .ah),
        (132, .sctp), (89, .ospf), (4, .ipip), (41, .ipv6), (103, .pim), (112, .vrrp),
    ]

    static func expectedLabel(_ number: UInt8, outer: ProtocolLabel) -> ProtocolLabel {
        named.first { $0.0 == number }?.1 ?? outer
    }

    @Test("IPv4: every protocol number gives its name or IPv4", arguments: 0...255)
    func ipv4ProtocolNumber(_ number: Int) {
        let proto = UInt8(number)
        let d = decode(Build.ether(0x0800, Build.ipv4(proto, Build.filler(40))), .ethernet)
        #expect(d.label == Self.expectedLabel(proto, outer: .ipv4))
        #expect(d.ipVersion == 4)
    }

    @Test("IPv6: every next header gives its name or IPv6 (extension headers skipped)", arguments: 0...255)
    func ipv6NextHeader(_ number: Int) {
        let next = UInt8(number)
        // Extension headers are followed by a destination-options header whose next header is 59,
        // so a skipped header ends in IPv6 too.
        let payload: [UInt8]
        switch next {
        case 44: payload = Build.fragment(59, offsetUnits: 0, more: false)
        case 0, 43, 60: payload = Build.options(59)
        default: payload = Build.filler(40)
        }
        let d = decode(Build.ether(0x86DD, Build.ipv6(next, payload)), .ethernet)
        #expect(d.label == Self.expectedLabel(next, outer: .ipv6))
        #expect(d.ipVersion == 6)
    }

    @Test("IPv6 extension headers are skipped to the transport header", arguments: [UInt8(0), 43, 44, 60])
    func ipv6ExtensionHeaderSkipped(_ header: UInt8) {
        let ext = header == 44 ? Build.fragment(6, offsetUnits: 0, more: false) : Build.options(6)
        let d = decode(Build.ether(0x86DD, Build.ipv6(header, ext + Build.tcp(40000, 443))), .ethernet)
        #expect(d.label == .tcp)
        #expect(d.hasPorts && d.srcPort == 40000 && d.dstPort == 443)
        #expect(d.stop == .complete)
    }

    @Test func ipv6LongExtensionChain() {
        let chain =
            Build.options(43, units: 2) + Build.routing(60) + Build.options(44)
            + Build.fragment(60, offsetUnits: 0, more: true)
            + Build.options(0) + Build.options(17, units: 1) + Build.udp(5000, 5001)
        let d = decode(Build.ether(0x86DD, Build.ipv6(0, chain)), .ethernet)
        #expect(d.label == .udp)
        #expect(d.hasPorts && d.srcPort == 5000 && d.dstPort == 5001)
    }

    @Test("AH is not skipped in IPv6")
    func ipv6AHNotSkipped() {
        let ah: [UInt8] = [58, 4, 0, 0] + Build.be32(0x2002) + Build.be32(1) + Build.filler(12)
        let d = decode(Build.ether(0x86DD, Build.ipv6(51, ah + Build.icmpv6Echo())), .ethernet)
        #expect(d.label == .ah)
        #expect(!d.hasPorts)
    }

    @Test("IPv6 next header 59 and mobility 135 give IPv6")
    func ipv6WithoutNamedPayload() {
        #expect(decode(Build.ether(0x86DD, Build.ipv6(59, [])), .ethernet).label == .ipv6)
        let mobility: [UInt8] = [59, 0, 0, 0, 0, 0, 0, 0]
        #expect(decode(Build.ether(0x86DD, Build.ipv6(60, Build.options(135) + mobility)), .ethernet).label == .ipv6)
    }

    // MARK: - Rule 4: only the outermost header

    @Test func outermostHeaderOnly() {
        let innerUDP = Build.ipv4(17, Build.udp(1, 2))
        #expect(decode(Build.ether(0x0800, Build.ipv4(4, innerUDP)), .ethernet).label == .ipip)
        #expect(decode(Build.ether(0x0800, Build.ipv4(41, Build.ipv6(17, Build.udp(1, 2)))), .ethernet).label == .ipv6)
        #expect(decode(Build.ether(0x86DD, Build.ipv6(4, innerUDP)), .ethernet).label == .ipip)
        #expect(decode(Build.ether(0x86DD, Build.ipv6(41, Build.ipv6(6, Build.tcp(1, 2)))), .ethernet).label == .ipv6)
        let gre: [UInt8] = [0, 0, 0x08, 0x00] + innerUDP
        #expect(decode(Build.ether(0x0800, Build.ipv4(47, gre)), .ethernet).label == .gre)
        let icmpError: [UInt8] = [3, 3, 0, 0, 0, 0, 0, 0] + Build.ipv4(17, Build.udp(53000, 33434)).prefix(28)
        let d = decode(Build.ether(0x0800, Build.ipv4(1, icmpError)), .ethernet)
        #expect(d.label == .icmp)
        #expect(!d.hasPorts)
    }

    // MARK: - Addresses and ports

    @Test func ipv4TCPAddressesAndPorts() {
        let d = decode(Build.ether(0x0800, Build.ipv4(6, Build.tcp(40000, 80))), .ethernet)
        #expect(d.label == .tcp)
        #expect(d.stop == .complete)
        #expect(d.ipVersion == 4)
        #expect(d.src == IPAddress(v4: Build.v4AValue))
        #expect(d.dst == IPAddress(v4: Build.v4BValue))
        #expect(d.src.hi == 0 && d.src.lo == 0xC000_0201)
        #expect(d.hasPorts && d.srcPort == 40000 && d.dstPort == 80)
    }

    @Test func ipv4UDPAndSCTPPorts() {
        let u = decode(Build.ether(0x0800, Build.ipv4(17, Build.udp(5353, 53))), .ethernet)
        #expect(u.label == .udp && u.hasPorts && u.srcPort == 5353 && u.dstPort == 53)
        let s = decode(Build.ether(0x0800, Build.ipv4(132, Build.sctp(5000, 5001))), .ethernet)
        #expect(s.label == .sctp && s.hasPorts && s.srcPort == 5000 && s.dstPort == 5001)
    }

    @Test func ipv4PortsAfterOptions() {
        let options: [UInt8] = [0x94, 4, 0, 0, 1, 1, 1, 0]  // router alert, NOPs, end
        let d = decode(Build.ether(0x0800, Build.ipv4(6, Build.tcp(40003, 8080), options: options)), .ethernet)
        #expect(d.label == .tcp)
        #expect(d.hasPorts && d.srcPort == 40003 && d.dstPort == 8080)
    }

    @Test func ipv6AddressesAndPorts() {
        let t = decode(Build.ether(0x86DD, Build.ipv6(6, Build.tcp(40000, 443))), .ethernet)
        #expect(t.label == .tcp && t.stop == .complete && t.ipVersion == 6)
        #expect(t.src == Build.v6AValue && t.dst == Build.v6BValue)
        #expect(t.hasPorts && t.srcPort == 40000 && t.dstPort == 443)
        let u = decode(Build.ether(0x86DD, Build.ipv6(17, Build.udp(5353, 53))), .ethernet)
        #expect(u.label == .udp && u.hasPorts && u.srcPort == 5353 && u.dstPort == 53)
        let s = decode(Build.ether(0x86DD, Build.ipv6(132, Build.sctp(5000, 5001))), .ethernet)
        #expect(s.label == .sctp && s.hasPorts && s.srcPort == 5000 && s.dstPort == 5001)
    }

    @Test("No ports for protocols without them")
    func noPortsWithoutTransport() {
        for proto: UInt8 in [1, 2, 47, 50, 51, 89, 103, 112, 46] {
            let d = decode(Build.ether(0x0800, Build.ipv4(proto, Build.filler(32))), .ethernet)
            #expect(!d.hasPorts, "protocol \(proto)")
            #expect(d.ipVersion == 4)
        }
        let d = decode(Build.ether(0x86DD, Build.ipv6(58, Build.icmpv6Echo())), .ethernet)
        #expect(!d.hasPorts && d.ipVersion == 6)
    }

    /// ICMP and ICMPv6: type * 256 + code (what IPFIX's icmpTypeCode carries), no ports; none for a
    /// later fragment or a header cut short; never for other protocols without ports.
    @Test func icmpTypeAndCode() {
        let echo = decode(Build.ether(0x0800, Build.ipv4(1, Build.icmpEcho())), .ethernet)
        #expect(echo.label == .icmp && !echo.hasPorts && echo.icmpTypeCode == 0x0800)
        let unreachable = decode(Build.ether(0x0800, Build.ipv4(1, [3, 1, 0, 0] + Build.filler(28))), .ethernet)
        #expect(unreachable.icmpTypeCode == 3 * 256 + 1)
        let v6 = decode(Build.ether(0x86DD, Build.ipv6(58, Build.icmpv6Echo())), .ethernet)
        #expect(v6.label == .icmpv6 && !v6.hasPorts && v6.icmpTypeCode == 128 * 256)
        let later = decode(
            Build.ether(
                0x0800, Build.ipv4(1, Build.icmpEcho(), fragment: Build.fragmentField(offsetUnits: 2, more: false))),
            .ethernet)
        #expect(later.icmpTypeCode == 0)
        let cut = decode(Build.ether(0x0800, Build.ipv4(1, [8])), .ethernet)
        #expect(cut.label == .icmp && cut.icmpTypeCode == 0)
        let gre = decode(Build.ether(0x0800, Build.ipv4(47, [8, 0, 0, 0])), .ethernet)
        #expect(gre.icmpTypeCode == 0)
        let udp = decode(Build.ether(0x0800, Build.ipv4(17, Build.udp(5353, 53))), .ethernet)
        #expect(udp.icmpTypeCode == 0)
    }

    @Test func arpHasNoAddresses() {
        let d = decode(Build.ether(0x0806, Build.arp()), .ethernet)
        #expect(d.label == .arp)
        #expect(d.ipVersion == 0 && !d.hasPorts)
    }

    // MARK: - Rule 4: fragments

    @Test func ipv4FirstFragmentHasPorts() {
        let field = Build.fragmentField(offsetUnits: 0, more: true)
        let d = decode(Build.ether(0x0800, Build.ipv4(17, Build.udp(5000, 5001), fragment: field)), .ethernet)
        #expect(d.label == .udp)
        #expect(d.hasPorts && d.srcPort == 5000 && d.dstPort == 5001)
    }

    @Test("IPv4 non-first fragments: labelled by their protocol, no ports", arguments: [UInt8(17), 6, 132])
    func ipv4LaterFragmentHasNoPorts(_ proto: UInt8) {
        for (offset, more) in [(UInt16(185), false), (1, true), (0x1FFF, false)] {
            let field = Build.fragmentField(offsetUnits: offset, more: more)
            let d = decode(
                Build.ether(0x0800, Build.ipv4(proto, Build.filler(24, from: 0x11), fragment: field)), .ethernet)
            #expect(d.label == Self.expectedLabel(proto, outer: .ipv4))
            #expect(!d.hasPorts)
            #expect(d.ipVersion == 4 && d.src == IPAddress(v4: Build.v4AValue))
        }
    }

    @Test func ipv6FirstFragmentHasPorts() {
        let payload = Build.fragment(17, offsetUnits: 0, more: true) + Build.udp(5000, 5001)
        let d = decode(Build.ether(0x86DD, Build.ipv6(44, payload)), .ethernet)
        #expect(d.label == .udp)
        #expect(d.hasPorts && d.srcPort == 5000 && d.dstPort == 5001)
    }

    @Test(
        "IPv6 non-first fragments: labelled by the fragment header's next header, no ports",
        arguments: [UInt8(17), 6, 132, 58])
    func ipv6LaterFragmentHasNoPorts(_ next: UInt8) {
        let payload = Build.fragment(next, offsetUnits: 185, more: false) + Build.filler(24, from: 0x11)
        let d = decode(Build.ether(0x86DD, Build.ipv6(44, payload)), .ethernet)
        #expect(d.label == Self.expectedLabel(next, outer: .ipv6))
        #expect(!d.hasPorts)
        #expect(d.ipVersion == 6)
    }

    /// Rule 4: "every fragment is labelled by its own header (for IPv6, by the fragment header's
    /// next header)". A non-first fragment does not carry the headers that follow the fragment
    /// header, so when that next header is itself an extension header (here destination options,
    /// 60) the bytes after the fragment header are payload, not a header to walk. The label is the
    /// fragment header's next header: 60 has no name, so `IPv6`.
    @Test("IPv6 non-first fragment whose next header is an extension header: IPv6")
    func ipv6LaterFragmentOfExtensionHeader() {
        // The payload's first byte (17) would read as UDP if it were walked as a header.
        let payload = Build.fragment(60, offsetUnits: 185, more: false) + [17, 0] + Build.filler(22)
        let d = decode(Build.ether(0x86DD, Build.ipv6(44, payload)), .ethernet)
        #expect(d.label == .ipv6)
        #expect(!d.hasPorts)
    }

    // MARK: - Rule 1: Ethernet and VLAN tags

    @Test func ethernetEthertypes() {
        #expect(decode(Build.ether(0x0806, Build.arp()), .ethernet).label == .arp)
        let rarp = decode(Build.ether(0x8035, Build.arp(op: 3)), .ethernet)
        #expect(rarp.label == .other && rarp.stop == .unsupported)
        for type: UInt16 in [0x88CC, 0x8863, 0x8864, 0x88E5, 0x0600, 0x05DD, 0x9000, 0xFFFF] {
            let d = decode(Build.ether(type, Build.ipv4(17, Build.udp(1, 2))), .ethernet)
            #expect(d.label == .other, "ethertype \(type)")
            #expect(d.stop == .unsupported)
        }
    }

    @Test("802.3 length fields are other, whatever the LLC carries", arguments: [UInt16(0), 46, 1500])
    func ethernet8023(_ length: UInt16) {
        var frame = Build.llc8023(Build.filler(40))
        frame[12] = UInt8(length >> 8)
        frame[13] = UInt8(length & 0xFF)
        #expect(decode(frame, .ethernet).label == .other)
        // LLC/SNAP carrying IPv4 is still other.
        let snap: [UInt8] = [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00] + Build.ipv4(6, Build.tcp(1, 2))
        let snapFrame = Build.macB + Build.macA + Build.be16(UInt16(snap.count)) + snap
        #expect(decode(snapFrame, .ethernet).label == .other)
    }

    @Test func vlanTags() {
        let udp = Build.ipv4(17, Build.udp(6000, 6001))
        let one = decode(Build.ether(0x0800, udp, tags: [(0x8100, 100)]), .ethernet)
        #expect(one.label == .udp && one.hasPorts && one.srcPort == 6000)
        let qinq = decode(
            Build.ether(0x0800, Build.ipv4(6, Build.tcp(40002, 22)), tags: [(0x88A8, 200), (0x8100, 100)]), .ethernet)
        #expect(qinq.label == .tcp && qinq.dstPort == 22)
        let many = (0..<12).map { (tpid: UInt16($0 % 2 == 0 ? 0x88A8 : 0x8100), vid: UInt16($0)) }
        #expect(decode(Build.ether(0x86DD, Build.ipv6(58, Build.icmpv6Echo()), tags: many), .ethernet).label == .icmpv6)
        #expect(decode(Build.ether(0x0806, Build.arp(), tags: [(0x8100, 5)]), .ethernet).label == .arp)
        let llcInVLAN = decode(Build.ether(0x0026, Build.filler(38), tags: [(0x8100, 5)]), .ethernet)
        #expect(llcInVLAN.label == .other)
    }

    @Test("Tag types other than 0x8100 and 0x88a8 are not skipped", arguments: [UInt16(0x9100), 0x9200, 0x9300])
    func otherTagTypes(_ tpid: UInt16) {
        let d = decode(Build.ether(0x0800, Build.ipv4(17, Build.udp(1, 2)), tags: [(tpid, 300)]), .ethernet)
        #expect(d.label == .other)
        #expect(d.stop == .unsupported)
    }

    // MARK: - Rule 1: Linux cooked captures

    @Test func linuxSLL() {
        #expect(decode(Build.sll(0x0800, Build.ipv4(6, Build.tcp(40000, 80))), .linuxSLL).label == .tcp)
        let v6 = decode(Build.sll(0x86DD, Build.ipv6(17, Build.udp(5353, 53))), .linuxSLL)
        #expect(v6.label == .udp && v6.src == Build.v6AValue && v6.dstPort == 53)
        #expect(decode(Build.sll(0x0806, Build.arp()), .linuxSLL).label == .arp)
        let tagged = Build.sll(0x8100, Build.vlanTag(100, inner: 0x0800) + Build.ipv4(17, Build.udp(6000, 6001)))
        let t = decode(tagged, .linuxSLL)
        #expect(t.label == .udp && t.srcPort == 6000)
        let qinq = Build.sll(0x88A8, Build.vlanTag(1, inner: 0x8100) + Build.vlanTag(2, inner: 0x0806) + Build.arp())
        #expect(decode(qinq, .linuxSLL).label == .arp)
        #expect(decode(Build.sll(0x0004, [0x42, 0x42, 0x03] + Build.filler(20)), .linuxSLL).label == .other)
        #expect(decode(Build.sll(0x0001, Build.filler(20)), .linuxSLL).label == .other)
    }

    @Test(
        "ARPHRD_NETLINK frames are other, whatever the protocol field says",
        arguments: [UInt16(0), 0x0800, 0x86DD, 0x0806])
    func netlink(_ proto: UInt16) {
        let payload = Build.ipv4(6, Build.tcp(1, 2))
        let one = decode(Build.sll(proto, payload, hatype: Build.arphrdNetlink), .linuxSLL)
        #expect(one.label == .other)
        #expect(one.ipVersion == 0)
        let two = decode(Build.sll2(proto, payload, hatype: Build.arphrdNetlink), .linuxSLL2)
        #expect(two.label == .other)
        #expect(two.ipVersion == 0)
    }

    @Test func linuxSLL2() {
        let u = decode(Build.sll2(0x0800, Build.ipv4(17, Build.udp(5353, 53))), .linuxSLL2)
        #expect(u.label == .udp && u.src == IPAddress(v4: Build.v4AValue) && u.srcPort == 5353)
        #expect(decode(Build.sll2(0x86DD, Build.ipv6(6, Build.tcp(1, 2))), .linuxSLL2).label == .tcp)
        #expect(decode(Build.sll2(0x0806, Build.arp()), .linuxSLL2).label == .arp)
        let tagged = Build.sll2(0x8100, Build.vlanTag(100, inner: 0x0800) + Build.ipv4(1, Build.icmpEcho()))
        #expect(decode(tagged, .linuxSLL2).label == .icmp)
        #expect(decode(Build.sll2(0x0004, Build.filler(20)), .linuxSLL2).label == .other)
        #expect(decode(Build.sll2(0x8035, Build.arp(op: 3)), .linuxSLL2).label == .other)
    }

    // MARK: - Rule 1: raw IP, NULL, LOOP, unknown link types

    @Test("RAW: the version nibble picks IPv4 or IPv6", arguments: [LinkType.raw, LinkType.rawDLT])
    func raw(_ link: LinkType) {
        let v4 = decode(Build.ipv4(17, Build.udp(5353, 53)), link)
        #expect(v4.label == .udp && v4.ipVersion == 4 && v4.dstPort == 53)
        let v6 = decode(Build.ipv6(6, Build.tcp(40000, 443)), link)
        #expect(v6.label == .tcp && v6.ipVersion == 6 && v6.srcPort == 40000)
        for nibble: UInt8 in [0, 1, 5, 7, 0xF] {
            var packet = Build.ipv4(17, Build.udp(1, 2))
            packet[0] = nibble << 4 | 5
            let d = decode(packet, link)
            #expect(d.label == .other, "nibble \(nibble)")
            #expect(d.ipVersion == 0)
        }
    }

    @Test func ipv4AndIPv6LinkTypes() {
        #expect(decode(Build.ipv4(6, Build.tcp(1, 2)), .ipv4).label == .tcp)
        #expect(decode(Build.ipv4(46, Build.filler(8)), .ipv4).label == .ipv4)
        #expect(decode(Build.ipv6(58, Build.icmpv6Echo()), .ipv6).label == .icmpv6)
        #expect(decode(Build.ipv6(59, []), .ipv6).label == .ipv6)
        // The link type says which: an IPv6 packet on LINKTYPE_IPV4 is not IPv6 (rule 6: invalid).
        #expect(decode(Build.ipv6(17, Build.udp(1, 2)), .ipv4).stop == .invalid)
        #expect(decode(Build.ipv4(17, Build.udp(1, 2)), .ipv6).stop == .invalid)
    }

    @Test("NULL: family read little-endian, big-endian when the upper 16 bits are set")
    func nullLinkType() {
        let v4 = Build.ipv4(17, Build.udp(5353, 53))
        let v6 = Build.ipv6(6, Build.tcp(40000, 443))
        #expect(decode(Build.nullFamily(2, bigEndian: false) + v4, .null).label == .udp)
        #expect(decode(Build.nullFamily(2, bigEndian: true) + v4, .null).label == .udp)
        for family: UInt32 in [24, 28, 30] {
            let le = decode(Build.nullFamily(family, bigEndian: false) + v6, .null)
            #expect(le.label == .tcp && le.ipVersion == 6, "family \(family) LE")
            let be = decode(Build.nullFamily(family, bigEndian: true) + v6, .null)
            #expect(be.label == .tcp && be.ipVersion == 6, "family \(family) BE")
        }
        for family: UInt32 in [0, 1, 7, 10, 23, 26, 31, 0x0800] {
            let d = decode(Build.nullFamily(family, bigEndian: false) + v4, .null)
            #expect(d.label == .other, "family \(family)")
            #expect(d.stop == .unsupported)
        }
    }

    @Test("LOOP: family in network byte order")
    func loopLinkType() {
        let v4 = Build.ipv4(6, Build.tcp(40000, 80))
        let v6 = Build.ipv6(17, Build.udp(5353, 53))
        #expect(decode(Build.nullFamily(2, bigEndian: true) + v4, .loop).label == .tcp)
        for family: UInt32 in [24, 28, 30] {
            #expect(decode(Build.nullFamily(family, bigEndian: true) + v6, .loop).label == .udp)
        }
        #expect(decode(Build.nullFamily(7, bigEndian: true) + v4, .loop).label == .other)
        // Little-endian 2 is 0x02000000 in network order: not an address family.
        #expect(decode(Build.nullFamily(2, bigEndian: false) + v4, .loop).label == .other)
    }

    @Test(
        "Every other link type is other, even carrying IP",
        arguments: [Int32(9), 10, 50, 104, 105, 119, 127, 160, 192, 195, 226, 239, 253, 264, 271, 274, 147, 65000, -1])
    func unknownLinkTypes(_ raw: Int32) {
        let packets = [
            Build.ipv4(6, Build.tcp(1, 2)), Build.ether(0x0800, Build.ipv4(6, Build.tcp(1, 2))),
            [0xFF, 0x03, 0x00, 0x21] + Build.ipv4(17, Build.udp(1, 2)), [],
        ]
        for packet in packets {
            let d = decode(packet, LinkType(raw))
            #expect(d.label == .other)
            #expect(d.stop == .unsupported)
            #expect(d.ipVersion == 0 && !d.hasPorts)
        }
    }

    // MARK: - Rule 5: truncation

    @Test("IPv4 cut after byte 10 still gives its protocol; after byte 9 it is IPv4")
    func ipv4CutAtProtocol() {
        let frame = Build.ether(0x0800, Build.ipv4(17, Build.udp(5353, 53)))
        let ten = decode(frame, prefix: 14 + 10, .ethernet)
        #expect(ten.label == .udp)
        #expect(ten.stop == .truncated)
        #expect(ten.ipVersion == 0 && !ten.hasPorts)
        let nine = decode(frame, prefix: 14 + 9, .ethernet)
        #expect(nine.label == .ipv4 && nine.stop == .truncated)
        let one = decode(frame, prefix: 15, .ethernet)
        #expect(one.label == .ipv4 && one.stop == .truncated)
        let none = decode(frame, prefix: 14, .ethernet)
        #expect(none.label == .ipv4 && none.stop == .truncated)
    }

    @Test("IPv4 addresses and ports count when their own bytes are captured")
    func ipv4CutBeforePorts() {
        let frame = Build.ether(0x0800, Build.ipv4(6, Build.tcp(40000, 80)))
        let addresses = decode(frame, prefix: 14 + 20, .ethernet)
        #expect(addresses.label == .tcp && addresses.ipVersion == 4)
        #expect(addresses.dst == IPAddress(v4: Build.v4BValue))
        #expect(!addresses.hasPorts && addresses.stop == .truncated)
        let ports = decode(frame, prefix: 14 + 24, .ethernet)
        #expect(ports.hasPorts && ports.srcPort == 40000 && ports.dstPort == 80)
        let noDst = decode(frame, prefix: 14 + 19, .ethernet)
        #expect(noDst.label == .tcp && noDst.ipVersion == 0 && noDst.stop == .truncated)
    }

    @Test("IPv6 cut after byte 7 gives its next header; after byte 6 it is IPv6")
    func ipv6CutAtNextHeader() {
        let frame = Build.ether(0x86DD, Build.ipv6(6, Build.tcp(40000, 443)))
        let seven = decode(frame, prefix: 14 + 7, .ethernet)
        #expect(seven.label == .tcp && seven.stop == .truncated && seven.ipVersion == 0)
        let six = decode(frame, prefix: 14 + 6, .ethernet)
        #expect(six.label == .ipv6 && six.stop == .truncated)
        let addresses = decode(frame, prefix: 14 + 40, .ethernet)
        #expect(addresses.label == .tcp && addresses.ipVersion == 6 && addresses.src == Build.v6AValue)
        #expect(!addresses.hasPorts && addresses.stop == .truncated)
        let ports = decode(frame, prefix: 14 + 44, .ethernet)
        #expect(ports.hasPorts && ports.srcPort == 40000 && ports.dstPort == 443)
    }

    @Test("IPv6: an extension header needed for the walk and not captured gives IPv6")
    func ipv6ExtensionHeaderCut() {
        let chain = Build.options(60) + Build.options(43) + Build.routing(17) + Build.udp(5000, 5001)
        let frame = Build.ether(0x86DD, Build.ipv6(0, chain))
        let base = 14 + 40
        // Hop-by-hop not captured at all.
        #expect(decode(frame, prefix: base, .ethernet).label == .ipv6)
        // Its next header (60, an extension header) captured but not its length: the walk stops.
        let nextOnly = decode(frame, prefix: base + 1, .ethernet)
        #expect(nextOnly.label == .ipv6 && nextOnly.stop == .truncated)
        // Destination options' next header (43) captured, length not.
        #expect(decode(frame, prefix: base + 9, .ethernet).label == .ipv6)
        // The routing header's next header (17) captured: the walk has reached UDP.
        let routing = decode(frame, prefix: base + 17, .ethernet)
        #expect(routing.label == .udp && routing.stop == .truncated && !routing.hasPorts)
        let full = decode(frame, .ethernet)
        #expect(full.label == .udp && full.hasPorts && full.srcPort == 5000)
    }

    @Test("Ethernet: an ethertype or a VLAN tag's inner type not captured gives other")
    func ethertypeCut() {
        let frame = Build.ether(0x0800, Build.ipv4(17, Build.udp(1, 2)), tags: [(0x8100, 1), (0x88A8, 2)])
        for n in 0..<14 {
            let d = decode(frame, prefix: n, .ethernet)
            #expect(d.label == .other && d.stop == .truncated, "prefix \(n)")
        }
        for n in 14..<22 {
            let d = decode(frame, prefix: n, .ethernet)
            #expect(d.label == .other && d.stop == .truncated, "prefix \(n)")
        }
        #expect(decode(frame, prefix: 22, .ethernet).label == .ipv4)
    }

    @Test("A truncated ARP frame is still ARP")
    func arpCut() {
        let frame = Build.ether(0x0806, Build.arp())
        for n in 14...frame.count {
            #expect(decode(frame, prefix: n, .ethernet).label == .arp, "prefix \(n)")
        }
        let sll = Build.sll(0x0806, Build.arp())
        #expect(decode(sll, prefix: 16, .linuxSLL).label == .arp)
    }

    @Test("Prefix 0 is truncated for every link type the decoder knows")
    func emptyInput() {
        for link in [LinkType.ethernet, .linuxSLL, .linuxSLL2, .raw, .rawDLT, .null, .loop] {
            let d = decode([], link)
            #expect(d.label == .other && d.stop == .truncated, "link type \(link.rawValue)")
        }
        let v4 = decode([], .ipv4)
        #expect(v4.label == .ipv4 && v4.stop == .truncated)
        let v6 = decode([], .ipv6)
        #expect(v6.label == .ipv6 && v6.stop == .truncated)
    }

    @Test func linkHeadersCut() {
        let sll = Build.sll(0x0800, Build.ipv4(17, Build.udp(1, 2)))
        #expect(decode(sll, prefix: 15, .linuxSLL).label == .other)
        #expect(decode(sll, prefix: 16, .linuxSLL).label == .ipv4)
        #expect(decode(sll, prefix: 26, .linuxSLL).label == .udp)
        let sll2 = Build.sll2(0x86DD, Build.ipv6(58, Build.icmpv6Echo()))
        #expect(decode(sll2, prefix: 1, .linuxSLL2).label == .other)
        // The protocol field is captured: the IPv6 header is not.
        #expect(decode(sll2, prefix: 2, .linuxSLL2).label == .ipv6)
        #expect(decode(sll2, prefix: 20, .linuxSLL2).label == .ipv6)
        #expect(decode(sll2, prefix: 27, .linuxSLL2).label == .icmpv6)
        let null = Build.nullFamily(30, bigEndian: false) + Build.ipv6(17, Build.udp(1, 2))
        #expect(decode(null, prefix: 3, .null).label == .other)
        #expect(decode(null, prefix: 4, .null).label == .ipv6)
        #expect(decode(null, prefix: 11, .null).label == .udp)
        #expect(decode([0x45], .raw).label == .ipv4)
        #expect(decode([0x60], .raw).label == .ipv6)
    }

    // MARK: - Rule 6 and stops

    @Test func invalidHeaders() {
        var badVersion = Build.ipv4(17, Build.udp(1, 2))
        badVersion[0] = 0x55
        #expect(decode(Build.ether(0x0800, badVersion), .ethernet).stop == .invalid)
        let smallIHL = Build.ipv4(6, Build.tcp(1, 2), ihl: 4)
        #expect(decode(Build.ether(0x0800, smallIHL), .ethernet).stop == .invalid)
        let badV6 = Build.ipv6(17, Build.udp(1, 2), version: 4)
        #expect(decode(Build.ether(0x86DD, badV6), .ethernet).stop == .invalid)
    }

    @Test func stops() {
        #expect(decode(Build.ether(0x0800, Build.ipv4(1, Build.icmpEcho())), .ethernet).stop == .complete)
        #expect(decode(Build.ether(0x0800, Build.ipv4(6, Build.tcp(1, 2))), .ethernet).stop == .complete)
        #expect(decode(Build.ether(0x86DD, Build.ipv6(59, [])), .ethernet).stop == .complete)
        #expect(decode(Build.ether(0x0806, Build.arp()), .ethernet).stop == .complete)
        #expect(decode(Build.llc8023(Build.filler(40)), .ethernet).stop == .unsupported)
        #expect(decode(Build.ether(0x0800, Build.ipv4(6, [1, 2])), .ethernet).stop == .truncated)
        #expect(decode(Build.ipv4(6, Build.tcp(1, 2)), LinkType(9)).stop == .unsupported)
    }
}
