import Foundation
import PacketRecords
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

@Suite struct SummaryWriterTests {
    func sample() -> Summary {
        var s = Summary()
        s.add(rec(t0, 60, .tcp))
        s.add(rec(t0 + 2 * sec, 1514, .udp))
        s.drops = DropCounters(kernel: 1, interface: 2, ring: 3)
        return s
    }

    @Test func textLines() {
        var out: [UInt8] = []
        SummaryWriter.text(sample(), into: &out)
        #expect(
            text(out) == """
                packets: 2, bytes: 1574 (captured 156)
                time: 2023-11-14T22:13:20.000000000Z to 2023-11-14T22:13:22.000000000Z (2 s)
                rate: 1 packets/s, 6.3 kbit/s
                length: min 60, mean 787, max 1514
                protocols: TCP 1 UDP 1
                sizes: 40-79:1 1280-2559:1
                drops: kernel 1, interface 2, ring 3

                """)
        var empty: [UInt8] = []
        SummaryWriter.text(Summary(), into: &empty)
        #expect(text(empty) == "packets: 0, bytes: 0 (captured 0)\ndrops: kernel 0, interface 0, ring 0\n")
    }

    @Test func jsonParses() throws {
        var out: [UInt8] = []
        SummaryWriter.json(sample(), into: &out)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(o["packets"] as? Int == 2 && o["bits_per_second"] as? Int == 6296)
        #expect((o["drops"] as? [String: Int]) == ["kernel": 1, "interface": 2, "ring": 3])
        #expect((o["sizes"] as? [Any])?.count == 10)
        var empty: [UInt8] = []
        SummaryWriter.json(Summary(), into: &empty)
        _ = try JSONSerialization.jsonObject(with: Data(empty))
    }
}
