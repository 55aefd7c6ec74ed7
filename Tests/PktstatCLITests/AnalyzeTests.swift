import Foundation
import TestSupport
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A capture with known answers: 3 packets in second 0, none in second 1, 2 in second 2
/// (the last exactly 2 s after the first: it opens interval 2).
func knownCapture() throws -> URL {
    let file = TestPaths.temporaryDirectory().appendingPathComponent("known.pcap")
    var b = PcapBuilder()
    let t0: UInt32 = 1_700_000_000
    b.add(seconds: t0, fraction: 500_000, bytes: PcapBuilder.udpFrame(payload: 16))  // 58 bytes
    b.add(seconds: t0, fraction: 900_000, bytes: PcapBuilder.udpFrame(payload: 42))  // 84
    b.add(seconds: t0 + 1, fraction: 499_999, bytes: PcapBuilder.udpFrame(payload: 0))  // 42, still interval 0
    b.add(seconds: t0 + 2, fraction: 500_000, bytes: PcapBuilder.udpFrame(payload: 100))  // 142, interval 2
    b.add(seconds: t0 + 2, fraction: 600_000, bytes: [UInt8](repeating: 0, count: 60))  // 60, other
    try b.write(to: file)
    return file
}

@Suite("analyze")
struct AnalyzeTests {
    @Test func seriesCSVHasKnownBins() throws {
        let r = try pktstat(["analyze", try knownCapture().path, "--interval", "1", "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout)
        #expect(rows.count == 3)
        #expect(rows.map { $0["offset"] } == ["0", "1", "2"])
        #expect(rows.map { $0["packets"] } == ["3", "0", "2"])
        #expect(rows.map { $0["bytes"] } == ["184", "0", "202"])
        #expect(rows[0]["time"] == "1700000000.500000000")
        #expect(rows[0]["min_length"] == "42")
        #expect(rows[0]["max_length"] == "84")
        #expect(rows[0]["bits_per_second"] == "1472")
        #expect(rows[2]["packets_UDP"] == "1")
        #expect(rows[2]["packets_other"] == "1")
        #expect(rows[2]["bytes_other"] == "60")
    }

    /// 20,000 packets 2 ms apart at `--interval 1ms`: 39,999 intervals, more than `analyze` keeps
    /// in memory (16,384), so the older ones go through its temporary file. Every row must come
    /// back in order with its own numbers, the empty intervals in between as zeros; and with no
    /// usable temporary directory the output is the same, with a warning.
    @Test func manyIntervalsGoThroughTheTemporaryFileAndComeBackInOrder() throws {
        let file = TestPaths.temporaryDirectory().appendingPathComponent("many-intervals.pcap")
        var b = PcapBuilder()
        let t0: UInt32 = 1_700_000_000
        for i in 0..<20_000 {
            let ns = i * 2_000_000
            b.add(
                seconds: t0 + UInt32(ns / 1_000_000_000), fraction: UInt32((ns % 1_000_000_000) / 1000),
                bytes: PcapBuilder.udpFrame(payload: i % 1000))
        }
        try b.write(to: file)
        let args = ["analyze", file.path, "--interval", "1ms", "--format", "csv"]
        let r = try pktstat(args)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout)
        #expect(rows.count == 39_999)
        var wrong = 0
        for (i, row) in rows.enumerated() {
            let packets = i % 2 == 0 ? "1" : "0"
            let bytes = i % 2 == 0 ? String(42 + (i / 2) % 1000) : "0"
            let time = String(format: "%d.%09d", Int(t0) + i / 1000, (i % 1000) * 1_000_000)
            if row["packets"] != packets || row["bytes"] != bytes || row["time"] != time { wrong += 1 }
        }
        #expect(wrong == 0)

        let noTemp = try run(TestPaths.binary, args, environment: ["TMPDIR": "/nonexistent-pktstat-dir"])
        #expect(noTemp.status == 0)
        #expect(noTemp.stdout == r.stdout)
        #expect(noTemp.stderr.contains("warning: cannot create a temporary file in /nonexistent-pktstat-dir"))
    }

    @Test func summaryAsTextAndJSON() throws {
        let file = try knownCapture().path
        let text = try pktstat(["analyze", file, "--summary"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("packets: 5, bytes: 386 (captured 386)\n"))
        #expect(text.stdout.contains("time: 2023-11-14T22:13:20.500000000Z to 2023-11-14T22:13:22.600000000Z (2.1 s)"))
        #expect(text.stdout.contains("protocols: other 1 UDP 4"))  // label order, as the CSV columns
        #expect(text.stdout.contains("length: min 42, mean 77.2, max 142"))

        let json = try pktstat(["analyze", file, "--summary", "--format", "json"])
        #expect(json.status == 0)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(o["packets"] as? Int == 5 && o["bytes"] as? Int == 386)
        let protocols = try #require(o["protocols"] as? [String: [String: Int]])
        #expect(protocols["UDP"] == ["packets": 4, "bytes": 326])
        #expect(protocols["other"] == ["packets": 1, "bytes": 60])

        let chart = try pktstat(["analyze", file, "--summary", "--format", "svg"])
        #expect(chart.status != 0)
        #expect(chart.stderr.contains("--summary prints text or JSON"))
    }

    @Test func byProtocolIsLongFormat() throws {
        let r = try pktstat(["analyze", try knownCapture().path, "--by", "protocol", "--format", "csv"])
        #expect(r.status == 0)
        let rows = csvRows(r.stdout)
        let udp = rows.filter { $0["protocol"] == "UDP" }
        #expect(udp.map { $0["packets"] } == ["3", "0", "1"])
    }

    @Test func stdinCSVFromSniffGivesTheSameSeries() throws {
        let file = try knownCapture()
        let direct = try pktstat(["analyze", file.path, "--format", "csv"])
        let piped = try shell(
            "'\(TestPaths.binary)' sniff -r '\(file.path)' --format csv | '\(TestPaths.binary)' analyze - --format csv")
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout == direct.stdout)
    }

    @Test func foreignCSVNamesTheLine() throws {
        let dir = TestPaths.temporaryDirectory()
        let csv = dir.appendingPathComponent("bad.csv")
        try "timestamp,length,protocol\n1700000000.1,60,UDP\nyesterday,60,UDP\n".write(
            to: csv, atomically: true, encoding: .utf8)
        let r = try pktstat(["analyze", "-"], stdin: csv)
        #expect(r.status == 1)
        #expect(r.stderr.contains("line 3"))
        #expect(r.stderr.contains("yesterday"))
        #expect(r.noCrash)
        let other = dir.appendingPathComponent("other.csv")
        try "name,age\nbob,3\n".write(to: other, atomically: true, encoding: .utf8)
        let o = try pktstat(["analyze", "-"], stdin: other)
        #expect(o.status == 1)
        #expect(o.stderr.contains("line 1"))
    }

    @Test(arguments: ["0", "-1", "abc", "5 parsecs", "0ms"])
    func badIntervalsAreUsageErrors(_ text: String) throws {
        let r = try pktstat(["analyze", try knownCapture().path, "--interval", text])
        #expect(r.status == 64)
        #expect(r.stderr.contains("interval"))
        #expect(r.noCrash)
    }

    @Test func badFormatAndPngWithoutOutput() throws {
        let f = try knownCapture().path
        #expect(try pktstat(["analyze", f, "--format", "pdf"]).status == 64)
        let png = try pktstat(["analyze", f, "--format", "png"])
        #expect(png.status == 64)
        #expect(png.stderr.contains("-o"))
    }

    @Test func unwritableOutputIsAnError() throws {
        let r = try pktstat(["analyze", try knownCapture().path, "--format", "svg", "-o", "/nonexistent/dir/x.svg"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/dir/x.svg"))
    }

    @Test func svgIsValidAndRenders() throws {
        let dir = TestPaths.temporaryDirectory()
        let svg = dir.appendingPathComponent("c.svg")
        let r = try pktstat([
            "analyze", TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path, "--format", "svg", "-o",
            svg.path, "--title", "Loop \"back\" <&>",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try XMLDocument(contentsOf: svg)
        #expect(doc.rootElement()?.name == "svg")
        let text = try String(contentsOf: svg, encoding: .utf8)
        #expect(text.contains("viewBox=\"0 0 "))
        #expect(text.contains("<title"))
        #expect(text.contains("<desc"))
        #expect(text.contains("Loop &quot;back&quot; &lt;&amp;&gt;") || text.contains("Loop \"back\" &lt;&amp;&gt;"))
        #expect(try run(try requireTool("xmllint"), ["--noout", svg.path]).status == 0)
        let png = dir.appendingPathComponent("c.png")
        #expect(try run(try requireTool("rsvg-convert"), [svg.path, "-o", png.path]).status == 0)
        let head = try Data(contentsOf: png).prefix(8)
        #expect(Array(head) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test func emptyCaptureChartSaysSo() throws {
        let dir = TestPaths.temporaryDirectory()
        let empty = dir.appendingPathComponent("empty.pcap")
        try PcapBuilder().write(to: empty)
        let r = try pktstat(["analyze", empty.path, "--format", "svg"])
        #expect(r.status == 0)
        #expect(r.stdout.lowercased().contains("no packets"))
        let csv = try pktstat(["analyze", empty.path, "--format", "csv"])
        #expect(csv.stdoutLines.count == 1)
    }

    @Test(arguments: ["svg", "dumb", "png"])
    func gnuplotScriptsRunInRealGnuplot(_ terminal: String) throws {
        let gnuplot = try requireTool("gnuplot")
        let dir = TestPaths.temporaryDirectory()
        let script = dir.appendingPathComponent("c.gp")
        let r = try pktstat([
            "analyze", TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path, "--format", "gnuplot",
            "--terminal", terminal, "-o", script.path, "--title", "a `date` \"b\" \\ c",
        ])
        #expect(r.status == 0)
        let g = try run(gnuplot, [script.path])
        #expect(g.status == 0, "\(g.stderr)")
        switch terminal {
        case "svg": #expect(g.stdout.contains("<svg"))
        case "png": #expect(Array(g.stdoutData.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        default: #expect(g.stdout.contains("Packet size") || g.stdout.contains("a `date`"))
        }
        #expect(!g.stdout.contains("Mon ") && !g.stdout.contains("UTC 20"))  // the backtick did not run `date`
    }

    @Test func pngThroughGnuplot() throws {
        try requireTool("gnuplot")
        let png = TestPaths.temporaryDirectory().appendingPathComponent("c.png")
        let r = try pktstat(["analyze", try knownCapture().path, "--format", "png", "-o", png.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Array(try Data(contentsOf: png).prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test func missingGnuplotSaysHowToInstallIt() throws {
        let png = TestPaths.temporaryDirectory().appendingPathComponent("c.png")
        let r = try run(
            TestPaths.binary, ["analyze", try knownCapture().path, "--format", "png", "-o", png.path],
            environment: ["PATH": "/nonexistent"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("gnuplot"))
        #expect(r.stderr.contains("apt-get install gnuplot"))
    }

    @Test func damagedFileKeepsTheSeriesThenFails() throws {
        let file = TestPaths.temporaryDirectory().appendingPathComponent("cut.pcap")
        var b = PcapBuilder.udpCapture(count: 2500)
        b.put32(7)
        try b.write(to: file)
        let r = try pktstat(["analyze", file.path, "--format", "csv"])
        #expect(r.status == 1)
        #expect(csvRows(r.stdout).map { $0["packets"] } == ["1000", "1000", "500"])
        #expect(r.stderr.contains("truncated"))
    }
}

@Suite("live series", .serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct LiveSeriesTests {
    @Test func rowsArriveWhileTheCaptureRuns() throws {
        let port = Int.random(in: 7500...12499)
        let p = try Spawned(
            TestPaths.binary,
            [
                "sniff", "-i", "lo", "--interval", "500ms", "--format", "csv", "--duration", "6s", "udp", "dst", "port",
                "\(port)",
            ])
        #expect(waitListening(p))
        try sendLoopbackUDP(count: 50, port: port, gapMs: 10)
        // Well before the 6 s are over, closed intervals must already be printed.
        let early = p.waitFor(timeout: 3) { csvRows($0.stdout).count >= 2 }
        let stillRunning = p.process.isRunning
        #expect(early)
        #expect(stillRunning)
        let r = p.finish(timeout: 20)
        #expect(r.status == 0)
        let rows = csvRows(r.stdout)
        #expect(rows.reduce(0) { $0 + Int($1["packets"] ?? "0")! } == 50)
        #expect(rows.allSatisfy { $0["kernel_drops"] == "0" && $0["ring_drops"] == "0" })
    }

    @Test func plotIsWrittenAfterInterrupt() throws {
        let port = Int.random(in: 12500...17499)
        let svg = TestPaths.temporaryDirectory().appendingPathComponent("live.svg")
        let p = try Spawned(
            TestPaths.binary,
            ["sniff", "-i", "lo", "--plot", svg.path, "--format", "csv", "-l", "udp", "dst", "port", "\(port)"])
        #expect(waitListening(p))
        try sendLoopbackUDP(count: 30, port: port)
        // Stop once all 30 rows were printed (the header and 30 rows), not after a guessed delay.
        #expect(p.waitFor(timeout: 10) { $0.stdout.split(separator: "\n").count == 31 })
        p.signal(SIGTERM)
        let r = p.finish(timeout: 15)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("30 packets captured"))
        let doc = try XMLDocument(contentsOf: svg)
        #expect(doc.rootElement()?.name == "svg")
    }
}
