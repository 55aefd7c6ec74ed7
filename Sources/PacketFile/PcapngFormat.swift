/// How one pcapng interface's timestamps become nanoseconds since the epoch (if_tsresol,
/// if_tsoffset). The common resolutions (10^-6, 10^-9, any 10^-n with n <= 9) take one
/// multiplication; the rest go through seconds and fraction like libpcap does.
struct InterfaceClock {
    /// Ticks per second.
    let ticksPerSecond: UInt64
    /// Seconds added to every timestamp (if_tsoffset).
    let offsetSeconds: Int64
    /// Nanoseconds per tick, when that is a whole number; else 0.
    let nanosPerTick: UInt64
    /// 2^-n resolutions: n; else nil.
    let binaryShift: UInt64?
    /// Ticks below this convert with one multiplication (no offset, no overflow); 0 disables it.
    let fastBound: UInt64

    /// `tsresol`: the if_tsresol option's byte (nil: the default, 10^-6).
    init(tsresol: UInt8?, offsetSeconds: Int64) throws(CaptureFileError) {
        let value = tsresol ?? 6
        if value & 0x80 != 0 {
            let shift = UInt64(value & 0x7F)
            guard shift <= 63 else {
                throw .corrupt("Interface Description Block if_tsresol option resolution 2^-\(shift) is too high")
            }
            ticksPerSecond = 1 << shift
            binaryShift = shift
            nanosPerTick = shift == 0 ? 1_000_000_000 : 0
        } else {
            guard value <= 19 else {
                throw .corrupt("Interface Description Block if_tsresol option resolution 10^-\(value) is too high")
            }
            var ticks: UInt64 = 1
            for _ in 0..<value { ticks &*= 10 }
            ticksPerSecond = ticks
            binaryShift = nil
            nanosPerTick = value <= 9 ? 1_000_000_000 / ticks : 0
        }
        self.offsetSeconds = offsetSeconds
        fastBound = offsetSeconds == 0 && nanosPerTick > 0 ? UInt64(Int64.max) / nanosPerTick : 0
    }

    @inline(__always)
    func nanoseconds(_ ticks: UInt64) -> Int64 {
        if ticks < fastBound { return Int64(bitPattern: ticks &* nanosPerTick) }
        return slowNanoseconds(ticks)
    }

    /// libpcap's arithmetic: whole seconds plus the offset, then the fraction scaled to
    /// nanoseconds (exactly, where libpcap's 64-bit product could overflow); the sum saturates.
    func slowNanoseconds(_ ticks: UInt64) -> Int64 {
        let seconds = ticks / ticksPerSecond
        let fraction = ticks % ticksPerSecond
        let fractionNs: UInt64
        if let shift = binaryShift {
            if shift == 0 {
                fractionNs = 0
            } else {
                let (high, low) = fraction.multipliedFullWidth(by: 1_000_000_000)
                fractionNs = (high << (64 - shift)) | (low >> shift)
            }
        } else if nanosPerTick > 0 {
            fractionNs = fraction &* nanosPerTick
        } else {
            fractionNs = fraction / (ticksPerSecond / 1_000_000_000)
        }
        let wholeSeconds = Int64(bitPattern: seconds &+ UInt64(bitPattern: offsetSeconds))
        let (ns, overflow) = wholeSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return wholeSeconds < 0 ? .min : .max }
        let (sum, overflow2) = ns.addingReportingOverflow(Int64(fractionNs))
        return overflow2 ? .max : sum
    }
}

