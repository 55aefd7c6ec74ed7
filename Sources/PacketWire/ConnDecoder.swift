/// The innermost IP header of a packet: version, addresses and the protocol after the IPv6
/// extension headers.
public struct ConnIP: Sendable, Equatable {
    /// 4 or 6; 0 before an IP header was decoded.
    public var version: UInt8 = 0
    public var src: IPAddress = .zero
    public var dst: IPAddress = .zero
    /// The transport protocol (IPv4 protocol, IPv6 last next header).
    public var proto: UInt8 = 0

    @inlinable
    public init() {}
}

/// What the connection walk made of a packet.
public enum ConnPacketKind: UInt8, Sendable {
    /// No IP packet (another link or network protocol, an unknown link type, a header cut short
    /// before the IP header's fields).
    case notIP
    /// An IP packet Zeek's IP layer drops before any connection sees it: bad IPv4 header checksum
    /// (when verified), lengths that contradict each other or the wire length, no next header,
    /// ESP, mobility headers.
    case dropped
    /// An IP fragment that needs reassembly first: its payload is `transportOffset`,
    /// `transportLength` bytes (all captured), at byte `fragmentOffset` of the datagram.
    case fragment
    /// IP-in-IP or GRE (IP protocol 4, 41, 47): an encapsulation whose inner packet
    /// `ConnTunnels.ip` finds (Zeek forms no connection from the outer packet). The IP payload is
    /// described by the transport fields.
    case tunnel
    /// A TCP, UDP, ICMP or other IP packet for a connection.
    case packet
}

/// Whether a transport checksum was verified.
public enum ConnChecksum: UInt8, Sendable {
    /// Not asked for, or the packet was not captured whole.
    case unchecked
    case good
    case bad
}

/// One packet as the connection tracker needs it: a fixed-size value (no references), made by
/// `ConnDecoder.decode`.
public struct ConnPacket: Sendable {
    public var kind: ConnPacketKind = .notIP
    /// The innermost IP header.
    public var ip = ConnIP()
    /// IPv4 total length; IPv6 payload length + 40 (what Zeek adds to `*_ip_bytes`).
    public var ipTotalLength: UInt32 = 0
    /// The IP header's length, IPv6 extension headers included.
    public var ipHeaderLength: UInt32 = 0
    /// Where the (innermost) IP header starts in the captured bytes.
    public var ipOffset: Int32 = 0
    /// IPv6: where the fragment header starts, from the IP header (what precedes it is the
    /// unfragmentable part a reassembled datagram keeps); 0 without one.
    public var fragmentHeaderOffset: Int32 = 0
    /// Fragment fields (IPv4: identification, offset in bytes, MF; IPv6: from the fragment header).
    public var fragmentID: UInt32 = 0
    public var fragmentOffset: UInt32 = 0
    public var moreFragments = false
    /// Offset of the transport header in the captured bytes.
    public var transportOffset: Int32 = 0
    /// The transport segment's length by the IP header (Zeek's `len`).
    public var transportLength: Int32 = 0
    /// How much of the segment was captured, at most `transportLength` (Zeek's `remaining`).
    public var transportCaptured: Int32 = 0
    /// The minimal transport header (TCP 20, UDP 8, ICMP 8 bytes) is there: a connection can be
    /// keyed. False for other protocols, which need none.
    public var hasTransportHeader = false
    /// TCP: the whole TCP header (options included) is there, so the packet is analysed.
    public var tcpHeaderComplete = false
    public var srcPort: UInt16 = 0
    public var dstPort: UInt16 = 0
    public var tcpFlags: UInt8 = 0
    public var seq: UInt32 = 0
    public var ack: UInt32 = 0
    public var window: UInt16 = 0
    public var tcpHeaderLength: UInt8 = 0
    /// TCP: the window scale option of a SYN, -1 without one.
    public var windowScale: Int8 = -1
    /// UDP: the length field.
    public var udpLength: UInt16 = 0
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// The transport checksum, when verification was asked for and the segment captured whole.
    public var checksum: ConnChecksum = .unchecked

    @inlinable
    public init() {}

