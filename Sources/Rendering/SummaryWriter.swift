import PacketWire
public import TrafficAnalysis

/// Writes the whole-capture `Summary` as text lines (after a table) or one JSON object, into a
/// caller-owned byte buffer.
public enum SummaryWriter {
    /// Human-readable lines: span, totals, rates, lengths, protocols, size buckets, losses.
    public static func text(_ s: Summary, into out: inout [UInt8]) {
        out.append(ascii: "packets: ")
        out.append(decimal: s.packets)
        out.append(ascii: ", bytes: ")
        out.append(decimal: s.bytes)
        out.append(ascii: " (captured ")
        out.append(decimal: s.capturedBytes)
        out.append(ascii: ")\n")
        if let f = s.firstNs, let l = s.lastNs {
            out.append(ascii: "time: ")
            out.appendUTF8(UTCTime(ns: f).iso(fractionDigits: 9))
            out.append(ascii: " to ")
            out.appendUTF8(UTCTime(ns: l).iso(fractionDigits: 9))
            out.append(ascii: " (")
            out.appendSeconds(ns: s.durationNs)
            out.append(ascii: " s)\n")
        }
        if let pps = s.packetsPerSecond, let bps = s.bitsPerSecond {
            out.append(ascii: "rate: ")
            out.appendFixed(pps, decimals: 1)
            out.append(ascii: " packets/s, ")
            out.appendQuantity(bps, unit: "bit/s")
            out.append(UInt8(ascii: "\n"))
        }
        if s.packets > 0 { lengthsAndProtocols(s, into: &out) }
        out.append(ascii: "drops: kernel ")
        out.append(decimal: s.drops.kernel)
        out.append(ascii: ", interface ")
        out.append(decimal: s.drops.interface)
        out.append(ascii: ", ring ")
        out.append(decimal: s.drops.ring)
        out.append(UInt8(ascii: "\n"))
        if s.latePackets > 0 {
            out.append(ascii: "late: ")
            out.append(decimal: s.latePackets)
            out.append(ascii: " packets arrived after their interval was printed\n")
        }
        if s.beyondLimitPackets > 0 {
            out.append(ascii: "not in any interval: ")
            out.append(decimal: s.beyondLimitPackets)
            out.append(ascii: " packets more than 292 years from the first\n")
        }
    }

    /// The text summary's length, protocol and size-bucket lines.
    private static func lengthsAndProtocols(_ s: Summary, into out: inout [UInt8]) {
        out.append(ascii: "length: min ")
        out.append(decimal: UInt64(s.minLength))
        out.append(ascii: ", mean ")
        out.appendRatio(UInt128(s.bytes), UInt128(s.packets), decimals: 1)
        out.append(ascii: ", max ")
        out.append(decimal: UInt64(s.maxLength))
        out.append(ascii: "\nprotocols:")
        for p in s.protocols {
            out.append(UInt8(ascii: " "))
            out.append(ascii: p.asciiName)
            out.append(UInt8(ascii: " "))
            out.append(decimal: s.protocolPackets[p])
        }
        out.append(ascii: "\nsizes:")
        for b in s.sizes.buckets where b.packets > 0 {
            out.append(UInt8(ascii: " "))
            out.append(decimal: UInt64(b.lower))
            if let u = b.upper {
                out.append(UInt8(ascii: "-"))
                out.append(decimal: UInt64(u))
            } else {
                out.append(UInt8(ascii: "+"))
            }
            out.append(UInt8(ascii: ":"))
            out.append(decimal: b.packets)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// One JSON object on one line.
    public static func json(_ s: Summary, into out: inout [UInt8]) {
        out.append(ascii: "{\"packets\":")
        out.append(decimal: s.packets)
        out.append(ascii: ",\"bytes\":")
        out.append(decimal: s.bytes)
        out.append(ascii: ",\"captured_bytes\":")
        out.append(decimal: s.capturedBytes)
        out.append(ascii: ",\"first\":")
        if let f = s.firstNs { out.append(timestampNs: f) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"last\":")
        if let l = s.lastNs { out.append(timestampNs: l) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"duration\":")
        out.appendSeconds(ns: s.durationNs)
        out.append(ascii: ",\"packets_per_second\":")
        if s.durationNs > 0 {
            out.appendRatio(UInt128(s.packets) * 1_000_000_000, UInt128(UInt64(s.durationNs)))
        } else {
            out.append(ascii: "null")
        }
        out.append(ascii: ",\"bits_per_second\":")
        if s.durationNs > 0 {
            out.appendRatio(UInt128(s.bytes) * 8_000_000_000, UInt128(UInt64(s.durationNs)))
        } else {
            out.append(ascii: "null")
        }
        out.append(ascii: ",\"min_length\":")
        if s.packets > 0 { out.append(decimal: UInt64(s.minLength)) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"mean_length\":")
        if s.packets > 0 { out.appendRatio(UInt128(s.bytes), UInt128(s.packets)) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"max_length\":")
        if s.packets > 0 { out.append(decimal: UInt64(s.maxLength)) } else { out.append(ascii: "null") }
        out.append(ascii: ",\"protocols\":")
        out.appendProtocolsJSON(packets: s.protocolPackets, bytes: s.protocolBytes)
        out.append(ascii: ",\"sizes\":[")
        for (i, b) in s.sizes.buckets.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(ascii: "{\"min\":")
            out.append(decimal: UInt64(b.lower))
            out.append(ascii: ",\"max\":")
            if let u = b.upper { out.append(decimal: UInt64(u)) } else { out.append(ascii: "null") }
            out.append(ascii: ",\"packets\":")
            out.append(decimal: b.packets)
            out.append(UInt8(ascii: "}"))
        }
        out.append(ascii: "],\"drops\":{\"kernel\":")
        out.append(decimal: s.drops.kernel)
        out.append(ascii: ",\"interface\":")
        out.append(decimal: s.drops.interface)
        out.append(ascii: ",\"ring\":")
        out.append(decimal: s.drops.ring)
        out.append(ascii: "},\"late_packets\":")
        out.append(decimal: s.latePackets)
        out.append(ascii: ",\"beyond_limit_packets\":")
        out.append(decimal: s.beyondLimitPackets)
        out.append(ascii: "}\n")
    }
}