/// pcapng: a sequence of blocks (type, total length, body, total length again), in sections that
/// each start with a Section Header Block and describe their interfaces in Interface Description
/// Blocks before the packets that refer to them.
///
/// Mirrors libpcap 1.10 `sf-pcapng.c`: the same limits and the same errors, including its refusal
/// of files whose interfaces differ in link type or snap length, and of sections in different
/// byte orders (tshark reads those; libpcap, and so tcpdump and pktstat, give the caller one link
/// type per file). The packets before the offending block are delivered first.
///
/// Differences from libpcap, each on the lenient side: interfaces are compared by their link type
/// as stored (libpcap compares its own DLT_ number with the stored LINKTYPE_, so a file with two
/// LINKTYPE_RAW interfaces fails there), and a Simple Packet Block whose data is shorter than its
/// packet is cut to the data instead of failing. One limit libpcap lacks: more than 65,536
/// interfaces in one section is an error (it bounds the interface table).
struct PcapngFormat {
    static let sectionHeader: UInt32 = 0x0A0D_0D0A
    static let interfaceDescription: UInt32 = 1
    static let obsoletePacket: UInt32 = 2
    static let simplePacket: UInt32 = 3
    static let enhancedPacket: UInt32 = 6
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    /// More interfaces than this in one section is taken as a damaged file (bounds the table).
    static let maxInterfaces = 65_536

    let order: FieldOrder
    /// The first interface's link type; every interface must have it.
    var linkType: UInt32 = 0
    /// The first interface's snap length, adjusted like libpcap does; every interface must have it.
    var snapLength: UInt32 = 0
    var maxBlockSize = Limits.initialMaxBlockSize
    /// This section's interfaces, by interface ID.
    var interfaces: [InterfaceClock] = []

    enum BlockStep {
        /// A whole block of this type and total length is buffered at `input.cursor`.
        case block(type: UInt32, total: Int)
        case done(ScanEnd)
    }

    /// Reads the Section Header Block and every block up to the first Interface Description
    /// Block, when the file starts with the pcapng block type; nil if it is not pcapng after all.
    static func open(_ input: inout InputBuffer) throws(CaptureFileError) -> PcapngFormat? {
        var available = input.fill(need: 12)
        if let error = input.readError { throw error }
        // Too short, or no byte-order magic: a text file that happens to start with "\n\r\r\n".
        guard available >= 12 else { return nil }
        var p = input.cursor
        let bigEndian: Bool
        switch p.loadUnaligned(fromByteOffset: 8, as: UInt32.self) {
        case byteOrderMagic.littleEndian: bigEndian = false
        case byteOrderMagic.bigEndian: bigEndian = true
        default: return nil
        }
        var format = PcapngFormat(order: FieldOrder(bigEndian: bigEndian))
        let total = format.order.u32(p, 4)
        guard total >= Limits.minSectionHeaderLength, total <= Limits.maxSectionHeaderLength else {
            throw .corrupt("Section Header Block in pcapng dump file has invalid length \(total)")
        }
        let size = Int(total)
        available = input.fill(need: size)
        if let error = input.readError { throw error }
        guard available >= size else {
            throw .truncated("truncated pcapng dump file; tried to read \(size - 12) bytes, only got \(available - 12)")
        }
        p = input.cursor
        let major = format.order.u16(p, 12)
        let minor = format.order.u16(p, 14)
        guard major == 1, minor == 0 || minor == 2 else {
            throw CaptureFileError(.unsupportedFormat, "unsupported pcapng savefile version \(major).\(minor)")
        }
        // libpcap 1.10 does not check the first Section Header Block's trailing length (only
        // that of every later block, this reader too), so neither does this reader: a file
        // tcpdump reads is read here.
        input.start += size

        // Blocks before the first interface: skipped, except packets, which cannot be decoded.
        var none = NoSink()
        while true {
            switch format.nextBlock(&input, &none) {
            case .done(.failed(let error)):
                throw error
            case .done:
                throw CaptureFileError(.corrupt, "the capture file has no Interface Description Blocks")
            case .block(let type, let total):
                let body = input.cursor + 8
                let bodyLength = total - 12
                switch type {
                case interfaceDescription:
                    let interface = try format.parseInterface(body, bodyLength)
                    format.linkType = interface.linkType
                    format.snapLength = Limits.adjustedSnapLength(interface.snapLength, linkType: interface.linkType)
                    format.maxBlockSize = Limits.maxBlockSize(linkType: interface.linkType)
                    format.interfaces.append(interface.clock)
                    input.start += total
                    return format
                case enhancedPacket, simplePacket, obsoletePacket:
                    throw .corrupt("the capture file has a packet block before any Interface Description Blocks")
                default:
                    // Everything else before the first interface is skipped unread, as libpcap
                    // 1.10 does, including another Section Header Block (not even its byte-order
                    // magic is checked there; after the first interface it is).
                    break
                }
                input.start += total
            }
        }
    }

