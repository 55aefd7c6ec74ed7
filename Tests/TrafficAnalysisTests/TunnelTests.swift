import Foundation
import PacketWire
import TestSupport
import Testing

@testable import TrafficAnalysis

/// The Zeek conformance pairs with tunnels and fragments, read from the shared corpus at test time
/// (`../shared/conformance/zeek`, beside the package; the suite is skipped without it).
enum ZeekPairs {
    static let directory = TestPaths.packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/zeek")

    static var available: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("manifest.json").path)
    }

    struct Pair {
        var name: String
        var trace: String
        var ignoreChecksums: Bool
        var serverPorts: String
    }

    static func pair(_ name: String) throws -> Pair {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pairs = try #require(root["pairs"] as? [[String: Any]])
        let p = try #require(pairs.first { $0["name"] as? String == name })
        return Pair(
            name: name, trace: try #require(p["trace_file"] as? String),
            ignoreChecksums: try #require(p["ignore_checksums"] as? Bool),
            serverPorts: try #require(p["likely_server_ports"] as? [String]).joined(separator: ","))
    }

    /// The expected rows as "orig_h orig_p resp_h resp_p proto | pkts ip_bytes | parents", sorted.
    static func expected(_ name: String) throws -> [String] {
        let text = try String(contentsOf: directory.appendingPathComponent("\(name).conn.csv"), encoding: .utf8)
        var rows: [String] = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            rows.append("\(f[1]) \(f[2]) \(f[3]) \(f[4]) \(f[5]) | \(f[12]) \(f[13]) \(f[14]) \(f[15]) | \(f[17])")
        }
        return rows.sorted()
    }

    /// The rows the walk gives for the pair's trace, in the same form.
    static func rows(_ pair: Pair) throws -> [String] {
        var settings = ConnectionSettings()
        settings.serverPorts = try ServerPorts(parsing: pair.serverPorts)
        settings.verifyChecksums = !pair.ignoreChecksums
        let fixture = try PcapFixture(contentsOf: directory.appendingPathComponent(pair.trace).path)
        let walker = ConnectionDecapsulator(tracker: ConnectionTracker(settings: settings))
        var records: [ConnectionRecord] = []
        for packet in fixture.packets {
            packet.bytes.withUnsafeBytes { raw in
                walker.process(
                    Bytes(raw), length: packet.origLen, linkType: LinkType(packet.linkType),
                    timestampNs: Int64(packet.timestampNanoseconds ?? 0)
                ) { records.append($0) }
            }
        }
        walker.finish { records.append($0) }
        return records.map { r in
            let orig = address(r.origAddress, r.ipVersion)
            let resp = address(r.respAddress, r.ipVersion)
            return
                "\(orig) \(r.origPort) \(resp) \(r.respPort) \(r.transport.name) | \(r.origPackets) \(r.origIPBytes) "
                + "\(r.respPackets) \(r.respIPBytes) | \(r.tunnelParents)"
        }.sorted()
    }

    /// Zeek's text of an address (IPv6 compressed as Zeek writes it).
    static func address(_ a: IPAddress, _ version: UInt8) -> String {
        if version == 4 {
            let v = a.v4
            return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
        }
        var words: [UInt16] = []
        for i in 0..<8 {
            let half = i < 4 ? a.hi : a.lo
            words.append(UInt16(truncatingIfNeeded: half >> (UInt64(3 - i % 4) * 16)))
        }
        // The longest run of two or more zero words becomes "::".
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            if words[i] == 0 {
                var j = i
                while j < 8 && words[j] == 0 { j += 1 }
                if j - i > best.length && j - i >= 2 { best = (i, j - i) }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ w: ArraySlice<UInt16>) -> String { w.map { String($0, radix: 16) }.joined(separator: ":") }
        if best.start < 0 { return hex(words[...]) }
        return hex(words[0..<best.start]) + "::" + hex(words[(best.start + best.length)...])
    }
}

@Suite("Tunnels and fragments on Zeek's traces", .enabled(if: ZeekPairs.available, "needs ../shared/conformance"))
struct TunnelTraceTests {
    /// Every row of these pairs: keys, packet and IP byte counts, and the number of tunnel parents.
    @Test(
        arguments: [
            "core.erspanI", "core.erspanII", "core.erspanIII", "core.tunnels.geneve", "core.tunnels.geneve-arp",
            "core.tunnels.geneve-many-options", "core.tunnels.geneve-truncated",
            "core.tunnels.geneve-vxlan-truncated", "core.tunnels.gre", "core.tunnels.gre-aruba-amsdu",
            "core.tunnels.gre-over-udp", "core.tunnels.gtp.different_dl_and_ul", "core.tunnels.gtp.opt_header",
            "core.tunnels.gtp.outer_ip_frag", "core.tunnels.teredo",
        ])
    func rowsMatchZeek(_ name: String) throws {
        let pair = try ZeekPairs.pair(name)
        #expect(try ZeekPairs.rows(pair) == ZeekPairs.expected(name))
    }

