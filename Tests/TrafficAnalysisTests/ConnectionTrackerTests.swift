import Foundation
import PacketWire
import TestSupport
import Testing

@testable import TrafficAnalysis

/// Ethernet + IPv4 + TCP/UDP/ICMP frames with valid checksums, for the tracker's tests.
enum Frames {
    static let client: [UInt8] = [10, 0, 0, 1]
    static let server: [UInt8] = [10, 0, 0, 2]

    static func checksum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func ipv4(src: [UInt8], dst: [UInt8], proto: UInt8, payload: [UInt8]) -> [UInt8] {
        let total = 20 + payload.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, proto, 0, 0] + src + dst
        let c = checksum(ip)
        ip[10] = UInt8(c >> 8)
        ip[11] = UInt8(c & 0xFF)
        return [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + payload
    }

    static func pseudo(_ src: [UInt8], _ dst: [UInt8], _ proto: UInt8, _ length: Int) -> UInt32 {
        var s: UInt32 = 0
        for i in stride(from: 0, to: 4, by: 2) {
            s += UInt32(src[i]) << 8 | UInt32(src[i + 1])
            s += UInt32(dst[i]) << 8 | UInt32(dst[i + 1])
        }
        return s + UInt32(proto) + UInt32(length)
    }

    /// A TCP segment; flags as letters (S, A, F, R, P).
    static func tcp(
        fromClient: Bool, sport: UInt16 = 40000, dport: UInt16 = 80, flags: String, seq: UInt32, ack: UInt32 = 0,
        payload: Int = 0, window: UInt16 = 65535, badChecksum: Bool = false
    ) -> [UInt8] {
        let (src, dst) = fromClient ? (client, server) : (server, client)
        let (sp, dp) = fromClient ? (sport, dport) : (dport, sport)
        var f: UInt8 = 0
        for c in flags {
            switch c {
            case "F": f |= 0x01
            case "S": f |= 0x02
            case "R": f |= 0x04
            case "P": f |= 0x08
            case "A": f |= 0x10
            default: break
            }
        }
        var t: [UInt8] = [UInt8(sp >> 8), UInt8(sp & 0xFF), UInt8(dp >> 8), UInt8(dp & 0xFF)]
        t += [UInt8(seq >> 24), UInt8(seq >> 16 & 0xFF), UInt8(seq >> 8 & 0xFF), UInt8(seq & 0xFF)]
        t += [UInt8(ack >> 24), UInt8(ack >> 16 & 0xFF), UInt8(ack >> 8 & 0xFF), UInt8(ack & 0xFF)]
        t += [0x50, f, UInt8(window >> 8), UInt8(window & 0xFF), 0, 0, 0, 0]
        t += [UInt8](repeating: 0x61, count: payload)
        var c = checksum(t, initial: pseudo(src, dst, 6, t.count))
        if badChecksum { c ^= 0x5555 }
        t[16] = UInt8(c >> 8)
        t[17] = UInt8(c & 0xFF)
        return ipv4(src: src, dst: dst, proto: 6, payload: t)
    }

    static func udp(fromClient: Bool, sport: UInt16 = 40000, dport: UInt16 = 53, payload: Int) -> [UInt8] {
        let (src, dst) = fromClient ? (client, server) : (server, client)
        let (sp, dp) = fromClient ? (sport, dport) : (dport, sport)
        let length = 8 + payload
        var u: [UInt8] = [
            UInt8(sp >> 8), UInt8(sp & 0xFF), UInt8(dp >> 8), UInt8(dp & 0xFF), UInt8(length >> 8),
            UInt8(length & 0xFF), 0, 0,
        ]
        u += [UInt8](repeating: 0x62, count: payload)
        let c = checksum(u, initial: pseudo(src, dst, 17, u.count))
        u[6] = UInt8(c >> 8)
        u[7] = UInt8(c & 0xFF)
        return ipv4(src: src, dst: dst, proto: 17, payload: u)
    }