    /// Parses blocks in place and hands each packet to `sink`, until the end of the input, a
    /// damaged block, or the sink asks to stop.
    @inline(__always)
    mutating func scan<Sink: PacketSink>(_ input: inout InputBuffer, into sink: inout Sink) -> ScanEnd {
        let order = order
        let snap = snapLength
        while true {
            let type: UInt32
            let total: Int
            switch nextBlock(&input, &sink) {
            case .done(let end): return end
            case .block(let t, let n): (type, total) = (t, n)
            }
            let body = input.cursor + 8
            let bodyLength = total - 12
            let interfaceID: UInt32
            let ticks: UInt64
            let caplen: UInt32
            let length: UInt32
            let dataOffset: Int
            switch type {
            case PcapngFormat.enhancedPacket:
                guard bodyLength >= 20 else { return .failed(tooShort(type)) }
                interfaceID = order.u32(body, 0)
                ticks = UInt64(order.u32(body, 4)) << 32 | UInt64(order.u32(body, 8))
                caplen = order.u32(body, 12)
                length = order.u32(body, 16)
                dataOffset = 20
            case PcapngFormat.simplePacket:
                guard bodyLength >= 4 else { return .failed(tooShort(type)) }
                // No timestamp and no captured length: as in libpcap, the packet length cut to
                // the snap length, and a block with fewer bytes than that is too short.
                interfaceID = 0
                ticks = 0
                length = order.u32(body, 0)
                caplen = min(length, snap)
                dataOffset = 4
            case PcapngFormat.obsoletePacket:
                guard bodyLength >= 20 else { return .failed(tooShort(type)) }
                interfaceID = UInt32(order.u16(body, 0))
                ticks = UInt64(order.u32(body, 4)) << 32 | UInt64(order.u32(body, 8))
                caplen = order.u32(body, 12)
                length = order.u32(body, 16)
                dataOffset = 20
            case PcapngFormat.interfaceDescription:
                if let error = addInterface(body, bodyLength) { return .failed(error) }
                input.start &+= total
                continue
            case PcapngFormat.sectionHeader:
                if let error = beginSection(body, bodyLength) { return .failed(error) }
                input.start &+= total
                continue
            default:
                // Name resolution, interface statistics, decryption secrets, custom, unknown.
                input.start &+= total
                continue
            }
            guard interfaceID < UInt32(truncatingIfNeeded: interfaces.count) else {
                return .failed(
                    .corrupt(
                        "a packet arrived on interface \(interfaceID), but there's no Interface Description Block for that interface"
                    ))
            }
            guard caplen <= snap else {
                return .failed(.corrupt("invalid packet capture length \(caplen), bigger than snaplen of \(snap)"))
            }
            guard Int(caplen) <= bodyLength - dataOffset else { return .failed(tooShort(type)) }
            let timestamp = type == PcapngFormat.simplePacket ? 0 : interfaces[Int(interfaceID)].nanoseconds(ticks)
            input.start &+= total
            if !sink.take(timestampNs: timestamp, length: length, captured: caplen, data: body + dataOffset) {
                return .stopped
            }
        }
    }

    /// Makes the next whole block available at `input.cursor` (checked: length, alignment,
    /// limit, trailer), without consuming it.
    @inline(__always)
    func nextBlock<Sink: PacketSink>(_ input: inout InputBuffer, _ sink: inout Sink) -> BlockStep {
        let available = input.available
        if available >= 12 {
            let p = input.cursor
            let total = order.u32(p, 4)
            if total >= 12, total & 3 == 0, total <= maxBlockSize, Int(total) <= available,
                order.u32(p, Int(total) - 4) == total
            {
                return .block(type: order.u32(p, 0), total: Int(total))
            }
        }
        return nextBlockSlow(&input, &sink)
    }

