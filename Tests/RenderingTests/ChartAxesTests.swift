import Foundation
import PacketRecords
import PacketWire
import Rendering
import TestSupport
import Testing
import TrafficAnalysis

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Time axis, size axis, outliers and the bytes line, read back from the SVG with FoundationXML.
@Suite struct ChartAxesTests {
    func svg(_ chart: ChartBuffer, _ a: SeriesAnalyzer, _ options: ChartOptions = ChartOptions()) throws -> XMLDocument
    {
        try XMLDocument(data: Data(SVGChart.render(chart, summary: a.summary, options: options)), options: [])
    }

    func texts(_ doc: XMLDocument) throws -> [String] {
        try doc.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
    }

    /// The vertices of the bytes line (`M x y L x y ...`).
    func linePoints(_ doc: XMLDocument) throws -> Int {
        let d = try #require(try doc.nodes(forXPath: "//*[local-name()='path'][@class='a']/@d").first?.stringValue)
        return d.filter { $0 == "M" || $0 == "L" }.count
    }

    /// Three days, a packet a minute, starting 2023-11-14T22:13:20Z.
    func threeDays(line: ChartBuffer.LineSource = .auto) -> (SeriesAnalyzer, ChartBuffer) {
        var records: [PacketRecord] = []
        for i in 0..<(3 * 1440) {
            let label: ProtocolLabel = i % 2 == 0 ? .tcp : .udp
            records.append(rec(t0 + Int64(i) * 60 * sec, UInt32(60 + i % 1400), label))
        }
        let (a, c, _) = analyze(records, intervalNs: 3600 * sec, line: line)
        return (a, c)
    }

    @Test func multiDaySpanHasClockAndDateLabels() throws {
        let (a, c) = threeDays()
        let doc = try svg(c, a)
        let labels = try texts(doc)
        // Ticks every 12 hours at UTC multiples, and the date under the first tick of each day.
        for label in ["00:00", "12:00", "2023-11-15", "2023-11-16", "2023-11-17"] {
            #expect(labels.contains(label), "no tick label \(label) in \(labels)")
        }
        #expect(labels.contains("time (UTC; the date under the first tick of each day)"))
        #expect(!labels.contains { $0.hasPrefix("time (s since") })
        #expect(!labels.contains("600000") && !labels.contains("200000"))
        // The same ticks in the gnuplot script, as explicit labels.
        let script = text(GnuplotScript.script(c, summary: a.summary, options: GnuplotOptions(terminal: .svg)))
        #expect(script.contains("set xtics (\"00:00\\n2023-11-15\" "))
        #expect(script.contains("\"12:00\" "))
        #expect(!script.contains("set xdata time"))
    }

    @Test func anHourOrLessKeepsOffsetSeconds() throws {
        let records = (0..<600).map { rec(t0 + Int64($0) * 6 * sec, 100) }  // one hour
        let (a, c, _) = analyze(records, line: .auto)
        let labels = try texts(try svg(c, a, ChartOptions(originNs: a.anchorNs)))
        #expect(labels.contains("0") && labels.contains("3000"))
        #expect(labels.contains { $0.hasPrefix("time (s since 2023-11-14T22:13:20") })
    }

    @Test func autoIntervalGivesAtMostAThousandLinePoints() throws {
        let (a, c) = threeDays()
        let doc = try svg(c, a)
        let n = try linePoints(doc)
        #expect(n <= 1000 && n >= 400, "\(n) line points")
        #expect(try texts(doc).contains("bytes per 5 min (auto)"))
        // A fixed 1 s interval over the same three days: means of round groups, also bounded.
        let (a2, c2) = threeDays(line: .intervals)
        let doc2 = try svg(c2, a2)
        #expect(try linePoints(doc2) <= 1000)
    }

