// The tunnel decapsulation steps of the connection walk, as Zeek's packet analyzers do them
// (src/packet_analysis/protocol/{iptunnel,gre,vxlan,geneve,teredo,ayiya,gtpv1}): each step reads
// one tunnel header through bounds-checked views and says where the inner packet is, what it
// starts with (IP, Ethernet, 802.11) and how long it is captured and on the wire. Pure: the
// per-connection state Zeek consults (an analyzer's violation of a connection, the responder port,
// the encapsulation depth) is passed in by the caller, which also keeps the encapsulation stack.

/// Zeek's `Tunnel::Type`, numbered as Zeek does.
public enum ConnTunnelType: UInt8, Sendable {
    case none = 0
    case ip = 1
    case ayiya = 2
    case teredo = 3
    case socks = 4
    case gtpv1 = 5
    case http = 6
    case gre = 7
    case vxlan = 8
    case geneve = 9

    /// The bit of this type in a connection's set of violated tunnel analyzers.
    @inlinable public var bit: UInt16 { 1 << UInt16(rawValue) }
}

/// What an inner packet starts with.
public enum ConnInnerLayer: UInt8, Sendable {
    /// An IP header (the version from its first nibble).
    case ip
    /// An Ethernet header (VXLAN, Geneve 0x6558, GRE transparent bridging, ERSPAN).
    case ethernet
    /// An IEEE 802.11 frame (Aruba's GRE).
    case ieee80211
}

/// Where a tunnel's inner packet is in the captured bytes.
public struct ConnTunnelPayload: Sendable, Equatable {
    public var type: ConnTunnelType
    public var layer: ConnInnerLayer
    /// The inner packet's first byte.
    public var offset: Int
    /// Its captured length: the walk of the inner packet reads no further.
    public var captured: Int
    /// Where its wire length ends, counted from the start of the captured bytes (the walk's
    /// `wireLength`: Zeek drops an inner IP packet longer than its wire length).
    public var wireEnd: Int

    @inlinable
    public init(type: ConnTunnelType, layer: ConnInnerLayer, offset: Int, captured: Int, wireEnd: Int) {
        self.type = type
        self.layer = layer
        self.offset = offset
        self.captured = captured
        self.wireEnd = wireEnd
    }
}

/// What a tunnel step made of a payload.
public enum ConnTunnelOutcome: Sendable, Equatable {
    /// Not a tunnel (another port, no protocol detected, a message without an inner packet).
    case none
    /// The tunnel header is damaged: Zeek marks the analyzer violated for the carrying connection
    /// and ignores its later packets (VXLAN, Geneve, Teredo and AYIYA check; GTP does not).
    case violation(ConnTunnelType)
    /// `Tunnel::max_depth` reached: a UDP tunnel adds `X` to the carrying connection's history.
    case depthExceeded
    /// An inner packet to walk.
    case inner(ConnTunnelPayload)
}

/// The tunnel steps.
public enum ConnTunnels {
    /// `Tunnel::max_depth`.
    public static let maxDepth = 4
    public static let vxlanPort: UInt16 = 4789
    public static let genevePort: UInt16 = 6081
    public static let teredoPort: UInt16 = 3544
    public static let ayiyaPort: UInt16 = 5072
    public static let gtpUserPort: UInt16 = 2152
    public static let gtpControlPort: UInt16 = 2123
    public static let greOverUDPPort: UInt16 = 4754

