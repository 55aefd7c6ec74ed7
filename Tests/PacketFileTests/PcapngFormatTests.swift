import PacketFile
import PacketRecords
import PacketWire
import Testing

@Suite struct PcapngFormatTests {
    let dir = ScratchDirectory()

    @Test(arguments: [false, true])
    func enhancedPacketsEitherByteOrder(bigEndian: Bool) {
        var file = PcapngBytes(bigEndian: bigEndian)
        file.interface(snapLength: 1500)
        file.enhanced(ticks: 1_700_000_000_123_456, data: udpFrame(), length: 1000)
        file.enhanced(ticks: 1_700_000_001_000_000, data: arpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.formatName == "pcapng")
        #expect(outcome.linkType == .ethernet)
        #expect(outcome.snapLength == 1500)
        #expect(outcome.records.map(\.timestampNs) == [1_700_000_000_123_456_000, 1_700_000_001_000_000_000])
        #expect(outcome.records.map(\.length) == [1000, 42])
        #expect(outcome.records.map(\.captured) == [60, 42])
        #expect(outcome.records.map(\.label) == [.udp, .arp])
    }

    @Test func nanosecondResolution() {
        var file = PcapngBytes()
        file.interface(tsresol: 9)
        file.enhanced(ticks: 1_700_000_000_123_456_789, data: udpFrame())
        #expect(readAll(file.bytes, in: dir).records.map(\.timestampNs) == [1_700_000_000_123_456_789])
    }

    @Test func binaryResolution() {
        var file = PcapngBytes(bigEndian: true)
        file.interface(tsresol: 0x88)  // 2^-8 s
        file.enhanced(ticks: 1_519_128_000 * 256 + 50, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.map { formatTimestamp($0.timestampNs) } == ["1519128000.195312500"])
    }

    @Test func coarseAndFineDecimalResolutions() {
        var file = PcapngBytes()
        file.interface(tsresol: 0)  // seconds
        file.interface(tsresol: 3)  // milliseconds
        file.interface(tsresol: 12)  // picoseconds
        file.enhanced(interface: 0, ticks: 1_700_000_000, data: udpFrame())
        file.enhanced(interface: 1, ticks: 1_700_000_000_250, data: udpFrame())
        file.enhanced(interface: 2, ticks: 1_000_000_123_456_789_999, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(
            outcome.records.map { formatTimestamp($0.timestampNs) } == [
                "1700000000.000000000", "1700000000.250000000", "1000000.123456789",
            ])
    }

    @Test func timestampOffset() {
        var file = PcapngBytes()
        file.interface(tsoffset: 1_000_000_000)
        file.enhanced(ticks: 700_000_000_500_000, data: udpFrame())
        #expect(
            readAll(file.bytes, in: dir).records.map { formatTimestamp($0.timestampNs) } == ["1700000000.500000000"])
    }