    /// TCP payload length by the IP header (Zeek's `len` after the TCP header).
    @inlinable
    public var tcpPayloadLength: Int { Int(transportLength) - Int(tcpHeaderLength) }
    /// TCP payload bytes captured.
    @inlinable
    public var tcpPayloadCaptured: Int { Int(transportCaptured) - Int(tcpHeaderLength) }
}

/// Decodes captured bytes into a `ConnPacket`, as Zeek's packet analysis does up to the transport
/// layer: the link layers, the IP layer's checks (lengths, the IPv4 header checksum), the IPv6
/// extension headers, the transport header and its checksum.
///
/// Pure and allocation-free; every read goes through a bounds-checked header view. The walk is
/// structured as link → `ip(at:)` → transport, so that a tunnel decoder is one more step that calls
/// `ip(at:)` again on the inner packet.
public enum ConnDecoder {
    /// Decodes one packet. `length` is its length on the wire (Zeek drops an IP packet longer than
    /// the frame that carried it); `verifyChecksums` checks the IPv4 header checksum and the
    /// transport checksum.
    @inlinable
    public static func decode(_ b: Bytes, length: Int, linkType: LinkType, verifyChecksums: Bool) -> ConnPacket {
        var p = ConnPacket()
        let walk = Walk(bytes: b, wireLength: length, verify: verifyChecksums)
        do throws(Stop) {
            try walk.link(linkType.rawValue, into: &p)
        } catch {
            // What was decoded before the stop stands; `kind` says how far the walk got.
        }
        return p
    }

    @usableFromInline
    struct Walk {
        @usableFromInline let b: Bytes
        @usableFromInline let wireLength: Int
        @usableFromInline let verify: Bool
        /// Verify IPv4 header checksums (off for a reassembled datagram, whose fragments' headers
        /// were checked, as Zeek does).
        @usableFromInline let verifyIPHeader: Bool

        @inlinable
        init(bytes: Bytes, wireLength: Int, verify: Bool, verifyIPHeader: Bool = true) {
            b = bytes
            self.wireLength = wireLength
            self.verify = verify
            self.verifyIPHeader = verify && verifyIPHeader
        }

        @inlinable
        func link(_ linkType: Int32, into p: inout ConnPacket) throws(Stop) {
            switch linkType {
            case LinkType.Number.ethernet:
                try ethertype(EthernetHeader(b).etherType, at: EthernetHeader.length, into: &p)
            case LinkType.Number.linuxSLL:
                try ethertype(LinuxSLLHeader(b).protocolType, at: LinuxSLLHeader.length, into: &p)
            case LinkType.Number.linuxSLL2:
                try ethertype(LinuxSLL2Header(b).protocolType, at: LinuxSLL2Header.length, into: &p)
            case LinkType.Number.raw, LinkType.Number.rawDLT:
                try ip(at: 0, linkLength: 0, into: &p)
            case LinkType.Number.ipv4, LinkType.Number.ipv6:
                try ip(at: 0, linkLength: 0, into: &p)
            case ConnLinkType.nflog:
                try nflog(into: &p)
            case ConnLinkType.radiotap:
                // The radiotap header's length (little-endian) at offset 2, then 802.11.
                let h = HeaderBytes(b, at: 0)
                let length = Int(try h.u8(2)) | Int(try h.u8(3)) << 8
                guard length < b.count else { throw .truncated }
                try ieee80211(at: length, into: &p)
            case ConnLinkType.ieee80211:
                try ieee80211(at: 0, into: &p)
            case ConnLinkType.ppp, ConnLinkType.pppSerial:
                // HDLC-like framing: address 0xFF and control 0x03, then the PPP protocol.
                let h = HeaderBytes(b, at: 0)
                let offset = try h.u8(0) == 0xFF ? 2 : 0
                let ppp = try h.u16be(offset)
                guard ppp == PPPoESession.pppIPv4 || ppp == PPPoESession.pppIPv6 else { throw .unsupported }
                try ip(at: offset + 2, linkLength: offset + 2, into: &p)
            case LinkType.Number.null:
                try family(LoopbackHeader(b).hostOrderFamily, into: &p)
            case LinkType.Number.loop:
                try family(LoopbackHeader(b).networkOrderFamily, into: &p)
            default:
                throw .unsupported
            }
        }