    /// A UDP payload of a connection whose responder port is `respPort` (Zeek's UDP analyzer
    /// forwards by the responder port, then tries protocol detection: AYIYA, then Teredo).
    /// `payload`/`captured`: where the UDP payload is and how much of it Zeek forwards (the
    /// smaller of the UDP payload by the IP header and what was captured); `wireEnd`: the current
    /// packet's wire end (see `ConnTunnelPayload`); `end`: its captured end. `violated`: the
    /// connection's violated tunnel analyzers (`ConnTunnelType.bit`); `depth`: the encapsulation
    /// depth so far; `lastType`: the innermost encapsulation's type.
    @inlinable
    public static func udp(
        _ b: Bytes, payload: Int, captured: Int, end: Int, wireEnd: Int, respPort: UInt16, violated: UInt16,
        depth: Int, lastType: ConnTunnelType
    ) -> ConnTunnelOutcome {
        let n = max(0, captured)
        // UDP tunnels keep the outer wire length's excess over the capture (build_inner_packet).
        let excess = wireEnd - end
        switch respPort {
        case vxlanPort:
            return vxlan(b, at: payload, length: n, excess: excess, violated: violated, depth: depth)
        case genevePort:
            return geneve(b, at: payload, length: n, excess: excess, violated: violated, depth: depth)
        case teredoPort:
            return teredo(b, at: payload, length: n, excess: excess, violated: violated, depth: depth)
        case ayiyaPort:
            return ayiya(b, at: payload, length: n, excess: excess, violated: violated, depth: depth)
        case gtpUserPort, gtpControlPort:
            return gtpv1(b, at: payload, length: n, excess: excess, depth: depth, lastType: lastType)
        case greOverUDPPort:
            return gre(b, at: payload, length: n, depth: depth)
        default:
            if ayiyaDetected(b, at: payload, length: n) {
                return ayiya(b, at: payload, length: n, excess: excess, violated: violated, depth: depth)
            }
            if teredoDetected(b, at: payload, length: n) {
                return teredo(b, at: payload, length: n, excess: excess, violated: violated, depth: depth)
            }
            return .none
        }
    }

    /// The IP payload of an IP-in-IP (4, 41) or GRE (47) packet: `p` from the walk (kind
    /// `.tunnel`), `depth` the encapsulation depth so far.
    @inlinable
    public static func ip(_ b: Bytes, _ p: ConnPacket, depth: Int) -> ConnTunnelOutcome {
        // The IP analyzer forwards the smaller of the payload by the header and what was captured.
        let o = Int(p.transportOffset)
        let n = max(0, min(Int(p.transportLength), Int(p.transportCaptured)))
        if p.ip.proto == 47 { return gre(b, at: o, length: n, depth: depth) }
        if depth >= maxDepth { return .none }
        // IP-in-IP: the inner packet must be of the announced version and exactly fill the payload.
        let version: UInt8 = p.ip.proto == 4 ? 4 : 6
        guard exactIP(b, at: o, length: n, version: version) == .ok else { return .none }
        return .inner(ConnTunnelPayload(type: .ip, layer: .ip, offset: o, captured: n, wireEnd: o + n))
    }

    /// The packets of an IEEE 802.11 data frame (`frame`, layer `.ieee80211`, as Aruba's GRE
    /// carries it), one per call, as Zeek's IEEE802_11 analyzer reads it: frame control (2),
    /// duration (2), three addresses and sequence control (24 in all), a fourth address when both
    /// DS bits are set, QoS control (2) for QoS data, whose A-MSDU bit says the frame holds
    /// subframes (destination, source, length: 14, then the packet, padded to 4 bytes); each
    /// packet starts with LLC/SNAP (AA AA 03 00 00 00) and an EtherType, and IPv4 and IPv6 are
    /// followed. `cursor` starts at 0; nil when there is no (further) packet.
    @inlinable
    public static func ieee80211Subframe(_ b: Bytes, frame: ConnTunnelPayload, cursor: inout Int)
        -> ConnTunnelPayload?
    {
        if cursor < 0 { return nil }
        let o = frame.offset
        let n = frame.captured
        var header = 24
        guard n > header, let fc = b.u8(o), let flags = b.u8(o + 1) else { return nil }
        // Data frames with data only.
        guard (fc >> 2) & 0x02 != 0, (fc >> 4) & 0x04 == 0 else { return nil }
        if flags & 0x03 == 0x03 { header += 6 }
        guard n > header else { return nil }
        var amsdu = false
        if (fc >> 4) & 0x08 != 0 {
            guard let qos = b.u8(o + header) else { return nil }
            amsdu = qos & 0x80 != 0
            // Protected: encrypted.
            if flags & 0x40 != 0 { return nil }
            header += 2
        }
        guard n > header else { return nil }
        if !amsdu {
            cursor = -1
            return llcPacket(b, at: o + header, length: n - header, frame: frame)
        }
        // Subframes from `cursor` (an offset after the header).
        var at = max(cursor, header)
        while at < n {
            let left = n - at
            guard left >= 14, let length16 = b.u16be(o + at + 12) else { break }
            let length = Int(length16)
            guard left >= length + 14 else { break }
            let start = o + at + 14
            at += 14 + length
            // Padding to a multiple of 4, when there is room for it.
            if n - at >= length % 4 { at += length % 4 }
            // Zeek stops at a subframe it cannot follow.
            guard let packet = llcPacket(b, at: start, length: length, frame: frame) else { break }
            cursor = at
            return packet
        }
        cursor = -1
        return nil
    }

