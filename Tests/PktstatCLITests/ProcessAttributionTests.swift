import Foundation
import TestSupport
import Testing

/// Live attribution of flows to local processes (`top`'s process columns and processes view), on
/// real processes with known names: a compiled demo program copied under several names, run in a
/// network namespace behind a veth pair, in a cgroup named like a systemd service and in one
/// named like a Docker container. Root only (namespaces, cgroups, other processes' /proc/PID/fd).
@Suite(.serialized) struct ProcessAttributionTests {
    /// CSV rows as dictionaries by the header's names.
    private func csv(_ text: String) -> [[String: String]] {
        let lines = text.split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        else { return [] }
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, cells + Array(repeating: "", count: header.count)))
        }
    }

    private func waitLine(_ p: Spawned, _ text: String, timeout: Double = 10) -> Bool {
        p.waitFor(timeout: timeout) { $0.stdout.contains(text) || $0.stderr.contains(text) }
    }

    private func randomHex(_ n: Int) -> String {
        String((0..<n).map { _ in "0123456789abcdef".randomElement()! })
    }

    @Test func flowsAcrossNamespacesAndCgroupsAreAttributedToTheirProcesses() throws {
        try #require(TestPaths.isRoot, "needs root: namespaces, cgroups, other processes' /proc/PID/fd")
        let ss = try requireTool("ss", package: "iproute2")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bins = try ProcessDemo.build(in: dir, names: ["pkt-srv", "pkt-cli", "pkt-udp", "pkt-usink", "pkt-short"])
        let veth = try VethPair(tag: "at\(UInt16.random(in: 0...UInt16.max))")
        defer { veth.destroy() }
        let service = try TestCgroup("system.slice/pkt-demo.service")
        defer { service.remove() }
        let containerID = randomHex(64)
        let container = try TestCgroup("docker/\(containerID)")
        defer { container.remove() }
        var spawned: [Spawned] = []
        defer { for p in spawned where p.process.isRunning { p.signal(SIGKILL) } }
        func start(_ argv: [String]) throws -> Spawned {
            let p = try Spawned(argv[0], Array(argv.dropFirst()))
            spawned.append(p)
            return p
        }
        func inside(_ ns: String, _ argv: [String]) -> [String] {
            let (exe, args) = VethPair.exec(in: ns, argv)
            return [exe] + args
        }
        let server = veth.receiverAddress
        // pktstat in the receiving namespace, on its end of the veth: the clients' sockets are in
        // the other namespace, the servers' in its own.
        let top = try start(
            inside(
                veth.receiver,
                [
                    TestPaths.binary, "top", "-i", veth.receiverInterface, "--batch", "--interval", "1", "--duration",
                    "6",
                ]))
        try #require(waitLine(top, "listening"), "top: \(top.stderr)")
        let srv = try start(service.enter(inside(veth.receiver, [bins["pkt-srv"]!, "server", server, "27201", "8"])))
        let sink = try start(inside(veth.receiver, [bins["pkt-usink"]!, "usink", server, "27202", "8"]))
        try #require(waitLine(srv, "pid") && waitLine(sink, "pid"), "servers: \(srv.stderr) \(sink.stderr)")
        let cli = try start(container.enter(inside(veth.sender, [bins["pkt-cli"]!, "client", server, "27201", "2.5"])))
        let udp = try start(inside(veth.sender, [bins["pkt-udp"]!, "udp", server, "27202", "2.5"]))
        let short = try start(inside(veth.sender, [bins["pkt-short"]!, "short", server, "27201", "5", "50"]))
        try #require(waitLine(cli, "pid") && waitLine(udp, "pid"), "clients: \(cli.stderr) \(udp.stderr)")
        usleep(800_000)
        // The truth the test knows, checked against ss while the long flows run.
        let ssSender = try run(
            VethPair.exec(in: veth.sender, [ss, "-tunapH"]).0, VethPair.exec(in: veth.sender, [ss, "-tunapH"]).1)
        let ssReceiver = try run(
            VethPair.exec(in: veth.receiver, [ss, "-tunapH"]).0, VethPair.exec(in: veth.receiver, [ss, "-tunapH"]).1)
        let topResult = top.finish(timeout: 20)
        let srvPid = ProcessDemo.pidsAndPorts(srv.finish(timeout: 10).stdout).first?.pid
        let sinkPid = ProcessDemo.pidsAndPorts(sink.finish(timeout: 10).stdout).first?.pid
        let cliLine = try #require(ProcessDemo.pidsAndPorts(cli.finish(timeout: 10).stdout).first)
        let udpLine = try #require(ProcessDemo.pidsAndPorts(udp.finish(timeout: 10).stdout).first)
        let shortResult = short.finish(timeout: 10)
        let shorts = ProcessDemo.pidsAndPorts(shortResult.stdout)
        #expect(topResult.status == 0, "\(topResult.stderr)")
        let srvP = try #require(srvPid)
        let sinkP = try #require(sinkPid)

        // ss sees the same pids and names the test started.
        #expect(
            ssSender.stdout.split(separator: "\n").contains {
                $0.contains(":\(cliLine.port) ") && $0.contains("\"pkt-cli\",pid=\(cliLine.pid),")
            }, "\(ssSender.stdout)")
        #expect(
            ssReceiver.stdout.split(separator: "\n").contains {
                $0.contains(":27201 ") && $0.contains("\"pkt-srv\",pid=\(srvP),") && $0.contains(":\(cliLine.port)")
            }, "\(ssReceiver.stdout)")

        let rows = csv(topResult.stdout)
        #expect(
            topResult.stdout.hasPrefix(
                "time,protocol,src,sport,dst,dport,packets,bytes,bits_per_second,total_packets,total_bytes,tcp_state,initial_rtt,"
                    + "src_pid,src_process,src_unit,dst_pid,dst_process,dst_unit,src_name,dst_name,server_name\n"))
        func flowRows(_ proto: String, _ sport: Int, _ dport: Int) -> [[String: String]] {
            rows.filter { $0["protocol"] == proto && $0["sport"] == "\(sport)" && $0["dport"] == "\(dport)" }
        }
        // Long flows: every row (so every byte) names the right process at each end.
        let tcp = flowRows("TCP", cliLine.port, 27201)
        #expect(tcp.count >= 2, "\(topResult.stdout)")
        let dockerUnit = "docker:\(containerID.prefix(12))"
        for r in tcp {
            #expect(
                r["src_pid"] == "\(cliLine.pid)" && r["src_process"] == "pkt-cli" && r["src_unit"] == dockerUnit, "\(r)"
            )
            #expect(
                r["dst_pid"] == "\(srvP)" && r["dst_process"] == "pkt-srv" && r["dst_unit"] == "pkt-demo.service",
                "\(r)")
        }
        let udpRows = flowRows("UDP", udpLine.port, 27202)
        #expect(udpRows.count >= 2, "\(topResult.stdout)")
        for r in udpRows {
            #expect(r["src_pid"] == "\(udpLine.pid)" && r["src_process"] == "pkt-udp", "\(r)")
            #expect(r["dst_pid"] == "\(sinkP)" && r["dst_process"] == "pkt-usink", "\(r)")
        }
        // Short connections (a new process each, under 50 ms): at least 95% of their ends
        // attributed right, none wrong.
        #expect(shorts.count == 50, "\(shortResult.stdout) \(shortResult.stderr)")
        var right = 0
        var wrong: [String] = []
        for s in shorts {
            // A connection may span two intervals: an end is right when every row of it names the
            // right process, wrong when any row names another.
            let flow = flowRows("TCP", s.port, 27201)
            for (end, pid, name) in [("src", s.pid, "pkt-short"), ("dst", srvP, "pkt-srv")] {
                let named = flow.filter { !($0["\(end)_pid"] ?? "").isEmpty || !($0["\(end)_process"] ?? "").isEmpty }
                if named.contains(where: { $0["\(end)_pid"] != "\(pid)" || $0["\(end)_process"] != name }) {
                    wrong.append("\(end) \(flow)")
                } else if !flow.isEmpty && named.count == flow.count {
                    right += 1
                }
            }
        }
        let total = shorts.count * 2
        print("short connections: \(right) of \(total) ends attributed right, \(wrong.count) wrong")
        #expect(Double(right) >= 0.95 * Double(total), "\(right) of \(total) ends right")
        #expect(wrong.isEmpty, "\(wrong)")
        // Each was open about 30 ms (connect, send, wait, close): the median under 50 ms.
        let ms = shortResult.stdout.split(separator: "\n").compactMap {
            $0.split(separator: " ").last.flatMap { Double($0) }
        }
        #expect(ms.count == shorts.count && ms.sorted()[ms.count / 2] < 50, "\(ms)")
    }

    @Test func ipv6LoopbackFlowsAndTheProcessesView() throws {
        try #require(TestPaths.isRoot, "needs root: other processes' /proc/PID/fd")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bins = try ProcessDemo.build(in: dir, names: ["pkt-srv6", "pkt-cli6", "pkt-udp6", "pkt-usink6"])
        var spawned: [Spawned] = []
        defer { for p in spawned where p.process.isRunning { p.signal(SIGKILL) } }
        func start(_ argv: [String]) throws -> Spawned {
            let p = try Spawned(argv[0], Array(argv.dropFirst()))
            spawned.append(p)
            return p
        }
        let filter = "port 27211 or port 27212"
        let flows = try start([
            TestPaths.binary, "top", "-i", "lo", "--batch", "--interval", "1", "--duration", "3.5", filter,
        ])
        let processes = try start([
            TestPaths.binary, "top", "-i", "lo", "--batch", "--view", "processes", "--interval", "1", "--duration",
            "3.5", filter,
        ])
        try #require(waitLine(flows, "listening") && waitLine(processes, "listening"))
        let srv = try start([bins["pkt-srv6"]!, "server", "::1", "27211", "4"])
        let sink = try start([bins["pkt-usink6"]!, "usink", "::1", "27212", "4"])
        try #require(waitLine(srv, "pid") && waitLine(sink, "pid"))
        let cli = try start([bins["pkt-cli6"]!, "client", "::1", "27211", "1.5"])
        let udp = try start([bins["pkt-udp6"]!, "udp", "::1", "27212", "1.5"])
        let flowsResult = flows.finish(timeout: 20)
        let processesResult = processes.finish(timeout: 20)
        let pid = { (p: Spawned) in ProcessDemo.pidsAndPorts(p.finish(timeout: 10).stdout).first }
        let s = try #require(pid(srv))
        let k = try #require(pid(sink))
        let c = try #require(pid(cli))
        let u = try #require(pid(udp))
        #expect(flowsResult.status == 0 && processesResult.status == 0, "\(flowsResult.stderr)")

        let rows = csv(flowsResult.stdout)
        let tcp = rows.filter { $0["protocol"] == "TCP" && $0["sport"] == "\(c.port)" && $0["dport"] == "27211" }
        let udpRows = rows.filter { $0["protocol"] == "UDP" && $0["sport"] == "\(u.port)" && $0["dport"] == "27212" }
        #expect(!tcp.isEmpty && !udpRows.isEmpty, "\(flowsResult.stdout)")
        #expect(tcp.allSatisfy { $0["src"] == "::1" && $0["src_pid"] == "\(c.pid)" && $0["dst_pid"] == "\(s.pid)" })
        #expect(tcp.allSatisfy { $0["src_process"] == "pkt-cli6" && $0["dst_process"] == "pkt-srv6" })
        #expect(udpRows.allSatisfy { $0["src_pid"] == "\(u.pid)" && $0["dst_pid"] == "\(k.pid)" }, "\(udpRows)")

        // The processes view: a row per process per interval; what the client sent is what the
        // server received (their one flow), and the other way round.
        #expect(
            processesResult.stdout.hasPrefix(
                "time,pid,process,unit,sent_packets,sent_bytes,received_packets,received_bytes,bits_per_second,"
                    + "total_bytes\n"))
        let prows = csv(processesResult.stdout)
        func sum(_ pid: Int, _ key: String) -> Int {
            prows.filter { $0["pid"] == "\(pid)" }.compactMap { Int($0[key] ?? "") }.reduce(0, +)
        }
        #expect(prows.contains { $0["pid"] == "\(c.pid)" && $0["process"] == "pkt-cli6" }, "\(processesResult.stdout)")
        #expect(sum(c.pid, "sent_bytes") > 100_000 && sum(c.pid, "sent_bytes") == sum(s.pid, "received_bytes"))
        #expect(sum(c.pid, "received_bytes") > 0 && sum(c.pid, "received_bytes") == sum(s.pid, "sent_bytes"))
        #expect(sum(u.pid, "sent_bytes") > 0 && sum(u.pid, "sent_bytes") == sum(k.pid, "received_bytes"))
    }

    /// Many flows new at once (more than the worker asks about one by one): one sock_diag dump
    /// per namespace answers them all.
    @Test func manyNewFlowsAtOnceAreAttributedThroughDumps() throws {
        try #require(TestPaths.isRoot, "needs root to capture")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let python = URL(fileURLWithPath: try requireTool("python3")).resolvingSymlinksInPath().path
        let exe = dir.appendingPathComponent("pkt-burst").path
        try FileManager.default.copyItem(atPath: python, toPath: exe)
        let top = try Spawned(
            TestPaths.binary, ["top", "-i", "lo", "--batch", "--duration", "2.5", "udp and dst portrange 27231-27330"])
        defer { _ = top.finish(timeout: 5) }
        try #require(waitLine(top, "listening"))
        // 100 sockets, each sending one datagram to its own port in one burst, then kept open a
        // while (bounded) so that they can be found.
        let burst = try Spawned(
            exe,
            [
                "-c",
                """
                import os, socket, time
                socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(100)]
                for i, s in enumerate(socks): s.sendto(b"b" * 64, ("127.0.0.1", 27231 + i))
                print("pid", os.getpid(), flush=True)
                time.sleep(2)
                """,
            ])
        let b = burst.finish(timeout: 10)
        let r = top.finish(timeout: 10)
        let pid = try #require(
            b.stdout.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let rows = csv(r.stdout).filter { $0["protocol"] == "UDP" }
        #expect(rows.count == 100, "\(r.stdout)")
        let named = rows.filter { $0["src_pid"] == "\(pid)" && $0["src_process"] == "pkt-burst" }
        #expect(named.count == rows.count, "\(rows.filter { $0["src_pid"] != "\(pid)" })")
        // No socket listens on those ports, and they are below the kernel's ephemeral range
        // (32768-60999), so none of the burst's own sockets can hold one of them.
        #expect(rows.allSatisfy { $0["dst_process"] != "pkt-burst" }, "\(rows)")
        let summary = r.stderr.split(separator: "\n").first { $0.contains("attributed to processes") } ?? ""
        let attributed = Int(summary.split(separator: " ").first ?? "") ?? 0
        #expect(
            (100...103).contains(attributed) && summary.contains(" of 200 flow ends")
                && !summary.contains(" 0 dump rounds"), "\(r.stderr)")
    }

    @Test func noProcessesLeavesTheColumnsEmpty() throws {
        try #require(TestPaths.isRoot, "needs root to capture")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bins = try ProcessDemo.build(in: dir, names: ["pkt-usink", "pkt-udp"])
        let sink = try Spawned(bins["pkt-usink"]!, ["usink", "127.0.0.1", "27221", "3"])
        defer { _ = sink.finish(timeout: 5) }
        let top = try Spawned(
            TestPaths.binary, ["top", "-i", "lo", "--batch", "--no-processes", "--duration", "1.5", "port 27221"])
        try #require(waitLine(top, "listening"))
        _ = try run(bins["pkt-udp"]!, ["udp", "127.0.0.1", "27221", "0.5"], timeout: 10)
        let r = top.finish(timeout: 10)
        let rows = csv(r.stdout)
        #expect(
            !rows.isEmpty && rows.allSatisfy { ($0["src_pid"] ?? "x").isEmpty && ($0["dst_process"] ?? "x").isEmpty })
        #expect(!r.stderr.contains("attributed to processes"))
    }
}
