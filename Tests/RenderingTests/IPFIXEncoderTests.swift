import PacketRecords
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

private func be16(_ m: [UInt8], _ i: Int) -> Int { Int(m[i]) << 8 | Int(m[i + 1]) }
private func be32(_ m: [UInt8], _ i: Int) -> UInt32 { UInt32(be16(m, i)) << 16 | UInt32(be16(m, i + 2)) }
private func be64(_ m: [UInt8], _ i: Int) -> UInt64 { UInt64(be32(m, i)) << 32 | UInt64(be32(m, i + 4)) }

/// A table of `n` UDP flows 10.0.0.1:port -> 10.0.0.2:53, each with a packet each way (IP length
/// 40 in a 60-byte frame), a millisecond apart.
private func udpFlows(_ n: Int, v6: Bool = false) -> FlowTable {
    let t = FlowTable()
    for i in 0..<n {
        var d = Decoded()
        d.label = .udp
        d.ipVersion = v6 ? 6 : 4
        d.src = v6 ? IPAddress(hi: 0x2001_0DB8 << 32, lo: 1) : IPAddress(v4: 0x0A00_0001)
        d.dst = v6 ? IPAddress(hi: 0x2001_0DB8 << 32, lo: 2) : IPAddress(v4: 0x0A00_0002)
        d.hasPorts = true
        d.srcPort = UInt16(1000 + i)
        d.dstPort = 53
        d.ipLengthField = v6 ? 20 : 40
        let ts = 1_700_000_000_000_000_000 + Int64(i) * 1_000_000
        t.add(PacketRecord(timestampNs: ts, length: 60, captured: 60, decoded: d))
        swap(&d.src, &d.dst)
        swap(&d.srcPort, &d.dstPort)
        t.add(PacketRecord(timestampNs: ts + 999_999, length: 60, captured: 60, decoded: d))
    }
    return t
}

/// Walks a message: checks the header and that the sets tile it; returns (set id, set length).
private func sets(_ m: [UInt8]) -> [(Int, Int)] {
    #expect(be16(m, 0) == 10)
    #expect(be16(m, 2) == m.count)
    var out: [(Int, Int)] = []
    var i = 16
    while i < m.count {
        let length = be16(m, i + 2)
        #expect(length >= 4)
        out.append((be16(m, i), length))
        i += max(4, length)
    }
    #expect(i == m.count)
    return out
}

@Suite struct IPFIXEncoderTests {
    @Test func templatesDescribeTheRecords() {
        for biflow in [false, true] {
            let e = IPFIXEncoder(observationDomain: 7, maximumLength: 1400, biflow: biflow)
            let m = e.templateMessage(exportTime: 1_700_000_000)
            #expect(be32(m, 4) == 1_700_000_000)
            #expect(be32(m, 12) == 7)
            let s = sets(m)
            #expect(s.count == 1 && s[0].0 == 2)
            // Each template: id, field count, fields (4 bytes, 8 with an enterprise number); the
            // field lengths add up to recordLength.
            var i = 20
            var ids: [Int] = []
            while i < m.count {
                let id = be16(m, i)
                let count = be16(m, i + 2)
                i += 4
                var length = 0
                var hasReverse = false
                for _ in 0..<count {
                    let element = be16(m, i)
                    length += be16(m, i + 2)
                    if element & 0x8000 != 0 {
                        #expect(be32(m, i + 4) == 29305)
                        hasReverse = true
                        i += 8
                    } else {
                        i += 4
                    }
                }
                #expect(hasReverse == biflow)
                let kind = IPFIXEncoder.Kind.allCases.first { e.templateID($0) == UInt16(id) }
                #expect(kind.map(e.recordLength) == length)
                ids.append(id)
            }
            #expect(ids == (biflow ? [260, 261, 262, 263] : [256, 257, 258, 259]))
        }
    }

    @Test func oneRecordPerDirectionWithIPBytesAndMilliseconds() throws {
        let table = udpFlows(1)
        var records: [IPFIXEncoder.Record] = []
        IPFIXEncoder.records(of: table[0], biflow: false, reason: .forcedEnd) { records.append($0) }
        try #require(records.count == 2)
        #expect(records[0].src == IPAddress(v4: 0x0A00_0001) && records[0].srcPort == 1000 && records[0].dstPort == 53)
        #expect(records[1].src == IPAddress(v4: 0x0A00_0002) && records[1].srcPort == 53 && records[1].dstPort == 1000)
        for r in records {
            #expect(r.octets == 40 && r.layer2Octets == 60 && r.packets == 1 && r.protocolNumber == 17)
            #expect(r.startMs == 1_700_000_000_000 && r.endMs == 1_700_000_000_000)
            #expect(r.endReason == 4)
        }
        var bi: [IPFIXEncoder.Record] = []
        IPFIXEncoder.records(of: udpFlows(1, v6: true)[0], biflow: true, reason: .idleTimeout) { bi.append($0) }
        try #require(bi.count == 1)
        #expect(bi[0].octets == 60 && bi[0].reverseOctets == 60 && bi[0].reversePackets == 1 && bi[0].kind == .ipv6)
    }