        @inlinable
        func family(_ family: UInt32, into p: inout ConnPacket) throws(Stop) {
            switch family {
            case AddressFamily.inet, AddressFamily.inet6BSD, AddressFamily.inet6FreeBSD, AddressFamily.inet6Darwin:
                try ip(at: LoopbackHeader.length, linkLength: LoopbackHeader.length, into: &p)
            default:
                throw .unsupported
            }
        }

        /// NFLOG (Linux netfilter log): family (1), version (1), resource (2), then TLVs (length and
        /// type in host order, little-endian here, each padded to 4 bytes) up to the payload (type 9).
        @inlinable
        func nflog(into p: inout ConnPacket) throws(Stop) {
            let h = HeaderBytes(b, at: 0)
            guard b.count > 4, try h.u8(1) == 0 else { throw .unsupported }
            var offset = 4
            // Every TLV advances by at least 4 bytes, so the loop ends.
            while true {
                guard b.count - offset > 4 else { throw .truncated }
                let tlv = HeaderBytes(b, at: offset)
                let length = Int(try tlv.u16le(0))
                let type = try tlv.u16le(2)
                if type == 9 {
                    offset += 4
                    break
                }
                guard length >= 4 else { throw .invalid }
                let skip = (length + 3) & ~3
                guard skip <= b.count - offset else { throw .truncated }
                offset += skip
            }
            try ip(at: offset, linkLength: offset, into: &p)
        }

        /// An IEEE 802.11 data frame (not protected, not an A-MSDU) carrying LLC/SNAP, as Zeek's
        /// 802.11 analyzer reads it.
        @inlinable
        func ieee80211(at start: Int, into p: inout ConnPacket) throws(Stop) {
            let h = HeaderBytes(b, at: start)
            let available = b.count - start
            var length = 24
            guard length < available else { throw .truncated }
            let fc = try h.u8(0)
            let flags = try h.u8(1)
            // Data frames only; protected frames cannot be read.
            guard (fc >> 2) & 0x02 != 0, (fc >> 4) & 0x04 == 0 else { throw .unsupported }
            if flags & 0x03 == 0x03 { length += 6 }
            guard length < available else { throw .truncated }
            if (fc >> 4) & 0x08 != 0 {
                // QoS data: an A-MSDU holds several packets, which this walk does not split.
                if try h.u8(length) & 0x80 != 0 { throw .unsupported }
                if flags & 0x40 != 0 { throw .unsupported }
                length += 2
            }
            guard length < available else { throw .truncated }
            // LLC/SNAP: AA AA 03, OUI (3), EtherType.
            let llc = HeaderBytes(b, at: start + length)
            guard try llc.u8(0) == 0xAA, try llc.u8(1) == 0xAA, try llc.u8(2) == 0x03 else { throw .unsupported }
            try ethertype(try llc.u16be(6), at: start + length + 8, into: &p)
        }