    /// Every packet of the tunnel traces, cut at every length and with bytes of its tunnel headers
    /// damaged, through the whole walk: nothing traps (overflow, bounds), the tables stay bounded.
    @Test(arguments: [
        "erspanI.pcap", "erspanIII.pcap", "tunnels_Teredo.pcap", "tunnels_geneve.pcap",
        "tunnels_geneve-vxlan-dns-truncated.pcap", "tunnels_gre-aruba-amsdu.pcap", "tunnels_gre-over-udp-4754.pcap",
        "tunnels_gre-sample.pcap", "tunnels_gtp_gtp1_gn_normal_incl_fragmentation.pcap",
        "tunnels_gtp_gtp6_gtp_0x32.pcap",
    ])
    func damagedTracePacketsNeverTrap(_ trace: String) throws {
        let fixture = try PcapFixture(contentsOf: ZeekPairs.directory.appendingPathComponent(trace).path)
        var settings = ConnectionSettings()
        settings.verifyChecksums = true
        let reassembler = FragmentReassembler(capacity: 8, maxBytes: 1 << 19, maxRanges: 16)
        let walker = ConnectionDecapsulator(tracker: ConnectionTracker(settings: settings), reassembler: reassembler)
        var rng = SplitMix(state: UInt64(trace.utf8.count))
        for (n, packet) in fixture.packets.prefix(40).enumerated() {
            var variants: [[UInt8]] = []
            for cut in stride(from: 0, through: packet.bytes.count, by: max(1, packet.bytes.count / 64)) {
                variants.append(Array(packet.bytes[0..<cut]))
            }
            for _ in 0..<64 {
                var damaged = packet.bytes
                // Mostly the headers (the first 120 bytes), sometimes anywhere.
                let span = min(damaged.count, rng.next() % 4 == 0 ? damaged.count : 120)
                if span == 0 { continue }
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    damaged[Int(rng.next() % UInt64(span))] = UInt8(truncatingIfNeeded: rng.next())
                }
                variants.append(damaged)
            }
            for bytes in variants {
                bytes.withUnsafeBytes { raw in
                    walker.process(
                        Bytes(raw), length: max(bytes.count, packet.origLen), linkType: LinkType(packet.linkType),
                        timestampNs: Int64(n) * 1_000_000
                    ) { _ in }
                }
            }
            #expect(reassembler.pending <= 8 && reassembler.bytesHeld <= 1 << 19)
        }
        walker.finish { _ in }
    }
}

/// A UDP datagram (no checksum) from `src`:`sport` to `dst`:`dport` in IPv4, as an IP packet.
func ipv4UDP(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, payload: [UInt8]) -> [UInt8] {
    let frame = Frames.ipv4(
        src: src, dst: dst, proto: 17, payload: Fragments.udpSegment(payload: payload, sport: sport, dport: dport))
    return Array(frame[14...])
}

@Suite("Tunnel steps (Zeek's packet analyzers)")
struct TunnelStepTests {
    let t0: Int64 = 1_700_000_000_000_000
    static let outerA: [UInt8] = [198, 51, 100, 1]
    static let outerB: [UInt8] = [198, 51, 100, 2]
    static let innerDNS = ipv4UDP(
        src: [10, 1, 0, 1], dst: [10, 1, 0, 2], sport: 33000, dport: 53, payload: [1, 2, 3, 4])

    /// VXLAN (flags, VNI) + Ethernet + `inner` in UDP to 4789.
    static func vxlan(_ inner: [UInt8], flags: UInt8 = 0x08, sport: UInt16 = 40000) -> [UInt8] {
        let ethernet: [UInt8] = [0x02, 0, 0, 0, 0, 4, 0x02, 0, 0, 0, 0, 3, 0x08, 0x00]
        let payload = [flags, 0, 0, 0, 0, 0, 42, 0] + ethernet + inner
        return Frames.ipv4(
            src: outerA, dst: outerB, proto: 17,
            payload: Fragments.udpSegment(payload: payload, sport: sport, dport: 4789))
    }

