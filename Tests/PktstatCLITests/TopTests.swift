import Foundation
import TestSupport
import Testing

/// A tmux server of its own (`-L`), one window running `command` through a non-interactive shell
/// (which leaves the terminal modes alone, so what the pane shows afterwards is what pktstat left).
private struct Tmux {
    let tmux: String
    let socket = "pktstat-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    init(_ command: String, width: Int = 120, height: Int = 30) throws {
        let tmux = try requireTool("tmux")
        self.tmux = tmux
        let r = spawnWait([
            tmux, "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)", command,
        ])
        #expect(r.status == 0, "tmux: \(r.output)")
    }

    @discardableResult
    func tmux(_ args: [String]) -> String { spawnWait([tmux, "-L", socket] + args).output }

    func pane() -> String { tmux(["capture-pane", "-p"]) }
    func keys(_ k: String) { tmux(["send-keys", "-l", k]) }
    func flag(_ name: String) -> String {
        tmux(["display", "-p", "#{\(name)}"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls the pane (every 50 ms, at most `timeout` seconds) until `condition` holds.
    func waitPane(_ timeout: Double = 10, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(pane()) { return true }
            usleep(50_000)
        }
        return condition(pane())
    }

    func kill() { tmux(["kill-server"]) }
}

/// Runs a command with posix_spawn and waits for it (at most 10 s, polled). Not Foundation's
/// Process: its wait does not return while the tmux server that `new-session` starts is alive.
private func spawnWait(_ argv: [String]) -> (status: Int32, output: String) {
    let out = TestPaths.temporaryDirectory().appendingPathComponent("out")
    defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 else { return (-1, "spawn failed") }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(10)
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            break
        }
        usleep(5_000)
    }
    return ((status >> 8) & 0xFF, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
}

/// UDP datagrams to 127.0.0.1: for each (port, size), one every 20 ms, for at most `seconds`.
private func loopbackTraffic(_ flows: [(UInt16, Int)], seconds: Double) throws -> Spawned {
    let list = flows.map { "(\($0.0),\($0.1))" }.joined(separator: ",")
    let script = """
        import socket, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        end = time.time() + \(seconds)
        for _ in range(\(Int(seconds * 50) + 1)):
            if time.time() > end: break
            for port, size in [\(list)]: s.sendto(b'x' * size, ('127.0.0.1', port))
            time.sleep(0.02)
        """
    return try Spawned("/usr/bin/python3", ["-c", script])
}

private func processGone(_ pidFile: URL, timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            kill(pid, 0) != 0
        {
            return true
        }
        usleep(50_000)
    }
    return false
}

