import Foundation
import TestSupport
import Testing

/// 40 days from 2024-01-01T00:00:00Z with a known daily pattern: on day d, every third hour, d % 5 + 1
/// UDP datagrams from 10.0.(d % 3).1 to 10.9.9.9:53 (100 bytes of payload), a minute apart; every
/// sixth hour one 500-byte TCP segment from 10.0.0.9 to 10.9.9.9:443.
private func fortyDays(to url: URL) throws {
    var b = PcapBuilder()
    let start: UInt32 = 1_704_067_200
    for d in 0..<40 {
        for h in stride(from: 0, to: 24, by: 3) {
            let t = start + UInt32(d * 86400 + h * 3600)
            for i in 0..<(d % 5 + 1) {
                let frame = PcapBuilder.udpFrame(
                    src: [10, 0, UInt8(d % 3), 1], dst: [10, 9, 9, 9], sport: 40000, dport: 53, payload: 100)
                b.add(seconds: t + UInt32(i * 60 + 7), fraction: 0, bytes: frame)
            }
            if h % 6 == 0 {
                var tcp = PcapBuilder.udpFrame(
                    src: [10, 0, 0, 9], dst: [10, 9, 9, 9], sport: 50000, dport: 443, payload: 500)
                tcp[23] = 6
                b.add(seconds: t + 1800, fraction: 0, bytes: tcp)
            }
        }
    }
    try b.write(to: url)
}

/// (bucket start, name) -> (packets, bytes) from CSV rows with `time` and a name column.
private func table(_ text: String, name: String) -> [String: [Int]] {
    var out: [String: [Int]] = [:]
    for row in csvRows(text) {
        let time = String((row["time"] ?? "").prefix { $0 != "." })
        out["\(time) \(row[name] ?? "")"] = [Int(row["packets"] ?? "") ?? -1, Int(row["bytes"] ?? "") ?? -1]
    }
    return out
}

@Suite("history")
struct HistoryTests {
    let dir = TestPaths.temporaryDirectory()

    @Test func importedDaysAndMonthsEqualAnalyzeSums() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = dir.appendingPathComponent("40days.pcap")
        try fortyDays(to: capture)
        let db = dir.appendingPathComponent("h.sqlite").path
        let imported = try pktstat(["history", "import", capture.path, "--db", db])
        #expect(imported.status == 0, "\(imported.stderr)")
        let span = ["--since", "2024-01-01T00:00:00Z", "--until", "2024-02-10T00:00:00Z", "--format", "csv"]

        // By protocol, by day: analyze's daily intervals (wall-clock aligned, UTC), long format.
        let analyze = try pktstat([
            "analyze", capture.path, "--interval", "24h", "--align", "clock", "--by", "protocol", "--format", "csv",
        ])
        #expect(analyze.status == 0, "\(analyze.stderr)")
        let expected = table(analyze.stdout, name: "protocol").filter { $0.value[0] > 0 }
        let days = try pktstat(["history", "--db", db, "--by", "protocol", "--resolution", "day"] + span)
        #expect(days.status == 0, "\(days.stderr)")
        #expect(expected.count == 40 * 2 && table(days.stdout, name: "protocol") == expected)

        // By month: the same daily rows summed per calendar month.
        var months: [String: [Int]] = [:]
        for (key, v) in expected {
            let parts = key.split(separator: " ")
            let day = Int(parts[0])!
            let month = day < 1_706_745_600 ? "1704067200" : "1706745600"
            months["\(month) \(parts[1])", default: [0, 0]][0] += v[0]
            months["\(month) \(parts[1])", default: [0, 0]][1] += v[1]
        }
        let monthly = try pktstat(["history", "--db", db, "--by", "protocol", "--resolution", "month"] + span)
        #expect(table(monthly.stdout, name: "protocol") == months)

