import PacketFile
import PacketRecords
import PacketWire
import Testing

@Suite struct PcapFormatTests {
    let dir = ScratchDirectory()

    @Test(arguments: [false, true])
    func microsecondsEitherByteOrder(bigEndian: Bool) {
        var file = PcapBytes(bigEndian: bigEndian, snapLength: 1500)
        file.record(seconds: 1_700_000_000, fraction: 123_456, data: udpFrame(size: 80), length: 1000)
        file.record(seconds: 1_700_000_001, fraction: 999_999, data: arpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.formatName == "pcap")
        #expect(outcome.linkType == .ethernet)
        #expect(outcome.snapLength == 1500)
        #expect(outcome.records.count == 2)
        #expect(outcome.records.map(\.timestampNs) == [1_700_000_000_123_456_000, 1_700_000_001_999_999_000])
        #expect(outcome.records.map(\.length) == [1000, 42])
        #expect(outcome.records.map(\.captured) == [80, 42])
        #expect(outcome.records.map(\.label) == [.udp, .arp])
        #expect(outcome.records[0].decoded.srcPort == 12345)
        #expect(outcome.records[0].decoded.dstPort == 53)
    }

    @Test(arguments: [false, true])
    func nanosecondsEitherByteOrder(bigEndian: Bool) {
        var file = PcapBytes(bigEndian: bigEndian, nanosecond: true)
        file.record(seconds: 1_700_000_000, fraction: 123_456_789, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.formatName == "pcap (ns)")
        #expect(outcome.records.map(\.timestampNs) == [1_700_000_000_123_456_789])
    }

    @Test func secondsAreUnsigned() {
        var file = PcapBytes()
        file.record(seconds: 0x9000_0000, fraction: 1, data: udpFrame())
        file.record(seconds: 0xFFFF_FFFF, fraction: 999_999, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(formatTimestamp(outcome.records[0].timestampNs) == "2415919104.000001000")
        #expect(formatTimestamp(outcome.records[1].timestampNs) == "4294967295.999999000")
    }

    @Test func outOfRangeFractionDoesNotTrap() {
        var file = PcapBytes(nanosecond: true)
        file.record(seconds: 0xFFFF_FFFF, fraction: 0xFFFF_FFFF, data: udpFrame())
        var micro = PcapBytes()
        micro.record(seconds: 0xFFFF_FFFF, fraction: 0xFFFF_FFFF, data: udpFrame())
        #expect(readAll(file.bytes, in: dir).records.count == 1)
        #expect(readAll(micro.bytes, in: dir).records.count == 1)
    }

    @Test func recordLongerThanSnapLengthIsCutToIt() {
        var file = PcapBytes(snapLength: 50)
        file.record(seconds: 1, fraction: 0, data: udpFrame(size: 100))
        file.record(seconds: 2, fraction: 0, data: arpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.map(\.captured) == [50, 42])
        #expect(outcome.records.map(\.length) == [100, 42])
        #expect(outcome.records.map(\.label) == [.udp, .arp])
    }

    @Test func hugeCapturedLengthIsRejectedAfterEarlierRecords() {
        var file = PcapBytes()
        file.record(seconds: 1, fraction: 0, data: udpFrame())
        file.writer.u32(2)
        file.writer.u32(0)
        file.writer.u32(0x7FFF_FFF0)  // incl_len: 2 GB, nowhere near the file
        file.writer.u32(0x7FFF_FFF0)
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "invalid packet capture length 2147483632, bigger than snaplen of 65535")
        #expect(outcome.error?.kind == .corrupt)
    }

