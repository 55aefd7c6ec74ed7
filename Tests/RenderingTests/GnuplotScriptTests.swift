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

private let gnuplot = TestPaths.tool("gnuplot")

/// pngcairo when this gnuplot has it, else png.
private let pngTerminal: GnuplotTerminal = {
    guard let gnuplot, let r = try? run(gnuplot, ["-e", "set terminal"]) else { return .png }
    return (r.stdout + r.stderr).contains("pngcairo") ? .pngcairo : .png
}()

private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

@Suite struct GnuplotScriptTests {
    func sample(count: Int = 300) -> (SeriesAnalyzer, ChartBuffer) {
        var records: [PacketRecord] = []
        for i in 0..<count {
            let label: ProtocolLabel = [.tcp, .udp, .icmp][i % 3]
            records.append(rec(t0 + Int64(i) * 20_000_000, UInt32(60 + (i * 53) % 1450), label))
        }
        let (a, c, _) = analyze(records)
        return (a, c)
    }

    /// Runs a script file through gnuplot; returns the result.
    func runScript(_ script: [UInt8], in dir: URL) throws -> RunResult {
        let file = dir.appendingPathComponent("chart.gp")
        try Data(script).write(to: file)
        return try run(gnuplot!, [file.path], timeout: 120)
    }

    @Test(.enabled(if: gnuplot != nil), arguments: [GnuplotTerminal.svg, .png, .pngcairo, .dumb])
    func everyTerminalRuns(terminal: GnuplotTerminal) throws {
        let t = terminal == .pngcairo ? pngTerminal : terminal
        let (a, c) = sample()
        let dir = TestPaths.temporaryDirectory()
        let ext = t == .svg ? "svg" : t == .dumb ? "txt" : "png"
        let out = dir.appendingPathComponent("chart.\(ext)")
        let script = GnuplotScript.script(
            c, summary: a.summary, chartOptions: ChartOptions(title: "gnuplot \(t.rawValue)", originNs: a.anchorNs),
            options: GnuplotOptions(
                terminal: t, output: out.path, commandLine: "pktstat analyze x.pcap --format gnuplot"))
        let r = try runScript(script, in: dir)
        #expect(r.status == 0, "gnuplot: \(r.stderr)")
        #expect(!r.stderr.contains("warning"), "gnuplot: \(r.stderr)")
        let bytes = [UInt8](try Data(contentsOf: out))
        switch t {
        case .png, .pngcairo:
            #expect(Array(bytes.prefix(8)) == pngSignature)
        case .svg:
            let doc = try XMLDocument(data: Data(bytes), options: [])
            #expect(doc.rootElement()?.name == "svg")
        case .dumb:
            #expect(text(bytes).contains("time (s since 2023-11-14T22:13:20.000Z)"))
            #expect(text(bytes).contains("TCP (100)"))
        }
    }

    @Test(.enabled(if: gnuplot != nil))
    func scriptOnStdinWritesToStdout() throws {
        let (a, c) = sample()
        let script = GnuplotScript.script(c, summary: a.summary, options: GnuplotOptions(terminal: .dumb))
        let file = try writeTemporary(script, name: "stdin.gp")
        let r = try run(gnuplot!, [], stdin: file)
        #expect(r.status == 0, "gnuplot: \(r.stderr)")
        #expect(r.stdout.contains("G*bytes") && r.stdout.contains("time (s since"))  // the line's key, the axis
        let png = GnuplotScript.script(c, summary: a.summary, options: GnuplotOptions(terminal: pngTerminal))
        let r2 = try run(gnuplot!, [], stdin: try writeTemporary(png, name: "png.gp"))
        #expect(r2.status == 0, "gnuplot: \(r2.stderr)")
        #expect(Array(r2.stdoutData.prefix(8)) == pngSignature)
    }