    static func icmpEcho(request: Bool, payload: Int = 56) -> [UInt8] {
        var m: [UInt8] = [request ? 8 : 0, 0, 0, 0, 0x12, 0x34, 0, 1] + [UInt8](repeating: 0x63, count: payload)
        let c = checksum(m)
        m[2] = UInt8(c >> 8)
        m[3] = UInt8(c & 0xFF)
        return ipv4(src: request ? client : server, dst: request ? server : client, proto: 1, payload: m)
    }
}

/// Runs frames (with times in microseconds) through the decoder and the tracker.
func track(
    _ frames: [(micros: Int64, bytes: [UInt8])], settings: ConnectionSettings = ConnectionSettings()
) -> [ConnectionRecord] {
    var records: [ConnectionRecord] = []
    let tracker = ConnectionTracker(settings: settings)
    for (t, bytes) in frames {
        bytes.withUnsafeBytes { raw in
            let p = ConnDecoder.decode(
                Bytes(raw), length: bytes.count, linkType: .ethernet, verifyChecksums: settings.verifyChecksums)
            tracker.process(p, timestampNs: t * 1000) { records.append($0) }
        }
    }
    tracker.finish { records.append($0) }
    return records
}

@Suite("Connection tracker (Zeek conn.log semantics)")
struct ConnectionTrackerTests {
    let t0: Int64 = 1_700_000_000_000_000