    @Test func capturedLengthAboveMaximumButWithinSnapLength() {
        var file = PcapBytes(snapLength: 0x7FFF_0000)
        file.record(seconds: 1, fraction: 0, data: udpFrame(size: 300_000))
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error?.description == "invalid packet capture length 300000, bigger than maximum of 262144")
    }

    @Test func truncatedRecordHeader() {
        var file = PcapBytes(snapLength: 200)
        file.record(seconds: 1, fraction: 0, data: udpFrame())
        file.writer.raw([1, 2, 3, 4, 5, 6, 7])
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "truncated dump file; tried to read 16 header bytes, only got 7")
        #expect(outcome.error?.kind == .truncated)
    }

    @Test func truncatedRecordData() {
        var file = PcapBytes()
        file.record(seconds: 1, fraction: 0, data: udpFrame())
        var cut = file.bytes
        cut.removeLast(50)
        let outcome = readAll(cut, in: dir)
        #expect(outcome.records.isEmpty)
        #expect(outcome.error?.description == "truncated dump file; tried to read 60 captured bytes, only got 10")
    }

    @Test func truncatedRecordLongerThanSnapLength() {
        var file = PcapBytes(snapLength: 50)
        file.record(seconds: 1, fraction: 0, data: udpFrame(size: 100))
        var short = file.bytes
        short.removeLast(80)
        #expect(
            readAll(short, in: dir).error?.description
                == "truncated dump file; tried to read 50 captured bytes, only got 20")
        var longer = file.bytes
        longer.removeLast(20)
        #expect(
            readAll(longer, in: dir).error?.description
                == "truncated dump file; tried to read 100 captured bytes, only got 80")
    }

    @Test func truncatedFileHeader() {
        let header = PcapBytes().bytes
        let outcome = readAll(Array(header.prefix(10)), in: dir)
        #expect(outcome.error?.description == "truncated dump file; tried to read 24 file header bytes, only got 10")
    }

    @Test func headerOnlyIsAnEmptyCapture() {
        let outcome = readAll(PcapBytes().bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.isEmpty)
    }

    @Test func versionsLibpcapRejects() {
        #expect(
            readAll(PcapBytes(major: 1, minor: 4).bytes, in: dir).error?.description == "archaic pcap savefile format")
        let v25 = readAll(PcapBytes(major: 2, minor: 5).bytes, in: dir).error
        #expect(v25?.description == "unsupported pcap savefile version 2.5")
        #expect(v25?.kind == .unsupportedFormat)
        #expect(readAll(PcapBytes(major: 3, minor: 0).bytes, in: dir).error != nil)
    }

    @Test func oldVersionsHaveTheLengthsSwapped() {
        var v22 = PcapBytes(minor: 2)
        // Before 2.3 the record header held len before caplen.
        v22.record(seconds: 1, fraction: 0, data: udpFrame(size: 100), length: 100, captured: 200)
        let outcome = readAll(v22.bytes, in: dir)
        #expect(outcome.records.map(\.length) == [200])
        #expect(outcome.records.map(\.captured) == [100])

        var v23 = PcapBytes(minor: 3)
        v23.record(seconds: 1, fraction: 0, data: udpFrame(size: 100), length: 100, captured: 200)
        v23.record(seconds: 1, fraction: 0, data: udpFrame(size: 60), length: 300, captured: 60)
        let maybe = readAll(v23.bytes, in: dir)
        #expect(maybe.records.map(\.length) == [200, 300])
        #expect(maybe.records.map(\.captured) == [100, 60])
    }

    @Test func zeroSnapLengthMeansTheMaximum() {
        var file = PcapBytes(snapLength: 0)
        file.record(seconds: 1, fraction: 0, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.snapLength == 262_144)
        #expect(outcome.records.count == 1)
    }

    @Test func linkTypeExtensionBitsAreIgnored() {
        var file = PcapBytes(linkType: 0x1000_0001)
        file.record(seconds: 1, fraction: 0, data: udpFrame())
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.linkType == .ethernet)
        #expect(outcome.records.map(\.label) == [.udp])
    }

    @Test func rawLinkType() {
        var file = PcapBytes(linkType: 101)
        file.record(seconds: 1, fraction: 0, data: Array(udpFrame().dropFirst(14)))
        #expect(readAll(file.bytes, in: dir).records.map(\.label) == [.udp])
    }

    @Test func recordLargerThanTheReadBuffer() {
        // DBUS allows 128 MiB records; one of 3 MiB must be read whole.
        var file = PcapBytes(snapLength: 0, linkType: 231)
        file.record(seconds: 1, fraction: 0, data: [UInt8](repeating: 7, count: 3 << 20))
        file.record(seconds: 2, fraction: 0, data: [1, 2, 3])
        let outcome = readAll(file.bytes, in: dir)
        #expect(outcome.error == nil)
        #expect(outcome.records.map(\.captured) == [3 << 20, 3])
    }

    @Test func claimedRecordBeyondTheFileIsNotAllocated() {
        var file = PcapBytes(snapLength: 0, linkType: 231)
        file.writer.u32(1)
        file.writer.u32(0)
        file.writer.u32(100 << 20)
        file.writer.u32(100 << 20)
        file.writer.raw([UInt8](repeating: 0, count: 1000))
        let outcome = readAll(file.bytes, in: dir)
        #expect(
            outcome.error?.description == "truncated dump file; tried to read 104857600 captured bytes, only got 1000")
    }

    @Test func batchesStopAndResume() throws {
        var file = PcapBytes()
        for i in 0..<2000 { file.record(seconds: UInt32(i), fraction: 0, data: udpFrame()) }
        let reader = try CaptureFileReader(path: dir.write(file.bytes))
        var sizes: [Int] = []
        var seconds: [Int64] = []
        let first = try reader.read { batch in
            sizes.append(batch.count)
            seconds += batch.map { $0.timestampNs / 1_000_000_000 }
            return false
        }
        #expect(first == 512)
        let rest = try reader.read { batch in
            sizes.append(batch.count)
            seconds += batch.map { $0.timestampNs / 1_000_000_000 }
            return true
        }
        #expect(rest == 1488)
        #expect(sizes == [512, 512, 512, 464])
        #expect(seconds == (0..<2000).map(Int64.init))
        #expect(try reader.read { _ in true } == 0)
    }
}
