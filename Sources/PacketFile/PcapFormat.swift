import Glibc

/// How a parse ended.
enum ScanEnd {
    /// The input ended cleanly between records.
    case end
    /// The sink asked to stop; reading can resume where it left off.
    case stopped
    /// The file is damaged or unreadable here; every record before this point was delivered.
    case failed(CaptureFileError)
}

extension InputBuffer {
    /// The error for a failed `read()`, if one happened.
    var readError: CaptureFileError? {
        guard readErrno != 0 else { return nil }
        if let failure = decompressor?.failure { return failure }
        return CaptureFileError(.access, "error reading dump file: \(String(cString: strerror(readErrno)))")
    }
}

/// Classic pcap (libpcap's savefile format): a 24-byte file header, then records of a 16-byte
/// header (24 for the old "Kuznetzov" variant) and the captured bytes.
///
/// Mirrors libpcap 1.10 `sf-pcap.c`: same versions accepted, same length swaps for old files,
/// records longer than the snap length cut to it, records longer than the link type's maximum
/// rejected. One deliberate difference: the seconds field is unsigned (libpcap 1.10
/// sign-extends it, which its later versions fixed).
struct PcapFormat {
    /// How caplen and len are ordered in the records (files before 2.3 had them the other way).
    enum LengthOrder {
        case normal
        case swapped
        /// Version 2.3 files exist in both orders: swap when caplen > len.
        case maybeSwapped
    }

    let order: FieldOrder
    let nanosecond: Bool
    let recordHeaderSize: Int
    let lengthOrder: LengthOrder
    /// The file header's link type (its upper 6 bits, which carry FCS information, removed).
    let linkType: UInt32
    /// The snap length as libpcap reports it (0 and absurd values replaced by the maximum).
    let snapLength: UInt32
    /// Records capturing more than this are rejected as corrupt.
    let maxCaptured: UInt32

    static let headerSize = 24

    /// Reads the file header when the first four bytes are a pcap magic number; nil if they are not.
    static func open(_ input: inout InputBuffer) throws(CaptureFileError) -> PcapFormat? {
        let magic = UInt32(bigEndian: input.cursor.loadUnaligned(as: UInt32.self))
        let bigEndian: Bool
        let nanosecond: Bool
        let kuznetzov: Bool
        switch magic {
        case 0xA1B2_C3D4: (bigEndian, nanosecond, kuznetzov) = (true, false, false)
        case 0xD4C3_B2A1: (bigEndian, nanosecond, kuznetzov) = (false, false, false)
        case 0xA1B2_3C4D: (bigEndian, nanosecond, kuznetzov) = (true, true, false)
        case 0x4D3C_B2A1: (bigEndian, nanosecond, kuznetzov) = (false, true, false)
        case 0xA1B2_CD34: (bigEndian, nanosecond, kuznetzov) = (true, false, true)
        case 0x34CD_B2A1: (bigEndian, nanosecond, kuznetzov) = (false, false, true)
        default: return nil
        }
        let available = input.fill(need: headerSize)
        if let error = input.readError { throw error }
        guard available >= headerSize else {
            throw .truncated(
                "truncated dump file; tried to read \(headerSize) file header bytes, only got \(available)")
        }
        let order = FieldOrder(bigEndian: bigEndian)
        let p = input.cursor
        let major = order.u16(p, 4)
        let minor = order.u16(p, 6)
        let rawSnap = order.u32(p, 16)
        let linkType = order.u32(p, 20) & 0x03FF_FFFF
        if major < 2 {
            throw CaptureFileError(.unsupportedFormat, "archaic pcap savefile format")
        }
        guard (major == 2 && minor <= 4) || (major == 543 && minor == 0) else {
            throw CaptureFileError(.unsupportedFormat, "unsupported pcap savefile version \(major).\(minor)")
        }
        let lengthOrder: LengthOrder =
            if major == 543 || minor < 3 {
                .swapped
            } else if minor == 3 {
                .maybeSwapped
            } else {
                .normal
            }
        var snap = Limits.adjustedSnapLength(rawSnap, linkType: linkType)
        if kuznetzov && linkType == 1 {
            // libpcap assumes such Ethernet files were captured in cooked mode, with a fake
            // 14-byte header on top of the snap length.
            snap = snap <= UInt32(Int32.max) - 14 ? snap + 14 : UInt32(Int32.max)
        }
        input.start += headerSize
        return PcapFormat(
            order: order,
            nanosecond: nanosecond,
            recordHeaderSize: kuznetzov ? 24 : 16,
            lengthOrder: lengthOrder,
            linkType: linkType,
            snapLength: snap,
            maxCaptured: Limits.maxSnapLength(linkType: linkType)
        )
    }

