import PacketWire
import TestSupport
import Testing

/// The labels (and ports) the decoder gives for every packet of the captures `scripts/make-captures`
/// writes. The expectations are written from the label rule and the packets the script builds
/// (captures/README.md lists them), not by running the decoder.
///
/// Each entry: a label as printed, `?` for a packet the rule does not compare (rule 6), and for
/// TCP/UDP/SCTP either `sport>dport` or nothing, meaning "no ports" (non-first fragments, ports not
/// captured).
@Suite struct CaptureGoldenTests {
    static let smallSet = ["UDP 5353>53", "TCP 40000>443", "ARP"]

    static let expectations: [String: [String]] = [
        "linktypes-ethernet.pcap": [
            "TCP 40000>80", "UDP 5353>53", "ICMP", "IGMP", "GRE", "ESP", "AH", "SCTP 5000>5001", "OSPF", "IPIP",
            "PIM", "VRRP", "TCP 40000>443", "UDP 5353>53", "ICMPv6", "IPv6", "ARP", "other", "other",
            "UDP 6000>6001", "TCP 40002>22", "other", "UDP 5000>5001", "UDP", "UDP", "IPv6", "IPv4", "?", "AH",
            "IPIP", "IPv6", "ICMP", "TCP 40003>8080",
        ],
        "linktypes-sll.pcap": [
            "TCP 40000>80", "UDP 5353>53", "ARP", "UDP 6000>6001", "other", "other", "other", "ICMPv6", "OSPF",
        ],
        "linktypes-sll2.pcap": ["UDP 5353>53", "TCP 40000>443", "ARP", "ICMP", "other", "other", "GRE"],
        "linktypes-raw.pcap": ["UDP 5353>53", "TCP 40000>443", "other", "ICMP", "ICMPv6"],
        "linktypes-null.pcap": ["UDP 5353>53", "TCP 40000>443", "UDP 5353>53", "other", "ICMPv6", "TCP 40000>80"],
        "linktypes-loop.pcap": ["TCP 40000>80", "UDP 5353>53", "ICMPv6", "other"],
        "linktypes-ipv4.pcapng": ["TCP 40000>80", "UDP 5353>53", "ICMP", "IPv4"],
        "linktypes-ipv6.pcapng": ["TCP 40000>443", "UDP 5353>53", "ICMPv6", "IPv6"],
        "nanosecond.pcap": smallSet,
        "big-endian.pcap": smallSet,
        "big-endian-nanosecond.pcap": smallSet,
        "pcapng-tsresol9.pcapng": smallSet,
        "pcapng-big-endian.pcapng": smallSet,
        "pcapng-simple-packets.pcapng": smallSet + ["UDP 5353>53"],
        "time-2038.pcap": ["UDP 5353>53", "UDP 5353>53"],
        "truncated-snaplen.pcap": ["UDP", "TCP", "other", "TCP 40000>80", "ARP", "TCP"],
        "truncated-snaplen-21.pcap": ["TCP", "IPv4", "IPv4", "IPv6", "ARP", "other"],
        "truncated-snaplen-71.pcap": ["UDP", "IPv6", "UDP", "IPv6", "UDP", "UDP 5000>5001", "TCP 40000>80"],
        "truncated-file.pcap": ["UDP 5353>53", "TCP 40000>443"],
    ]

    static let files = expectations.keys.sorted()

    struct Expected: CustomStringConvertible {
        var label: ProtocolLabel?
        var ports: (UInt16, UInt16)?
        var description: String

        init(_ text: String) {
            description = text
            let parts = text.split(separator: " ")
            label = parts[0] == "?" ? nil : ProtocolLabel(name: parts[0])
            if parts.count > 1 {
                let numbers = parts[1].split(separator: ">").compactMap { UInt16($0) }
                ports = (numbers[0], numbers[1])
            }
        }
    }