    @Test func vxlanGivesTheOuterAndTheInnerConnection() {
        let records = walk([(t0, Self.vxlan(Self.innerDNS)), (t0 + 10, Self.vxlan(Self.innerDNS))])
        #expect(records.count == 2)
        let outer = records.first { $0.respPort == 4789 }
        let inner = records.first { $0.respPort == 53 }
        #expect(outer?.origPackets == 2 && outer?.tunnelParents == 0)
        #expect(inner?.origPackets == 2 && inner?.tunnelParents == 1)
        #expect(inner?.tunnelParentUIDs == [outer?.uid].compactMap { $0 })
    }

    @Test func aViolationStopsVXLANForTheConnection() {
        // The I flag missing: a violation; the next, good packet is no longer decapsulated.
        let records = walk([(t0, Self.vxlan(Self.innerDNS, flags: 0)), (t0 + 10, Self.vxlan(Self.innerDNS))])
        #expect(records.count == 1)
        #expect(records.first?.origPackets == 2)
    }

    @Test func ipInIPFormsNoOuterConnection() {
        let outer = Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 4, payload: Self.innerDNS)
        let records = walk([(t0, outer)])
        #expect(records.count == 1)
        #expect(records.first?.respPort == 53 && records.first?.tunnelParents == 1)
        // The inner packet must fill the outer payload exactly.
        let padded = Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 4, payload: Self.innerDNS + [0])
        #expect(walk([(t0, padded)]).isEmpty)
    }

    @Test func tunnelsStopAtTheMaximumDepth() {
        // Five levels of IP-in-IP: Zeek follows four.
        var packet = Self.innerDNS
        for _ in 0..<4 {
            packet = Array(Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 4, payload: packet)[14...])
        }
        let four = Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 4, payload: Array(packet))
        #expect(walk([(t0, four)]).isEmpty)
        let three = Frames.ipv4(
            src: Self.outerA, dst: Self.outerB, proto: 4,
            payload: Array(Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 4, payload: Self.innerDNS)[14...]))
        #expect(walk([(t0, three)]).count == 1)
    }

    /// Found by the fuzzer: a damaged capture's timestamp near Int64.min overflowed the
    /// microsecond rounding.
    @Test func extremeTimestampsNeverTrap() {
        let walker = ConnectionDecapsulator(tracker: ConnectionTracker(settings: ConnectionSettings()))
        let frames = [Self.vxlan(Self.innerDNS), Fragments.v4(data: [1, 2, 3, 4, 5, 6, 7, 8], offset: 0, more: true)]
        for t in [Int64.min, Int64.min + 1, -1, 0, Int64.max - 1, Int64.max] {
            for frame in frames {
                frame.withUnsafeBytes { raw in
                    walker.process(Bytes(raw), length: frame.count, linkType: .ethernet, timestampNs: t) { _ in }
                }
            }
        }
        var records: [ConnectionRecord] = []
        walker.finish { records.append($0) }
        #expect(!records.isEmpty)
    }

    @Test func damagedTunnelHeadersNeverTrap() {
        let frames = [
            Self.vxlan(Self.innerDNS),
            Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 4, payload: Self.innerDNS),
            Frames.ipv4(src: Self.outerA, dst: Self.outerB, proto: 47, payload: [0, 0, 0x08, 0x00] + Self.innerDNS),
        ]
        for frame in frames {
            for cut in 0...frame.count {
                _ = walk([(t0, Array(frame[0..<cut]))])
            }
            // Every byte of the tunnel headers damaged in turn.
            for i in 14..<min(frame.count, 14 + 20 + 8 + 24) {
                var damaged = frame
                damaged[i] ^= 0xFF
                _ = walk([(t0, damaged)])
            }
        }
        // Each UDP tunnel step on arbitrary bytes.
        var rng = SplitMix(state: 20)
        for _ in 0..<2000 {
            let bytes = (0..<Int(rng.next() % 128)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            bytes.withUnsafeBytes { raw in
                let b = Bytes(raw)
                for port: UInt16 in [4789, 6081, 3544, 5072, 2152, 2123, 4754, 9] {
                    let outcome = ConnTunnels.udp(
                        b, payload: 0, captured: b.count, end: b.count, wireEnd: b.count, respPort: port, violated: 0,
                        depth: 0, lastType: .none)
                    if case .inner(let payload) = outcome {
                        #expect(payload.offset + payload.captured <= b.count)
                        _ = ConnDecoder.decodeInner(b, payload, verifyChecksums: true)
                    }
                }
            }
        }
    }
}
