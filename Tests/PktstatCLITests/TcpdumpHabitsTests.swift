import Foundation
import TestSupport
import Testing

/// What a tcpdump user types first: -n, -nn, -s 0, -r -, -l, --version, the manual page, and
/// numbers that must be positive. And outputs that are replaced only when the run succeeds.
@Suite("tcpdump habits")
struct TcpdumpHabitsTests {
    let mixed = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap")
    let pcapng = TestPaths.captures.appendingPathComponent("linktypes-ipv4.pcapng")

    @Test(arguments: [["-n"], ["-nn"], ["-n", "-s", "0"], ["-l"]])
    func acceptedFlagsChangeNothing(_ flags: [String]) throws {
        let plain = try pktstat(["sniff", "-r", mixed.path, "-c", "20", "--format", "csv"])
        let with = try pktstat(["sniff"] + flags + ["-r", mixed.path, "-c", "20", "--format", "csv"])
        #expect(plain.status == 0 && with.status == 0, "\(with.stderr)")
        #expect(with.stdout == plain.stdout)
        #expect(with.stdoutLines.count == 21)
    }

    @Test(arguments: [
        (["sniff", "-c", "-5", "-r", "x.pcap"], "-c/--count must be a positive number of packets (got -5)"),
        (["sniff", "-c", "0", "-r", "x.pcap"], "-c/--count must be a positive number of packets (got 0)"),
        (["sniff", "-s", "-1", "-r", "x.pcap"], "-s/--snaplen must be a positive number of bytes, or 0"),
        (["sniff", "--duration", "-2s", "-r", "x.pcap"], "The value '-2s' is invalid for '--duration <time>'"),
    ])
    func negativeNumbersSayTheyMustBePositive(_ args: [String], _ message: String) throws {
        let r = try pktstat(args)
        #expect(r.status == 64)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    /// --duration, --idle-timeout and --interval share one grammar (1min worked only for --interval).
    @Test func durationsShareTheIntervalGrammar() throws {
        for d in ["1min", "1.5s", "250ms", "2m", "1h", "10"] {
            let r = try pktstat(["sniff", "-r", mixed.path, "-c", "1", "--duration", d, "--idle-timeout", d, "-q"])
            #expect(r.status == 0, "\(d): \(r.stderr)")
        }
    }

    @Test(arguments: ["loopback-mixed.pcap", "linktypes-ipv4.pcapng", "nanosecond.pcap"])
    func readsCapturesOnStandardInput(_ name: String) throws {
        let file = TestPaths.captures.appendingPathComponent(name)
        let direct = try pktstat(["sniff", "-r", file.path, "--format", "csv"])
        let piped = try pktstat(["sniff", "-r", "-", "--format", "csv"], stdin: file)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout == direct.stdout)
        #expect(piped.stderr.contains("reading from file -,"))
        // With a filter, libpcap reads standard input.
        let filtered = try pktstat(["sniff", "-r", "-", "--format", "csv", "udp"], stdin: file)
        let filteredDirect = try pktstat(["sniff", "-r", file.path, "--format", "csv", "udp"])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(filtered.stdout == filteredDirect.stdout)
        // analyze - tells a capture from sniff's CSV by the magic number.
        let series = try pktstat(["analyze", file.path, "--format", "csv"])
        let seriesPiped = try pktstat(["analyze", "-", "--format", "csv"], stdin: file)
        #expect(seriesPiped.status == 0, "\(seriesPiped.stderr)")
        #expect(seriesPiped.stdout == series.stdout)
        #expect(!series.stdout.isEmpty)
    }

    @Test func analyzeStillReadsSniffCSVOnStandardInput() throws {
        let dir = TestPaths.temporaryDirectory()
        let csv = dir.appendingPathComponent("rows.csv")
        try pktstat(["sniff", "-r", mixed.path, "--format", "csv"]).stdoutData.write(to: csv)
        let fromCSV = try pktstat(["analyze", "-", "--format", "csv"], stdin: csv)
        let fromFile = try pktstat(["analyze", mixed.path, "--format", "csv"])
        #expect(fromCSV.status == 0, "\(fromCSV.stderr)")
        #expect(fromCSV.stdout == fromFile.stdout)
    }

