import Foundation
import TestSupport
import Testing

/// Loopback UDP to `port`, from a background python process: `count` datagrams of `size` bytes
/// at most, `gapMs` apart (bounded in count, and ended by `stop()` at the latest).
final class LoopbackTraffic {
    let sender: Spawned

    init(port: Int, count: Int = 20_000, size: Int = 200, gapMs: Double = 1) throws {
        let py = """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = time.time()
            for i in range(\(count)):
                s.sendto(bytes(\(size)), ('127.0.0.1', \(port)))
                if \(gapMs) > 0: time.sleep(\(gapMs / 1000))
                if time.time() - t > 30: break
            """
        sender = try Spawned("/usr/bin/env", ["python3", "-c", py])
    }

    func stop() {
        sender.signal(SIGKILL)
        _ = sender.finish(timeout: 5)
    }
}

/// The status lines of a live run, by what they count.
struct StatusLines {
    var captured: Int?
    var received: Int?
    var droppedByKernel: Int?
    var droppedByRing: Int?

    init(_ stderr: String) {
        for line in stderr.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let n = words.first.flatMap({ Int($0) }) else { continue }
            if line.hasSuffix("packets captured") || line.hasSuffix("packet captured") { captured = n }
            if line.hasSuffix("received by filter") { received = n }
            if line.hasSuffix("dropped by kernel") { droppedByKernel = n }
            if line.hasSuffix("dropped by ring") { droppedByRing = n }
        }
    }

    var complete: Bool { captured != nil && received != nil && droppedByKernel != nil && droppedByRing != nil }
}

/// What tcpdump makes of a file: its packet count, and whether it complained.
func tcpdumpRead(_ path: String) throws -> (status: Int32, packets: Int, stderr: String) {
    let tcpdump = try requireTool("tcpdump")
    let r = try run(tcpdump, ["-nr", path], timeout: 30)
    return (r.status, r.stdoutLines.count, r.stderr)
}