    @Test("Every packet gets the label the rule gives", arguments: files)
    func labels(_ name: String) throws {
        let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/" + name)
        let expected = try #require(Self.expectations[name]).map(Expected.init)
        try #require(fixture.packets.count == expected.count, "\(name): packet count")
        for (index, (packet, want)) in zip(fixture.packets, expected).enumerated() {
            let d = decode(packet.bytes, LinkType(packet.linkType))
            let place = "\(name) packet \(index + 1) (\(want))"
            if let label = want.label {
                #expect(d.label == label, "\(place): got \(d.label.name)")
            } else {
                #expect(d.stop == .invalid, "\(place): not compared, but the header is invalid")
            }
            if let (sport, dport) = want.ports {
                #expect(
                    d.hasPorts && d.srcPort == sport && d.dstPort == dport, "\(place): got \(d.srcPort)>\(d.dstPort)")
            } else {
                #expect(!d.hasPorts, "\(place): unexpected ports \(d.srcPort)>\(d.dstPort)")
            }
        }
    }

    @Test func addressesInTheEthernetCapture() throws {
        let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/linktypes-ethernet.pcap")
        let packets = fixture.packets.map { decode($0.bytes, LinkType($0.linkType)) }
        #expect(packets[0].ipVersion == 4)
        #expect(packets[0].src == IPAddress(v4: Build.v4AValue) && packets[0].dst == IPAddress(v4: Build.v4BValue))
        #expect(packets[3].dst == IPAddress(v4: 0xEF01_0203))  // IGMP to 239.1.2.3
        #expect(packets[12].ipVersion == 6 && packets[12].src == Build.v6AValue && packets[12].dst == Build.v6BValue)
        // IPv6-in-IPv4: the outermost header's addresses.
        #expect(packets[15].ipVersion == 4 && packets[15].src == IPAddress(v4: Build.v4AValue))
        #expect(packets[16].ipVersion == 0)  // ARP
        #expect(packets[23].ipVersion == 6 && packets[24].ipVersion == 4)  // fragments keep addresses
    }

    @Test func truncatedFileKeepsTheReadablePackets() throws {
        let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/truncated-file.pcap")
        #expect(fixture.packets.count == 2)
        #expect(fixture.error == .truncatedRecord(index: 2))
    }

    @Test func corruptHeaderIsRejected() {
        #expect(throws: PcapFixtureError.badMagic(0xEFBE_ADDE)) {
            try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/corrupt-header.pcap")
        }
    }

    @Test func everyListedCaptureExists() {
        let present = Set(CaptureFile.own.map(\.name))
        for name in Self.files + ["corrupt-header.pcap"] {
            #expect(present.contains(name), "captures/\(name) is missing: run scripts/make-captures")
        }
    }

    // MARK: - The file formats, as the fixture reader sees them

    static let nanoTimes: [UInt64] = [1_700_000_000_123_456_789, 1_700_000_001_123_456_790, 1_700_000_002_123_456_791]
    static let microTimes: [UInt64] = [1_700_000_000_000_000_000, 1_700_000_000_250_000_000, 1_700_000_000_500_000_000]

    struct FormatCase: Sendable, CustomTestStringConvertible {
        var name: String
        var format: PcapFixture.Format
        var bigEndian: Bool
        var nanosecond: Bool
        var times: [UInt64]
        var testDescription: String { name }
    }

    static let formatCases = [
        FormatCase(name: "nanosecond.pcap", format: .pcap, bigEndian: false, nanosecond: true, times: nanoTimes),
        FormatCase(name: "big-endian.pcap", format: .pcap, bigEndian: true, nanosecond: false, times: microTimes),
        FormatCase(
            name: "big-endian-nanosecond.pcap", format: .pcap, bigEndian: true, nanosecond: true, times: nanoTimes),
        FormatCase(
            name: "pcapng-tsresol9.pcapng", format: .pcapng, bigEndian: false, nanosecond: true, times: nanoTimes),
        FormatCase(
            name: "pcapng-big-endian.pcapng", format: .pcapng, bigEndian: true, nanosecond: false, times: microTimes),
    ]

    @Test("Formats: byte order, precision and timestamps", arguments: formatCases)
    func formats(_ c: FormatCase) throws {
        let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/" + c.name)
        #expect(fixture.format == c.format)
        #expect(fixture.bigEndian == c.bigEndian)
        #expect(fixture.nanosecond == c.nanosecond)
        #expect(fixture.linkType == 1)
        #expect(fixture.error == nil)
        #expect(fixture.packets.map(\.timestampNanoseconds) == c.times)
        // The same packets whatever the container.
        let reference = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/nanosecond.pcap")
        #expect(fixture.packets.map(\.bytes) == reference.packets.map(\.bytes))
    }

    @Test func simplePacketBlocks() throws {
        let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/pcapng-simple-packets.pcapng")
        #expect(fixture.snapLength == 128)
        #expect(fixture.packets.allSatisfy { $0.timestampNanoseconds == nil })
        let last = try #require(fixture.packets.last)
        #expect(last.origLen == 242 && last.bytes.count == 128)
    }

    @Test func snapLengthCuts() throws {
        for (name, snap) in [
            ("truncated-snaplen.pcap", 40), ("truncated-snaplen-21.pcap", 21), ("truncated-snaplen-71.pcap", 71),
        ] {
            let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/" + name)
            #expect(fixture.snapLength == snap)
            #expect(fixture.packets.allSatisfy { $0.bytes.count == snap && $0.origLen > snap }, "\(name)")
        }
    }

    @Test func secondsAreUnsigned() throws {
        let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/time-2038.pcap")
        #expect(fixture.packets.map(\.timestampNanoseconds) == [2_147_483_648_000_000_000, 4_294_967_295_999_999_000])
    }

    @Test func linkTypesOfTheFiles() throws {
        let expected: [String: LinkType] = [
            "linktypes-ethernet.pcap": .ethernet, "linktypes-sll.pcap": .linuxSLL, "linktypes-sll2.pcap": .linuxSLL2,
            "linktypes-raw.pcap": .raw, "linktypes-null.pcap": .null, "linktypes-loop.pcap": .loop,
            "linktypes-ipv4.pcapng": .ipv4, "linktypes-ipv6.pcapng": .ipv6,
        ]
        for (name, link) in expected {
            let fixture = try PcapFixture(contentsOf: CaptureFile.ownDirectory + "/" + name)
            #expect(LinkType(fixture.linkType) == link, "\(name)")
            #expect(fixture.packets.allSatisfy { $0.linkType == link.rawValue })
        }
    }
}
