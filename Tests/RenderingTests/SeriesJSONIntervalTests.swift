import Foundation
import PacketRecords
import PacketWire
import Rendering
import Testing
import TrafficAnalysis

/// `SeriesWriter.jsonInterval`: the one JSON interval object of `analyze --format json` and of
/// `serve` (which adds drops and its own members after analyze's).
@Suite struct SeriesJSONIntervalTests {
    @Test func analyzesObjectIsAPrefixOfTheLiveOne() throws {
        var a = SeriesAnalyzer(intervalNs: sec, start: t0)
        a.add(rec(t0 + 1, 60, .tcp))
        a.add(rec(t0 + 2, 101, .udp))
        a.recordDrops(cumulative: DropCounters(kernel: 2, interface: 1, ring: 7), atTimeNs: t0 + 3)
        let s = try #require(a.closeIntervals(through: t0 + sec).first)
        var plain: [UInt8] = []
        SeriesWriter.jsonInterval(s, includeDrops: false, into: &plain)
        var live: [UInt8] = []
        SeriesWriter.jsonInterval(s, includeDrops: true, into: &live) { $0.append(ascii: ",\"extra\":1") }
        #expect(
            text(plain)
                == "{\"time\":1700000000.000000000,\"time_ns\":1700000000000000000,\"offset\":0,\"packets\":2,"
                + "\"bytes\":161,\"bits_per_second\":1288,\"min_length\":60,\"mean_length\":80.5,\"max_length\":101,"
                + "\"protocols\":{\"TCP\":{\"packets\":1,\"bytes\":60},\"UDP\":{\"packets\":1,\"bytes\":101}}}")
        #expect(
            text(live)
                == text(Array(plain.dropLast()))
                + ",\"drops\":{\"kernel\":2,\"interface\":1,\"ring\":7},\"late_packets\":0,\"extra\":1}")

        // analyze's JSON lines are the same object, one per line.
        var line: [UInt8] = []
        SeriesWriter(format: .json, protocols: .all).write(s, into: &line)
        #expect(line == plain + [UInt8(ascii: "\n")])
    }

    @Test func emptyIntervalHasNullLengths() throws {
        var a = SeriesAnalyzer(intervalNs: sec / 4, start: t0)
        a.add(rec(t0 + sec, 60, .tcp))
        let s = try #require(a.closeIntervals(through: t0 + sec).first)
        var out: [UInt8] = []
        SeriesWriter.jsonInterval(s, includeDrops: true, into: &out)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        #expect(o["min_length"] is NSNull && o["mean_length"] is NSNull && o["max_length"] is NSNull)
        #expect(o["bits_per_second"] as? Int == 0)
        #expect(text(out).contains("\"offset\":0,"))
    }
}
