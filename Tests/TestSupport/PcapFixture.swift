import Foundation

/// A capture file read whole into memory, for tests: classic pcap (either byte order, microsecond
/// or nanosecond, and the "modified" pcap with 24-byte record headers) and pcapng (Section Header,
/// Interface Description, Enhanced Packet, Simple Packet and the obsolete Packet Block; every other
/// block is skipped). The format is decided by the magic number, never by the file name.
///
/// Deliberately independent of the project's readers (libpcap and PacketFile): tests compare the
/// two. It never traps on broken input: a problem in the file header throws, a problem after it
/// stops reading and is kept in `error`, with every packet read before it in `packets`.
public struct PcapFixture: Sendable {
    public enum Format: Sendable, Equatable {
        case pcap
        case pcapng
    }

    public struct Packet: Sendable, Equatable {
        /// The link type of the interface the packet was captured on (LINKTYPE_ value).
        public var linkType: Int32
        /// The captured bytes, as stored (pcapng Simple Packet Blocks: cut to the snap length).
        public var bytes: [UInt8]
        /// The original length on the wire.
        public var origLen: Int
        /// Nanoseconds since the epoch; nil for Simple Packet Blocks, which carry no timestamp.
        public var timestampNanoseconds: UInt64?

        public init(linkType: Int32, bytes: [UInt8], origLen: Int, timestampNanoseconds: UInt64?) {
            self.linkType = linkType
            self.bytes = bytes
            self.origLen = origLen
            self.timestampNanoseconds = timestampNanoseconds
        }
    }

    public var format: Format
    public var bigEndian: Bool
    /// pcap: the magic number says nanoseconds. pcapng: the first interface has if_tsresol 9.
    public var nanosecond: Bool
    /// pcap: the file header's link type. pcapng: the first interface's (0 if there is none).
    public var linkType: Int32
    /// pcap: the file header's snap length. pcapng: the first interface's (0 if there is none).
    public var snapLength: Int
    public var packets: [Packet]
    /// Why reading stopped before the end of the file, if it did.
    public var error: PcapFixtureError?

    private init(
        format: Format, bigEndian: Bool, nanosecond: Bool, linkType: Int32, snapLength: Int, packets: [Packet],
        error: PcapFixtureError?
    ) {
        self.format = format
        self.bigEndian = bigEndian
        self.nanosecond = nanosecond
        self.linkType = linkType
        self.snapLength = snapLength
        self.packets = packets
        self.error = error
    }

