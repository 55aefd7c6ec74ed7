import PacketWire
import Testing

/// The interface index and direction the decoder takes from Linux cooked headers (SLL2 and SLL),
/// on handmade headers: every packet type, and headers cut short.
@Suite struct CookedHeaderTests {
    /// An SLL2 header (20 bytes) for IPv4, then a minimal IPv4/UDP packet.
    private func sll2(ifIndex: UInt32, packetType: UInt8) -> [UInt8] {
        var b: [UInt8] = [0x08, 0x00, 0, 0]
        b += withUnsafeBytes(of: ifIndex.bigEndian, Array.init)
        b += [0x00, 0x01, packetType, 6, 2, 0, 0, 0, 0, 1, 0, 0]
        b += [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        b += [0x12, 0x34, 0x00, 0x35, 0, 8, 0, 0]
        return b
    }

    private func decode(_ bytes: [UInt8], _ link: LinkType) -> Decoded {
        bytes.withUnsafeBytes { Decoder.decode(Bytes(base: $0.baseAddress, count: $0.count), linkType: link) }
    }

    @Test(arguments: [
        (UInt8(0), PacketDirection.incoming), (1, .incoming), (2, .incoming), (3, .incoming),
        (4, .outgoing), (5, .unknown), (7, .unknown), (255, .unknown),
    ])
    func sll2GivesIndexAndDirection(packetType: UInt8, direction: PacketDirection) {
        let d = decode(sll2(ifIndex: 0x0102_0304, packetType: packetType), .linuxSLL2)
        #expect(d.ifIndex == 0x0102_0304)
        #expect(d.direction == direction)
        #expect(d.label == .udp && d.dstPort == 53)
    }

    @Test func aCutSLL2HeaderKeepsWhatWasCaptured() {
        let full = sll2(ifIndex: 7, packetType: 4)
        #expect(decode(Array(full.prefix(7)), .linuxSLL2).ifIndex == 0)  // index cut
        let noType = decode(Array(full.prefix(10)), .linuxSLL2)
        #expect(noType.ifIndex == 7 && noType.direction == .unknown)  // packet type cut
        let header = decode(Array(full.prefix(20)), .linuxSLL2)
        #expect(header.ifIndex == 7 && header.direction == .outgoing && header.stop == .truncated)
    }

    @Test func sllGivesTheDirectionOnly() {
        // SLL v1: packet type (2 bytes), ARPHRD, address length, address (8), protocol.
        var b: [UInt8] = [0x00, 0x04, 0x00, 0x01, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]
        b += [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        let d = decode(b, .linuxSLL)
        #expect(d.direction == .outgoing && d.ifIndex == 0 && d.label == .tcp)
        b[1] = 0
        #expect(decode(b, .linuxSLL).direction == .incoming)
    }

    @Test func otherLinkTypesSayNeither() {
        var frame: [UInt8] = Array(repeating: 2, count: 12) + [0x08, 0x00]
        frame += [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        let d = decode(frame, .ethernet)
        #expect(d.ifIndex == 0 && d.direction == .unknown && d.label == .tcp)
    }
}