        /// Follows EtherTypes from `start`: VLAN and QinQ tags, VN-Tag, PBB, PPPoE sessions, MPLS,
        /// 802.3 frames with LLC/SNAP.
        @inlinable
        func ethertype(_ first: UInt16, at start: Int, into p: inout ConnPacket) throws(Stop) {
            var type = first
            var offset = start
            // Every step advances the offset, so the loop ends (at the end of the capture at worst).
            while true {
                switch type {
                case EtherType.vlan, EtherType.serviceVLAN:
                    type = try VLANTag(b, at: offset).etherType
                    offset += VLANTag.length
                case ConnEtherType.vnTag:
                    type = try VNTag(b, at: offset).etherType
                    offset += VNTag.length
                case ConnEtherType.pbb:
                    type = try PBBTag(b, at: offset).etherType
                    offset += PBBTag.length
                case ConnEtherType.pppoeSession:
                    let ppp = try PPPoESession(b, at: offset).pppProtocol
                    offset += PPPoESession.length
                    guard ppp == PPPoESession.pppIPv4 || ppp == PPPoESession.pppIPv6 else { throw .unsupported }
                    try ip(at: offset, linkLength: offset, into: &p)
                    return
                case ConnEtherType.mplsUnicast, ConnEtherType.mplsMulticast:
                    while try !MPLSEntry(b, at: offset).bottomOfStack { offset += MPLSEntry.length }
                    offset += MPLSEntry.length
                    try ip(at: offset, linkLength: offset, into: &p)
                    return
                case EtherType.ipv4, EtherType.ipv6:
                    try ip(at: offset, linkLength: offset, into: &p)
                    return
                case 0...1500:
                    // An 802.3 length: LLC follows; SNAP (AA AA 03, OUI, EtherType) goes on.
                    let llc = HeaderBytes(b, at: offset)
                    guard try llc.u8(0) == 0xAA, try llc.u8(1) == 0xAA, try llc.u8(2) == 0x03 else {
                        throw .unsupported
                    }
                    type = try llc.u16be(6)
                    offset += 8
                default:
                    throw .unsupported
                }
            }
        }

        /// An IP packet at `o` (version from its first nibble), `linkLength` bytes of link headers
        /// before it. A tunnel step calls this again for the inner packet.
        @inlinable
        func ip(at o: Int, linkLength: Int, into p: inout ConnPacket) throws(Stop) {
            guard b.has(IPv4Header.minimumLength, at: o) else { throw .truncated }
            switch try IPv4Header(b, at: o).version {
            case 4: try ipv4(at: o, linkLength: linkLength, into: &p)
            case 6: try ipv6(at: o, linkLength: linkLength, into: &p)
            default:
                p.kind = .dropped
                throw .invalid
            }
        }

        @inlinable
        func ipv4(at o: Int, linkLength: Int, into p: inout ConnPacket) throws(Stop) {
            let header = IPv4Header(b, at: o)
            let fields = IPv4Fields(b, at: o)
            p.kind = .dropped
            let headerLength = try header.headerLength
            let total = Int(try fields.totalLength)
            p.ip.version = 4
            p.ipOffset = Int32(truncatingIfNeeded: o)
            p.fragmentHeaderOffset = 0
            p.ip.proto = try header.protocolNumber
            p.ip.src = IPAddress(v4: try header.source)
            p.ip.dst = IPAddress(v4: try header.destination)
            let available = b.count - o
            // Zeek: a total length of 0 (segmentation offload) is dropped unless checksums are
            // ignored, when the captured length stands in for it.
            var totalLength = total
            if totalLength == 0 {
                if verify { return }
                totalLength = available
            }
            guard wireLength >= totalLength + linkLength else { return }
            guard headerLength <= totalLength, headerLength <= available, headerLength >= 20 else { return }
            if verifyIPHeader {
                let sum = InternetChecksum.add(b, from: o, count: headerLength, to: 0)
                guard InternetChecksum.fold(sum) == 0xFFFF else { return }
            }
            // Zeek counts the header's total length, 0 included.
            p.ipTotalLength = UInt32(total)
            p.ipHeaderLength = UInt32(headerLength)
            let flags = try fields.flagsAndOffset
            p.fragmentID = UInt32(try fields.identification)
            p.fragmentOffset = UInt32(flags & 0x1FFF) * 8
            p.moreFragments = flags & 0x2000 != 0
            if p.moreFragments || p.fragmentOffset != 0 {
                if available < totalLength {
                    // An incompletely captured fragment: Zeek drops it unless it is the first,
                    // which it analyses as it is.
                    if p.fragmentOffset != 0 { return }
                } else {
                    fragmentPayload(at: o + headerLength, length: totalLength - headerLength, into: &p)
                    return
                }
            }
            let payload = totalLength - headerLength
            try transport(
                at: o + headerLength, length: payload, captured: min(available - headerLength, payload), into: &p)
        }