    @inlinable
    static func llcPacket(_ b: Bytes, at o: Int, length n: Int, frame: ConnTunnelPayload) -> ConnTunnelPayload? {
        guard n >= 8, b.u8(o) == 0xAA, b.u8(o + 1) == 0xAA, b.u8(o + 2) == 0x03, b.u8(o + 3) == 0,
            b.u8(o + 4) == 0, b.u8(o + 5) == 0, let type = b.u16be(o + 6), type == 0x0800 || type == 0x86DD
        else { return nil }
        return ConnTunnelPayload(
            type: frame.type, layer: .ip, offset: o + 8, captured: n - 8, wireEnd: frame.wireEnd)
    }

    // MARK: - The tunnel headers

    /// VXLAN (RFC 7348): flags (1, I = 0x08), reserved (3), VNI (3), reserved (1); then Ethernet.
    @inlinable
    static func vxlan(_ b: Bytes, at o: Int, length n: Int, excess: Int, violated: UInt16, depth: Int)
        -> ConnTunnelOutcome
    {
        let type = ConnTunnelType.vxlan
        if violated & type.bit != 0 { return .none }
        if depth >= maxDepth { return .depthExceeded }
        guard n >= 8, let flags = b.u8(o) else { return .violation(type) }
        if flags & 0x08 == 0 { return .violation(type) }
        if n == 8 { return .none }
        return .inner(
            ConnTunnelPayload(type: type, layer: .ethernet, offset: o + 8, captured: n - 8, wireEnd: o + n + excess))
    }

    /// Geneve (RFC 8926): version and option length (1), flags (1), protocol type (2), VNI (3),
    /// reserved (1), options (4-byte units).
    @inlinable
    static func geneve(_ b: Bytes, at o: Int, length n: Int, excess: Int, violated: UInt16, depth: Int)
        -> ConnTunnelOutcome
    {
        let type = ConnTunnelType.geneve
        if violated & type.bit != 0 { return .none }
        if depth >= maxDepth { return .depthExceeded }
        guard n >= 8, let first = b.u8(o), let proto = b.u16be(o + 2) else { return .violation(type) }
        if first >> 6 != 0 { return .none }
        let header = 8 + Int(first & 0x3F) * 4
        if header > n { return .violation(type) }
        if header == n { return .none }
        let layer: ConnInnerLayer
        switch proto {
        case 0x6558: layer = .ethernet
        case 0x0800, 0x86DD: layer = .ip
        default: return .none  // ARP (0x0806) forms no connection; other types have no analyzer.
        }
        return .inner(
            ConnTunnelPayload(
                type: type, layer: layer, offset: o + header, captured: n - header, wireEnd: o + n + excess))
    }

    /// Teredo (RFC 4380): optional authentication and origin indications, then IPv6.
    @inlinable
    static func teredo(_ b: Bytes, at o: Int, length n: Int, excess: Int, violated: UInt16, depth: Int)
        -> ConnTunnelOutcome
    {
        let type = ConnTunnelType.teredo
        if violated & type.bit != 0 { return .none }
        if depth >= maxDepth { return .depthExceeded }
        var offset = o
        var left = n
        var foundOrigin = false
        var foundAuth = false
        // TeredoEncapsulation::DoParse; each step consumes bytes, so the loop ends.
        while true {
            guard left >= 2, let tag = b.u16be(offset) else { return .violation(type) }
            if tag == 0 {
                if foundOrigin || left < 8 { return .violation(type) }
                foundOrigin = true
                offset += 8
                left -= 8
            } else if tag == 1 {
                if foundOrigin || foundAuth || left < 4 { return .violation(type) }
                guard let idLength = b.u8(offset + 2), let authLength = b.u8(offset + 3) else {
                    return .violation(type)
                }
                let total = 4 + Int(idLength) + Int(authLength) + 8 + 1
                if left < total { return .violation(type) }
                foundAuth = true
                offset += total
                left -= total
            } else if tag >> 12 == 6 {
                if left < 40 { return .violation(type) }
                break
            } else {
                return .violation(type)
            }
        }
        switch exactIP(b, at: offset, length: left, version: 6) {
        case .ok:
            break
        case .tooLarge:
            // A bubble (no next header, no payload) with bytes after it is accepted.
            guard b.u8(offset + 6) == 59, b.u16be(offset + 4) == 0 else { return .violation(type) }
        case .tooSmall, .badProtocol:
            return .violation(type)
        }
        return .inner(
            ConnTunnelPayload(type: type, layer: .ip, offset: offset, captured: left, wireEnd: o + n + excess))
    }

