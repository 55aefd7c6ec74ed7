import CPcap
import Glibc
import PacketWire

/// The `-w` file as pcapng, in whole blocks: a Section Header Block (the host's uname and the
/// application), Interface Description Blocks (name, link type, snap length, `if_tsresol` 9 for
/// nanoseconds, the filter), Enhanced Packet Blocks, and an Interface Statistics Block with the
/// capture's counters at the end. Blocks are in host byte order, as the SHB's magic says.
///
/// Linux cooked v2 (SLL2, `-i any`) records carry the index of the interface they were seen on:
/// each real interface gets its own IDB, written before its first packet, and its packets point
/// at it. A file that ends before any packet gets one IDB for the capture device, so that
/// libpcap (which needs one) reads it.
final class PcapngFileWriter: RecordFileWriter {
    /// What the IDBs say.
    struct Interfaces {
        var linkType: Int32
        var snapLength: Int32
        /// The capture device ("eth0", "any"); nil for a copy of a file.
        var device: String?
        var filter: String?
        /// Interface index → name, for SLL2 records.
        var names: [UInt32: String]
    }

    private let file: WholeRecordFile
    private let interfaces: Interfaces
    private let splitsByIndex: Bool
    /// Interface index → IDB number, for SLL2 records.
    private var ids: [UInt32: UInt32] = [:]
    private var idbCount: UInt32 = 0
    private(set) var packets = 0

    init(path: String, application: String, interfaces: Interfaces) throws(CaptureError) {
        file = try WholeRecordFile(path: path, bufferBytes: 64 + Int(interfaces.snapLength))
        self.interfaces = interfaces
        splitsByIndex = LinkType(interfaces.linkType) == .linuxSLL2
        file.append(Self.sectionHeader(application: application))
        if !splitsByIndex { writeInterface(name: interfaces.device) }
        try file.flush()
    }

    var path: String { file.path }
    var size: Int64 { file.size }

    func appendSize(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?) -> Int {
        let caplen = Int(h.pointee.caplen)
        var size = Self.packetBlockSize(caplen: caplen)
        if splitsByIndex {
            let index = Self.interfaceIndex(data, caplen: caplen)
            if ids[index] == nil { size += interfaceBlock(name: interfaceName(index)).count }
        }
        return size
    }

    /// The statistics block written at the end.
    var trailerSize: Int { Self.statisticsSize }

    private static let statisticsSize = statistics(
        KernelStats(received: 0, droppedByKernel: 0, droppedByInterface: 0),
        stats: EndStats(kernel: nil, delivered: 0, nowNs: 0)
    ).count

    private static func packetBlockSize(caplen: Int) -> Int { 32 + (caplen + 3) & ~3 }

    func append(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?, timestampNs: Int64) {
        let caplen = Int(h.pointee.caplen)
        let id = splitsByIndex ? interfaceID(data, caplen: caplen) : 0
        let total = Self.packetBlockSize(caplen: caplen)
        guard let block = file.reserve(total) else { return }
        let ts = UInt64(bitPattern: timestampNs)
        block.storeBytes(of: UInt32(6), toByteOffset: 0, as: UInt32.self)
        block.storeBytes(of: UInt32(total), toByteOffset: 4, as: UInt32.self)
        block.storeBytes(of: id, toByteOffset: 8, as: UInt32.self)
        block.storeBytes(of: UInt32(truncatingIfNeeded: ts >> 32), toByteOffset: 12, as: UInt32.self)
        block.storeBytes(of: UInt32(truncatingIfNeeded: ts), toByteOffset: 16, as: UInt32.self)
        block.storeBytes(of: h.pointee.caplen, toByteOffset: 20, as: UInt32.self)
        block.storeBytes(of: h.pointee.len, toByteOffset: 24, as: UInt32.self)
        if let data, caplen > 0 { (block + 28).copyMemory(from: data, byteCount: caplen) }
        let padded = (caplen + 3) & ~3
        if padded > caplen {
            (block + 28 + caplen).initializeMemory(as: UInt8.self, repeating: 0, count: padded - caplen)
        }
        block.storeBytes(of: UInt32(total), toByteOffset: total - 4, as: UInt32.self)
        file.commit(total)
        packets += 1
    }

    func flush() throws(CaptureError) { try file.flush() }