/// Stopping never loses data: any number of stop signals, `timeout`, and even `kill -9` leave a
/// `-w` file tcpdump reads in full. Real signals to a real process capturing real loopback traffic.
@Suite("stopping", .serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct StopTests {
    private func checkCleanStop(_ r: RunResult, file: URL, _ what: String) throws {
        #expect(r.status == 0 && !r.signaled, "\(what): status \(r.status): \(r.stderr)")
        let status = StatusLines(r.stderr)
        #expect(status.complete, "\(what): \(r.stderr)")
        #expect(r.stderr.components(separatedBy: "packets captured").count == 2, "\(what): \(r.stderr)")
        let t = try tcpdumpRead(file.path)
        #expect(t.status == 0, "\(what): \(t.stderr)")
        #expect(!t.stderr.contains("truncated"), "\(what): \(t.stderr)")
        #expect(t.packets == status.captured, "\(what): tcpdump read \(t.packets), captured \(status.captured ?? -1)")
        #expect(t.packets > 0, "\(what): no traffic was captured")
    }

    @Test func timeoutWithSIGINTLeavesACompleteFile() throws {
        let timeout = try requireTool("timeout")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for round in 0..<4 {
            let port = Int.random(in: 20000...29999)
            let traffic = try LoopbackTraffic(port: port)
            defer { traffic.stop() }
            let file = dir.appendingPathComponent("timeout-\(round).pcap")
            // timeout signals pktstat, then its own process group (pktstat again): two SIGINTs.
            let command = [TestPaths.binary, "sniff", "-i", "lo", "-w", file.path, "udp", "port", "\(port)"]
            let r = try run(timeout, ["--preserve-status", "-s", "INT", "1.5"] + command, timeout: 30)
            try checkCleanStop(r, file: file, "round \(round)")
        }
    }

    @Test(arguments: [
        [SIGINT, SIGINT], [SIGINT, SIGTERM], [SIGTERM, SIGHUP], [SIGHUP, SIGINT], [SIGTERM, SIGTERM, SIGINT, SIGHUP],
    ])
    func stopSignalsInARowLeaveACompleteFile(_ signals: [Int32]) throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 7500...9999)
        let file = dir.appendingPathComponent("signals.pcap")
        let traffic = try LoopbackTraffic(port: port)
        defer { traffic.stop() }
        let arguments = ["sniff", "-i", "lo", "-w", file.path, "--print", "--format", "csv", "udp", "port", "\(port)"]
        let p = try Spawned(TestPaths.binary, arguments)
        #expect(waitListening(p))
        // Wait (bounded) until packets flow, then send the signals back to back.
        #expect(p.waitFor(timeout: 10) { csvRows($0.stdout).count >= 50 })
        for sig in signals { p.signal(sig) }
        let r = p.finish(timeout: 20)
        try checkCleanStop(r, file: file, "signals \(signals)")
        // The rows printed are the packets captured: the output was flushed too.
        #expect(csvRows(r.stdout).count == StatusLines(r.stderr).captured)
    }

    /// Output stuck on a pipe nobody reads: the first SIGINT stops the capture (the file is
    /// finished) but the rows cannot be flushed; a signal after the grace period forces the exit,
    /// and the file is still whole.
    @Test func aStuckOutputIsForcedOutAfterTheGracePeriod() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("rows").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)  // open, never read
        #expect(reader >= 0)
        defer { close(reader) }
        let port = Int.random(in: 12500...14999)
        let file = dir.appendingPathComponent("stuck.pcap")
        let traffic = try LoopbackTraffic(port: port)
        defer { traffic.stop() }
        let sniff = "'\(TestPaths.binary)' sniff -i lo -w '\(file.path)' --print --format csv udp port \(port)"
        let command = "exec \(sniff) > '\(fifo)'"
        let p = try Spawned("/bin/bash", ["-c", command])
        #expect(waitListening(p))
        func queued() -> Int32 {
            var n: Int32 = 0
            _ = ioctl(reader, UInt(FIONREAD), &n)
            return n
        }
        // Full: tens of KiB queued, and no more for 500 ms while packets keep coming.
        var last: Int32 = -1
        var since = Date()
        let full = p.waitFor(timeout: 20) { _ in
            let q = queued()
            if q != last { (last, since) = (q, Date()) }
            return q >= 32_768 && Date().timeIntervalSince(since) >= 0.5
        }
        #expect(full, "the pipe never filled: \(queued()) bytes")
        let firstSignal = Date()
        p.signal(SIGINT)
        // Within the grace period more signals are absorbed: it keeps trying to flush.
        p.signal(SIGINT)
        #expect(!p.waitFor(timeout: 1.5) { !$0.process.isRunning })
        var forced = false
        for _ in 0..<40 where !forced {
            p.signal(SIGINT)
            forced = p.waitFor(timeout: 0.5) { !$0.process.isRunning }
        }
        let r = p.finish(timeout: 5)
        #expect(forced)
        #expect(r.status == 130, "\(r.stderr)")
        // The 5 s grace period really passed before the forced exit. A lower bound only: a slow
        // machine makes this longer, never shorter, so it cannot fail for slowness.
        #expect(Date().timeIntervalSince(firstSignal) >= 4.9)
        let t = try tcpdumpRead(file.path)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(!t.stderr.contains("truncated"))
        #expect(t.packets > 0)
    }

    @Test func kill9AtRandomInstantsLeavesAReadableFile() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 10000...12499)
        // Steady traffic (a write(2) every batch). Not a flood: Linux may stop a write(2) that a
        // SIGKILL interrupts at a page boundary inside it (see PcapFileWriter), and under a flood
        // the process spends a noticeable share of its time in write(2) (README, Stopping).
        // libpcap's stdio writer, which this replaced, left a cut record at almost every kill.
        let traffic = try LoopbackTraffic(port: port, count: 40_000, size: 600, gapMs: 0.5)
        defer { traffic.stop() }
        var rng = SplitMix(state: UInt64(getpid()))
        var nonEmpty = 0
        for round in 0..<24 {
            let file = dir.appendingPathComponent("kill9-\(round).pcap")
            let p = try Spawned(TestPaths.binary, ["sniff", "-i", "lo", "-w", file.path, "udp", "port", "\(port)"])
            #expect(waitListening(p))
            // The random instant: 0-400 ms into the capture.
            usleep(UInt32(rng.next() % 400_000))
            p.signal(SIGKILL)
            let r = p.finish(timeout: 10)
            #expect(r.signaled && r.status == SIGKILL)
            let t = try tcpdumpRead(file.path)
            #expect(t.status == 0, "round \(round): \(t.stderr)")
            #expect(!t.stderr.contains("truncated"), "round \(round): \(t.stderr)")
            if t.packets > 0 { nonEmpty += 1 }
            try? FileManager.default.removeItem(at: file)
        }
        // The kills landed while packets were being written, not only before the first.
        #expect(nonEmpty >= 12)
    }
}
