import Foundation
import PacketWire
import Testing

@testable import TrafficAnalysis

/// IPv4 and IPv6 fragments of one datagram, as Ethernet frames.
enum Fragments {
    static let src: [UInt8] = [192, 0, 2, 1]
    static let dst: [UInt8] = [192, 0, 2, 2]

    /// A UDP segment (header and `payload`), checksum 0 (none).
    static func udpSegment(payload: [UInt8], sport: UInt16 = 5000, dport: UInt16 = 6000) -> [UInt8] {
        let length = 8 + payload.count
        return [
            UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), UInt8(length >> 8),
            UInt8(length & 0xFF), 0, 0,
        ] + payload
    }

    /// The IPv4 fragment of `datagram` (the IP payload) from byte `offset`, `count` bytes.
    static func v4(_ datagram: [UInt8], offset: Int, count: Int, more: Bool, id: UInt16 = 0x1234, proto: UInt8 = 17)
        -> [UInt8]
    {
        let data = Array(datagram[offset..<min(datagram.count, offset + count)])
        return v4(data: data, offset: offset, more: more, id: id, proto: proto)
    }

    static func v4(data: [UInt8], offset: Int, more: Bool, id: UInt16 = 0x1234, proto: UInt8 = 17) -> [UInt8] {
        let total = 20 + data.count
        let field = UInt16(offset / 8) | (more ? 0x2000 : 0)
        var ip: [UInt8] =
            [
                0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), UInt8(id >> 8), UInt8(id & 0xFF), UInt8(field >> 8),
                UInt8(field & 0xFF), 64, proto, 0, 0,
            ] + src + dst
        let c = Frames.checksum(ip)
        ip[10] = UInt8(c >> 8)
        ip[11] = UInt8(c & 0xFF)
        return [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + data
    }

    /// The IPv6 fragment of `datagram` (what follows the fragment header) from byte `offset`.
    static func v6(_ datagram: [UInt8], offset: Int, count: Int, more: Bool, id: UInt32 = 0xABCD, next: UInt8 = 17)
        -> [UInt8]
    {
        let data = Array(datagram[offset..<min(datagram.count, offset + count)])
        let payloadLength = 8 + data.count
        var ip: [UInt8] = [0x60, 0, 0, 0, UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF), 44, 64]
        ip += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        ip += [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [2]
        let field = UInt16(offset / 8) << 3 | (more ? 1 : 0)
        ip += [
            next, 0, UInt8(field >> 8), UInt8(field & 0xFF), UInt8(id >> 24), UInt8((id >> 16) & 0xFF),
            UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF),
        ]
        return [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x86, 0xDD] + ip + data
    }
}

/// Runs frames (times in microseconds) through the whole walk: fragments and tunnels.
func walk(
    _ frames: [(micros: Int64, bytes: [UInt8])], settings: ConnectionSettings = ConnectionSettings(),
    reassembler: FragmentReassembler = FragmentReassembler()
) -> [ConnectionRecord] {
    var records: [ConnectionRecord] = []
    let walker = ConnectionDecapsulator(tracker: ConnectionTracker(settings: settings), reassembler: reassembler)
    for (t, bytes) in frames {
        bytes.withUnsafeBytes { raw in
            walker.process(Bytes(raw), length: bytes.count, linkType: .ethernet, timestampNs: t * 1000) {
                records.append($0)
            }
        }
    }
    walker.finish { records.append($0) }
    return records
}

/// Adds one frame's fragment to `r` directly; the datagram when it completes.
func reassemble(_ r: FragmentReassembler, _ frame: [UInt8], at micros: Int64 = 0) -> [UInt8]? {
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 8)
    defer { out.deallocate() }
    return frame.withUnsafeBytes { raw -> [UInt8]? in
        let p = ConnDecoder.decode(Bytes(raw), length: frame.count, linkType: .ethernet, verifyChecksums: true)
        guard p.kind == .fragment, let n = r.add(Bytes(raw), p, now: micros, into: out) else { return nil }
        return Array(out[0..<n])
    }
}

