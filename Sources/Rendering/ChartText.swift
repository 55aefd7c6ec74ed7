public import PacketWire
public import TrafficAnalysis

/// Colours, escaping and the one-line capture summary shared by the SVG chart and the gnuplot
/// script, so both draw a protocol in the same colour and describe the capture the same way.
public enum ChartText {
    /// The colour of a protocol (Tableau 20 order, the common protocols first).
    public static func color(_ label: ProtocolLabel) -> String {
        switch label {
        case .tcp: "#1f77b4"
        case .udp: "#ff7f0e"
        case .icmp: "#2ca02c"
        case .icmpv6: "#98df8a"
        case .arp: "#bcbd22"
        case .ipv4: "#8c564b"
        case .ipv6: "#e377c2"
        case .igmp: "#17becf"
        case .gre: "#9467bd"
        case .esp: "#d62728"
        case .ah: "#ff9896"
        case .sctp: "#aec7e8"
        case .ospf: "#c5b0d5"
        case .ipip: "#c49c94"
        case .pim: "#f7b6d2"
        case .vrrp: "#dbdb8d"
        case .other: "#7f7f7f"
        }
    }

    /// The character a protocol's points are drawn with in gnuplot's `dumb` terminal.
    public static func character(_ label: ProtocolLabel) -> String {
        switch label {
        case .tcp: "T"
        case .udp: "U"
        case .icmp: "I"
        case .icmpv6: "i"
        case .arp: "A"
        case .ipv4: "4"
        case .ipv6: "6"
        case .igmp: "G"
        case .gre: "g"
        case .esp: "E"
        case .ah: "H"
        case .sctp: "S"
        case .ospf: "O"
        case .ipip: "P"
        case .pim: "M"
        case .vrrp: "V"
        case .other: "?"
        }
    }

    /// A legend entry: `TCP (66)`.
    static func legend(_ label: ProtocolLabel, _ chart: ChartBuffer) -> String {
        "\(label.asciiName) (\(chart.protocolPackets[label]))"
    }

    /// The label of the packets above the size axis: `▲ 3 packets above 1,600 B (largest 32768 B)`.
    static func outlierLabel(_ size: SizeAxis) -> String {
        let n = size.outliers
        var top: [UInt8] = []
        top.appendFixed(size.high, decimals: 0)
        return "\u{25B2} \(n) packet\(n == 1 ? "" : "s") above \(String(decoding: top, as: UTF8.self)) B"
            + " (largest \(size.largest) B)"
    }

    /// Notes for the SVG `<desc>` and the gnuplot header: how points were reduced, what the line
    /// shows, packets above the size axis.
    static func notes(_ chart: ChartBuffer, _ frame: ChartFrame) -> [String] {
        var notes: [String] = []
        if chart.packets > 0 && !chart.isExact {
            notes.append(
                "Points reduced per pixel column (smallest to largest length per protocol) from "
                    + "\(chart.packets) packets")
        }
        if !frame.line.points.isEmpty { notes.append("Line: \(frame.bytesTitle)") }
        if let s = frame.scaledNote { notes.append(s) }
        if frame.size.outliers > 0 { notes.append(outlierLabel(frame.size).dropFirst(2) + ", marked on the top edge") }
        return notes
    }

    /// One line describing the capture: totals, time span, mean rate, losses. Used for the SVG
    /// `<desc>` and the gnuplot header comment.
    public static func summaryLine(_ s: Summary) -> String {
        var out: [UInt8] = []
        out.append(decimal: s.packets)
        out.appendUTF8(s.packets == 1 ? " packet, " : " packets, ")
        out.append(decimal: s.bytes)
        out.appendUTF8(" bytes")
        if let f = s.firstNs, let l = s.lastNs {
            out.appendUTF8(", from ")
            out.appendUTF8(UTCTime(ns: f).iso(fractionDigits: 3))
            out.appendUTF8(" to ")
            out.appendUTF8(UTCTime(ns: l).iso(fractionDigits: 3))
            out.appendUTF8(" (")
            out.appendRatio(UInt128(UInt64(clamping: s.durationNs)), 1_000_000_000)
            out.appendUTF8(" s)")
        }
        if let bps = s.bitsPerSecond {
            out.appendUTF8(", ")
            out.appendQuantity(bps, unit: "bit/s")
        }
        if let mean = s.meanLength {
            out.appendUTF8(", length min/mean/max ")
            out.append(decimal: UInt64(s.minLength))
            out.appendUTF8("/")
            out.appendFixed(mean, decimals: 1)
            out.appendUTF8("/")
            out.append(decimal: UInt64(s.maxLength))
        }
        out.appendUTF8("; drops: kernel ")
        out.append(decimal: s.drops.kernel)
        out.appendUTF8(", interface ")
        out.append(decimal: s.drops.interface)
        out.appendUTF8(", ring ")
        out.append(decimal: s.drops.ring)
        if s.latePackets > 0 || s.beyondLimitPackets > 0 {
            out.appendUTF8("; not in any interval: ")
            out.append(decimal: s.latePackets &+ s.beyondLimitPackets)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A shorter line for the chart's subtitle: totals, span, rate and drops.
    public static func shortSummary(_ s: Summary) -> String {
        var out: [UInt8] = []
        out.append(decimal: s.packets)
        out.appendUTF8(s.packets == 1 ? " packet, " : " packets, ")
        out.appendQuantity(Double(s.bytes), unit: "B")
        if s.firstNs != nil {
            out.appendUTF8(" in ")
            out.appendRatio(UInt128(UInt64(clamping: s.durationNs)), 1_000_000_000)
            out.appendUTF8(" s")
        }
        if let bps = s.bitsPerSecond {
            out.appendUTF8(", ")
            out.appendQuantity(bps, unit: "bit/s")
        }
        out.appendUTF8("; drops: kernel ")
        out.append(decimal: s.drops.kernel)
        out.appendUTF8(", interface ")
        out.append(decimal: s.drops.interface)
        out.appendUTF8(", ring ")
        out.append(decimal: s.drops.ring)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` escaped for XML text and attribute values: `& < > " '` become entities, and
    /// characters XML 1.0 forbids (controls other than tab, newline and carriage return, U+FFFE,
    /// U+FFFF) become U+FFFD.
    public static func appendXML(_ s: String, into out: inout [UInt8]) {
        for u in s.unicodeScalars {
            switch u {
            case "&": out.append(ascii: "&amp;")
            case "<": out.append(ascii: "&lt;")
            case ">": out.append(ascii: "&gt;")
            case "\"": out.append(ascii: "&quot;")
            case "'": out.append(ascii: "&apos;")
            case "\t", "\n", "\r": out.append(UInt8(u.value))
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
                    out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                } else {
                    out.append(contentsOf: String(u).utf8)
                }
            }
        }
    }

    /// `s` escaped for XML.
    public static func xmlEscaped(_ s: String) -> String {
        var out: [UInt8] = []
        appendXML(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
