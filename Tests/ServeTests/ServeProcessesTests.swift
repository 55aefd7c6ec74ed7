import Foundation
import TestSupport
import Testing

/// `serve` names the local process at each end of a flow (`/api/v1/flows`) and totals per process
/// (`/api/v1/processes`), from real processes with known names (copies of python3, renamed);
/// `/metrics` has no per-process labels.
@Suite struct ServeProcessesTests {
    @Test func flowsAndProcessesNameTheLocalProcesses() throws {
        try #require(TestPaths.isRoot, "needs root: other processes' /proc/PID/fd")
        // The interpreter itself, not a symlink to it (a copied relative link would dangle).
        let python = URL(fileURLWithPath: try requireTool("python3")).resolvingSymlinksInPath().path
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sinkExe = dir.appendingPathComponent("pkt-serve-snk").path
        let sendExe = dir.appendingPathComponent("pkt-serve-snd").path
        try FileManager.default.copyItem(atPath: python, toPath: sinkExe)
        try FileManager.default.copyItem(atPath: python, toPath: sendExe)
        let port = testPort(60)
        let server = try ServeProcess(["-i", "lo", "udp", "port", "\(port)"])
        defer { _ = server.stop() }
        // The sink and the sender stay open for 4 s (bounded), so their sockets can be found.
        let sink = try Spawned(
            sinkExe,
            [
                "-c",
                """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", \(port)))
                print("ready", flush=True); s.settimeout(4)
                end = time.time() + 4
                while time.time() < end:
                    try: s.recv(2048)
                    except socket.timeout: break
                """,
            ])
        defer { _ = sink.finish(timeout: 6) }
        try #require(sink.waitFor(timeout: 5) { $0.stdout.contains("ready") })
        let sender = try Spawned(
            sendExe,
            [
                "-c",
                """
                import socket, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for _ in range(20):
                    s.sendto(b"x" * 300, ("127.0.0.1", \(port))); time.sleep(0.02)
                time.sleep(3)
                """,
            ])
        defer { _ = sender.finish(timeout: 6) }
        let senderPid = Int(sender.process.processIdentifier)
        let sinkPid = Int(sink.process.processIdentifier)
        var flow: [String: Any] = [:]
        let seen = try poll(timeout: 6) {
            let doc = try server.request("/api/v1/flows").json as? [String: Any] ?? [:]
            flow = (doc["rows"] as? [[String: Any]])?.first ?? [:]
            return flow["packets"] as? Int == 20 && flow["dst_pid"] as? Int != nil
        }
        #expect(seen, "\(flow)")
        #expect(flow["src_pid"] as? Int == senderPid && flow["src_process"] as? String == "pkt-serve-snd", "\(flow)")
        #expect(flow["dst_pid"] as? Int == sinkPid && flow["dst_process"] as? String == "pkt-serve-snk", "\(flow)")
        let doc = try server.request("/api/v1/processes").json as? [String: Any] ?? [:]
        let rows = doc["rows"] as? [[String: Any]] ?? []
        let bytes = 20 * (300 + 42)
        let snd = rows.first { $0["pid"] as? Int == senderPid }
        let snk = rows.first { $0["pid"] as? Int == sinkPid }
        #expect(snd?["process"] as? String == "pkt-serve-snd" && snd?["sent_bytes"] as? Int == bytes, "\(rows)")
        #expect(snd?["received_bytes"] as? Int == 0 && snd?["flows"] as? Int == 1)
        #expect(snk?["received_bytes"] as? Int == bytes && snk?["sent_bytes"] as? Int == 0, "\(rows)")
        #expect(try server.request("/api/v1/processes?top=0").status == 400)
        #expect(try server.request("/api/v1/processes?view=host").status == 400)
        let metrics = try server.request("/metrics").body
        #expect(!metrics.contains("pkt-serve") && !metrics.contains("pid="))
    }
}