    @Test func partialLastIntervalIsDrawnScaled() throws {
        // 1 KB every 10 ms for 2.7 s, 1 s intervals: the last covers 0.7 s.
        let records = (0..<270).map { rec(t0 + Int64($0) * 10_000_000, 1000) }
        let (a, c, _) = analyze(records)
        let doc = try svg(c, a)
        let scaled = try doc.nodes(forXPath: "//*[local-name()='circle'][@class='scaled']")
        #expect(scaled.count == 1)
        // Drawn at the height of the whole seconds (100 KB), not at 70 KB.
        let d = try #require(try doc.nodes(forXPath: "//*[local-name()='path'][@class='a']/@d").first?.stringValue)
        let ys = d.split(whereSeparator: { $0 == "M" || $0 == "L" }).map { Double($0.split(separator: " ")[1])! }
        #expect(ys.count == 3 && abs(ys[2] - ys[0]) < 1.5, "line heights \(ys)")
        let desc = try #require(try doc.nodes(forXPath: "//*[local-name()='desc']").first?.stringValue)
        #expect(desc.contains("scaled to a whole bin"))
    }

    /// 10,000 ordinary packets and 3 TSO segments of 32 KB.
    func withOutliers() -> (SeriesAnalyzer, ChartBuffer) {
        var records = syntheticRecords(count: 10_000, seconds: 10)
        for k in 1...3 { records.insert(rec(t0 + Int64(k) * 2 * sec, 32_768, .tcp), at: k * 2000) }
        let (a, c, _) = analyze(records)
        return (a, c)
    }

    @Test func outliersAreMarkedAndDoNotSquashTheRest() throws {
        let (a, c) = withOutliers()
        let doc = try svg(c, a)
        let labels = try texts(doc)
        // The size axis stops at 1,600 (a nice top over 1,518), not at 35,000.
        #expect(labels.contains("1.5k") && !labels.contains("30k") && !labels.contains("35k"))
        #expect(labels.contains("\u{25B2} 3 packets above 1600 B (largest 32768 B)"))
        let triangles = try #require(
            try doc.nodes(forXPath: "//*[local-name()='path'][@class='o']/@d").first?.stringValue)
        #expect(triangles.filter { $0 == "M" }.count == 3)
        // Every drawn mark stays inside the size panel, whose top edge is at y = 64: each mark is
        // `Mx y` then `h0` (a dot) or `Vy2` (a run).
        let marks = try doc.nodes(forXPath: "//*[local-name()='path'][@class='m']/@d").compactMap(\.stringValue)
        let ys = marks.joined().split(separator: "M").flatMap { m in
            m.replacingOccurrences(of: "h0", with: "").split(whereSeparator: { $0 == " " || $0 == "V" }).dropFirst()
        }.compactMap { Double($0) }
        #expect(ys.count > 100 && ys.allSatisfy { $0 >= 64 }, "\(ys.min() ?? 0)")

        // --y-max 500: everything above is counted.
        let low = try texts(try svg(c, a, ChartOptions(yMax: 500)))
        let above = c.packets(longerThan: 500)
        #expect(low.contains("\u{25B2} \(above) packets above 500 B (largest 32768 B)"))
        #expect(low.contains("500") && !low.contains("600"))
    }

    @Test func logScale() throws {
        let (a, c) = withOutliers()
        let doc = try svg(c, a, ChartOptions(logScale: true))
        let labels = try texts(doc)
        for label in ["10", "100", "1k", "10k", "100k"] { #expect(labels.contains(label), "no \(label) in \(labels)") }
        #expect(labels.contains("packet size (bytes, log scale)"))
        #expect(try doc.nodes(forXPath: "//*[local-name()='path'][@class='o']").isEmpty)  // everything fits
        let script = text(
            GnuplotScript.script(
                c, summary: a.summary, chartOptions: ChartOptions(logScale: true),
                options: GnuplotOptions(terminal: .svg)))
        #expect(script.contains("set logscale y 10\nset yrange [10:100000]\n"))
    }
}
