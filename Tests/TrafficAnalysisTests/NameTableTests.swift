import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

private func learn(_ t: NameTable, _ v4: UInt32, _ name: String, at ns: Int64 = 0) {
    Array(name.utf8).withUnsafeBytes { t.learn(IPAddress(v4: v4), version: 4, name: $0, at: ns) }
}

private func nameOf(_ t: NameTable, _ v4: UInt32) -> String {
    t.string(t.lookup(IPAddress(v4: v4), version: 4).id)
}

@Suite("name table")
struct NameTableTests {
    @Test func latestAnswerWinsAndNamesAreShared() {
        let t = NameTable(capacity: 8)
        learn(t, 1, "a.example", at: 5)
        learn(t, 2, "a.example", at: 6)
        learn(t, 1, "b.example", at: 7)
        #expect(nameOf(t, 1) == "b.example")
        #expect(nameOf(t, 2) == "a.example")
        #expect(t.lookup(IPAddress(v4: 1), version: 4).learnedNs == 7)
        #expect(t.counters.names == 2 && t.counters.entries == 2 && t.counters.learned == 3)
        // The same 32 bits as IPv6 is another address.
        #expect(t.lookup(IPAddress(v4: 1), version: 6).id == 0)
    }

    @Test func leastRecentlyUsedAddressesLeaveFirst() {
        let t = NameTable(capacity: 3)
        learn(t, 1, "one")
        learn(t, 2, "two")
        learn(t, 3, "three")
        _ = t.lookup(IPAddress(v4: 1), version: 4)  // 2 is now the least recent
        learn(t, 4, "four")
        #expect(t.counters.entries == 3 && t.counters.evictions == 1)
        #expect(nameOf(t, 2) == "")
        #expect(nameOf(t, 1) == "one" && nameOf(t, 3) == "three" && nameOf(t, 4) == "four")
        for i in UInt32(10)..<UInt32(1_010) { learn(t, i, "n\(i)") }
        #expect(t.counters.entries == 3 && t.counters.evictions == 1_001)
        #expect(nameOf(t, 1_009) == "n1009" && nameOf(t, 1_000) == "")
    }

    @Test func aFullNameStoreStartsOverAndOldIdsReadEmpty() {
        let t = NameTable(capacity: 100, maxNames: 4)
        learn(t, 1, "one")
        let old = t.lookup(IPAddress(v4: 1), version: 4).id
        for i in UInt32(2)...UInt32(5) { learn(t, i, "n\(i)") }
        #expect(t.counters.resets == 1)
        #expect(t.string(old) == "")
        #expect(nameOf(t, 5) == "n5")
        #expect(t.counters.names <= 4)
    }

    @Test func flowsTakeTheNamesKnownAtTheirFirstPacket() {
        let table = FlowTable()
        let names = NameTable()
        table.names = names
        var d = Decoded()
        d.label = .tcp
        d.ipVersion = 4
        d.hasPorts = true
        d.src = IPAddress(v4: 10)
        d.dst = IPAddress(v4: 20)
        d.srcPort = 1000
        d.dstPort = 443
        table.add(PacketRecord(timestampNs: 1, length: 60, captured: 60, decoded: d))
        learn(names, 20, "server.example")
        d.srcPort = 1001
        table.add(PacketRecord(timestampNs: 2, length: 60, captured: 60, decoded: d))
        d.srcPort = 1000
        table.add(PacketRecord(timestampNs: 3, length: 60, captured: 60, decoded: d))
        #expect(table.count == 2)
        #expect(names.string(table[0].dstName) == "")
        #expect(names.string(table[1].dstName) == "server.example")
        #expect(table[1].srcName == 0)
    }
}
