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

@Suite struct SVGChartTests {
    /// Parses the SVG with FoundationXML and returns the document.
    func parse(_ svg: [UInt8]) throws -> XMLDocument {
        try XMLDocument(data: Data(svg), options: [])
    }

    func elements(_ doc: XMLDocument, _ xpath: String) throws -> [XMLNode] {
        try doc.nodes(forXPath: xpath)
    }

    /// xmllint --noout and rsvg-convert (both required: scripts/install-deps installs them).
    func checkWithTools(_ svg: [UInt8], name: String) throws {
        let file = try writeTemporary(svg, name: name)
        let xmllint = try requireTool("xmllint")
        let lint = try run(xmllint, ["--noout", file.path])
        #expect(lint.status == 0, "xmllint: \(lint.stderr)")
        let rsvg = try requireTool("rsvg-convert")
        let png = file.deletingPathExtension().appendingPathExtension("png")
        let r = try run(rsvg, ["-o", png.path, file.path], timeout: 120)
        #expect(r.status == 0, "rsvg-convert: \(r.stderr)")
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }

    @Test func smallCaptureIsExactAndWellFormed() throws {
        var records: [PacketRecord] = []
        for i in 0..<100 {
            let label: ProtocolLabel = i % 3 == 0 ? .udp : .tcp
            records.append(rec(t0 + Int64(i) * 50_000_000, UInt32(60 + (i * 37) % 1400), label))
        }
        let (analyzer, chart, _) = analyze(records)
        #expect(chart.isExact)
        let svg = SVGChart.render(
            chart, summary: analyzer.summary, options: ChartOptions(title: "100 packets", originNs: analyzer.anchorNs))
        let doc = try parse(svg)
        let root = try #require(doc.rootElement())
        #expect(root.name == "svg")
        #expect(try elements(doc, "/*[local-name()='svg']/@viewBox").first?.stringValue == "0 0 960 540")
        #expect(try elements(doc, "/*[local-name()='svg']/*[local-name()='title']").first?.stringValue == "100 packets")
        let desc = try #require(try elements(doc, "/*[local-name()='svg']/*[local-name()='desc']").first?.stringValue)
        #expect(desc.contains("100 packets") && desc.contains("drops: kernel 0, interface 0, ring 0"))
        // One path per protocol with one dot per packet, colours from the palette.
        let d = try #require(
            try elements(doc, "//*[local-name()='path'][@class='m'][@stroke='\(ChartText.color(.tcp))']/@d").first?
                .stringValue)
        #expect(d.components(separatedBy: "M").count - 1 == 66)
        // Legend with counts, time axis labels from 0 to 5 s.
        let texts = try elements(doc, "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains("TCP (66)") && texts.contains("UDP (34)"))
        #expect(texts.contains("0") && texts.contains("5"))
        #expect(texts.contains("bytes per 1 s"))
        try checkWithTools(svg, name: "small.svg")
    }

    /// A summary of two packets `seconds` apart with `bytes` between them.
    static func summary(bytes: UInt32, seconds: Int64) -> Summary {
        var s = Summary()
        s.add(rec(t0, bytes / 2))
        s.add(rec(t0 + seconds * sec, bytes - bytes / 2))
        return s
    }