    /// Teredo's protocol detection (on UDP ports without an analyzer of their own).
    @inlinable
    static func teredoDetected(_ b: Bytes, at o: Int, length n: Int) -> Bool {
        guard n >= 40, let b0 = b.u8(o), let b1 = b.u8(o + 1) else { return false }
        if n > 8 && b0 >> 4 != 6 && (b0 != 0 || (b1 != 0 && b1 != 1)) { return false }
        // The old DPD signature, matched from the start (a prefix: Zeek's `Match` accepts at the
        // first accepting state; '.' matches any byte, the matcher being multi-line): IPv6 (0x6X)
        // with 2001:0000 as the source (offset 8) or the destination (offset 24) prefix, 40 bytes.
        if b0 >> 4 == 6 {
            if b.u32be(o + 8) == 0x2001_0000 || b.u32be(o + 24) == 0x2001_0000 { return true }
        }
        var at = o
        var left = n
        var value = UInt16(b1)
        if value == 1 {
            guard let idLength = b.u8(at + 2), let authLength = b.u8(at + 3) else { return false }
            let skip = 13 + Int(idLength) + Int(authLength)
            if left < skip { return false }
            at += skip
            left -= skip
            if left < 40 { return false }
            guard let next = b.u16be(at) else { return false }
            value = next
        }
        if value == 0 {
            if left < 8 { return false }
            at += 8
            left -= 8
            if left < 40 { return false }
            guard let version = b.u8(at) else { return false }
            return version >> 4 == 6
        }
        return false
    }

    /// AYIYA: identity length and type (1), signature length and method (1), authentication method
    /// and operation code (1), next header (1), epoch (4), identity, signature; then IP.
    @inlinable
    static func ayiya(_ b: Bytes, at o: Int, length n: Int, excess: Int, violated: UInt16, depth: Int)
        -> ConnTunnelOutcome
    {
        let type = ConnTunnelType.ayiya
        if violated & type.bit != 0 { return .none }
        if depth >= maxDepth { return .depthExceeded }
        guard n >= 8, let b0 = b.u8(o), let b1 = b.u8(o + 1), let b2 = b.u8(o + 2), let next = b.u8(o + 3) else {
            return .violation(type)
        }
        let header = 8 + (1 << Int(b0 >> 4)) + Int(b1 >> 4) * 4
        if header > n { return .violation(type) }
        // Only "forward" carries a packet.
        if b2 & 0x0F != 1 { return .none }
        if header == n { return .none }
        // The next header picks the IP analyzer (4, 41); nothing else is followed.
        guard next == 4 || next == 41 else { return .none }
        return .inner(
            ConnTunnelPayload(type: type, layer: .ip, offset: o + header, captured: n - header, wireEnd: o + n + excess)
        )
    }

    /// AYIYA's protocol detection.
    @inlinable
    static func ayiyaDetected(_ b: Bytes, at o: Int, length n: Int) -> Bool {
        n >= 3 && b.u8(o + 1) == 0x52 && b.u8(o + 2) == 0x11
    }