    /// Writes the statistics block (live captures) and closes the file.
    func finish(_ stats: EndStats) throws(CaptureError) {
        if idbCount == 0 { writeInterface(name: interfaces.device) }
        if let kernel = stats.kernel { file.append(Self.statistics(kernel, stats: stats)) }
        try file.finish()
    }

    /// The IDB number for an SLL2 record's interface (bytes 4-7 of its header), written at the
    /// first packet of each interface.
    private func interfaceID(_ data: UnsafePointer<UInt8>?, caplen: Int) -> UInt32 {
        let index = Self.interfaceIndex(data, caplen: caplen)
        if let id = ids[index] { return id }
        let id = idbCount
        ids[index] = id
        writeInterface(name: interfaceName(index))
        return id
    }

    /// The interface index in an SLL2 header; 0 when the header is cut before it.
    private static func interfaceIndex(_ data: UnsafePointer<UInt8>?, caplen: Int) -> UInt32 {
        guard let data, caplen >= 8 else { return 0 }
        return UInt32(data[4]) << 24 | UInt32(data[5]) << 16 | UInt32(data[6]) << 8 | UInt32(data[7])
    }

    private func interfaceName(_ index: UInt32) -> String? {
        index == 0 ? interfaces.device : interfaces.names[index] ?? "ifindex \(index)"
    }

    private func writeInterface(name: String?) {
        file.append(interfaceBlock(name: name))
        idbCount += 1
    }

    private func interfaceBlock(name: String?) -> [UInt8] {
        var body = BlockBytes()
        body.u16(UInt16(truncatingIfNeeded: interfaces.linkType))
        body.u16(0)
        body.u32(UInt32(bitPattern: interfaces.snapLength))
        if let name { body.option(2, Array(name.utf8)) }
        body.option(9, [9])  // if_tsresol: 10^-9 s
        if let filter = interfaces.filter { body.option(11, [0] + Array(filter.utf8)) }  // 0: libpcap syntax
        body.endOptions()
        return body.block(type: 1)
    }

    private static func sectionHeader(application: String) -> [UInt8] {
        var names = utsname()
        uname(&names)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        var body = BlockBytes()
        body.u32(0x1A2B_3C4D)
        body.u16(1)
        body.u16(0)
        body.u64(UInt64.max)  // section length not given
        body.option(1, Array("captured on \(text(names.nodename))".utf8))  // opt_comment
        body.option(2, Array(text(names.machine).utf8))  // shb_hardware
        body.option(3, Array("\(text(names.sysname)) \(text(names.release))".utf8))  // shb_os
        body.option(4, Array(application.utf8))  // shb_userappl
        body.endOptions()
        return body.block(type: 0x0A0D_0D0A)
    }

    /// ISB for interface 0: the counters of the whole capture (libpcap's are per handle).
    private static func statistics(_ k: KernelStats, stats: EndStats) -> [UInt8] {
        var body = BlockBytes()
        let ts = UInt64(bitPattern: stats.nowNs)
        body.u32(0)
        body.u32(UInt32(truncatingIfNeeded: ts >> 32))
        body.u32(UInt32(truncatingIfNeeded: ts))
        body.option64(4, k.received)  // isb_ifrecv
        body.option64(5, k.droppedByInterface)  // isb_ifdrop
        body.option64(7, k.droppedByKernel)  // isb_osdrop
        body.option64(8, stats.delivered)  // isb_usrdeliv
        body.endOptions()
        return body.block(type: 5)
    }
}

/// A pcapng block body being built, in host byte order.
struct BlockBytes {
    var bytes: [UInt8] = []

    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v) { bytes += $0 } }

    /// An option: code, length, value padded to 4 bytes.
    mutating func option(_ code: UInt16, _ value: [UInt8]) {
        u16(code)
        u16(UInt16(value.count))
        bytes += value
        bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    mutating func option64(_ code: UInt16, _ value: UInt64) {
        withUnsafeBytes(of: value) { option(code, Array($0)) }
    }

    mutating func endOptions() { u32(0) }

    /// The whole block: type, total length, body, total length.
    func block(type: UInt32) -> [UInt8] {
        var out = BlockBytes()
        let total = UInt32(12 + bytes.count)
        out.u32(type)
        out.u32(total)
        out.bytes += bytes
        out.u32(total)
        return out.bytes
    }
}