    /// Reads the file at `path`.
    public init(contentsOf path: String) throws(PcapFixtureError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path)
        }
        try self.init(bytes: [UInt8](data))
    }

    /// Parses a whole capture file held in memory.
    public init(bytes: [UInt8]) throws(PcapFixtureError) {
        let reader = ByteReader(bytes)
        guard let magicLE = reader.u32(0, bigEndian: false) else { throw .truncatedFileHeader }
        switch magicLE {
        case 0xA1B2_C3D4, 0xA1B2_3C4D, 0xA1B2_CD34, 0xD4C3_B2A1, 0x4D3C_B2A1, 0x34CD_B2A1:
            self = try Self.parsePcap(reader, magicLE: magicLE)
        case 0x0A0D_0D0A:
            self = try Self.parsePcapng(reader)
        default:
            throw .badMagic(magicLE)
        }
    }

    /// The link type and the (bytes, origLen) of every packet, as the tests' shorthand.
    public var records: (linkType: Int32, packets: [(bytes: [UInt8], origLen: Int)]) {
        (linkType, packets.map { (bytes: $0.bytes, origLen: $0.origLen) })
    }

    // MARK: - classic pcap

    private static func parsePcap(_ r: ByteReader, magicLE: UInt32) throws(PcapFixtureError) -> PcapFixture {
        let big = magicLE == 0xD4C3_B2A1 || magicLE == 0x4D3C_B2A1 || magicLE == 0x34CD_B2A1
        let magic = big ? magicLE.byteSwapped : magicLE
        let nano = magic == 0xA1B2_3C4D
        let recordHeader = magic == 0xA1B2_CD34 ? 24 : 16
        guard let snap = r.u32(16, bigEndian: big), let rawLink = r.u32(20, bigEndian: big) else {
            throw .truncatedFileHeader
        }
        // The upper bits of the link-type field carry FCS information (LT_LINKTYPE in libpcap).
        let link = Int32(bitPattern: rawLink & 0x03FF_FFFF)
        var fixture = PcapFixture(
            format: .pcap, bigEndian: big, nanosecond: nano, linkType: link, snapLength: Int(snap),
            packets: [], error: nil)
        var offset = 24
        while offset < r.count {
            guard r.has(recordHeader, at: offset),
                let seconds = r.u32(offset, bigEndian: big),
                let fraction = r.u32(offset + 4, bigEndian: big),
                let caplen = r.u32(offset + 8, bigEndian: big),
                let origLen = r.u32(offset + 12, bigEndian: big)
            else {
                fixture.error = .truncatedRecordHeader(index: fixture.packets.count)
                break
            }
            let start = offset + recordHeader
            guard r.has(Int(caplen), at: start) else {
                fixture.error = .truncatedRecord(index: fixture.packets.count)
                break
            }
            let scale: UInt64 = nano ? 1 : 1_000
            let time = UInt64(seconds) &* 1_000_000_000 &+ UInt64(fraction) &* scale
            fixture.packets.append(
                Packet(
                    linkType: link, bytes: r.slice(start, Int(caplen)), origLen: Int(origLen),
                    timestampNanoseconds: time))
            offset = start + Int(caplen)
        }
        return fixture
    }

    // MARK: - pcapng

    private struct Interface {
        var linkType: Int32
        var snapLength: Int
        /// Ticks per second: 10^n or 2^n.
        var tsDecimal: Bool = true
        var tsExponent: Int = 6
        var tsOffsetSeconds: Int64 = 0

        func nanoseconds(_ ticks: UInt64) -> UInt64 {
            var ns: UInt64
            if tsDecimal {
                if tsExponent <= 9 {
                    var factor: UInt64 = 1
                    for _ in 0..<(9 - tsExponent) { factor &*= 10 }
                    ns = ticks &* factor
                } else {
                    var divisor: UInt64 = 1
                    for _ in 0..<min(tsExponent - 9, 19) { divisor &*= 10 }
                    ns = ticks / divisor
                }
            } else {
                let shift = UInt64(min(tsExponent, 63))
                let whole = ticks >> shift
                let part = ticks & ((1 << shift) &- 1)
                ns = whole &* 1_000_000_000 &+ UInt64(Double(part) / Double(UInt64(1) << shift) * 1e9)
            }
            return ns &+ UInt64(bitPattern: tsOffsetSeconds &* 1_000_000_000)
        }
    }

    private static func parsePcapng(_ r: ByteReader) throws(PcapFixtureError) -> PcapFixture {
        guard let bomLE = r.u32(8, bigEndian: false) else { throw .truncatedFileHeader }
        guard bomLE == 0x1A2B_3C4D || bomLE == 0x4D3C_2B1A else { throw .badByteOrderMagic(bomLE) }
        var fixture = PcapFixture(
            format: .pcapng, bigEndian: bomLE == 0x4D3C_2B1A, nanosecond: false, linkType: 0, snapLength: 0,
            packets: [], error: nil)
        var big = fixture.bigEndian
        var interfaces: [Interface] = []
        var sawInterface = false
        var offset = 0
        while offset < r.count {
            guard r.has(8, at: offset), let typeLE = r.u32(offset, bigEndian: false) else {
                fixture.error = .truncatedBlock(offset: offset)
                break
            }
            if typeLE == 0x0A0D_0D0A {
                // A new section: its own byte order and its own interfaces.
                guard let bom = r.u32(offset + 8, bigEndian: false), bom == 0x1A2B_3C4D || bom == 0x4D3C_2B1A else {
                    fixture.error = .corruptBlock(offset: offset)
                    break
                }
                big = bom == 0x4D3C_2B1A
                interfaces = []
            }
            guard let type = r.u32(offset, bigEndian: big), let length32 = r.u32(offset + 4, bigEndian: big) else {
                fixture.error = .truncatedBlock(offset: offset)
                break
            }
            let length = Int(length32)
            guard length >= 12, length % 4 == 0 else {
                fixture.error = .corruptBlock(offset: offset)
                break
            }
            guard r.has(length, at: offset) else {
                fixture.error = .truncatedBlock(offset: offset)
                break
            }
            let body = offset + 8
            let bodyLength = length - 12
            switch type {
            case 0x0A0D_0D0A:
                guard bodyLength >= 16, let major = r.u16(body + 4, bigEndian: big), major == 1 else {
                    fixture.error = .unsupportedVersion
                    return fixture
                }
            case 1:  // Interface Description Block
                guard bodyLength >= 8, let link = r.u16(body, bigEndian: big),
                    let snap = r.u32(body + 4, bigEndian: big)
                else {
                    fixture.error = .corruptBlock(offset: offset)
                    return fixture
                }
                var interface = Interface(linkType: Int32(link), snapLength: Int(snap))
                var option = body + 8
                let end = body + bodyLength
                while option + 4 <= end, let code = r.u16(option, bigEndian: big),
                    let optionLength = r.u16(option + 2, bigEndian: big), code != 0
                {
                    let value = option + 4
                    if code == 9, optionLength >= 1, let resolution = r.u8(value) {
                        interface.tsDecimal = resolution & 0x80 == 0
                        interface.tsExponent = Int(resolution & 0x7F)
                    } else if code == 14, optionLength >= 8, let hi = r.u32(value, bigEndian: big),
                        let lo = r.u32(value + 4, bigEndian: big)
                    {
                        let raw = big ? UInt64(hi) << 32 | UInt64(lo) : UInt64(lo) << 32 | UInt64(hi)
                        interface.tsOffsetSeconds = Int64(bitPattern: raw)
                    }
                    option = value + (Int(optionLength) + 3) & ~3
                }
                if !sawInterface {
                    sawInterface = true
                    fixture.linkType = interface.linkType
                    fixture.snapLength = interface.snapLength
                    fixture.nanosecond = interface.tsDecimal && interface.tsExponent == 9
                }
                interfaces.append(interface)
            case 6, 2:  // Enhanced Packet Block, obsolete Packet Block
                guard bodyLength >= 20,
                    let id = type == 6 ? r.u32(body, bigEndian: big) : r.u16(body, bigEndian: big).map(UInt32.init),
                    let hi = r.u32(body + 4, bigEndian: big), let lo = r.u32(body + 8, bigEndian: big),
                    let caplen = r.u32(body + 12, bigEndian: big), let origLen = r.u32(body + 16, bigEndian: big)
                else {
                    fixture.error = .corruptBlock(offset: offset)
                    return fixture
                }
                guard Int(id) < interfaces.count else {
                    fixture.error = .unknownInterface(Int(id))
                    return fixture
                }
                guard Int(caplen) <= bodyLength - 20 else {
                    fixture.error = .corruptBlock(offset: offset)
                    return fixture
                }
                let interface = interfaces[Int(id)]
                fixture.packets.append(
                    Packet(
                        linkType: interface.linkType, bytes: r.slice(body + 20, Int(caplen)), origLen: Int(origLen),
                        timestampNanoseconds: interface.nanoseconds(UInt64(hi) << 32 | UInt64(lo))))
            case 3:  // Simple Packet Block: interface 0, no timestamp
                guard bodyLength >= 4, let origLen = r.u32(body, bigEndian: big) else {
                    fixture.error = .corruptBlock(offset: offset)
                    return fixture
                }
                guard let interface = interfaces.first else {
                    fixture.error = .unknownInterface(0)
                    return fixture
                }
                var caplen = min(Int(origLen), bodyLength - 4)
                if interface.snapLength > 0 { caplen = min(caplen, interface.snapLength) }
                fixture.packets.append(
                    Packet(
                        linkType: interface.linkType, bytes: r.slice(body + 4, caplen), origLen: Int(origLen),
                        timestampNanoseconds: nil))
            default:
                break
            }
            offset += length
        }
        return fixture
    }
}

