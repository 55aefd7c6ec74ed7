import PacketRecords
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

private func udp(_ t: Int64, sport: UInt16, length: UInt32) -> PacketRecord {
    var d = Decoded()
    d.label = .udp
    d.ipVersion = 4
    d.src = IPAddress(v4: 0x7F00_0001)
    d.dst = IPAddress(v4: 0x7F00_0001)
    d.hasPorts = true
    d.srcPort = sport
    d.dstPort = 53
    return PacketRecord(timestampNs: t, length: length, captured: length, decoded: d)
}

@Suite struct FlowScreenTests {
    @Test func ratesOverWindowsAndTheScreenFits() {
        let table = FlowTable()
        var rates = FlowRates(intervalNs: 1_000_000_000)
        #expect(rates.windows == [1, 2, 10, 40])
        table.add(udp(1, sport: 1000, length: 1000))
        _ = rates.tick(table)
        table.add(udp(2, sport: 1000, length: 500))
        table.add(udp(3, sport: 2000, length: 4000))
        let rows = FlowRates.sorted(rates.tick(table), by: .last)
        // Flow 2000 moved 4000 bytes in the last interval; flow 1000 500 (1500 over 2 s).
        #expect(rows.map(\.windowBytes) == [[4000, 4000, 4000, 4000], [500, 1500, 1500, 1500]])
        #expect(FlowRates.sorted(rows, by: .total).first?.totalBytes == 4000)
        let hosts = FlowRates.aggregate(rows, as: .hosts)
        #expect(hosts.count == 1 && hosts[0].windowBytes[0] == 4500)
        var status = TopStatus(interface: "lo", filter: nil)
        status.windowNs = rates.windowNs
        let narrow = FlowScreen.lines(status, rows: rows, width: 40, height: 5)
        #expect(narrow.count == 5 && narrow.allSatisfy { $0.count <= 40 } && narrow[4].hasPrefix("q quit"))
        let lines = FlowScreen.lines(status, rows: rows, width: 100, height: 8)
        #expect(lines.count == 8 && lines.allSatisfy { $0.count <= 100 })
        #expect(lines[3].contains("127.0.0.1:2000 <=> 127.0.0.1:53") && lines[3].contains("32Kb"))
        #expect(lines[7].hasPrefix("q quit"))
        // 40 idle intervals: no rows; the flow moves again: only the new bytes count.
        for _ in 0..<40 { _ = rates.tick(table) }
        #expect(rates.tick(table).isEmpty)
        table.add(udp(4, sport: 1000, length: 700))
        #expect(rates.tick(table).map(\.windowBytes) == [[700, 700, 700, 700]])
    }

    @Test func siRates() {
        #expect(FlowScreen.bitsPerSecond(0, 1_000_000_000) == "0b")
        #expect(FlowScreen.bitsPerSecond(105, 1_000_000_000) == "840b")
        #expect(FlowScreen.bitsPerSecond(1_250_000, 1_000_000_000) == "10Mb")
        #expect(FlowScreen.bitsPerSecond(1_250_000, 2_000_000_000) == "5Mb")
        #expect(FlowScreen.size(1_234_567) == "1.23MB")
    }
}
