import Foundation
import PacketRecords
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

@Suite struct SeriesWriterTests {
    func series(intervalNs: Int64 = sec) -> ([IntervalStats], ProtocolSet) {
        var a = SeriesAnalyzer(intervalNs: intervalNs)
        a.add(rec(t0 + 123_456_789, 60, .tcp))
        a.add(rec(t0 + 223_456_789, 101, .udp))
        a.add(rec(t0 + 1_123_456_789, 1514, .tcp))
        a.add(rec(t0 + 3_123_456_789, 42, .arp))
        return (a.finish(), a.protocolsSeen)
    }

    @Test func csvWideKnownAnswer() {
        let (s, protocols) = series()
        var out: [UInt8] = []
        SeriesWriter(format: .csv, protocols: protocols).write(s, into: &out)
        #expect(
            text(out) == """
                time,offset,packets,bytes,bits_per_second,min_length,mean_length,max_length,packets_ARP,bytes_ARP,packets_TCP,bytes_TCP,packets_UDP,bytes_UDP
                1700000000.123456789,0,2,161,1288,60,80.5,101,0,0,1,60,1,101
                1700000001.123456789,1,1,1514,12112,1514,1514,1514,0,0,1,1514,0,0
                1700000002.123456789,2,0,0,0,,,,0,0,0,0,0,0
                1700000003.123456789,3,1,42,336,42,42,42,1,42,0,0,0,0

                """)
    }

    @Test func offsetsAreDecimalForFractionalIntervals() {
        let (s, protocols) = series(intervalNs: 250_000_000)
        var out: [UInt8] = []
        SeriesWriter(format: .csv, protocols: protocols).write(s, into: &out)
        let offsets = text(out).split(separator: "\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false)[1]
        }
        #expect(offsets.prefix(6) == ["0", "0.25", "0.5", "0.75", "1", "1.25"])
        let bps = text(out).split(separator: "\n")[1].split(separator: ",", omittingEmptySubsequences: false)[4]
        #expect(bps == "5152")  // 161 bytes in 0.25 s

        var thirds = SeriesAnalyzer(intervalNs: 3 * sec)
        thirds.add(rec(t0, 1))
        var o2: [UInt8] = []
        SeriesWriter(format: .csv, protocols: thirds.protocolsSeen).write(thirds.finish(), into: &o2)
        #expect(text(o2).contains(",0,1,1,2.667,1,1,1,"))  // 8 bits in 3 s, rounded to 3 decimals
    }

    @Test func csvByProtocol() {
        let (s, protocols) = series()
        var out: [UInt8] = []
        SeriesWriter(format: .csv, layout: .byProtocol, protocols: protocols).write(Array(s.prefix(2)), into: &out)
        #expect(
            text(out) == """
                time,offset,protocol,packets,bytes,bits_per_second,mean_length
                1700000000.123456789,0,ARP,0,0,0,
                1700000000.123456789,0,TCP,1,60,480,60
                1700000000.123456789,0,UDP,1,101,808,101
                1700000001.123456789,1,ARP,0,0,0,
                1700000001.123456789,1,TCP,1,1514,12112,1514
                1700000001.123456789,1,UDP,0,0,0,

                """)
    }

    @Test func csvWithDrops() {
        var a = SeriesAnalyzer(intervalNs: sec, start: t0)
        a.add(rec(t0 + 1, 100))
        a.recordDrops(cumulative: DropCounters(kernel: 2, interface: 1, ring: 7), atTimeNs: t0 + 2)
        var out: [UInt8] = []
        let w = SeriesWriter(format: .csv, protocols: ProtocolSet([.tcp]), includeDrops: true)
        w.write(a.closeIntervals(through: t0 + sec), into: &out)
        #expect(
            text(out) == """
                time,offset,packets,bytes,bits_per_second,min_length,mean_length,max_length,kernel_drops,interface_drops,ring_drops,late_packets,packets_TCP,bytes_TCP
                1700000000.000000000,0,1,100,800,100,100,100,2,1,7,0,1,100

                """)
    }

    @Test func jsonLinesParse() throws {
        let (s, protocols) = series()
        var out: [UInt8] = []
        SeriesWriter(format: .json, protocols: protocols, includeDrops: true).write(s, into: &out)
        let lines = text(out).split(separator: "\n")
        #expect(lines.count == 4)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["time_ns"] as? Int64 == t0 + 123_456_789)
        #expect(first["offset"] as? Int == 0)
        #expect(first["packets"] as? Int == 2)
        #expect(first["bytes"] as? Int == 161)
        #expect(first["mean_length"] as? Double == 80.5)
        let protos = try #require(first["protocols"] as? [String: [String: Int]])
        #expect(protos == ["TCP": ["packets": 1, "bytes": 60], "UDP": ["packets": 1, "bytes": 101]])
        #expect((first["drops"] as? [String: Int])?["ring"] == 0)
        #expect(first["late_packets"] as? Int == 0)
        let empty = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect(empty["min_length"] is NSNull && empty["mean_length"] is NSNull)
        #expect(String(lines[0]).hasPrefix("{\"time\":1700000000.123456789,"))

        var long: [UInt8] = []
        SeriesWriter(format: .json, layout: .byProtocol, protocols: protocols).write(s, into: &long)
        let rows = text(long).split(separator: "\n")
        #expect(rows.count == 12)
        for row in rows { _ = try JSONSerialization.jsonObject(with: Data(row.utf8)) }
        #expect(rows[1].contains("\"protocol\":\"TCP\",\"packets\":1,\"bytes\":60"))
    }

    @Test func tableIsAligned() {
        let (s, protocols) = series()
        var out: [UInt8] = []
        SeriesWriter(format: .table, protocols: protocols).write(s, into: &out)
        let lines = text(out).split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[0].contains("OFFSET") && lines[0].contains("TCP"))
        #expect(Set(lines.map(\.count)).count == 1)  // right-aligned columns: equal widths
        #expect(lines[1].contains("80.5") && lines[1].contains("1.29k"))
        #expect(lines[3].contains(" - "))

        var long: [UInt8] = []
        SeriesWriter(format: .table, layout: .byProtocol, protocols: protocols).write(s, into: &long)
        #expect(text(long).split(separator: "\n").count == 13)
    }

    /// A live table (drops and late packets) with four protocols fits 120 columns; the late count
    /// is its own column.
    @Test func liveTableWithAFewProtocolsFits120Columns() {
        var a = SeriesAnalyzer(intervalNs: sec, start: t0, late: .counted)
        for (i, p) in [ProtocolLabel.tcp, .udp, .icmp, .arp].enumerated() {
            a.add(rec(t0 + 2 * sec + Int64(i), 1514, p))
        }
        _ = a.closeIntervals(through: t0 + 2 * sec)
        a.add(rec(t0 + sec, 100, .tcp))  // row 1 was printed: late, counted in row 2
        a.recordDrops(cumulative: DropCounters(kernel: 3, interface: 1, ring: 2), atTimeNs: t0 + 2 * sec + 5)
        var out: [UInt8] = []
        SeriesWriter(format: .table, protocols: a.protocolsSeen, includeDrops: true).write(a.finish(), into: &out)
        let lines = text(out).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.count <= 120 }, "\(lines.map(\.count))")
        let header = lines[0].split(separator: " ").map(String.init)
        let row = lines[1].split(separator: " ").map(String.init)
        #expect(header.count == row.count && header.count == 13)
        let cell = Dictionary(uniqueKeysWithValues: zip(header, row))
        #expect(cell["DROPS"] == "6" && cell["LATE"] == "1" && cell["PACKETS"] == "4")
        #expect(cell["TCP"] == "1" && cell["ARP"] == "1" && cell["ICMP"] == "1")
    }

    @Test func csvHeaderWithoutProtocols() {
        var out: [UInt8] = []
        SeriesWriter(format: .csv, protocols: ProtocolSet()).writeHeader(into: &out)
        #expect(text(out) == "time,offset,packets,bytes,bits_per_second,min_length,mean_length,max_length\n")
        out.removeAll()
        SeriesWriter(format: .json, protocols: .all).writeHeader(into: &out)
        #expect(out.isEmpty)
    }
}
