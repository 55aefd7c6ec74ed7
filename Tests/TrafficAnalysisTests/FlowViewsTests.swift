import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

private func udp(_ t: Int64, _ s: UInt32, _ d: UInt32, _ sp: UInt16, _ dp: UInt16, _ len: UInt32) -> PacketRecord {
    var dec = Decoded()
    dec.label = .udp
    dec.ipVersion = 4
    dec.src = IPAddress(v4: s)
    dec.dst = IPAddress(v4: d)
    dec.hasPorts = true
    dec.srcPort = sp
    dec.dstPort = dp
    return PacketRecord(timestampNs: t, length: len, captured: len, decoded: dec)
}

@Suite struct FlowViewsTests {
    /// Host 1 talks to 2 (53) and 3 (53), host 3 answers; host 4 talks to itself.
    func table() -> FlowTable {
        let t = FlowTable()
        t.add(udp(10, 1, 2, 5000, 53, 100))
        t.add(udp(20, 1, 3, 5001, 53, 200))
        t.add(udp(30, 3, 1, 53, 5001, 700))
        t.add(udp(5, 4, 4, 7, 7, 50))
        return t
    }

    @Test func orderBySortAndTop() {
        let t = table()
        #expect(FlowViews.order(t, by: nil, top: nil) == [0, 1, 2])
        #expect(FlowViews.order(t, by: .bytes, top: nil) == [1, 0, 2])
        #expect(FlowViews.order(t, by: .first, top: 2) == [2, 0])
        #expect(FlowViews.order(t, by: .packets, top: 1) == [1])
    }

    @Test func hostsCountSentAndReceived() {
        let hosts = FlowViews.hosts(table())
        let byAddress = Dictionary(uniqueKeysWithValues: hosts.map { ($0.address.v4, $0) })
        #expect(byAddress[1]?.sentBytes == 300 && byAddress[1]?.receivedBytes == 700 && byAddress[1]?.flows == 2)
        #expect(byAddress[3]?.sentBytes == 700 && byAddress[3]?.receivedBytes == 200)
        #expect(byAddress[2]?.receivedPackets == 1 && byAddress[2]?.sentPackets == 0)
        #expect(byAddress[4]?.sentBytes == 50 && byAddress[4]?.receivedBytes == 50 && byAddress[4]?.bytes == 50)
        #expect(byAddress[1]?.bytes == 1000 && byAddress[1]?.packets == 3)
        let sorted = FlowViews.sorted(hosts, by: nil, top: 2, packets: \.packets, bytes: \.bytes, first: \.first)
        #expect(sorted.map(\.address.v4) == [1, 3])
    }

    @Test func portsAreTheFlowsDestinationPort() {
        let groups = FlowViews.groups(table(), byPort: true)
        #expect(groups.map(\.port) == [53, 7])
        #expect(groups[0].flows == 2 && groups[0].bytes == 1000 && groups[0].packets == 3)
        let protocols = FlowViews.groups(table(), byPort: false)
        #expect(protocols.count == 1 && protocols[0].flows == 3 && protocols[0].bytes == 1050)
    }
}