        // By host: analyze with a host filter, per day.
        let hosts = try pktstat(["history", "--db", db, "--by", "host", "--resolution", "day"] + span)
        let byHost = table(hosts.stdout, name: "host")
        for host in ["10.0.0.1", "10.0.1.1", "10.0.2.1", "10.0.0.9", "10.9.9.9"] {
            let a = try pktstat([
                "analyze", capture.path, "--interval", "24h", "--align", "clock", "--filter", "host \(host)",
                "--format",
                "csv",
            ])
            let rows = csvRows(a.stdout).filter { Int($0["packets"] ?? "") ?? 0 > 0 }
            #expect(!rows.isEmpty)
            for row in rows {
                let time = String((row["time"] ?? "").prefix { $0 != "." })
                #expect(
                    byHost["\(time) \(host)"] == [Int(row["packets"]!)!, Int(row["bytes"]!)!], "\(host) on \(time)")
            }
        }
    }

    /// `--format svg`: well-formed XML (python3's parser), one bar per day (and per month) with
    /// traffic, each bar's height proportional to the bucket's bytes that `--format csv` prints.
    @Test func svgBarsAreTheDailyAndMonthlyTotals() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let python = try requireTool("python3")
        let capture = dir.appendingPathComponent("40days.pcap")
        try fortyDays(to: capture)
        let db = dir.appendingPathComponent("h.sqlite").path
        #expect(try pktstat(["history", "import", capture.path, "--db", db]).status == 0)
        let span = ["--since", "2024-01-01T00:00:00Z", "--until", "2024-02-10T00:00:00Z"]
        // Reads the bars back: per bar its start, its data-bytes and the sum of its rects' heights.
        let reader = """
            import sys, xml.etree.ElementTree as ET
            ns = '{http://www.w3.org/2000/svg}'
            root = ET.parse(sys.argv[1]).getroot()
            for g in root.iter(ns + 'g'):
                if g.get('class') != 'bar': continue
                h = sum(float(r.get('height')) for r in g.findall(ns + 'rect'))
                print(g.get('data-start'), g.get('data-bytes'), h)
            """
        for (resolution, buckets) in [("day", 40), ("month", 2)] {
            let svg = dir.appendingPathComponent("\(resolution).svg")
            let args = ["history", "--db", db, "--by", "protocol", "--resolution", resolution] + span
            let drawn = try pktstat(args + ["--format", "svg", "--output", svg.path])
            #expect(drawn.status == 0 && drawn.stdout.isEmpty, "\(drawn.stderr)")
            let toStdout = try pktstat(args + ["--format", "svg"])
            #expect(toStdout.stdout == (try String(contentsOf: svg, encoding: .utf8)))
            let parsed = try run(python, ["-c", reader, svg.path])
            try #require(parsed.status == 0, "not well-formed: \(parsed.stderr)")
            var csvTotals: [Int: Int] = [:]
            for row in csvRows(try pktstat(args + ["--format", "csv"]).stdout) {
                csvTotals[Int(row["time"] ?? "") ?? -1, default: 0] += Int(row["bytes"] ?? "") ?? 0
            }
            let bars = parsed.stdout.split(separator: "\n").map { $0.split(separator: " ") }
            #expect(bars.count == buckets && csvTotals.count == buckets, "\(bars.count) bars")
            let maxBytes = Double(csvTotals.values.max() ?? 1)
            let tallest = bars.compactMap { Double($0[2]) }.max() ?? 0
            for bar in bars {
                let start = Int(bar[0]) ?? -1
                let bytes = try #require(csvTotals[start], "a bar at \(start) without a CSV bucket")
                #expect(Int(bar[1]) == bytes)
                let height = Double(bar[2]) ?? -1
                #expect(abs(height / tallest - Double(bytes) / maxBytes) < 0.002, "\(bar) of \(bytes) bytes")
            }
        }
        // Captures carry no processes: --by process of an imported file is empty, with a note.
        let processes = try pktstat(["history", "--db", db, "--by", "process", "--format", "csv"] + span)
        #expect(processes.status == 0 && csvRows(processes.stdout).isEmpty, "\(processes.stdout)")
        #expect(processes.stderr.contains("only serve --history records them"), "\(processes.stderr)")
        let noRows = try pktstat(["history", "--db", db, "--format", "svg", "--since", "2030-01-01T00:00:00Z"])
        #expect(noRows.status == 0 && noRows.stdout.contains("No traffic"))
        let both = try pktstat(["history", "--db", db, "--format", "svg", "--95th"])
        #expect(both.status == 64 && both.stderr.contains("--95th"), "\(both.stderr)")
    }

    @Test func percentileEqualsAnalyzeFiveMinuteRatesAndRetentionKeepsCoarseRows() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = dir.appendingPathComponent("40days.pcap")
        try fortyDays(to: capture)
        let db = dir.appendingPathComponent("h.sqlite").path
        #expect(try pktstat(["history", "import", capture.path, "--db", db]).status == 0)
        let p = try pktstat(["history", "--db", db, "--95th", "--format", "csv"])
        #expect(p.status == 0, "\(p.stderr)")
        let row = try #require(csvRows(p.stdout).first)
        let since = try #require(row["since"])
        let until = try #require(row["until"])
        let a = try pktstat([
            "analyze", capture.path, "--interval", "5m", "--align", "clock", "--since", since, "--until", until,
            "--format",
            "csv",
        ])
        let rates = csvRows(a.stdout).map { (Int($0["bytes"]!)! * 8) / 300 }.sorted()
        #expect(rates.count == Int(row["intervals"]!) && rates.count > 100, "\(rates.count) vs \(row)")
        let rank = (rates.count * 95 + 99) / 100
        #expect(Int(row["percentile_95_bits_per_second"]!) == rates[rank - 1])

        // The newest minute is on day 39: 5-minute rows reach back 2 days, hourly 30, daily all.
        let sqlite3 = try requireTool("sqlite3")
        func count(_ resolution: String, day: Int) throws -> Int {
            let start = 1_704_067_200 + day * 86400
            let r = try run(
                sqlite3,
                [
                    db,
                    "SELECT count(*) FROM traffic WHERE resolution = '\(resolution)' AND start >= \(start) AND start < \(start + 86400)",
                ])
            return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        #expect(try count("5m", day: 39) > 0 && count("5m", day: 35) == 0)
        #expect(try count("hour", day: 35) > 0 && count("hour", day: 5) == 0)
        #expect(try count("day", day: 5) > 0 && count("day", day: 35) > 0)
        let check = try run(sqlite3, [db, "PRAGMA integrity_check"])
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func badFilesGetOneLineErrorsAndAreNotChanged() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let sqlite3 = try requireTool("sqlite3")
        let capture = dir.appendingPathComponent("c.pcap")
        try PcapBuilder.udpCapture(count: 100).write(to: capture)
        let db = dir.appendingPathComponent("h.sqlite").path

        let missing = try pktstat(["history", "--db", db])
        #expect(missing.status == 1 && missing.stderr.contains("does not exist"))
        #expect(try pktstat(["history", "import", capture.path, "--db", db]).status == 0)
        let again = try pktstat(["history", "import", capture.path, "--db", db])
        #expect(again.status == 1 && again.stderr.contains("already imported"), "\(again.stderr)")

        let text = dir.appendingPathComponent("notes.txt").path
        try Data(repeating: 0x41, count: 5000).write(to: URL(fileURLWithPath: text))
        let notHistory = try pktstat(["history", "--db", text])
        #expect(notHistory.status == 1 && notHistory.stderr.contains("not a pktstat history"), "\(notHistory.stderr)")
        let other = dir.appendingPathComponent("other.sqlite").path
        _ = try run(sqlite3, [other, "CREATE TABLE t(a); INSERT INTO t VALUES (1)"])
        let foreign = try pktstat(["history", "import", capture.path, "--db", other])
        #expect(foreign.status == 1 && foreign.stderr.contains("not a pktstat history"))
        #expect(try run(sqlite3, [other, "SELECT count(*) FROM sqlite_master"]).stdout.hasPrefix("1"))

        let newer = dir.appendingPathComponent("newer.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: newer)
        _ = try run(sqlite3, [newer, "PRAGMA user_version = 99"])
        let future = try pktstat(["history", "--db", newer])
        #expect(future.status == 1 && future.stderr.contains("schema 99"), "\(future.stderr)")

        // Damaged: the first page of a history overwritten in the middle.
        let damaged = dir.appendingPathComponent("damaged.sqlite").path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: db))
        for i in 100..<min(bytes.count, 4096) { bytes[i] = 0xFF }
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let broken = try pktstat(["history", "--db", damaged])
        #expect(broken.status == 1 && broken.stderr.hasPrefix("error: ") && broken.noCrash, "\(broken.stderr)")

        // Two writers: the lock is held (as a running import or serve would hold it).
        let holder = try Spawned("/usr/bin/flock", [db + ".lock", "sleep", "10"])
        defer { holder.signal(SIGKILL) }
        usleep(300_000)
        let second = dir.appendingPathComponent("c2.pcap")
        try PcapBuilder.udpCapture(count: 10, start: 1_700_100_000).write(to: second)
        let locked = try pktstat(["history", "import", second.path, "--db", db])
        #expect(locked.status == 1 && locked.stderr.contains("being written by another pktstat"), "\(locked.stderr)")

        // A path that cannot be written (/proc takes no new files, even from root).
        let denied = try pktstat(["history", "import", capture.path, "--db", "/proc/pktstat-history-test.sqlite"])
        #expect(denied.status == 1 && denied.stderr.contains("cannot be written"), "\(denied.stderr)")
    }

    /// A full file system (a 48 KiB tmpfs): one error line, and what is on disk stays a whole,
    /// consistent database.
    @Test(.enabled(if: TestPaths.isRoot, "mounting a tmpfs needs root"))
    func fullDiskLeavesAWholeFile() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let sqlite3 = try requireTool("sqlite3")
        let capture = dir.appendingPathComponent("40days.pcap")
        try fortyDays(to: capture)
        let small = dir.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
        let mount = try run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=48k", "tmpfs", small.path])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? run("/usr/bin/umount", [small.path]) }
        let db = small.appendingPathComponent("h.sqlite").path
        let r = try pktstat(["history", "import", capture.path, "--db", db])
        #expect(r.status == 1 && r.stderr.contains("the disk is full") && r.noCrash, "\(r.stderr)")
        let check = try run(sqlite3, [db, "PRAGMA integrity_check"])
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check.stdout)")
    }
}