/// Why a capture file could not be read (or not to its end).
public enum PcapFixtureError: Error, Sendable, Equatable {
    case unreadable(String)
    case truncatedFileHeader
    case badMagic(UInt32)
    case badByteOrderMagic(UInt32)
    case unsupportedVersion
    case truncatedRecordHeader(index: Int)
    case truncatedRecord(index: Int)
    case truncatedBlock(offset: Int)
    case corruptBlock(offset: Int)
    case unknownInterface(Int)
}

/// Bounds-checked reads over the file's bytes.
private struct ByteReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var count: Int { bytes.count }

    func has(_ n: Int, at offset: Int) -> Bool {
        offset >= 0 && n >= 0 && offset <= bytes.count && bytes.count - offset >= n
    }

    func u8(_ offset: Int) -> UInt8? {
        has(1, at: offset) ? bytes[offset] : nil
    }

    func u16(_ offset: Int, bigEndian: Bool) -> UInt16? {
        guard has(2, at: offset) else { return nil }
        let a = UInt16(bytes[offset])
        let b = UInt16(bytes[offset + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(_ offset: Int, bigEndian: Bool) -> UInt32? {
        guard has(4, at: offset) else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 {
            let byte = UInt32(bytes[offset + (bigEndian ? i : 3 - i)])
            value = value << 8 | byte
        }
        return value
    }

    func slice(_ offset: Int, _ n: Int) -> [UInt8] {
        guard has(n, at: offset) else { return [] }
        return Array(bytes[offset..<(offset + n)])
    }
}
