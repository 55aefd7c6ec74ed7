import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

@Suite struct CountersTests {
    @Test func everyLabelHasASlot() {
        #expect(ProtocolLabel.allCases.count <= ProtocolCounters.capacity)
        #expect(ProtocolLabel.allCases.count <= 32)  // ProtocolSet is a UInt32 mask
    }

    @Test func countersAddAndCompare() {
        var a = ProtocolCounters()
        a[.tcp] = 3
        a.add(2, at: Int(ProtocolLabel.udp.rawValue))
        a.add(1, at: ProtocolCounters.capacity - 1)
        #expect(a[.tcp] == 3 && a[.udp] == 2 && a.total == 6)
        var b = ProtocolCounters()
        b.add(a)
        #expect(a == b)
        b[.arp] = 1
        #expect(a != b)
        #expect(a.nonZeroLabels == ProtocolSet([.tcp, .udp]))
    }

    @Test func protocolSetIteratesInLabelOrder() {
        let s = ProtocolSet([.udp, .arp, .tcp])
        #expect(Array(s) == [.arp, .tcp, .udp])
        #expect(s.count == 3 && s.contains(.udp) && !s.contains(.icmp))
        #expect(ProtocolSet.all.count == ProtocolLabel.allCases.count)
    }

    @Test func dropsSinceClampAtZero() {
        let a = DropCounters(kernel: 5, interface: 1, ring: 10)
        let b = DropCounters(kernel: 7, interface: 0, ring: 12)
        #expect(b.since(a) == DropCounters(kernel: 2, interface: 0, ring: 2))
        #expect(a.total == 16)
    }
}

@Suite struct LayoutTests {
    /// The memory bounds in the documentation are computed from these sizes.
    @Test func sizes() {
        #expect(MemoryLayout<IntervalStats>.stride == 472)
        #expect(MemoryLayout<ProtocolCounters>.stride == 192)
    }
}
