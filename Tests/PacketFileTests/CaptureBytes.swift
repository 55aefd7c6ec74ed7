import Foundation
import PacketFile
import PacketRecords
import PacketWire

/// Capture files written byte by byte, in either byte order, for the reader tests.
struct ByteWriter {
    var bigEndian = false
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) {
        let x = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: x) { bytes.append(contentsOf: $0) }
    }
    mutating func u32(_ v: UInt32) {
        let x = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: x) { bytes.append(contentsOf: $0) }
    }
    mutating func u64(_ v: UInt64) {
        let x = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: x) { bytes.append(contentsOf: $0) }
    }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func pad4() { while bytes.count % 4 != 0 { bytes.append(0) } }
}

/// A minimal Ethernet/IPv4/UDP frame of `size` bytes (at least 42).
func udpFrame(size: Int = 60) -> [UInt8] {
    var f = [UInt8](repeating: 0, count: max(size, 42))
    f[12] = 0x08
    f[13] = 0x00
    f[14] = 0x45
    f[23] = 17
    f[26] = 10
    f[29] = 1
    f[30] = 10
    f[33] = 2
    f[34] = 0x30
    f[35] = 0x39
    f[36] = 0x00
    f[37] = 0x35
    return f
}

/// An Ethernet ARP frame.
func arpFrame() -> [UInt8] {
    var f = [UInt8](repeating: 0, count: 42)
    f[12] = 0x08
    f[13] = 0x06
    return f
}

/// Classic pcap.
struct PcapBytes {
    var writer: ByteWriter

    init(
        bigEndian: Bool = false, nanosecond: Bool = false, major: UInt16 = 2, minor: UInt16 = 4,
        snapLength: UInt32 = 65535, linkType: UInt32 = 1
    ) {
        writer = ByteWriter(bigEndian: bigEndian)
        writer.u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        writer.u16(major)
        writer.u16(minor)
        writer.u32(0)
        writer.u32(0)
        writer.u32(snapLength)
        writer.u32(linkType)
    }

    mutating func record(
        seconds: UInt32, fraction: UInt32, data: [UInt8], length: UInt32? = nil, captured: UInt32? = nil
    ) {
        writer.u32(seconds)
        writer.u32(fraction)
        writer.u32(captured ?? UInt32(data.count))
        writer.u32(length ?? UInt32(data.count))
        writer.raw(data)
    }

    var bytes: [UInt8] { writer.bytes }
}

/// pcapng, block by block.
struct PcapngBytes {
    var writer: ByteWriter

    init(bigEndian: Bool = false, major: UInt16 = 1, minor: UInt16 = 0) {
        writer = ByteWriter(bigEndian: bigEndian)
        section(major: major, minor: minor)
    }

    mutating func block(_ type: UInt32, _ body: (inout ByteWriter) -> Void) {
        var b = ByteWriter(bigEndian: writer.bigEndian)
        body(&b)
        b.pad4()
        let total = UInt32(12 + b.bytes.count)
        writer.u32(type)
        writer.u32(total)
        writer.raw(b.bytes)
        writer.u32(total)
    }

    mutating func section(major: UInt16 = 1, minor: UInt16 = 0) {
        block(0x0A0D_0D0A) { b in
            b.u32(0x1A2B_3C4D)
            b.u16(major)
            b.u16(minor)
            b.u64(UInt64.max)
        }
    }

    /// `tsresol`: the if_tsresol byte; `tsoffset`: seconds.
    mutating func interface(linkType: UInt16 = 1, snapLength: UInt32 = 0, tsresol: UInt8? = nil, tsoffset: Int64? = nil)
    {
        block(1) { b in
            b.u16(linkType)
            b.u16(0)
            b.u32(snapLength)
            if let tsresol {
                b.u16(9)
                b.u16(1)
                b.u8(tsresol)
                b.pad4()
            }
            if let tsoffset {
                b.u16(14)
                b.u16(8)
                b.u64(UInt64(bitPattern: tsoffset))
            }
            b.u16(0)
            b.u16(0)
        }
    }

    mutating func enhanced(interface: UInt32 = 0, ticks: UInt64, data: [UInt8], length: UInt32? = nil) {
        block(6) { b in
            b.u32(interface)
            b.u32(UInt32(truncatingIfNeeded: ticks >> 32))
            b.u32(UInt32(truncatingIfNeeded: ticks))
            b.u32(UInt32(data.count))
            b.u32(length ?? UInt32(data.count))
            b.raw(data)
        }
    }

    mutating func simple(data: [UInt8], length: UInt32) {
        block(3) { b in
            b.u32(length)
            b.raw(data)
        }
    }

    mutating func obsolete(interface: UInt16 = 0, ticks: UInt64, data: [UInt8], length: UInt32? = nil) {
        block(2) { b in
            b.u16(interface)
            b.u16(0)
            b.u32(UInt32(truncatingIfNeeded: ticks >> 32))
            b.u32(UInt32(truncatingIfNeeded: ticks))
            b.u32(UInt32(data.count))
            b.u32(length ?? UInt32(data.count))
            b.raw(data)
        }
    }

    var bytes: [UInt8] { writer.bytes }
}

/// A temporary directory for the files one test writes, removed when the value goes away.
final class ScratchDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pktstat-file-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ bytes: [UInt8], name: String = "capture") -> String {
        let file = url.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(bytes))
        return file.path
    }
}

/// Everything a reader delivers from one file, and how it ended.
struct ReadOutcome {
    var records: [PacketRecord] = []
    var error: CaptureFileError?
    var linkType: LinkType?
    var snapLength: Int?
    var formatName: String?
}

func readAll(path: String) -> ReadOutcome {
    var outcome = ReadOutcome()
    do {
        let reader = try CaptureFileReader(path: path)
        outcome.linkType = reader.linkType
        outcome.snapLength = reader.snapLength
        outcome.formatName = reader.formatName
        let delivered = try reader.read { batch in
            outcome.records.append(contentsOf: batch)
            return true
        }
        precondition(delivered == UInt64(outcome.records.count))
    } catch {
        outcome.error = error
    }
    return outcome
}

func readAll(_ bytes: [UInt8], in dir: ScratchDirectory) -> ReadOutcome {
    readAll(path: dir.write(bytes))
}