    @Test func timestampBeyond2106() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 4_294_967_296_000_000, data: udpFrame())
        #expect(
            readAll(file.bytes, in: dir).records.map { formatTimestamp($0.timestampNs) } == ["4294967296.000000000"])
    }

    @Test func absurdTimestampsSaturateInsteadOfTrapping() {
        var file = PcapngBytes()
        file.interface(tsresol: 0)
        file.interface(tsresol: 0x80 | 63, tsoffset: .max)
        file.enhanced(interface: 0, ticks: .max, data: udpFrame())
        file.enhanced(interface: 1, ticks: .max, data: udpFrame())
        #expect(readAll(file.bytes, in: dir).records.count == 2)
    }

    @Test func simplePacketBlocks() {
        var file = PcapngBytes()
        file.interface(snapLength: 64)
        file.simple(data: udpFrame(size: 64), length: 100)
        file.simple(data: arpFrame(), length: 42)
        // Data shorter than both the packet and the snap length: libpcap 1.10 (and tcpdump)
        // stop there with an error, after the packets before it; so does this reader.
        file.simple(data: Array(udpFrame().prefix(28)), length: 100)
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error?.description == "block of type 3 in pcapng dump file is too short")
        #expect(outcome.records.map(\.timestampNs) == [0, 0])
        #expect(outcome.records.map(\.length) == [100, 42])
        // 42 is padded to 44 bytes in the block; the packet length wins.
        #expect(outcome.records.map(\.captured) == [64, 42])
        #expect(outcome.records.map(\.label) == [.udp, .arp])
    }

    /// libpcap 1.10 does not check the first Section Header Block's trailing length field (it
    /// does check every later block's), so tcpdump reads such a file; so does this reader.
    @Test func firstSectionHeaderTrailerIsNotChecked() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        var bytes = file.bytes
        let shbLength = Int(bytes[4]) | Int(bytes[5]) << 8
        bytes[shbLength - 2] ^= 0x01
        let outcome = readAll(bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.count == 1)
    }

    @Test func obsoletePacketBlocks() {
        var file = PcapngBytes(bigEndian: true)
        file.interface()
        file.obsolete(ticks: 1_000_000_500_000, data: udpFrame(), length: 70)
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.map(\.timestampNs) == [1_000_000_500_000_000])
        #expect(outcome.records.map(\.length) == [70])
    }

    @Test func otherBlocksAreSkipped() {
        var file = PcapngBytes()
        file.block(4) { b in b.raw([1, 0, 4, 0, 10, 0, 0, 1, 0, 0, 0, 0]) }  // name resolution
        file.interface()
        file.block(0x0000_0BAD) { b in b.raw([0xDE, 0xAD]) }  // custom
        file.enhanced(ticks: 1, data: udpFrame())
        file.block(5) { b in
            b.u32(0)
            b.u64(0)
        }  // interface statistics
        file.block(0x4242_4242) { _ in }  // unknown
        file.enhanced(ticks: 2, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.count == 2)
    }

    @Test func severalSections() {
        var file = PcapngBytes()
        file.interface(tsresol: 6)
        file.enhanced(ticks: 1_000_000, data: udpFrame())
        file.section(minor: 2)
        file.interface(tsresol: 9)
        file.enhanced(ticks: 2_000_000_000, data: arpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.map(\.timestampNs) == [1_000_000_000, 2_000_000_000])
        #expect(outcome.records.map(\.label) == [.udp, .arp])
    }

    @Test func interfacesOfASectionDoNotCarryOver() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        file.section()
        file.enhanced(ticks: 2, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(
            outcome.error?.description
                == "a packet arrived on interface 0, but there's no Interface Description Block for that interface")
    }

    @Test func interfacesWithDifferentLinkTypesAreRefusedLikeLibpcap() {
        var file = PcapngBytes()
        file.interface(linkType: 1)
        file.enhanced(ticks: 1, data: udpFrame())
        file.interface(linkType: 113)
        file.enhanced(interface: 1, ticks: 2, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(
            outcome.error?.description == "an interface has a type 113 different from the type of the first interface")
        #expect(outcome.error?.kind == .mixedInterfaces)
        #expect(outcome.error?.hint != nil)
    }

    @Test func interfacesWithDifferentSnapLengthsAreRefused() {
        var file = PcapngBytes()
        file.interface(snapLength: 0)
        file.interface(snapLength: 128)
        let outcome = readAll(file.bytes, in: dir)
        #expect(
            outcome.error?.description
                == "an interface has a snapshot length 128 different from the snapshot length of the first interface")
    }

    /// libpcap 1.10 maps the first interface's LINKTYPE_RAW (101) to DLT_RAW (12) and compares
    /// every later interface's raw link type with that, so a second RAW interface is refused
    /// (tcpdump: "an interface has a type 101 different from the type of the first interface";
    /// found by the differential fuzzer, captures/regress-pcapng-two-raw-interfaces.pcapng).
    /// pktstat reads such files as tcpdump does: the packets before the second interface, then
    /// the error. Ethernet has the same number in both spaces: two Ethernet interfaces are fine.
    @Test func aSecondRawInterfaceIsRefusedAsByLibpcap() {
        var file = PcapngBytes()
        file.interface(linkType: 101)
        file.enhanced(interface: 0, ticks: 1, data: Array(udpFrame().dropFirst(14)))
        file.interface(linkType: 101)
        file.enhanced(interface: 1, ticks: 2, data: Array(udpFrame().dropFirst(14)))
        let outcome = readAll(file.bytes, in: dir)
        #expect(
            outcome.error?.description == "an interface has a type 101 different from the type of the first interface")
        #expect(outcome.records.map(\.label) == [.udp])

        var ethernet = PcapngBytes()
        ethernet.interface(linkType: 1)
        ethernet.interface(linkType: 1)
        ethernet.enhanced(interface: 1, ticks: 1, data: udpFrame())
        let fine = readAll(ethernet.bytes, in: dir)
        #expect(fine.error == nil)
        #expect(fine.records.map(\.label) == [.udp])
    }

    @Test func noInterfaceDescription() {
        var file = PcapngBytes()
        file.block(4) { b in b.u32(0) }
        #expect(
            readAll(file.bytes, in: dir).error?.description == "the capture file has no Interface Description Blocks")
        var packetFirst = PcapngBytes()
        packetFirst.enhanced(ticks: 1, data: udpFrame())
        #expect(
            readAll(packetFirst.bytes, in: dir).error?.description
                == "the capture file has a packet block before any Interface Description Blocks")
    }

    @Test func unsupportedVersions() {
        #expect(
            readAll(PcapngBytes(major: 0, minor: 1).bytes, in: dir).error?.description
                == "unsupported pcapng savefile version 0.1")
        var later = PcapngBytes()
        later.interface()
        later.enhanced(ticks: 1, data: udpFrame())
        later.section(major: 2)
        later.interface()
        let outcome = readAll(later.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "unknown pcapng savefile major version number 2")
    }

    @Test func sectionsInDifferentByteOrders() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        var other = PcapngBytes(bigEndian: true)
        other.interface()
        let outcome = readAll(file.bytes + other.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "the file has sections with different byte orders")
    }

    @Test func blockLengthThree() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        file.writer.u32(6)
        file.writer.u32(3)
        file.writer.raw([UInt8](repeating: 0, count: 16))
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "block in pcapng dump file has a length of 3 < 12")
    }

    @Test func blockLengthNotAMultipleOfFour() {
        var file = PcapngBytes()
        file.interface()
        file.writer.u32(6)
        file.writer.u32(33)
        file.writer.raw([UInt8](repeating: 0, count: 40))
        #expect(
            readAll(file.bytes, in: dir).error?.description
                == "block in pcapng dump file has a length of 33 that is not a multiple of 4")
    }

    /// libpcap 1.10 skips every block before the first interface unread, another Section Header
    /// Block too (found by the differential fuzzer: captures/regress-pcapng-shb-before-idb.pcapng).
    @Test func secondSectionHeaderBeforeTheFirstInterfaceIsSkipped() {
        var file = PcapngBytes()
        file.block(0x0A0D_0D0A) { b in
            b.u32(0x1AAB_3C4D)  // a bad byte-order magic: not looked at here
            b.u16(1)
            b.u16(0)
            b.u64(UInt64.max)
        }
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.count == 1)
    }

    /// After the first interface, a Section Header Block starts a new section and is checked.
    @Test func laterSectionHeaderWithABadMagicIsAnError() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        file.block(0x0A0D_0D0A) { b in
            b.u32(0x1AAB_3C4D)
            b.u16(1)
            b.u16(0)
            b.u64(UInt64.max)
        }
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "the file has a section with a bad byte order magic field")
    }

    @Test func sectionHeaderLengthThree() {
        var w = ByteWriter()
        w.u32(0x0A0D_0D0A)
        w.u32(3)
        w.u32(0x1A2B_3C4D)
        w.raw([UInt8](repeating: 0, count: 20))
        #expect(
            readAll(w.bytes, in: dir).error?.description
                == "Section Header Block in pcapng dump file has invalid length 3")
    }

    @Test func enhancedPacketClaimingTwoGigabytes() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        file.writer.u32(6)
        file.writer.u32(0x8000_0000)
        file.writer.raw([UInt8](repeating: 0, count: 64))
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "pcapng block size 2147483648 > maximum 16777216")
    }

    @Test func blockBeyondTheEndOfTheFile() {
        var file = PcapngBytes()
        file.interface()
        file.writer.u32(6)
        file.writer.u32(8 << 20)
        file.writer.raw([UInt8](repeating: 0, count: 100))
        #expect(
            readAll(file.bytes, in: dir).error?.description
                == "truncated pcapng dump file; tried to read 8388600 bytes, only got 100")
    }

    @Test func capturedLengthAboveSnapLength() {
        var file = PcapngBytes()
        file.interface(snapLength: 50)
        file.enhanced(ticks: 1, data: udpFrame(size: 100))
        #expect(
            readAll(file.bytes, in: dir).error?.description
                == "invalid packet capture length 100, bigger than snaplen of 50")
    }

    @Test func capturedLengthBeyondTheBlock() {
        var file = PcapngBytes()
        file.interface()
        file.block(6) { b in
            b.u32(0)
            b.u32(0)
            b.u32(1)
            b.u32(500)  // caplen
            b.u32(500)
            b.raw(udpFrame())
        }
        #expect(readAll(file.bytes, in: dir).error?.description == "block of type 6 in pcapng dump file is too short")
    }

    @Test func trailerMismatch() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        var bytes = file.bytes
        bytes[bytes.count - 4] ^= 0x40
        let outcome = readAll(bytes, in: dir)
        #expect(outcome.records.isEmpty)
        #expect(outcome.error?.description.hasPrefix("block total length in header 92 and trailer") == true)
    }

    @Test func unknownInterface() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(interface: 7, ticks: 1, data: udpFrame())
        #expect(
            readAll(file.bytes, in: dir).error?.description
                == "a packet arrived on interface 7, but there's no Interface Description Block for that interface")
    }

    @Test func badInterfaceOptions() {
        var duplicate = PcapngBytes()
        duplicate.block(1) { b in
            b.u16(1)
            b.u16(0)
            b.u32(0)
            for _ in 0..<2 {
                b.u16(9)
                b.u16(1)
                b.u8(6)
                b.pad4()
            }
        }
        #expect(
            readAll(duplicate.bytes, in: dir).error?.description
                == "Interface Description Block has more than one if_tsresol option")
        var tooFine = PcapngBytes()
        tooFine.interface(tsresol: 20)
        #expect(
            readAll(tooFine.bytes, in: dir).error?.description
                == "Interface Description Block if_tsresol option resolution 10^-20 is too high")
        var cut = PcapngBytes()
        cut.block(1) { b in
            b.u16(1)
            b.u16(0)
            b.u32(0)
            b.u16(2)
            b.u16(200)  // if_name longer than the block
        }
        #expect(readAll(cut.bytes, in: dir).error?.description == "block of type 1 in pcapng dump file is too short")
    }

    @Test func truncatedLastBlock() {
        var file = PcapngBytes()
        file.interface()
        file.enhanced(ticks: 1, data: udpFrame())
        file.enhanced(ticks: 2, data: udpFrame())
        var bytes = file.bytes
        bytes.removeLast(30)
        let outcome = readAll(bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "truncated pcapng dump file; tried to read 84 bytes, only got 54")
        #expect(outcome.error?.kind == .truncated)
    }

    @Test func manyPacketsAcrossReadBuffers() throws {
        var file = PcapngBytes()
        file.interface(tsresol: 9)
        for i in 0..<5000 { file.enhanced(ticks: UInt64(i), data: udpFrame(size: 60 + i % 1400)) }
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.count == 5000)
        #expect(outcome.records.enumerated().allSatisfy { $0.element.timestampNs == Int64($0.offset) })
        #expect(outcome.records.enumerated().allSatisfy { $0.element.captured == UInt32(60 + $0.offset % 1400) })
    }
}