        @inlinable
        func ipv6(at o: Int, linkLength: Int, into p: inout ConnPacket) throws(Stop) {
            p.kind = .dropped
            guard b.has(IPv6Header.length, at: o) else { throw .truncated }
            let header = IPv6Header(b, at: o)
            let payloadLength = Int(try IPv6Fields(b, at: o).payloadLength)
            let src = try header.source
            let dst = try header.destination
            p.ip.version = 6
            p.ipOffset = Int32(truncatingIfNeeded: o)
            p.fragmentHeaderOffset = 0
            p.ip.src = IPAddress(hi: src.0, lo: src.1)
            p.ip.dst = IPAddress(hi: dst.0, lo: dst.1)
            let available = b.count - o
            var totalLength = payloadLength + IPv6Header.length
            if payloadLength == 0 {
                // Jumbograms and offloaded segments, as for IPv4.
                if verify { return }
                totalLength = available
            }
            guard wireLength >= totalLength + linkLength else { return }
            // The extension headers Zeek walks: hop-by-hop, routing, fragment, destination
            // options, authentication, mobility.
            var next = try header.nextHeader
            var offset = o + IPv6Header.length
            var fragment = false
            while true {
                switch next {
                case IPProtocol.hopByHop, IPProtocol.ipv6Routing, IPProtocol.ipv6DestinationOptions:
                    let ext = IPv6ExtensionHeader(b, at: offset)
                    next = try ext.nextHeader
                    offset += try ext.length
                    continue
                case ConnIPProtocol.authentication:
                    let ext = IPv6ExtensionHeader(b, at: offset)
                    next = try ext.nextHeader
                    offset += (Int(try HeaderBytes(b, at: offset).u8(1)) + 2) * 4
                    continue
                case IPProtocol.ipv6Fragment:
                    let frag = IPv6FragmentFields(b, at: offset)
                    let flags = try frag.offsetAndFlags
                    p.fragmentID = try frag.identification
                    p.fragmentOffset = UInt32(flags >> 3) * 8
                    p.moreFragments = flags & 1 != 0
                    fragment = p.moreFragments || p.fragmentOffset != 0
                    p.fragmentHeaderOffset = Int32(truncatingIfNeeded: offset - o)
                    next = try IPv6ExtensionHeader(b, at: offset).nextHeader
                    offset += IPv6FragmentHeader.length
                    // Zeek's header chain ends at a fragment header: what follows is payload.
                    break
                default:
                    break
                }
                break
            }
            p.ip.proto = next
            let headerLength = offset - o
            guard headerLength <= totalLength, headerLength <= available else { return }
            p.ipTotalLength = UInt32(payloadLength + IPv6Header.length)
            p.ipHeaderLength = UInt32(headerLength)
            if fragment {
                if available < totalLength {
                    if p.fragmentOffset != 0 { return }
                } else {
                    fragmentPayload(at: offset, length: totalLength - headerLength, into: &p)
                    return
                }
            }
            if next == ConnIPProtocol.esp || next == ConnIPProtocol.mobility || next == ConnIPProtocol.noNext { return }
            let payload = totalLength - headerLength
            try transport(at: offset, length: payload, captured: min(available - headerLength, payload), into: &p)
        }

        /// A fragment, captured whole: its payload is handed to reassembly.
        @inlinable
        func fragmentPayload(at o: Int, length: Int, into p: inout ConnPacket) {
            p.kind = .fragment
            p.transportOffset = Int32(truncatingIfNeeded: o)
            p.transportLength = Int32(truncatingIfNeeded: length)
            p.transportCaptured = Int32(truncatingIfNeeded: length)
        }