private func pid(_ pidFile: URL) -> Int32? {
    (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap {
        Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

@Suite("top", .serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct TopTests {
    /// The pane command: pktstat (its pid in a file), then the terminal modes it left, then a pause.
    private func screen(_ ports: (UInt16, UInt16), dir: URL) -> String {
        let filter = "udp and (port \(ports.0) or port \(ports.1))"
        return "sh -c 'echo $$ > \(dir.path)/pid; "
            + "exec \(TestPaths.binary) top -i lo --interval 0.5 --filter \"\(filter)\"'"
            + " 2> \(dir.path)/stderr; s=$?; stty -a > \(dir.path)/stty; echo exited $s; sleep 60"
    }

    /// Canonical mode and echo back on, the main screen back, the cursor visible.
    private func expectRestored(_ t: Tmux, dir: URL) {
        #expect(t.waitPane { $0.contains("exited") })
        let stty = (try? String(contentsOf: dir.appendingPathComponent("stty"), encoding: .utf8)) ?? ""
        #expect(stty.contains(" icanon") && !stty.contains("-icanon"), "\(stty)")
        #expect(stty.contains(" echo ") && !stty.contains("-echo "), "\(stty)")
        #expect(t.flag("alternate_on") == "0")
        #expect(t.flag("cursor_flag") == "1")
    }

    @Test func screenRowsSortedKeysWorkAndQRestores() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tmux(screen((27101, 27102), dir: dir))
        defer { t.kill() }
        let traffic = try loopbackTraffic([(27101, 1200), (27102, 100)], seconds: 8)
        defer { _ = traffic.finish(timeout: 10) }
        // Both flows on screen, the bigger one above.
        #expect(t.waitPane { $0.contains(":27101") && $0.contains(":27102") })
        let lines = t.pane().split(separator: "\n")
        let big = lines.firstIndex { $0.contains(":27101") } ?? 99
        let small = lines.firstIndex { $0.contains(":27102") } ?? -1
        #expect(big < small, "\(lines)")
        #expect(t.flag("alternate_on") == "1")
        t.keys("s")
        #expect(t.waitPane { $0.contains("sort: 2s") })
        t.keys("v")
        #expect(t.waitPane { $0.contains("view: hosts") && $0.contains("HOST") && !$0.contains(":27101") })
        t.keys("v")
        #expect(t.waitPane { $0.contains("view: ports") && $0.contains("27101") })
        t.keys("p")
        #expect(t.waitPane { $0.contains("PAUSED") })
        t.keys("q")
        #expect(processGone(dir.appendingPathComponent("pid")))
        expectRestored(t, dir: dir)
        #expect(t.pane().contains("exited 0"))
        let stderr = (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
        #expect(stderr.contains("packets captured") && stderr.contains("flows evicted"))
    }

    @Test func resizeRedrawsToTheNewSize() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tmux(screen((27111, 27112), dir: dir))
        defer { t.kill() }
        #expect(t.waitPane { $0.contains("q quit") })
        t.tmux(["resize-window", "-x", "60", "-y", "12"])
        #expect(
            t.waitPane(5) { pane in
                let lines = pane.split(separator: "\n", omittingEmptySubsequences: false)
                return lines.count >= 12 && lines[11].hasPrefix("q quit") && lines.allSatisfy { $0.count <= 60 }
            }, "\(t.pane())")
        t.keys("q")
        expectRestored(t, dir: dir)
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGSEGV])
    func signalsRestoreTheTerminal(signal: Int32) throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Tmux(screen((27121, 27122), dir: dir))
        defer { t.kill() }
        #expect(t.waitPane { $0.contains("q quit") })
        guard let p = pid(dir.appendingPathComponent("pid")) else { return #expect(Bool(false), "no pid") }
        kill(p, signal)
        #expect(processGone(dir.appendingPathComponent("pid")))
        expectRestored(t, dir: dir)
        // A stop signal ends the run normally; a crash signal kills it by that signal (128 + n).
        #expect(t.pane().contains(signal == SIGSEGV ? "exited \(128 + SIGSEGV)" : "exited 0"), "\(t.pane())")
    }

    @Test func batchSnapshotsPerIntervalStampedWithItsStart() throws {
        let traffic = try loopbackTraffic([(27131, 1000), (27132, 200)], seconds: 4)
        defer { _ = traffic.finish(timeout: 10) }
        let r = try pktstat(
            [
                "top", "-i", "lo", "--batch", "--interval", "0.5", "--duration", "2.2",
                "udp and (port 27131 or port 27132)",
            ],
            timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout)
        #expect(
            r.stdoutLines.first
                == "time,protocol,src,sport,dst,dport,packets,bytes,bits_per_second,total_packets,total_bytes,"
                + "tcp_state,initial_rtt,src_pid,src_process,src_unit,dst_pid,dst_process,dst_unit,"
                + "src_name,dst_name,server_name")
        let times = Array(Set(rows.compactMap { $0["time"] })).sorted()
        #expect(times.count >= 4, "\(r.stdout)")
        let ns = times.map { t -> Int64 in
            let parts = t.split(separator: ".")
            return Int64(parts[0])! * 1_000_000_000 + Int64(parts[1])!
        }
        #expect(zip(ns, ns.dropFirst()).allSatisfy { $1 - $0 == 500_000_000 }, "\(times)")
        for t in times {
            let snapshot = rows.filter { $0["time"] == t }
            let bytes = snapshot.map { Int($0["bytes"]!)! }
            #expect(bytes == bytes.sorted(by: >))
            #expect(snapshot.allSatisfy { $0["protocol"] == "UDP" && ["27131", "27132"].contains($0["dport"]) })
        }
        let full = rows.filter { $0["dport"] == "27131" }.compactMap { Int($0["bytes"]!) }
        #expect(full.dropFirst().dropLast().allSatisfy { $0 >= 20 * 1028 }, "\(full)")
        #expect(r.stderr.contains("0 flows evicted"))
    }

    /// A DNS answer and then a TLS connection over loopback (python3; nothing leaves the host: the
    /// answer goes to 127.0.0.1:53, the connection to a listener on 127.0.0.2): top's snapshots
    /// name the connection's server by the answer and by its ClientHello, sent in two segments.
    @Test func batchNamesFromDNSAndClientHello() throws {
        let python = try requireTool("python3")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let answer = NamePackets.dns(
            question: "live.example.test", answers: [NamePackets.a(NamePackets.pointer(12), [127, 0, 0, 2])])
        let hello = NamePackets.clientHello(serverName: "api.live.test", padding: 500)
        try Data(answer).write(to: dir.appendingPathComponent("answer"))
        try Data(hello).write(to: dir.appendingPathComponent("hello"))
        let top = try Spawned(
            TestPaths.binary,
            [
                "top", "-i", "lo", "--batch", "--interval", "0.5", "--duration", "4",
                "host 127.0.0.2 or udp dst port 53",
            ])
        #expect(top.waitFor(timeout: 10) { $0.stderr.contains("listening on") })
        usleep(300_000)
        let script = """
            import socket, threading, time
            d = '\(dir.path)/'
            answer, hello = open(d + 'answer', 'rb').read(), open(d + 'hello', 'rb').read()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.sendto(answer, ('127.0.0.1', 53))
            time.sleep(1.0)
            srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(('127.0.0.2', 27161)); srv.listen(1)
            def drain():
                c, _ = srv.accept(); c.settimeout(5)
                try:
                    while c.recv(65536): pass
                except OSError: pass
            t = threading.Thread(target=drain); t.start()
            c = socket.create_connection(('127.0.0.2', 27161)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.sendall(hello[:100]); time.sleep(0.2); c.sendall(hello[100:])
            for _ in range(30):
                c.sendall(b'x' * 500); time.sleep(0.05)
            c.close(); t.join(10)
            """
        let sender = try run(python, ["-c", script], timeout: 20)
        #expect(sender.status == 0, "\(sender.stderr)")
        let r = top.finish(timeout: 15)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout).filter { $0["dst"] == "127.0.0.2" && $0["dport"] == "27161" }
        #expect(!rows.isEmpty, "\(r.stdout)")
        // The answer came a second before the connection: every row carries the name. The
        // ClientHello completes in its second segment: from the row that has it on, every row does.
        #expect(rows.allSatisfy { $0["dst_name"] == "live.example.test" && $0["src_name"] == "" }, "\(rows)")
        let named = rows.firstIndex { $0["server_name"] == "api.live.test" } ?? rows.count
        #expect(rows[named...].allSatisfy { $0["server_name"] == "api.live.test" }, "\(rows)")
        #expect(rows[..<named].allSatisfy { $0["server_name"] == "" }, "\(rows)")
        #expect(rows.contains { $0["server_name"] == "api.live.test" }, "\(rows)")
    }

    @Test func batchJSONHostsAndEvictions() throws {
        let traffic = try loopbackTraffic([(27141, 300), (27142, 300), (27143, 300)], seconds: 3)
        defer { _ = traffic.finish(timeout: 10) }
        let r = try pktstat(
            [
                "top", "-i", "lo", "--format", "json", "--view", "hosts", "--max-flows", "1", "--interval", "0.5",
                "--duration", "1.5", "udp and portrange 27141-27143",
            ],
            timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let objects = r.stdoutLines.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == r.stdoutLines.count && !objects.isEmpty)
        #expect(objects.allSatisfy { $0["host"] as? String == "127.0.0.1" && $0["time"] is Double })
        // Three flows through a one-flow table: evictions, counted.
        let evicted = r.stderr.split(separator: "\n").first { $0.hasSuffix("flows evicted (--max-flows reached)") }
        #expect((evicted.flatMap { Int($0.split(separator: " ")[0]) } ?? 0) > 10, "\(r.stderr)")
    }

    /// Real kernel TCP on loopback: five connections closed (SF), one refused (REJ), one still open
    /// (S1). The handshake round trips equal tshark's `tcp.analysis.initial_rtt` on tcpdump's copy
    /// of the same packets within 5 µs (ours is to the µs, and two packet sockets may each stamp a
    /// packet with its own clock reading when the kernel did not stamp it first: a few hundred ns
    /// apart, more on a loaded machine; half the round trip, the SYN-ACK's time, is ~15 µs off), and
    /// `--sort rtt` puts the slowest first.
    @Test func tcpStateAndHandshakeRoundTripAgreeWithTshark() throws {
        let tcpdump = try requireTool("tcpdump")
        let tshark = try requireTool("tshark")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("copy.pcap")
        let filter = "tcp and portrange 27150-27151"
        // Foundation's Process starts children with most signals blocked: tcpdump (which, unlike
        // pktstat, does not unblock them) runs through a python3 exec that clears the mask.
        let unblocked =
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"
        let dump = try Spawned(
            "/usr/bin/python3",
            [
                "-c", unblocked, tcpdump, "-i", "lo", "-n", "-U", "--time-stamp-precision", "nano", "-w", copy.path,
                filter,
            ])
        defer { dump.signal(SIGKILL) }
        let top = try Spawned(
            TestPaths.binary,
            ["top", "-i", "lo", "--batch", "--interval", "0.5", "--duration", "3", "--sort", "rtt", filter])
        let listening = { (p: Spawned) in p.stderr.contains("listening on") }
        #expect(dump.waitFor(timeout: 10, listening) && top.waitFor(timeout: 10, listening))
        let script = """
            import socket, threading, time
            time.sleep(0.5)  # tcpdump says "listening" a moment before it sees packets
            srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(('127.0.0.1', 27150)); srv.listen(16)
            def serve():
                for _ in range(6):
                    c, _ = srv.accept()
                    threading.Thread(target=lambda c=c: (c.recv(100), c.sendall(b'pong'), c.recv(100), c.close())).start()
            threading.Thread(target=serve, daemon=True).start()
            for _ in range(5):
                c = socket.create_connection(('127.0.0.1', 27150)); c.sendall(b'ping'); c.recv(10); c.close()
                time.sleep(0.05)
            try: socket.create_connection(('127.0.0.1', 27151))
            except ConnectionRefusedError: pass
            held = socket.create_connection(('127.0.0.1', 27150)); held.sendall(b'ping'); held.recv(10)
            time.sleep(3.5)
            """
        let traffic = try Spawned("/usr/bin/python3", ["-c", script])
        let r = top.finish(timeout: 20)
        _ = traffic.finish(timeout: 10)
        dump.signal(SIGTERM)
        _ = dump.finish(timeout: 10)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout)
        let last = rows.filter { $0["time"] == rows.last?["time"] }
        let states = last.map { $0["tcp_state"] ?? "" }.sorted()
        #expect(states == ["REJ", "S1", "SF", "SF", "SF", "SF", "SF"], "\(r.stdout)")
        // Slowest handshake first; the refused connection (none) last.
        let rtts = last.map { Double($0["initial_rtt"] ?? "") ?? -1 }
        #expect(rtts == rtts.sorted(by: >) && rtts.last == -1, "\(rtts)")
        // Every packet after a handshake carries its round trip in tshark; key it by the client's port.
        let oracle = try run(
            tshark,
            [
                "-r", copy.path, "-Y", "tcp.analysis.initial_rtt && tcp.dstport == 27150", "-T", "fields", "-e",
                "tcp.srcport", "-e", "tcp.analysis.initial_rtt",
            ])
        var expected: [String: Double] = [:]
        for line in oracle.stdout.split(separator: "\n") {
            let f = line.split(separator: "\t")
            if f.count == 2, let v = Double(f[1]) { expected[String(f[0])] = v }
        }
        #expect(expected.count == 6, "\(oracle.stdout)")
        for row in last where row["dport"] == "27150" {
            let port = row["sport"] ?? ""
            let ours = Double(row["initial_rtt"] ?? "")
            let theirs = expected[port]
            #expect(
                ours != nil && theirs != nil && abs(ours! - theirs!) <= 5e-6,
                "port \(port): \(ours ?? -1) vs tshark \(theirs ?? -1); tshark: \(oracle.stdout)")
        }
    }
}