    /// The block does not fit in what is buffered, or something is wrong with it: read more, or
    /// say what is wrong in libpcap's order and words.
    @inline(never)
    func nextBlockSlow<Sink: PacketSink>(_ input: inout InputBuffer, _ sink: inout Sink) -> BlockStep {
        var available = input.available
        if available < 8 {
            if !input.isRegularFile && !sink.flush() { return .done(.stopped) }
            available = input.fill(need: 8)
            if available < 8 {
                if let error = input.readError { return .done(.failed(error)) }
                if available == 0 { return .done(.end) }
                return .done(
                    .failed(.truncated("truncated pcapng dump file; tried to read 8 bytes, only got \(available)")))
            }
        }
        var p = input.cursor
        let type = order.u32(p, 0)
        if type == PcapngFormat.sectionHeader, available >= 12 {
            // A new section in the other byte order: its length cannot be read in ours.
            let magic = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            let otherOrder =
                order.bigEndian ? PcapngFormat.byteOrderMagic.littleEndian : PcapngFormat.byteOrderMagic.bigEndian
            if magic == otherOrder {
                return .done(.failed(.corrupt("the file has sections with different byte orders")))
            }
        }
        let total = order.u32(p, 4)
        guard total >= 12 else {
            return .done(.failed(.corrupt("block in pcapng dump file has a length of \(total) < 12")))
        }
        guard total & 3 == 0 else {
            return .done(
                .failed(.corrupt("block in pcapng dump file has a length of \(total) that is not a multiple of 4")))
        }
        guard total <= maxBlockSize else {
            return .done(.failed(.corrupt("pcapng block size \(total) > maximum \(maxBlockSize)")))
        }
        let size = Int(total)
        if available < size {
            if !input.isRegularFile && !sink.flush() { return .done(.stopped) }
            if size > input.capacity, let remaining = input.remainingInFile(), remaining < UInt64(size) {
                return .done(.failed(truncatedBlock(size, got: Int(remaining))))
            }
            available = input.fill(need: size)
            if available < size {
                if let error = input.readError { return .done(.failed(error)) }
                return .done(.failed(truncatedBlock(size, got: available)))
            }
            p = input.cursor
        }
        let trailer = order.u32(p, size - 4)
        guard trailer == total else {
            return .done(.failed(.corrupt("block total length in header \(total) and trailer \(trailer) don't match")))
        }
        return .block(type: type, total: size)
    }

    private func truncatedBlock(_ size: Int, got: Int) -> CaptureFileError {
        .truncated("truncated pcapng dump file; tried to read \(size - 8) bytes, only got \(max(0, got - 8))")
    }

    private func tooShort(_ type: UInt32) -> CaptureFileError {
        .corrupt("block of type \(type) in pcapng dump file is too short")
    }

    /// A Section Header Block after the first: same byte order, major version 1; its interfaces
    /// start afresh (but must still match the file's first interface).
    mutating func beginSection(_ body: UnsafeRawPointer, _ bodyLength: Int) -> CaptureFileError? {
        guard bodyLength >= 16 else { return tooShort(PcapngFormat.sectionHeader) }
        let magic = order.u32(body, 0)
        if magic == PcapngFormat.byteOrderMagic.byteSwapped {
            return .corrupt("the file has sections with different byte orders")
        }
        guard magic == PcapngFormat.byteOrderMagic else {
            return .corrupt("the file has a section with a bad byte order magic field")
        }
        let major = order.u16(body, 4)
        guard major == 1 else {
            return CaptureFileError(.unsupportedFormat, "unknown pcapng savefile major version number \(major)")
        }
        interfaces.removeAll(keepingCapacity: true)
        return nil
    }