    @Test func compressedCaptureOnStandardInputIsRead() throws {
        let dir = TestPaths.temporaryDirectory()
        let gz = dir.appendingPathComponent("m.pcap.gz")
        let r = try shell("gzip -c '\(mixed.path)' > '\(gz.path)'")
        #expect(r.status == 0)
        let a = try pktstat(["analyze", "-", "--format", "csv"], stdin: gz)
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stdout == (try pktstat(["analyze", mixed.path, "--format", "csv"])).stdout)
    }

    @Test func versionNamesPktstatAndLibpcap() throws {
        let r = try pktstat(["--version"])
        #expect(r.status == 0)
        #expect(r.stdoutLines.first?.hasPrefix("pktstat ") == true)
        #expect(r.stdout.contains("libpcap version 1."))
    }

    /// The committed manual page covers every subcommand and option the help shows.
    @Test func manualPageCoversTheCommands() throws {
        let page = try String(
            contentsOf: TestPaths.packageRoot.appendingPathComponent("docs/pktstat.1"), encoding: .utf8)
        for word in [
            "sniff", "analyze", "interfaces", "routes", "gateways", "version", "snaplen", "interval", "idle-timeout",
        ] {
            #expect(page.contains(word), "docs/pktstat.1 lacks \(word)")
        }
        let man = try requireTool("man")
        let r = try run(
            man, ["-l", "-P", "cat", TestPaths.packageRoot.appendingPathComponent("docs/pktstat.1").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("SYNOPSIS"))
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScripts(_ shellName: String) throws {
        let r = try pktstat(["--generate-completion-script", shellName])
        #expect(r.status == 0)
        #expect(r.stdout.contains("sniff") && r.stdout.contains("analyze"))
    }

    // MARK: outputs replaced only on success

    @Test(arguments: ["csv", "json", "table"])
    func failedRunLeavesThePreviousOutputAlone(_ format: String) throws {
        let dir = TestPaths.temporaryDirectory()
        let out = dir.appendingPathComponent("good.\(format)")
        let good = try pktstat(["analyze", mixed.path, "--format", format, "-o", out.path])
        #expect(good.status == 0, "\(good.stderr)")
        let before = try Data(contentsOf: out)
        #expect(!before.isEmpty)
        let bad = try pktstat([
            "analyze", dir.appendingPathComponent("nonexist.pcap").path, "--format", format, "-o", out.path,
        ])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("no such file"))
        #expect(try Data(contentsOf: out) == before)
        // No temporary file is left behind, in either run.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["good.\(format)"])
    }

    @Test func unreadableInputPrintsNothingOnStandardOutput() throws {
        for format in ["csv", "json", "table"] {
            let r = try pktstat(["analyze", "/nonexistent/x.pcap", "--format", format])
            #expect(r.status == 1)
            #expect(r.stdout.isEmpty, "\(format): \(r.stdout)")
            #expect(r.stderr.hasPrefix("error: /nonexistent/x.pcap: no such file"))
        }
        let summary = try pktstat(["analyze", "/nonexistent/x.pcap", "--summary"])
        #expect(summary.stdout.isEmpty && summary.status == 1)
    }

    /// A damaged file still prints what was readable, then the error (as tcpdump does).
    @Test func damagedInputStillPrintsWhatWasRead() throws {
        let r = try pktstat([
            "analyze", TestPaths.captures.appendingPathComponent("truncated-file.pcap").path, "--format", "csv",
        ])
        #expect(r.status == 1)
        #expect(r.stdoutLines.count >= 2)
        #expect(r.stderr.contains("truncated"))
    }

    @Test func outputToADeviceIsWrittenInPlace() throws {
        let r = try pktstat(["analyze", mixed.path, "--format", "csv", "-o", "/dev/null"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    // MARK: the packet table fits

    /// IPv4 rows fit 80 columns; the first IPv6 row brings a wider header, and each block of rows
    /// lines up under its own header. Ethernet has no IFACE and DIR columns.
    @Test func tableFitsAndWidensForIPv6() throws {
        let dir = TestPaths.temporaryDirectory()
        let file = dir.appendingPathComponent("v4-v6.pcap")
        var b = PcapBuilder()
        b.add(seconds: 1_700_000_000, fraction: 0, bytes: PcapBuilder.udpFrame(sport: 65535, dport: 65534))
        let v6: [UInt8] = [
            0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23,
        ]
        var f: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xDD, 0x60, 0, 0, 0, 0, 8, 17, 64] + v6 + v6
        f += [0x01, 0xBB, 0xFF, 0xFF, 0, 8, 0, 0]
        b.add(seconds: 1_700_000_000, fraction: 1, bytes: f)
        b.add(seconds: 1_700_000_000, fraction: 2, bytes: PcapBuilder.udpFrame(sport: 1, dport: 2))
        try b.write(to: file)
        let r = try pktstat(["sniff", "-r", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdoutLines
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("TIME") && lines[2].hasPrefix("TIME"))
        #expect(!lines[0].contains("IFACE"))
        #expect(lines[0].count <= 80 && lines[1].count <= 80)
        for (header, row) in [(lines[0], lines[1]), (lines[2], lines[3]), (lines[2], lines[4])] {
            for title in ["SPORT", "DESTINATION", "DPORT", "LENGTH"] {
                let at = try #require(header.range(of: title)).lowerBound.utf16Offset(in: header)
                let chars = Array(row.utf8)
                #expect(chars[at] != 0x20 && chars[at - 1] == 0x20, "\(title) in '\(row)'")
            }
        }
    }
}