@Suite("IP fragment reassembly (Zeek's FragReassembler, bounded)")
struct FragmentReassemblerTests {
    let t0: Int64 = 1_700_000_000_000_000
    static let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    static let segment = Fragments.udpSegment(payload: payload)

    static func pieces(_ order: [Int]) -> [[UInt8]] {
        let all = [
            Fragments.v4(segment, offset: 0, count: 1480, more: true),
            Fragments.v4(segment, offset: 1480, count: 1480, more: true),
            Fragments.v4(segment, offset: 2960, count: 48, more: false),
        ]
        return order.map { all[$0] }
    }

    func check(_ records: [ConnectionRecord]) {
        #expect(records.count == 1)
        guard let c = records.first else { return }
        #expect(c.transport == .udp)
        #expect(c.origPort == 5000 && c.respPort == 6000)
        #expect(c.origPackets == 1)
        #expect(c.origIPBytes == UInt64(20 + Self.segment.count))
        #expect(c.origBytes == UInt64(Self.payload.count))
    }

    @Test func inOrderFragmentsMakeOneDatagram() {
        var settings = ConnectionSettings()
        settings.verifyChecksums = true
        check(
            walk(Self.pieces([0, 1, 2]).enumerated().map { (t0 + Int64($0.offset), $0.element) }, settings: settings))
    }

    @Test func outOfOrderFragmentsMakeOneDatagram() {
        check(walk(Self.pieces([2, 0, 1]).enumerated().map { (t0 + Int64($0.offset), $0.element) }))
        check(walk(Self.pieces([1, 2, 0]).enumerated().map { (t0 + Int64($0.offset), $0.element) }))
    }

    @Test func reassembledBytesAreTheDatagram() throws {
        let r = FragmentReassembler()
        #expect(reassemble(r, Self.pieces([1])[0]) == nil)
        #expect(reassemble(r, Self.pieces([0])[0]) == nil)
        let d = try #require(reassemble(r, Self.pieces([2])[0]))
        #expect(d.count == 20 + Self.segment.count)
        #expect(Array(d[20...]) == Self.segment)
        // Total length rewritten, MF and offset cleared.
        #expect(Int(d[2]) << 8 | Int(d[3]) == d.count)
        #expect(d[6] & 0x3F == 0 && d[7] == 0)
        #expect(r.pending == 0)
    }

    @Test func overlapsKeepTheBytesThatArrivedFirst() throws {
        let r = FragmentReassembler()
        let data = [UInt8](repeating: 0xAA, count: 32)
        #expect(reassemble(r, Fragments.v4(data: Array(data[0..<16]), offset: 0, more: true, id: 9)) == nil)
        // Overlaps bytes 8..<16 with other values, and brings 16..<24.
        let other = [UInt8](repeating: 0xBB, count: 16)
        #expect(reassemble(r, Fragments.v4(data: other, offset: 8, more: true, id: 9)) == nil)
        let d = try #require(reassemble(r, Fragments.v4(data: Array(data[24..<32]), offset: 24, more: false, id: 9)))
        let payload = Array(d[20...])
        #expect(payload.count == 32)
        #expect(payload[0..<16].allSatisfy { $0 == 0xAA })
        #expect(payload[16..<24].allSatisfy { $0 == 0xBB })
        #expect(payload[24..<32].allSatisfy { $0 == 0xAA })
    }

    @Test func duplicatesChangeNothingAndALateOneStartsANewGroup() {
        let p = Self.pieces([0, 0, 1, 1, 2, 2])
        let records = walk(p.enumerated().map { (t0 + Int64($0.offset), $0.element) })
        check(records)
        let r = FragmentReassembler()
        #expect(reassemble(r, p[0]) == nil)
        #expect(reassemble(r, p[1]) == nil)
        #expect(reassemble(r, p[2]) == nil)
        #expect(reassemble(r, p[4]) != nil)
        #expect(r.pending == 0)
        // After completion the group is gone: a duplicate starts a new one.
        #expect(reassemble(r, p[5]) == nil)
        #expect(r.pending == 1)
    }

