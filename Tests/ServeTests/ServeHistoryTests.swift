import Foundation
import TestSupport
import Testing

/// `serve --history`: real minutes of real loopback traffic, a `kill -9` in the middle and a restart
/// on the same file. 5 minutes and a half: the bar is about wall-clock minutes. The sender
/// is a renamed copy of python3, so the history's processes name it.
@Suite("serve --history", .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct ServeHistoryTests {
    /// SIGTERM writes the minute being gathered (what `systemctl stop` expects): a few seconds of
    /// serve, not a minute, and the history holds every datagram.
    @Test func stopWritesTheCurrentMinute() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("history.sqlite").path
        let port = testPort(71)
        let serve = try ServeProcess(["-i", "lo", "--history", db, "udp", "and", "dst", "port", "\(port)"])
        try sendUDP(port: port, count: 7, size: 200)
        Thread.sleep(forTimeInterval: 1)
        let r = serve.stop(timeout: 10)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try pktstat(["history", "--db", db, "--resolution", "day", "--format", "csv"])
        // time,interface,packets,bytes,bits_per_second: 7 datagrams of 200 + 42 bytes.
        let lo: [[String]] = rows.stdout.split(separator: "\n").map { line in
            line.split(separator: ",").map(String.init)
        }.filter { (cells: [String]) in cells.count == 5 && cells[1] == "lo" }
        #expect(lo.map { $0[2] + " " + $0[3] } == ["7 \(7 * 242)"], "\(rows.stdout) \(rows.stderr)")
    }

    @Test func killNineLosesAtMostTheMinuteItCut() throws {
        let sqlite3 = try requireTool("sqlite3")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("history.sqlite").path
        // The interpreter itself, not a symlink to it, under a known name (its comm).
        let python = URL(fileURLWithPath: try requireTool("python3")).resolvingSymlinksInPath().path
        let senderExe = dir.appendingPathComponent("pkthist-sender").path
        try FileManager.default.copyItem(atPath: python, toPath: senderExe)
        let port = testPort(70)
        // Its own address and port: other suites send to loopback ports of the same range at the same time.
        let filter = ["udp", "and", "dst", "host", "127.0.0.77", "and", "dst", "port", "\(port)"]
        // One 100-byte datagram every 0.5 s for 5 minutes 10 seconds.
        let sender = try Spawned(
            senderExe,
            [
                "-c",
                """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                end = time.time() + 310
                for _ in range(700):
                    if time.time() > end: break
                    s.sendto(bytes(100), ('127.0.0.77', \(port)))
                    time.sleep(0.5)
                """,
            ])
        defer { sender.signal(SIGKILL) }
        var first = try ServeProcess(["-i", "lo", "--history", db] + filter)
        Thread.sleep(forTimeInterval: 65)
        // A second writer is refused while serve writes; a reader reads.
        let capture = dir.appendingPathComponent("c.pcap")
        try PcapBuilder.udpCapture(count: 10).write(to: capture)
        let second = try pktstat(["history", "import", capture.path, "--db", db])
        #expect(second.status == 1 && second.stderr.contains("being written by another pktstat"), "\(second.stderr)")
        let reading = try pktstat(["history", "--db", db, "--resolution", "5m", "--format", "csv"])
        #expect(reading.status == 0 && reading.stdout.contains(",lo,"), "\(reading.stdout) \(reading.stderr)")
        let api = try first.request("/api/v1/history?resolution=5m&by=protocol&percentile=95")
        let doc = try #require(api.json as? [String: Any], "\(api.status) \(api.body)")
        let rows = doc["rows"] as? [[String: Any]] ?? []
        #expect(doc["resolution"] as? String == "5m" && rows.contains { $0["protocol"] as? String == "UDP" }, "\(doc)")
        #expect((doc["percentile_95"] as? [String: Any])?["intervals"] as? Int ?? 0 >= 1, "\(doc)")
        Thread.sleep(forTimeInterval: 120)
        first.spawned.signal(SIGKILL)
        _ = first.spawned.finish(timeout: 5)
        let killedAt = Int(Date().timeIntervalSince1970)
        first = try ServeProcess(["-i", "lo", "--history", db] + filter)
        _ = sender.finish(timeout: 200)
        let r = first.stop(timeout: 10)
        #expect(r.status == 0, "\(r.stderr)")

        let minutes = try run(sqlite3, [db, "SELECT start FROM minutes ORDER BY start"]).stdout
            .split(separator: "\n").compactMap { Int($0) }
        let firstMinute = try #require(minutes.first)
        let lastMinute = try #require(minutes.last)
        let span = Array(stride(from: firstMinute, through: lastMinute, by: 60))
        let missing = Set(span).subtracting(minutes)
        #expect(span.count >= 5, "\(minutes)")
        #expect(missing.count <= 1, "missing \(missing.sorted()) of \(span); kill -9 at \(killedAt)")
        #expect(missing.allSatisfy { abs($0 + 30 - killedAt) <= 60 }, "a minute other than the cut one is missing")
        let check = try run(sqlite3, [db, "PRAGMA integrity_check"]).stdout
        #expect(check.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        // Every datagram sent is in the history, except those of the minute the kill cut short.
        let sent = 620
        let stored = try run(
            sqlite3, [db, "SELECT sum(packets) FROM traffic WHERE resolution = 'day' AND dimension = 'interface'"]
        ).stdout
        let packets = Int(stored.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(packets <= sent && packets >= sent - 125, "\(packets) of about \(sent)")

        // By process: the sender, with every byte the history holds (it sent them all).
        let interfaceBytes = try run(
            sqlite3, [db, "SELECT sum(bytes) FROM traffic WHERE resolution = 'day' AND dimension = 'interface'"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let processes = try pktstat([
            "history", "--db", db, "--by", "process", "--resolution", "day", "--format", "csv",
        ])
        // time,process,packets,bytes,bits_per_second
        let senderRow = processes.stdout.split(separator: "\n").map { $0.split(separator: ",") }
            .first { $0.count == 5 && $0[1].hasPrefix("pkthist-sender") }
        #expect(
            senderRow.map { String($0[3]) } == interfaceBytes && Int(interfaceBytes) ?? 0 > 0,
            "\(processes.stdout) \(processes.stderr)")
    }
}