    /// An ICMP echo and its reply: one flow (the address pair), two records of the ICMP template,
    /// each with its direction's first type and code where the ports would be.
    @Test func icmpRecordsCarryEachDirectionsTypeAndCode() throws {
        let t = FlowTable()
        var d = Decoded()
        d.label = .icmp
        d.ipVersion = 4
        d.src = IPAddress(v4: 0x0A00_0001)
        d.dst = IPAddress(v4: 0x0A00_0002)
        d.dstPort = 0x0800
        d.ipLengthField = 84
        t.add(PacketRecord(timestampNs: 1_700_000_000_000_000_000, length: 98, captured: 98, decoded: d))
        swap(&d.src, &d.dst)
        d.dstPort = 0x0000
        t.add(PacketRecord(timestampNs: 1_700_000_000_001_000_000, length: 98, captured: 98, decoded: d))
        #expect(t.count == 1)
        var records: [IPFIXEncoder.Record] = []
        IPFIXEncoder.records(of: t[0], biflow: false, reason: .forcedEnd) { records.append($0) }
        try #require(records.count == 2)
        #expect(records.allSatisfy { $0.kind == .icmpv4 && $0.protocolNumber == 1 && $0.srcPort == 0 })
        #expect(records[0].src == IPAddress(v4: 0x0A00_0001) && records[0].icmpTypeCode == 0x0800)
        #expect(records[1].src == IPAddress(v4: 0x0A00_0002) && records[1].icmpTypeCode == 0)
        var encoder = IPFIXEncoder(observationDomain: 0, maximumLength: 1400, biflow: false)
        var message: [UInt8] = []
        for r in records { encoder.append(r, exportTime: 0) { m, _ in message = m } }
        encoder.flush { m, _ in message = m }
        // The first record: header 16, set header 4, start and end 16, addresses 8, then the type and code.
        #expect(be16(message, 16) == 258 && be16(message, 16 + 4 + 16 + 8) == 0x0800)
    }

    @Test func messagesStayWithinTheSizeAndCountRecords() {
        for (mtu, v6) in [(256, false), (1400, false), (1400, true), (9000, true)] {
            var e = IPFIXEncoder(observationDomain: 1, maximumLength: mtu, biflow: false)
            var messages: [([UInt8], Int)] = []
            for f in udpFlows(500, v6: v6) {
                IPFIXEncoder.records(of: f, biflow: false, reason: .forcedEnd) { r in
                    e.append(r, exportTime: 0) { messages.append(($0, $1)) }
                }
            }
            e.flush { messages.append(($0, $1)) }
            var sequence: UInt32 = 0
            var total = 0
            let length = e.recordLength(v6 ? .ipv6 : .ipv4)
            for (m, count) in messages {
                #expect(m.count <= mtu)
                #expect(be32(m, 8) == sequence, "the sequence number counts the data records before")
                let s = sets(m)
                #expect(s.allSatisfy { $0.0 == (v6 ? 257 : 256) })
                #expect(s.reduce(0) { $0 + ($1.1 - 4) / length } == count)
                sequence &+= UInt32(count)
                total += count
            }
            #expect(total == 1000 && e.records == 1000)
            // Full messages: no room left for another record.
            #expect(messages.dropLast().allSatisfy { $0.0.count + length > mtu })
            // The first record's fields, in template order.
            let m = messages[0].0
            #expect(be64(m, 20) == 1_700_000_000_000 && be64(m, 28) == 1_700_000_000_000)
        }
    }

    @Test func templatesChangeWithinAMessage() {
        var e = IPFIXEncoder(observationDomain: 1, maximumLength: 1400, biflow: false)
        var messages: [[UInt8]] = []
        for table in [udpFlows(2), udpFlows(2, v6: true), udpFlows(1)] {
            for f in table {
                IPFIXEncoder.records(of: f, biflow: false, reason: .forcedEnd) { r in
                    e.append(r, exportTime: 0) { m, _ in messages.append(m) }
                }
            }
        }
        e.flush { m, _ in messages.append(m) }
        #expect(messages.count == 1)
        #expect(sets(messages[0]).map(\.0) == [256, 257, 256])
    }
}