    @Test func groupsTimeOutAfterFiveMinutes() {
        let p = Self.pieces([0, 1, 2])
        // The last fragment 5 minutes after the first: the group is gone, nothing is formed.
        let late = walk([(t0, p[0]), (t0 + 1, p[1]), (t0 + 300_000_000, p[2])])
        #expect(late.isEmpty)
        let inTime = walk([(t0, p[0]), (t0 + 1, p[1]), (t0 + 299_999_999, p[2])])
        check(inTime)
    }

    @Test func ipv6FragmentsReassembleWithTheirNextHeader() throws {
        let segment = Fragments.udpSegment(payload: Array(Self.payload[0..<2000]))
        let frames = [
            Fragments.v6(segment, offset: 1232, count: 2000, more: false),
            Fragments.v6(segment, offset: 0, count: 1232, more: true),
        ]
        let r = FragmentReassembler()
        #expect(reassemble(r, frames[0]) == nil)
        let d = try #require(reassemble(r, frames[1]))
        #expect(d.count == 40 + segment.count)
        #expect(d[6] == 17)
        #expect(Int(d[4]) << 8 | Int(d[5]) == segment.count)
        let records = walk(frames.enumerated().map { (t0 + Int64($0.offset), $0.element) })
        #expect(records.count == 1)
        #expect(records.first?.ipVersion == 6)
        #expect(records.first?.origIPBytes == UInt64(40 + segment.count))
        #expect(records.first?.origBytes == 2000)
    }

    @Test func aFloodOfFragmentsStaysWithinTheBounds() throws {
        let r = FragmentReassembler(capacity: 64, maxBytes: 1 << 20)
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 8)
        defer { out.deallocate() }
        var maxHeld = 0
        // First fragments of 50,000 datagrams that never complete, some far into the datagram.
        for i in 0..<50_000 {
            let offset = (i % 7) * 8192
            let frame = Fragments.v4(
                data: [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1024), offset: offset, more: true,
                id: UInt16(truncatingIfNeeded: i))
            frame.withUnsafeBytes { raw in
                let p = ConnDecoder.decode(Bytes(raw), length: frame.count, linkType: .ethernet, verifyChecksums: false)
                #expect(p.kind == .fragment)
                _ = r.add(Bytes(raw), p, now: Int64(i), into: out)
            }
            maxHeld = max(maxHeld, r.bytesHeld)
            #expect(r.pending <= 64)
        }
        #expect(maxHeld <= 1 << 20)
        #expect(r.evicted > 0)
        // Still reassembles.
        let p = Self.pieces([0, 1, 2])
        #expect(reassemble(r, p[0], at: 60_000) == nil)
        #expect(reassemble(r, p[1], at: 60_001) == nil)
        #expect(reassemble(r, p[2], at: 60_002) != nil)
    }

    @Test func damagedFragmentsNeverTrap() {
        let r = FragmentReassembler(capacity: 8, maxBytes: 1 << 18, maxRanges: 4)
        let frames = Self.pieces([0, 1, 2]) + [Fragments.v6(Self.segment, offset: 8, count: 100, more: true)]
        for frame in frames {
            for cut in 0...frame.count {
                let prefix = Array(frame[0..<cut])
                _ = reassemble(r, prefix)
                _ = walk([(t0, prefix)], reassembler: r)
            }
        }
        // Many separate pieces: refused past the bound, nothing traps.
        for i in 0..<20 {
            _ = reassemble(r, Fragments.v4(data: [1, 2, 3, 4, 5, 6, 7, 8], offset: i * 16, more: true, id: 77))
        }
        #expect(r.refused > 0)
    }
}