    /// The subtitle writes quantities with a space and the SI prefix on the unit.
    @Test func subtitleUnits() throws {
        #expect(
            ChartText.shortSummary(Self.summary(bytes: 325, seconds: 8))
                == "2 packets, 325 B in 8 s, 325 bit/s; drops: kernel 0, interface 0, ring 0")
        #expect(
            ChartText.shortSummary(Self.summary(bytes: 1_200, seconds: 1))
                == "2 packets, 1.2 kB in 1 s, 9.6 kbit/s; drops: kernel 0, interface 0, ring 0")
        #expect(
            ChartText.shortSummary(Self.summary(bytes: 24_500_000, seconds: 8))
                == "2 packets, 24.5 MB in 8 s, 24.5 Mbit/s; drops: kernel 0, interface 0, ring 0")
        let line = ChartText.summaryLine(Self.summary(bytes: 24_500_000, seconds: 8))
        #expect(line.contains(" (8 s), 24.5 Mbit/s, length min/mean/max "), "\(line)")
        // The SVG carries both: the subtitle as text, the long line in <desc>.
        let records = [rec(t0, 100), rec(t0 + 8 * sec, 225)]
        let (analyzer, chart, _) = analyze(records)
        let svg = SVGChart.render(chart, summary: analyzer.summary, options: ChartOptions(title: "units"))
        let doc = try parse(svg)
        let texts = try elements(doc, "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains("2 packets, 325 B in 8 s, 325 bit/s; drops: kernel 0, interface 0, ring 0"))
        let desc = try #require(try elements(doc, "/*[local-name()='svg']/*[local-name()='desc']").first?.stringValue)
        #expect(desc.contains(", 325 bit/s, "), "\(desc)")
    }

    @Test func millionPacketsStayUnder500KB() throws {
        let records = syntheticRecords(count: 1_000_000, seconds: 60)
        let clock = ContinuousClock()
        let start = clock.now
        let (analyzer, chart, series) = analyze(records)
        let svg = SVGChart.render(
            chart, summary: analyzer.summary,
            options: ChartOptions(title: "1,000,000 packets", originNs: analyzer.anchorNs))
        let elapsed = clock.now - start
        #expect(!chart.isExact)
        #expect(series.count == 60)
        #expect(svg.count < 500_000, "SVG is \(svg.count) bytes")
        print("1,000,000-packet SVG: \(svg.count) bytes, analysis and rendering took \(elapsed)")
        let doc = try parse(svg)
        let paths = try elements(doc, "//*[local-name()='path'][@class='m'][@stroke!='#333']")
        #expect(paths.count == 4)  // ARP, TCP, UDP, ICMP
        let texts = try elements(doc, "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains { $0.hasPrefix("TCP (") })
        try checkWithTools(svg, name: "million.svg")

        // The same capture with every protocol present and random sizes still fits.
        var rng = XorShift(state: 7)
        let all = ProtocolLabel.allCases
        let dense = (0..<1_000_000).map { i in
            rec(t0 + Int64(i) * 60_000, UInt32(40 + rng.below(9000)), all[Int(rng.below(UInt64(all.count)))])
        }
        let (a2, c2, _) = analyze(dense)
        let svg2 = SVGChart.render(c2, summary: a2.summary, options: ChartOptions(title: "every protocol"))
        #expect(svg2.count < 500_000, "SVG is \(svg2.count) bytes")
        print("1,000,000 packets, 17 protocols, random sizes: \(svg2.count) bytes")
        _ = try parse(svg2)
    }

    @Test func emptyCaptureSaysSo() throws {
        let chart = ChartBuffer()
        let svg = SVGChart.render(chart, summary: Summary(), options: ChartOptions(title: "nothing"))
        let doc = try parse(svg)
        let texts = try elements(doc, "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains("No packets captured"))
        #expect(try elements(doc, "//*[local-name()='path']").isEmpty)
        try checkWithTools(svg, name: "empty.svg")
    }

    @Test func onePacket() throws {
        let (analyzer, chart, _) = analyze([rec(t0, 1500, .udp)])
        let svg = SVGChart.render(chart, summary: analyzer.summary)
        let doc = try parse(svg)
        #expect(try elements(doc, "//*[local-name()='path'][@class='m']").count >= 1)
        try checkWithTools(svg, name: "one.svg")
    }

    @Test func textIsEscaped() throws {
        let title = "a<b> & \"c\" 'd' \\ `e` \u{1}\nf"
        let (analyzer, chart, _) = analyze([rec(t0, 60), rec(t0 + sec, 70)])
        let svg = SVGChart.render(chart, summary: analyzer.summary, options: ChartOptions(title: title))
        let doc = try parse(svg)
        let parsed = try #require(
            try elements(doc, "/*[local-name()='svg']/*[local-name()='title']").first?.stringValue)
        #expect(parsed == "a<b> & \"c\" 'd' \\ `e` \u{FFFD}\nf")
        #expect(ChartText.xmlEscaped("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;")
        try checkWithTools(svg, name: "escaped.svg")
    }

    @Test func clockLabels() throws {
        let records = (0..<50).map { rec(t0 + Int64($0) * 200_000_000, 100) }
        let (analyzer, chart, _) = analyze(records)
        let svg = SVGChart.render(
            chart, summary: analyzer.summary, options: ChartOptions(timeLabels: .clock, originNs: analyzer.anchorNs))
        let texts = try elements(try parse(svg), "//*[local-name()='text']").compactMap(\.stringValue)
        // 1_700_000_000 is 2023-11-14T22:13:20Z.
        #expect(texts.contains("22:13:20") && texts.contains("22:13:30"))
        #expect(texts.contains { $0.hasPrefix("time (UTC, 2023-11-14") })
    }
}
