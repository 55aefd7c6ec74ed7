import Foundation
import PacketRecords
import PacketWire
import TestSupport
import Testing
import TrafficAnalysis

/// The series half of the conformance contract, without reading captures: the corpus's per-packet
/// reference rows (`NAME.ref.csv`: timestamp, length, protocol as tshark saw them) go through the
/// analyzer at `--interval 1`, and the bins must equal tshark's `io,stat` (`NAME.series.csv`).
@Suite struct ConformanceSeriesTests {
    static let cases: [String] = {
        guard let dir = TestPaths.conformanceCaptures,
            let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".series.csv") }.map { String($0.dropLast(".series.csv".count)) }.sorted()
    }()

    /// `1700000000.123456000` → nanoseconds, exactly.
    static func nanoseconds(_ text: Substring) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = Int64(parts[0]), parts[1].count == 9, let f = Int64(parts[1]) else {
            return nil
        }
        return s * 1_000_000_000 + (text.hasPrefix("-") ? -f : f)
    }

    @Test(.enabled(if: !cases.isEmpty), arguments: cases)
    func seriesMatchesTshark(name: String) throws {
        let dir = try #require(TestPaths.conformanceCaptures)
        let ref = try String(contentsOf: dir.appendingPathComponent(name + ".ref.csv"), encoding: .utf8)
        let expected = try String(contentsOf: dir.appendingPathComponent(name + ".series.csv"), encoding: .utf8)
        var lines = ref.split(separator: "\n")
        let header = lines.removeFirst().split(separator: ",")
        let ti = try #require(header.firstIndex(of: "timestamp"))
        let li = try #require(header.firstIndex(of: "length"))
        let pi = header.firstIndex(of: "protocol")
        var analyzer = SeriesAnalyzer(intervalNs: 1_000_000_000)
        for line in lines {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            let t = try #require(Self.nanoseconds(cells[ti]), "\(line)")
            let len = try #require(UInt32(cells[li]))
            let label = pi.flatMap { ProtocolLabel(name: cells[$0]) } ?? .other
            analyzer.add(PacketRecord(timestampNs: t, length: len, captured: len, label: label))
        }
        var got: [Int64: (UInt64, UInt64)] = [:]
        for s in analyzer.finish() where s.packets > 0 { got[s.index] = (s.packets, s.bytes) }
        var want: [Int64: (UInt64, UInt64)] = [:]
        for row in expected.split(separator: "\n").dropFirst() {
            let c = row.split(separator: ",")
            let offset = try #require(Double(c[0]))
            let packets = try #require(UInt64(c[1]))
            let bytes = try #require(UInt64(c[2]))
            if packets > 0 || bytes > 0 { want[Int64(offset.rounded())] = (packets, bytes) }
        }
        #expect(got.keys.sorted() == want.keys.sorted())
        for (k, v) in want {
            #expect(got[k]?.0 == v.0 && got[k]?.1 == v.1, "interval \(k)")
        }
        #expect(analyzer.summary.latePackets == 0 && analyzer.lateIntervalCount == 0)
    }
}