    @Test(.enabled(if: gnuplot != nil))
    func hostileStringsAreEscaped() throws {
        let dir = TestPaths.temporaryDirectory()
        let marker = dir.appendingPathComponent("INJECTED")
        let title = "say \"hi\" \\ `touch \(marker.path)` $x @y\nline two\ttab \\"
        let (a, c) = sample(count: 20)
        let out = dir.appendingPathComponent("title \"odd\" `name`.svg")
        let script = GnuplotScript.script(
            c, summary: a.summary, chartOptions: ChartOptions(title: title),
            options: GnuplotOptions(
                terminal: .svg, output: out.path, commandLine: "pktstat --title '\(title)'\n!touch \(marker.path) \\"))
        let r = try runScript(script, in: dir)
        #expect(r.status == 0, "gnuplot: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        let svg = try XMLDocument(data: try Data(contentsOf: out), options: [])
        // gnuplot puts the multiplot title in the SVG: the text came through unchanged.
        let texts = try svg.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue).joined(
            separator: "\n")
        #expect(texts.contains("say \"hi\" \\ `touch"))
        #expect(GnuplotScript.quoted("a\"b\\c`d\ne\tf") == "\"a\\\"b\\\\c\\`d\\ne\\tf\"")
        #expect(GnuplotScript.quoted("\u{1}") == "\"\\001\"")
        // No raw newline from the strings: every header line is a comment.
        let header = text(script).split(separator: "\n").prefix(4)
        #expect(header.allSatisfy { $0.hasPrefix("#") })
    }

    @Test(.enabled(if: gnuplot != nil))
    func emptyCaptureScriptRuns() throws {
        let dir = TestPaths.temporaryDirectory()
        let out = dir.appendingPathComponent("empty.svg")
        let script = GnuplotScript.script(
            ChartBuffer(), summary: Summary(), options: GnuplotOptions(terminal: .svg, output: out.path))
        let r = try runScript(script, in: dir)
        #expect(r.status == 0, "gnuplot: \(r.stderr)")
        #expect(text([UInt8](try Data(contentsOf: out))).contains("No packets captured"))
    }

    @Test(.enabled(if: gnuplot != nil))
    func millionPacketsClockLabels() throws {
        let records = syntheticRecords(count: 1_000_000, seconds: 60)
        let (a, c, _) = analyze(records)
        let dir = TestPaths.temporaryDirectory()
        let out = dir.appendingPathComponent("million.png")
        let script = GnuplotScript.script(
            c, summary: a.summary, chartOptions: ChartOptions(title: "1M", timeLabels: .clock, originNs: a.anchorNs),
            options: GnuplotOptions(terminal: pngTerminal, output: out.path))
        #expect(script.count < 1_000_000, "script is \(script.count) bytes")
        print("1,000,000-packet gnuplot script: \(script.count) bytes")
        let r = try runScript(script, in: dir)
        #expect(r.status == 0, "gnuplot: \(r.stderr)")
        #expect(Array([UInt8](try Data(contentsOf: out)).prefix(8)) == pngSignature)
    }

    @Test(.enabled(if: gnuplot != nil))
    func dumbTerminalDrawsEachProtocolWithItsOwnCharacter() throws {
        let (a, c) = sample(count: 300)
        let script = GnuplotScript.script(c, summary: a.summary, options: GnuplotOptions(terminal: .dumb))
        let r = try runScript(script, in: TestPaths.temporaryDirectory())
        #expect(r.status == 0, "gnuplot: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // The key names each protocol's character, and each character is in the plot.
        for (ch, name) in [("T", "TCP (100)"), ("U", "UDP (100)"), ("I", "ICMP (100)")] {
            #expect(
                lines.contains { $0.contains("\(name) \(ch)") || $0.contains("\(ch) \(name)") }, "no key for \(name)")
            let plotted = lines.filter { $0.contains("|") }.map { $0.replacingOccurrences(of: name, with: "") }
            #expect(plotted.joined().filter { String($0) == ch }.count >= 10, "too few \(ch) in the plot")
        }
    }

    @Test func scriptShape() {
        let (a, c) = sample(count: 10)
        let s = text(
            GnuplotScript.script(
                c, summary: a.summary, options: GnuplotOptions(terminal: .svg, output: "x.svg", commandLine: "cmd")))
        #expect(s.hasPrefix("# pktstat chart script"))
        #expect(s.contains("# command: \"cmd\"\n"))
        #expect(s.contains("$points << EOD\n") && s.contains("$data << EOD\n"))
        #expect(s.contains("set output \"x.svg\"\n"))
        #expect(s.contains("set terminal svg size 960,540"))
        let stdout = text(GnuplotScript.script(c, summary: a.summary, options: GnuplotOptions(terminal: .dumb)))
        #expect(!stdout.contains("set output"))
    }

    /// The header's capture line writes the rate with a space and the SI prefix on the unit.
    @Test func captureLineUnits() {
        let (a, c, _) = analyze([rec(t0, 12_250_000), rec(t0 + 8 * sec, 12_250_000)])
        let s = text(GnuplotScript.script(c, summary: a.summary, options: GnuplotOptions(terminal: .dumb)))
        let capture = s.split(separator: "\n").first { $0.hasPrefix("# capture: ") } ?? ""
        #expect(capture.contains("2 packets, 24500000 bytes, from "), "\(capture)")
        #expect(capture.contains(" (8 s), 24.5 Mbit/s, "), "\(capture)")
    }
}
