import Foundation
import TestSupport
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Three days of UDP, TCP and unlabelled frames, one every 30 s, from 2023-11-14T22:13:20Z, with
/// one 32 KB TCP segment (a TSO super-packet, only its first bytes captured).
private func multiDayCapture() throws -> URL {
    let file = TestPaths.temporaryDirectory().appendingPathComponent("days.pcap")
    var b = PcapBuilder()
    let udp = PcapBuilder.udpFrame(payload: 200)
    var tcp = PcapBuilder.udpFrame(payload: 900)
    tcp[23] = 6
    let other = [UInt8](repeating: 0, count: 60)
    for i in 0..<(3 * 2880) {
        let frame = [udp, tcp, other][i % 3]
        b.add(
            seconds: 1_700_000_000 + UInt32(i * 30), fraction: 0, bytes: frame, originalLength: i == 5000 ? 32_768 : nil
        )
    }
    try b.write(to: file)
    return file
}

/// Bytes of `url`, or nil when it does not exist.
private func contents(_ url: URL) -> Data? { try? Data(contentsOf: url) }

/// The files in `dir` other than `keep` (temporary files must not be left behind).
private func leftovers(_ dir: URL, keep: Set<String>) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !keep.contains($0) }
}

@Suite("chart output")
struct ChartOutputTests {
    @Test(arguments: ["svg", "gnuplot", "png"])
    func aFailedAnalyzeLeavesTheOldChartAlone(_ format: String) throws {
        if format == "png" { try requireTool("gnuplot") }
        let dir = TestPaths.temporaryDirectory()
        let chart = dir.appendingPathComponent("good.\(format == "gnuplot" ? "gp" : format)")
        let old = Data("the old chart\n".utf8)
        try old.write(to: chart)
        // A missing input, then a damaged one.
        let cut = dir.appendingPathComponent("cut.pcap")
        var damaged = PcapBuilder.udpCapture(count: 2500)
        damaged.put32(7)
        try damaged.write(to: cut)
        for input in [dir.appendingPathComponent("nonexist.pcap").path, cut.path] {
            let r = try pktstat(["analyze", input, "--format", format, "-o", chart.path])
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(contents(chart) == old, "\(format) chart replaced after a failed read of \(input)")
            #expect(!(r.stdout + r.stderr).contains("written to"))
        }
        #expect(try leftovers(dir, keep: [chart.lastPathComponent, "cut.pcap"]).isEmpty)
        // A good input replaces it whole.
        let ok = try pktstat(["analyze", try multiDayCapture().path, "--format", format, "-o", chart.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        let new = try #require(contents(chart))
        #expect(new != old && new.count > 1000)
        #expect(try leftovers(dir, keep: [chart.lastPathComponent, "cut.pcap"]).isEmpty)
    }

    @Test func symbolicLinksStayLinks() throws {
        let dir = TestPaths.temporaryDirectory()
        let fm = FileManager.default
        // A link to our standard output (as /dev/stdout is): written in place, never renamed over.
        let toStdout = dir.appendingPathComponent("stdout.svg")
        try fm.createSymbolicLink(atPath: toStdout.path, withDestinationPath: "/proc/self/fd/1")
        let r = try pktstat(["analyze", try knownCapture().path, "--format", "svg", "-o", toStdout.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("<?xml"))
        #expect(try fm.destinationOfSymbolicLink(atPath: toStdout.path) == "/proc/self/fd/1")
        // A link to a regular file: the file is replaced, the link stays.
        let real = dir.appendingPathComponent("real.svg")
        try Data("old".utf8).write(to: real)
        let link = dir.appendingPathComponent("link.svg")
        try fm.createSymbolicLink(atPath: link.path, withDestinationPath: real.path)
        let r2 = try pktstat(["analyze", try knownCapture().path, "--format", "svg", "-o", link.path])
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(try fm.destinationOfSymbolicLink(atPath: link.path) == real.path)
        #expect(try String(contentsOf: real, encoding: .utf8).hasPrefix("<?xml"))
        #expect(try leftovers(dir, keep: ["stdout.svg", "real.svg", "link.svg"]).isEmpty)
    }

    @Test func sniffPlotIsWrittenOnlyAfterAGoodRead() throws {
        let dir = TestPaths.temporaryDirectory()
        let plot = dir.appendingPathComponent("p.svg")
        let old = Data("old plot\n".utf8)
        try old.write(to: plot)
        let bad = try pktstat(["sniff", "-r", dir.appendingPathComponent("nonexist.pcap").path, "--plot", plot.path])
        #expect(bad.status == 1)
        #expect(!bad.stderr.contains("written to"), "\(bad.stderr)")
        #expect(contents(plot) == old)
        let good = try pktstat(["sniff", "-r", try multiDayCapture().path, "--plot", plot.path, "--format", "csv"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stderr.contains("chart written to \(plot.path)"))
        let doc = try XMLDocument(contentsOf: plot)
        #expect(doc.rootElement()?.name == "svg")
        #expect(try leftovers(dir, keep: ["p.svg"]).isEmpty)
    }

    @Test func multiDayChartThroughTheBinary() throws {
        let r = try pktstat(["analyze", try multiDayCapture().path, "--format", "svg"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try XMLDocument(data: r.stdoutData, options: [])
        let texts = try doc.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains("2023-11-15") && texts.contains("12:00"))
        #expect(texts.contains("bytes per 5 min (auto)"))
        #expect(texts.contains("\u{25B2} 1 packet above 1600 B (largest 32768 B)"))
        let d = try #require(try doc.nodes(forXPath: "//*[local-name()='path'][@class='a']/@d").first?.stringValue)
        let points = d.filter { $0 == "M" || $0 == "L" }.count
        #expect(points <= 1000 && points > 500, "\(points) line points")
        // A fixed 1 s interval over three days is still at most about 1,000 points.
        let fixed = try pktstat(["analyze", try multiDayCapture().path, "--format", "svg", "--interval", "1"])
        let d2 = try #require(
            try XMLDocument(data: fixed.stdoutData, options: [])
                .nodes(forXPath: "//*[local-name()='path'][@class='a']/@d").first?.stringValue)
        #expect(d2.filter { $0 == "M" || $0 == "L" }.count <= 1000)
        let rows = try pktstat(["analyze", try multiDayCapture().path, "--format", "csv", "--interval", "auto"])
        #expect(rows.status == 64 && rows.stderr.contains("--interval auto is for charts"))
    }

    @Test func dumbGnuplotGivesEachProtocolItsCharacter() throws {
        let gnuplot = try requireTool("gnuplot")
        let dir = TestPaths.temporaryDirectory()
        let script = dir.appendingPathComponent("c.gp")
        let r = try pktstat([
            "analyze", try multiDayCapture().path, "--format", "gnuplot", "--terminal", "dumb", "-o", script.path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let g = try run(gnuplot, [script.path])
        #expect(g.status == 0, "\(g.stderr)")
        let lines = g.stdout.split(separator: "\n").map(String.init)
        for (ch, name) in [("U", "UDP (2880)"), ("T", "TCP (2880)"), ("?", "other (2880)")] {
            #expect(lines.contains { $0.contains("\(ch) \(name)") || $0.contains("\(name) \(ch)") }, "no key \(name)")
            let plotted = lines.filter { $0.contains("|") }.map { $0.replacingOccurrences(of: name, with: "") }.joined()
            #expect(plotted.filter { String($0) == ch }.count >= 10, "\(ch) hardly drawn:\n\(g.stdout)")
        }
        #expect(g.stdout.contains("^"))  // the 32 KB segment, on the top edge
    }

    @Test func logAndYMaxReachGnuplot() throws {
        try requireTool("gnuplot")
        let dir = TestPaths.temporaryDirectory()
        let png = dir.appendingPathComponent("log.png")
        let r = try pktstat(["analyze", try multiDayCapture().path, "--format", "png", "--log", "-o", png.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Array(try Data(contentsOf: png).prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        let y = try pktstat(["analyze", try multiDayCapture().path, "--format", "gnuplot", "--y-max", "300"])
        #expect(y.stdout.contains("set yrange [0:300]"))
        #expect(y.stdout.contains("2880 packets above 300 B") || y.stdout.contains("packets above 300 B"))
    }
}