    @Test func completeConnectionIsSF() {
        let r = track([
            (t0, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
            (t0 + 100, Frames.tcp(fromClient: false, flags: "SA", seq: 5000, ack: 1001)),
            (t0 + 250, Frames.tcp(fromClient: true, flags: "A", seq: 1001, ack: 5001)),
            (t0 + 300, Frames.tcp(fromClient: true, flags: "PA", seq: 1001, ack: 5001, payload: 100)),
            (t0 + 400, Frames.tcp(fromClient: false, flags: "PA", seq: 5001, ack: 1101, payload: 300)),
            (t0 + 500, Frames.tcp(fromClient: true, flags: "FA", seq: 1101, ack: 5301)),
            (t0 + 600, Frames.tcp(fromClient: false, flags: "FA", seq: 5301, ack: 1102)),
            (t0 + 700, Frames.tcp(fromClient: true, flags: "A", seq: 1102, ack: 5302)),
        ])
        #expect(r.count == 1)
        let c = r[0]
        #expect(c.state == .sf)
        // The responder's data carries its ACK: a 'd', no 'a'.
        #expect(c.history.text == "ShADdFf")
        #expect(c.origBytes == 100)
        #expect(c.respBytes == 300)
        #expect(c.origPackets == 5 && c.respPackets == 3)
        #expect(c.origIPBytes == 5 * 40 + 100)
        // The duration stops when both sides have closed: the last ACK does not count.
        #expect(c.durationMicros == 600)
        #expect(c.initialRTTNanos == 250_000)
        #expect(c.missedBytes == 0)
        #expect(c.origPort == 40000 && c.respPort == 80)
    }

    @Test func unansweredSYNIsS0AndAttemptEndsIt() {
        let r = track([
            (t0, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
            (t0 + 1_000_000, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
            // After tcp_attempt_delay (5 s) the attempt is over; the same key starts again.
            (t0 + 7_000_000, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
        ])
        #expect(r.count == 2)
        #expect(r.allSatisfy { $0.state == .s0 && $0.history.text == "S" })
        #expect(r[0].origPackets == 2)
        #expect(r[0].initialRTTNanos == nil)
    }

    @Test func rejectedIsREJ() {
        let r = track([
            (t0, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
            (t0 + 50, Frames.tcp(fromClient: false, flags: "RA", seq: 0, ack: 1001)),
        ])
        #expect(r.count == 1)
        #expect(r[0].state == .rej)
        #expect(r[0].history.text == "Sr")
    }

    @Test func synAckFirstFromServerPortFlips() {
        let r = track([
            (t0, Frames.tcp(fromClient: false, flags: "SA", seq: 5000, ack: 1001)),
            (t0 + 10, Frames.tcp(fromClient: true, flags: "A", seq: 1001, ack: 5001)),
        ])
        #expect(r.count == 1)
        #expect(r[0].origAddress == IPAddress(v4: 0x0A00_0001))
        #expect(r[0].respPort == 80)
        #expect(r[0].history.text == "^hA")
    }

    @Test func synAckFirstWithoutServerPortFlipsLater() {
        var settings = ConnectionSettings()
        settings.serverPorts = ServerPorts()
        let r = track(
            [
                (t0, Frames.tcp(fromClient: false, flags: "SA", seq: 5000, ack: 1001)),
                (t0 + 10, Frames.tcp(fromClient: true, flags: "A", seq: 1001, ack: 5001)),
            ], settings: settings)
        #expect(r[0].history.text == "^hA")
        #expect(r[0].origPort == 40000)
    }

    @Test func dnsReplyFirstIsFlippedSHR() {
        let r = track([(t0, Frames.udp(fromClient: false, payload: 40))])
        #expect(r.count == 1)
        #expect(r[0].history.text == "^d")
        #expect(r[0].state == .shr)
        #expect(r[0].origPort == 40000 && r[0].respPort == 53)
        #expect(r[0].origPackets == 0 && r[0].respPackets == 1)
    }

    @Test func udpExchangeIsSFWithPayloadBytes() {
        let r = track([
            (t0, Frames.udp(fromClient: true, payload: 30)),
            (t0 + 400, Frames.udp(fromClient: false, payload: 90)),
        ])
        #expect(r[0].state == .sf)
        #expect(r[0].history.text == "Dd")
        #expect(r[0].origBytes == 30 && r[0].respBytes == 90)
        #expect(r[0].origIPBytes == 58 && r[0].respIPBytes == 118)
    }

    @Test func udpInactivityTimeoutSplits() {
        var settings = ConnectionSettings()
        settings.serverPorts = ServerPorts()
        let r = track(
            [
                (t0, Frames.udp(fromClient: true, dport: 9999, payload: 10)),
                (t0 + 61_000_000, Frames.udp(fromClient: true, dport: 9999, payload: 10)),
            ], settings: settings)
        #expect(r.count == 2)
    }

    @Test func icmpEchoUsesTypeAndCounterpart() {
        let r = track([
            (t0, Frames.icmpEcho(request: true)),
            (t0 + 1000, Frames.icmpEcho(request: false)),
        ])
        #expect(r.count == 1)
        #expect(r[0].transport == .icmp)
        #expect(r[0].origPort == 8 && r[0].respPort == 0)
        #expect(r[0].state == .oth)
        #expect(r[0].history.isEmpty)
        #expect(r[0].origBytes == 56 && r[0].respBytes == 56)
    }

    @Test func acknowledgedButUnseenDataIsAGap() {
        let r = track([
            (t0, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
            (t0 + 100, Frames.tcp(fromClient: false, flags: "SA", seq: 5000, ack: 1001)),
            (t0 + 200, Frames.tcp(fromClient: true, flags: "A", seq: 1001, ack: 5001)),
            (t0 + 300, Frames.tcp(fromClient: true, flags: "PA", seq: 1001, ack: 5001, payload: 100)),
            // 100 bytes at 1101 never captured.
            (t0 + 400, Frames.tcp(fromClient: true, flags: "PA", seq: 1201, ack: 5001, payload: 100)),
            (t0 + 500, Frames.tcp(fromClient: false, flags: "A", seq: 5001, ack: 1301)),
        ])
        #expect(r[0].missedBytes == 100)
        #expect(r[0].origBytes == 300)
        #expect(r[0].history.text == "ShADaG")
        #expect(r[0].state == .s1)
    }

    @Test func retransmissionsScaleOneTenHundred() {
        var frames: [(micros: Int64, bytes: [UInt8])] = [
            (t0, Frames.tcp(fromClient: true, flags: "S", seq: 1000)),
            (t0 + 100, Frames.tcp(fromClient: false, flags: "SA", seq: 5000, ack: 1001)),
            (t0 + 200, Frames.tcp(fromClient: true, flags: "A", seq: 1001, ack: 5001)),
            (t0 + 300, Frames.tcp(fromClient: true, flags: "PA", seq: 1001, ack: 5001, payload: 10)),
        ]
        for i in 0..<12 {
            frames.append(
                (t0 + 400 + Int64(i), Frames.tcp(fromClient: true, flags: "PA", seq: 1001, ack: 5001, payload: 10)))
        }
        let r = track(frames)
        #expect(r[0].history.text == "ShADTT")
    }

    @Test func badChecksumOnlyAddsC() {
        var settings = ConnectionSettings()
        settings.verifyChecksums = true
        let r = track(
            [
                (t0, Frames.tcp(fromClient: true, flags: "S", seq: 1000, badChecksum: true))
            ], settings: settings)
        #expect(r.count == 1)
        #expect(r[0].history.text == "C")
        #expect(r[0].origPackets == 0)
        #expect(r[0].state == .oth)
    }

    @Test func maxConnectionsBoundsTheTable() {
        var settings = ConnectionSettings()
        settings.maxConnections = 10
        settings.serverPorts = ServerPorts()
        var frames: [(micros: Int64, bytes: [UInt8])] = []
        for i in 0..<100 {
            frames.append((t0 + Int64(i), Frames.udp(fromClient: true, sport: UInt16(20000 + i), dport: 9, payload: 1)))
        }
        let tracker = ConnectionTracker(settings: settings)
        var written = 0
        for (t, bytes) in frames {
            bytes.withUnsafeBytes { raw in
                let p = ConnDecoder.decode(Bytes(raw), length: bytes.count, linkType: .ethernet, verifyChecksums: false)
                tracker.process(p, timestampNs: t * 1000) { _ in written += 1 }
            }
            #expect(tracker.count <= 10)
        }
        tracker.finish { _ in written += 1 }
        #expect(written == 100)
        #expect(tracker.evicted == 90)
    }

    @Test func indexSurvivesChurn() {
        var settings = ConnectionSettings()
        settings.serverPorts = ServerPorts()
        var frames: [(micros: Int64, bytes: [UInt8])] = []
        // 3000 keys, each seen twice within the timeout, then again after it: two rows per key.
        for round: Int64 in [0, 1, 70] {
            for i in 0..<3000 {
                let frame = Frames.udp(fromClient: true, sport: UInt16(10000 + i), dport: 9, payload: 1)
                frames.append((t0 + round * 1_000_000 + Int64(i), frame))
            }
        }
        let r = track(frames, settings: settings)
        #expect(r.count == 6000)
        #expect(r.filter { $0.origPackets == 2 }.count == 3000)
        #expect(r.filter { $0.origPackets == 1 }.count == 3000)
    }

    @Test func connectionStateIsFixedSize() {
        // No references in the per-connection state: its size is its whole cost.
        #expect(MemoryLayout<Connection>.stride <= 1024, "\(MemoryLayout<Connection>.stride)")
    }

    @Test func settingsParseZeekNotation() throws {
        let ports = try ServerPorts(parsing: "53/udp, 80/tcp")
        #expect(ports.contains(53, tcp: false) && ports.contains(80, tcp: true))
        #expect(!ports.contains(53, tcp: true))
        #expect(ServerPorts.zeekDefault.contains(443, tcp: true))
        #expect(throws: SettingsProblem.self) { try ServerPorts(parsing: "53") }
        var s = ConnectionSettings()
        try s.setLocalNets("10.0.0.0/8,2001:db8::/32")
        #expect(s.isLocal(IPAddress(v4: 0x0A01_0203), version: 4))
        #expect(!s.isLocal(IPAddress(v4: 0x0B01_0203), version: 4))
        #expect(s.isLocal(IPAddress(hi: 0x2001_0DB8_0000_0001, lo: 5), version: 6))
        try s.setTimeout("udp=30")
        #expect(s.udpTimeout == 30_000_000)
        #expect(throws: SettingsProblem.self) { try s.setTimeout("tcp") }
    }

    @Test func loopbackCaptureGivesZeekRows() throws {
        let fixture = try PcapFixture(contentsOf: TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path)
        let tracker = ConnectionTracker(settings: ConnectionSettings())
        var records: [ConnectionRecord] = []
        for packet in fixture.packets {
            packet.bytes.withUnsafeBytes { raw in
                let p = ConnDecoder.decode(
                    Bytes(raw), length: packet.origLen, linkType: LinkType(packet.linkType), verifyChecksums: false)
                tracker.process(p, timestampNs: Int64(packet.timestampNanoseconds ?? 0)) { records.append($0) }
            }
        }
        tracker.finish { records.append($0) }
        let tcp = records.filter { $0.transport == .tcp }
        #expect(!tcp.isEmpty)
        #expect(tcp.allSatisfy { $0.state == .sf && $0.initialRTTNanos != nil })
        let udp = records.filter { $0.transport == .udp }
        #expect(udp.map(\.origPackets).reduce(0, +) == 5000)
    }

    @Test func decoderFollowsZeeksLinkLayers() {
        let ip = Array(Frames.udp(fromClient: true, payload: 20).dropFirst(14))
        let eth: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]
        let cases: [(String, Int32, [UInt8])] = [
            ("raw", 101, ip),
            ("vlan+qinq", 1, eth + [0x88, 0xA8, 0, 1, 0x81, 0x00, 0, 2, 0x08, 0x00] + ip),
            ("vn-tag", 1, eth + [0x89, 0x26, 0, 0, 0, 0, 0x08, 0x00] + ip),
            ("pbb", 1, eth + [0x88, 0xE7, 0, 0, 0, 1] + eth + [0x08, 0x00] + ip),
            ("pppoe", 1, eth + [0x88, 0x64, 0x11, 0, 0, 1, 0, 0, 0x00, 0x21] + ip),
            ("mpls", 1, eth + [0x88, 0x47, 0, 0, 0x11, 64] + ip),
            ("ppp", 9, [0xFF, 0x03, 0x00, 0x21] + ip),
            ("802.3+snap", 1, eth + [0x00, UInt8(8 + ip.count), 0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00] + ip),
            ("nflog", 239, [2, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0, UInt8(4 + ip.count), 0, 9, 0] + ip),
            (
                "radiotap+802.11", 127,
                [0, 0, 8, 0, 0, 0, 0, 0] + [0x08, 0x01] + [UInt8](repeating: 0, count: 22)
                    + [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00] + ip
            ),
        ]
        for (name, link, frame) in cases {
            frame.withUnsafeBytes { raw in
                let p = ConnDecoder.decode(
                    Bytes(raw), length: frame.count, linkType: LinkType(link), verifyChecksums: true)
                #expect(p.kind == .packet, "\(name)")
                #expect(p.srcPort == 40000 && p.dstPort == 53, "\(name)")
                #expect(p.checksum == .good, "\(name)")
            }
        }
    }

    @Test func decoderNeverTrapsOnCutFrames() {
        let frames = [
            Frames.tcp(fromClient: true, flags: "S", seq: 1), Frames.udp(fromClient: true, payload: 20),
            Frames.icmpEcho(request: true),
        ]
        for frame in frames {
            for n in 0...frame.count {
                let cut = Array(frame.prefix(n))
                cut.withUnsafeBytes { raw in
                    for verify in [false, true] {
                        _ = ConnDecoder.decode(
                            Bytes(raw), length: frame.count, linkType: .ethernet, verifyChecksums: verify)
                        _ = ConnDecoder.decode(
                            Bytes(raw), length: frame.count, linkType: .linuxSLL2, verifyChecksums: verify)
                    }
                }
            }
        }
    }
}