    /// Parses records in place and hands each to `sink`, until the end of the input, a damaged
    /// record, or the sink asks to stop.
    @inline(__always)
    func scan<Sink: PacketSink>(_ input: inout InputBuffer, into sink: inout Sink) -> ScanEnd {
        let order = order
        let headerSize = recordHeaderSize
        let snap = snapLength
        let fractionScale: Int64 = nanosecond ? 1 : 1000
        while true {
            var available = input.available
            if available < headerSize {
                if !input.isRegularFile && !sink.flush() { return .stopped }
                available = input.fill(need: headerSize)
                if available < headerSize {
                    if let error = input.readError { return .failed(error) }
                    if available == 0 { return .end }
                    return .failed(
                        .truncated(
                            "truncated dump file; tried to read \(headerSize) header bytes, only got \(available)"))
                }
            }
            var p = input.cursor
            var caplen = order.u32(p, 8)
            var length = order.u32(p, 12)
            switch lengthOrder {
            case .normal: break
            case .swapped: swap(&caplen, &length)
            case .maybeSwapped: if caplen > length { swap(&caplen, &length) }
            }
            if caplen > maxCaptured {
                return .failed(invalidCaptureLength(caplen))
            }
            let recordSize = headerSize + Int(caplen)
            if available < recordSize {
                if !input.isRegularFile && !sink.flush() { return .stopped }
                if recordSize > input.capacity, let remaining = input.remainingInFile(),
                    remaining < UInt64(recordSize)
                {
                    return .failed(truncatedData(caplen: caplen, got: Int(remaining) - headerSize))
                }
                available = input.fill(need: recordSize)
                if available < recordSize {
                    if let error = input.readError { return .failed(error) }
                    return .failed(truncatedData(caplen: caplen, got: available - headerSize))
                }
                p = input.cursor
            }
            let seconds = order.u32(p, 0)
            let fraction = order.u32(p, 4)
            let timestamp = Int64(seconds) &* 1_000_000_000 &+ Int64(fraction) &* fractionScale
            input.start &+= recordSize
            if !sink.take(
                timestampNs: timestamp, length: length, captured: min(caplen, snap), data: p + headerSize)
            {
                return .stopped
            }
        }
    }

    private func invalidCaptureLength(_ caplen: UInt32) -> CaptureFileError {
        if caplen > snapLength {
            return .corrupt("invalid packet capture length \(caplen), bigger than snaplen of \(snapLength)")
        }
        return .corrupt("invalid packet capture length \(caplen), bigger than maximum of \(maxCaptured)")
    }

    /// libpcap's wording: a record longer than the snap length is read up to the snap length
    /// first, then the rest is discarded.
    private func truncatedData(caplen: UInt32, got: Int) -> CaptureFileError {
        let wanted = caplen > snapLength && got < Int(snapLength) ? snapLength : caplen
        return .truncated("truncated dump file; tried to read \(wanted) captured bytes, only got \(max(0, got))")
    }
}

extension PcapFormat {
    /// The last record's timestamp, found from the end of the file without reading it through:
    /// pcap has no back pointers, so the tail (up to 512 KiB) is searched for the first offset
    /// from which whole, plausible records (captured length within the link type's maximum and the
    /// original length, a fraction below one second) follow one another exactly to the end of
    /// the file. nil when no such chain is found (damage, a cut record, an absurd file), and the
    /// caller reads the file instead.
    func lastTimestamp(fd: Int32, fileSize: Int64) -> Int64? {
        let headerSize = recordHeaderSize
        let window = Int(min(fileSize - Int64(PcapFormat.headerSize), 512 * 1024))
        guard window >= headerSize else { return nil }
        let start = fileSize - Int64(window)
        let tail = UnsafeMutableRawPointer.allocate(byteCount: window, alignment: 16)
        defer { tail.deallocate() }
        guard pread(fd, tail, window, off_t(start)) == window else { return nil }
        let fractionLimit: UInt32 = nanosecond ? 1_000_000_000 : 1_000_000
        // When the window is the whole file, the chain must start at the first record; inside the
        // file, ask for a chain of 3 so that bytes inside a packet are not taken for a header.
        let wholeFile = start == Int64(PcapFormat.headerSize)
        let needed = wholeFile ? 1 : 3
        func record(at o: Int) -> (size: Int, timestamp: Int64)? {
            guard window - o >= headerSize else { return nil }
            var caplen = order.u32(tail, o + 8)
            var length = order.u32(tail, o + 12)
            if lengthOrder == .swapped || (lengthOrder == .maybeSwapped && caplen > length) { swap(&caplen, &length) }
            let fraction = order.u32(tail, o + 4)
            guard caplen <= maxCaptured, caplen <= length, fraction < fractionLimit else { return nil }
            let scale: Int64 = nanosecond ? 1 : 1000
            return (headerSize + Int(caplen), Int64(order.u32(tail, o)) * 1_000_000_000 + Int64(fraction) * scale)
        }
        var budget = 4_000_000  // record checks: a crafted tail cannot make this quadratic
        for first in 0..<(window - headerSize + 1) {
            var o = first
            var count = 0
            var last: Int64 = 0
            while budget > 0, let r = record(at: o) {
                budget -= 1
                count += 1
                last = r.timestamp
                o += r.size
                if o >= window { break }
            }
            if o == window && count >= needed { return last }
            if wholeFile { return nil }
        }
        return nil
    }
}