    /// An Interface Description Block after the first: it must have the first one's link type and
    /// snap length (libpcap hands one of each to its caller).
    mutating func addInterface(_ body: UnsafeRawPointer, _ bodyLength: Int) -> CaptureFileError? {
        guard bodyLength >= 8 else { return tooShort(PcapngFormat.interfaceDescription) }
        // As libpcap 1.10 does, quirk included: the first interface's link type is mapped to a
        // DLT number and later interfaces' raw link types are compared with that, so after a
        // first LINKTYPE_RAW (101, DLT 12) interface every later one is refused.
        let type = UInt32(order.u16(body, 0))
        guard type == Self.libpcapDLT(linkType) else {
            return .mixedInterfaces("an interface has a type \(type) different from the type of the first interface")
        }
        let snap = order.u32(body, 4)
        guard Limits.adjustedSnapLength(snap, linkType: type) == snapLength else {
            return .mixedInterfaces(
                "an interface has a snapshot length \(snap) different from the snapshot length of the first interface")
        }
        guard interfaces.count < PcapngFormat.maxInterfaces else {
            return .corrupt("more than \(PcapngFormat.maxInterfaces) interfaces in one section")
        }
        do {
            interfaces.append(try parseInterface(body, bodyLength).clock)
        } catch {
            return error
        }
        return nil
    }

    /// libpcap's `linktype_to_dlt` on Linux: the LINKTYPE numbers whose DLT number differs.
    static func libpcapDLT(_ linkType: UInt32) -> UInt32 {
        switch linkType {
        case 100: 11  // ATM_RFC1483
        case 101: 12  // RAW
        case 102: 15  // SLIP_BSDOS
        case 103: 16  // PPP_BSDOS
        default: linkType
        }
    }

    /// The fixed part and the timestamp options of an Interface Description Block.
    func parseInterface(_ body: UnsafeRawPointer, _ bodyLength: Int) throws(CaptureFileError) -> (
        linkType: UInt32, snapLength: UInt32, clock: InterfaceClock
    ) {
        let blockType = PcapngFormat.interfaceDescription
        guard bodyLength >= 8 else { throw tooShort(blockType) }
        let linkType = UInt32(order.u16(body, 0))
        let snapLength = order.u32(body, 4)
        var tsresol: UInt8?
        var tsoffset: Int64?
        var o = 8
        options: while o < bodyLength {
            guard bodyLength - o >= 4 else { throw tooShort(blockType) }
            let code = order.u16(body, o)
            let length = Int(order.u16(body, o + 2))
            o += 4
            let padded = (length + 3) & ~3
            guard bodyLength - o >= padded else { throw tooShort(blockType) }
            switch code {
            case 0:
                guard length == 0 else {
                    throw .corrupt("Interface Description Block has opt_endofopt option with length \(length) != 0")
                }
                break options
            case 9:
                guard length == 1 else {
                    throw .corrupt("Interface Description Block has if_tsresol option with length \(length) != 1")
                }
                guard tsresol == nil else {
                    throw .corrupt("Interface Description Block has more than one if_tsresol option")
                }
                tsresol = body.load(fromByteOffset: o, as: UInt8.self)
            case 14:
                guard length == 8 else {
                    throw .corrupt("Interface Description Block has if_tsoffset option with length \(length) != 8")
                }
                guard tsoffset == nil else {
                    throw .corrupt("Interface Description Block has more than one if_tsoffset option")
                }
                tsoffset = Int64(bitPattern: order.u64(body, o))
            default:
                break
            }
            o += padded
        }
        let clock = try InterfaceClock(tsresol: tsresol, offsetSeconds: tsoffset ?? 0)
        return (linkType, snapLength, clock)
    }
}

/// For reading blocks before any packet can be delivered.
struct NoSink: PacketSink {
    func take(timestampNs: Int64, length: UInt32, captured: UInt32, data: UnsafeRawPointer) -> Bool { true }
    func flush() -> Bool { true }
}