    /// GTPv1 (3GPP TS 29.060): flags (1: version 3 bits, PT, reserved, E, S, PN), message type
    /// (1), length (2), TEID (4); sequence number, N-PDU and next extension type (4) when any of
    /// E, S, PN is set; extension headers while E is set (length in 4-byte units, the last byte the
    /// next type). A G-PDU (255) carries an IP packet. Control messages (GTP-C on 2123) carry
    /// none: no inner packet.
    @inlinable
    static func gtpv1(_ b: Bytes, at o: Int, length n: Int, excess: Int, depth: Int, lastType: ConnTunnelType)
        -> ConnTunnelOutcome
    {
        let type = ConnTunnelType.gtpv1
        guard n >= 8, let flags = b.u8(o), let message = b.u8(o + 1) else { return .violation(type) }
        var header = 8
        if flags & 0x07 != 0 {
            header += 4
            if header > n { return .violation(type) }
        }
        if flags & 0x04 != 0 {
            // Extension headers until one whose next type is 0 (binpac's &until).
            while true {
                guard header < n, let units = b.u8(o + header) else { return .violation(type) }
                let length = Int(units) * 4
                if length < 2 || header + length > n { return .violation(type) }
                guard let next = b.u8(o + header + length - 1) else { return .violation(type) }
                header += length
                if next == 0 { break }
            }
        }
        if depth >= maxDepth { return .none }
        if lastType == .gtpv1 { return .violation(type) }
        if flags >> 5 != 1 { return .violation(type) }
        if flags & 0x10 == 0 { return .none }
        guard message == 255 else { return .none }
        let left = n - header
        if left < 20 { return .violation(type) }
        guard let first = b.u8(o + header) else { return .violation(type) }
        let version = first >> 4
        guard version == 4 || version == 6 else { return .violation(type) }
        guard exactIP(b, at: o + header, length: left, version: version) == .ok else { return .violation(type) }
        return .inner(
            ConnTunnelPayload(type: type, layer: .ip, offset: o + header, captured: left, wireEnd: o + n + excess))
    }

    /// GRE (RFC 2784, 2890; version 1 is PPTP's enhanced GRE): flags and version (2), protocol
    /// type (2), then checksum, key, sequence and acknowledgment words as the flags say.
    /// Transparent Ethernet bridging (0x6558), ERSPAN type I/II (0x88BE) and III (0x22EB) carry
    /// Ethernet; Aruba's types (0x8200-0x82F0, 0x8300-0x8370 in steps of 0x10, 0x9000) carry
    /// 802.11; anything else is taken as IP. The inner packet's wire length is what is left.
    @inlinable
    static func gre(_ b: Bytes, at o: Int, length n: Int, depth: Int) -> ConnTunnelOutcome {
        guard n >= 4, let flags = b.u16be(o), let proto = b.u16be(o + 2) else { return .none }
        var greLength = 4
        if flags & 0x8000 != 0 { greLength += 4 }
        if flags & 0x2000 != 0 { greLength += 4 }
        if flags & 0x1000 != 0 { greLength += 4 }
        if flags & 0x0080 != 0 { greLength += 4 }
        let version = flags & 0x0007
        var ethLength = 0
        var erspanLength = 0
        var layer = ConnInnerLayer.ip
        let pptpLength = version == 1 ? 4 : 0
        guard version == 0 || version == 1 else { return .none }
        if version == 0 {
            switch proto {
            case 0x6558:
                guard n > greLength + 14 else { return .none }
                ethLength = 14
                layer = .ethernet
            case 0x88BE:
                guard n > greLength + 14 else { return .none }
                ethLength = 14
                layer = .ethernet
                if flags & 0x1000 != 0 {
                    erspanLength = 8
                    if n < greLength + ethLength + erspanLength { return .none }
                }
            case 0x22EB:
                guard n > greLength + 14 + 12 else { return .none }
                erspanLength = 12
                ethLength = 14
                layer = .ethernet
                guard let last = b.u8(o + greLength + erspanLength - 1) else { return .none }
                if last & 0x01 != 0 {
                    guard n > greLength + erspanLength + 8 + ethLength else { return .none }
                    erspanLength += 8
                }
            default:
                let aruba =
                    (proto & 0x8200 == 0x8200 && proto & 0x0F == 0)
                    || (proto & 0x8300 == 0x8300 && proto & 0x0F == 0 && proto <= 0x8370) || proto == 0x9000
                if aruba {
                    guard n > greLength else { return .none }
                    layer = .ieee80211
                }
            }
        } else if proto != 0x880B {
            return .none
        }
        if flags & 0x4000 != 0 || flags & 0x0078 != 0 { return .none }
        if n < greLength + pptpLength + ethLength + erspanLength { return .none }
        var start = o + greLength + pptpLength + erspanLength
        var left = n - greLength - pptpLength - erspanLength
        if depth >= maxDepth { return .none }
        if version == 1 {
            guard let ppp = b.u16be(o + greLength + 2), ppp == 0x0021 || ppp == 0x0057 else { return .none }
            guard exactIP(b, at: start, length: left, version: ppp == 0x0021 ? 4 : 6) == .ok else { return .none }
            start = o + greLength + pptpLength
            left = n - greLength - pptpLength
        }
        return .inner(ConnTunnelPayload(type: .gre, layer: layer, offset: start, captured: left, wireEnd: start + left))
    }

