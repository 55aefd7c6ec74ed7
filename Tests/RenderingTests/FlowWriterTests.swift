import Foundation
import PacketRecords
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

private func flowTable() -> FlowTable {
    let t = FlowTable()
    var d = Decoded()
    d.label = .tcp
    d.ipVersion = 6
    d.src = IPAddress(hi: 0x2001_0DB8_0000_0000, lo: 1)
    d.dst = IPAddress(hi: 0x2001_0DB8_0000_0000, lo: 2)
    d.hasPorts = true
    d.srcPort = 443
    d.dstPort = 50000
    t.add(PacketRecord(timestampNs: 1_700_000_000_000_000_001, length: 1500, captured: 96, decoded: d))
    var arp = Decoded()
    arp.label = .arp
    t.add(PacketRecord(timestampNs: 1_700_000_001_000_000_000, length: 60, captured: 60, decoded: arp))
    return t
}

@Suite struct FlowWriterTests {
    @Test func fastCSVRowEqualsTheCellRow() {
        let writer = FlowWriter(format: .csv, columns: FlowWriter.flowColumns)
        for f in flowTable() {
            var fast: [UInt8] = []
            var cells: [UInt8] = []
            FlowWriter.csvRow(f, into: &fast)
            writer.write(FlowWriter.cells(f), into: &cells)
            #expect(fast == cells)
        }
        var first: [UInt8] = []
        FlowWriter.csvRow(flowTable()[0], into: &first)
        #expect(
            String(decoding: first, as: UTF8.self)
                == "1700000000.000000001,1700000000.000000001,TCP,2001:db8::1,443,2001:db8::2,50000,1,1500,1,1500,0,0\n"
        )
    }

    @Test func jsonHasNullsAndNumbers() throws {
        let writer = FlowWriter(format: .json, columns: FlowWriter.flowColumns)
        var out: [UInt8] = []
        writer.write(FlowWriter.cells(flowTable()[1]), into: &out)
        let object = try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
        #expect(object?["src"] is NSNull && object?["dport"] is NSNull)
        #expect(object?["protocol"] as? String == "ARP" && object?["bytes"] as? Int == 60)
        #expect(object?.count == FlowWriter.flowColumns.count)
    }

    @Test func tableAlignsColumnsAndDashesAbsentValues() {
        let writer = FlowWriter(format: .table, columns: FlowWriter.flowColumns)
        var out: [UInt8] = []
        writer.table(flowTable().map(FlowWriter.cells), into: &out)
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(Set(lines.map(\.count)).count == 1)
        // Numbers are right-aligned: the packet counts end under the end of PACKETS.
        let end = lines[0].distance(from: lines[0].startIndex, to: lines[0].range(of: "PACKETS")!.upperBound)
        #expect(lines.dropFirst().allSatisfy { Array($0)[end - 1] == "1" && Array($0)[end] == " " })
        #expect(lines[2].contains("ARP") && lines[2].contains(" - "))
    }
}