        /// The transport header at `o`: `length` bytes by the IP header, `captured` of them here.
        @inlinable
        func transport(at o: Int, length: Int, captured: Int, into p: inout ConnPacket) throws(Stop) {
            p.kind = .packet
            p.transportOffset = Int32(truncatingIfNeeded: o)
            p.transportLength = Int32(truncatingIfNeeded: length)
            p.transportCaptured = Int32(truncatingIfNeeded: max(0, captured))
            switch p.ip.proto {
            case ConnIPProtocol.tcp:
                guard length >= TCPHeader.minimumLength, captured >= TCPHeader.minimumLength else { return }
                let tcp = TCPHeader(b, at: o)
                let ports = TransportPorts(b, at: o)
                p.srcPort = try ports.sourcePort
                p.dstPort = try ports.destinationPort
                p.seq = try tcp.sequence
                p.ack = try tcp.acknowledgment
                p.tcpFlags = try tcp.flags
                p.window = try tcp.window
                p.hasTransportHeader = true
                let headerLength = try tcp.headerLength
                p.tcpHeaderLength = UInt8(headerLength)
                guard headerLength >= TCPHeader.minimumLength, headerLength <= length, headerLength <= captured else {
                    return
                }
                p.tcpHeaderComplete = true
                if p.tcpFlags & 0x02 != 0 { p.windowScale = windowScale(tcp, headerLength: headerLength) }
                if verify && captured >= length { p.checksum = checksum(at: o, length: length, p) }
            case ConnIPProtocol.udp:
                guard length >= UDPHeader.length, captured >= UDPHeader.length else { return }
                let ports = TransportPorts(b, at: o)
                let udp = UDPHeader(b, at: o)
                p.srcPort = try ports.sourcePort
                p.dstPort = try ports.destinationPort
                p.udpLength = try udp.length
                p.hasTransportHeader = true
                // Zeek checks a UDP checksum only when the whole frame was captured; over IPv4 a
                // zero checksum means none.
                if verify && captured >= length && wireLength <= b.count {
                    let sum = try udp.checksum
                    // VXLAN on its port (a payload with the I flag and room for VXLAN and
                    // Ethernet): a zero checksum is accepted, as over IPv4
                    // (`Tunnel::validate_vxlan_checksums` checks any other).
                    let vxlanZero =
                        sum == 0 && p.dstPort == ConnTunnels.vxlanPort && length > UDPHeader.length + 8 + 14
                        && (b.u8(o + UDPHeader.length) ?? 0) & 0x08 != 0
                    if (p.ip.version == 6 && !vxlanZero) || sum != 0 {
                        p.checksum = checksum(at: o, length: length, p)
                    }
                }
            case ConnIPProtocol.icmp, ConnIPProtocol.icmpv6:
                guard length >= ICMPHeader.length, captured >= ICMPHeader.length else { return }
                let icmp = ICMPHeader(b, at: o)
                p.icmpType = try icmp.type
                p.icmpCode = try icmp.code
                p.hasTransportHeader = true
                if verify && captured >= length {
                    if p.ip.proto == ConnIPProtocol.icmp {
                        let sum = InternetChecksum.add(b, from: o, count: length, to: 0)
                        p.checksum = InternetChecksum.fold(sum) == 0xFFFF ? .good : .bad
                    } else {
                        p.checksum = checksum(at: o, length: length, p)
                    }
                }
            case 4, 41, 47:
                // IP-in-IP, IPv6-in-IP, GRE: the tunnel decoders' step.
                p.kind = .tunnel
            default:
                break
            }
        }

        @inlinable
        func checksum(at o: Int, length: Int, _ p: ConnPacket) -> ConnChecksum {
            var sum = InternetChecksum.pseudoHeader(p.ip, proto: p.ip.proto, length: length)
            sum = InternetChecksum.add(b, from: o, count: length, to: sum)
            return InternetChecksum.fold(sum) == 0xFFFF ? .good : .bad
        }

        /// The window scale option of a SYN, as Zeek reads the options: -1 when absent.
        @inlinable
        func windowScale(_ tcp: TCPHeader, headerLength: Int) -> Int8 {
            var i = TCPHeader.minimumLength
            var scale: Int8 = -1
            while i < headerLength {
                guard let kind = try? tcp.option(i) else { break }
                if kind == 0 { break }
                if kind == 1 {
                    i += 1
                    continue
                }
                guard i + 1 < headerLength, let length = try? tcp.option(i + 1) else { break }
                let n = Int(length)
                if i + n > headerLength || n == 0 { break }
                // RFC 7323 caps the shift at 14; Zeek clamps larger values to it.
                if kind == 3 && n >= 3, let value = try? tcp.option(i + 2) { scale = Int8(min(value, 14)) }
                i += n
            }
            return scale
        }
    }
}