    /// How an inner IP packet's length compares with the bytes that carry it (Zeek's
    /// `IP::ParsePacket`).
    public enum ExactIP: Sendable, Equatable {
        case ok, tooSmall, tooLarge, badProtocol
    }

    /// Zeek's `IP::ParsePacket`: the packet at `o` must be IP of `version` and its total length
    /// must be exactly `length`.
    @inlinable
    public static func exactIP(_ b: Bytes, at o: Int, length n: Int, version: UInt8) -> ExactIP {
        let total: Int
        if version == 6 {
            if n < 40 { return .tooSmall }
            guard let first = b.u8(o), let payload = b.u16be(o + 4) else { return .tooSmall }
            if first >> 4 != 6 { return .badProtocol }
            total = Int(payload) + 40
        } else {
            if n < 20 { return .badProtocol }
            guard let first = b.u8(o), let length = b.u16be(o + 2) else { return .badProtocol }
            if first >> 4 != 4 { return .badProtocol }
            total = Int(length)
        }
        if n != total { return n < total ? .tooSmall : .tooLarge }
        return .ok
    }
}

extension Bytes {
    /// The first `n` bytes (all of them when `n` is larger).
    @inlinable
    public func prefix(_ n: Int) -> Bytes { Bytes(base: base, count: min(count, max(0, n))) }

    /// Copies `n` captured bytes from `offset` to `destination`; false (nothing copied) when they
    /// were not all captured.
    @inlinable
    public func copy(from offset: Int, count n: Int, to destination: UnsafeMutableRawPointer) -> Bool {
        guard has(n, at: offset), let base else { return n == 0 }
        destination.copyMemory(from: base + offset, byteCount: n)
        return true
    }
}

extension ConnDecoder {
    /// Walks a tunnel's inner packet (`payload` from a `ConnTunnels` step over the same bytes):
    /// IP, Ethernet (and what it carries) or 802.11.
    @inlinable
    public static func decodeInner(_ b: Bytes, _ payload: ConnTunnelPayload, verifyChecksums: Bool) -> ConnPacket {
        var p = ConnPacket()
        let inner = b.prefix(payload.offset + payload.captured)
        let walk = Walk(bytes: inner, wireLength: payload.wireEnd, verify: verifyChecksums)
        do throws(Stop) {
            switch payload.layer {
            case .ip:
                try walk.ip(at: payload.offset, linkLength: payload.offset, into: &p)
            case .ethernet:
                let type = try HeaderBytes(inner, at: payload.offset).u16be(12)
                try walk.ethertype(type, at: payload.offset + EthernetHeader.length, into: &p)
            case .ieee80211:
                // Walked subframe by subframe: `ConnTunnels.ieee80211Subframe`.
                throw .unsupported
            }
        } catch {
            // As in `decode`: what was decoded stands.
        }
        return p
    }

    /// Walks a reassembled IP datagram (`b` holds it whole, from its IP header): as Zeek does, its
    /// IPv4 header checksum is not checked again (the fragments' were), its transport checksum is.
    @inlinable
    public static func decodeReassembled(_ b: Bytes, verifyChecksums: Bool) -> ConnPacket {
        var p = ConnPacket()
        let walk = Walk(bytes: b, wireLength: b.count, verify: verifyChecksums, verifyIPHeader: false)
        do throws(Stop) {
            try walk.ip(at: 0, linkLength: 0, into: &p)
        } catch {
        }
        return p
    }
}
