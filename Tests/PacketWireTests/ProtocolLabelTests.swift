import PacketWire
import Testing

@Suite struct ProtocolLabelTests {
    /// The names the rule prints (conformance README, rule 2 and 3).
    static let names: [(ProtocolLabel, String)] = [
        (.other, "other"), (.arp, "ARP"), (.ipv4, "IPv4"), (.ipv6, "IPv6"), (.tcp, "TCP"), (.udp, "UDP"),
        (.icmp, "ICMP"), (.icmpv6, "ICMPv6"), (.igmp, "IGMP"), (.gre, "GRE"), (.esp, "ESP"), (.ah, "AH"),
        (.sctp, "SCTP"), (.ospf, "OSPF"), (.ipip, "IPIP"), (.pim, "PIM"), (.vrrp, "VRRP"),
    ]

    @Test func everyLabelHasItsRuleName() {
        #expect(ProtocolLabel.allCases.count == Self.names.count)
        for (label, name) in Self.names {
            #expect(label.name == name)
            #expect(label.asciiName.description == name)
            #expect(ProtocolLabel(name: name) == label)
        }
        #expect(ProtocolLabel(name: "tcp") == nil)
        #expect(ProtocolLabel(name: "") == nil)
        #expect(ProtocolLabel(name: "RARP") == nil)
    }

    /// `forIPProtocol` turns a byte into a label by its bits: each case's raw value must be its
    /// index, and the last case `vrrp`.
    @Test func rawValuesAreTheCasesIndexes() {
        for (i, label) in ProtocolLabel.allCases.enumerated() {
            #expect(Int(label.rawValue) == i)
            #expect(unsafeBitCast(label, to: UInt8.self) == label.rawValue)
        }
        #expect(ProtocolLabel.allCases.last == .vrrp)
    }

    @Test func forIPProtocolFallsBackToTheOuterHeader() {
        for number in 0...255 {
            let n = UInt8(number)
            let expected = DecoderTests.named.first { $0.0 == n }?.1
            #expect(ProtocolLabel.forIPProtocol(n, outer: .ipv4) == expected ?? .ipv4)
            #expect(ProtocolLabel.forIPProtocol(n, outer: .ipv6) == expected ?? .ipv6)
        }
    }
}

@Suite("protocol number table")
struct ProtocolNumberTableTests {
    @Test func tableAgreesWithTheList() {
        for n in 0...255 {
            let number = UInt8(n)
            let expected4 = ProtocolLabel.names[number] ?? .ipv4
            let expected6 = ProtocolLabel.names[number] ?? .ipv6
            #expect(ProtocolLabel.forIPProtocol(number, outer: .ipv4) == expected4)
            #expect(ProtocolLabel.forIPProtocol(number, outer: .ipv6) == expected6)
        }
    }
}
