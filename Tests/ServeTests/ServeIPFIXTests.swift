import Foundation
import TestSupport
import Testing

/// `serve --ipfix` on loopback into a real nfcapd: known UDP traffic is exported as it ends (a
/// 1 s active timeout cuts the flow while serve runs), and the counters of `/metrics`, of
/// `/api/v1/summary` and of the status lines equal what nfcapd stored.
@Suite(.enabled(if: TestPaths.isRoot, "live capture needs root"), .serialized)
struct ServeIPFIXTests {
    @Test func serveExportsIntoNfcapdAndCountsIt() throws {
        _ = try requireTool("nfcapd", package: "nfdump")
        _ = try requireTool("curl")
        let collector = try NfcapdCollector()
        let port = testPort(80)
        let server = try ServeProcess([
            "-i", "lo", "--ipfix", "127.0.0.1:\(collector.port)", "--active-timeout", "1s", "--observation-domain",
            "9", "udp", "port", "\(port)",
        ])
        let (count, size) = (50, 200)
        try sendUDP(port: port, count: count, size: size)
        // The flow is cut by the active timeout within about a second of its first packet; once a
        // record went out, wait past one more timeout so that no slice is left.
        var metrics = ""
        let exported = try poll(timeout: 10) {
            metrics = try server.request("/metrics").body
            return (sample(metrics, "pktstat_ipfix_records_sent_total") ?? 0) >= 1
        }
        #expect(exported, "\(metrics)")
        usleep(1_600_000)
        metrics = try server.request("/metrics").body
        let sent = try #require(sample(metrics, "pktstat_ipfix_records_sent_total"))
        #expect(sample(metrics, "pktstat_ipfix_records_dropped_total") == 0)
        #expect(sample(metrics, "pktstat_ipfix_send_errors_total") == 0)
        #expect(sample(metrics, "pktstat_ipfix_reconnects_total") == 0)
        #expect((sample(metrics, "pktstat_ipfix_messages_sent_total") ?? 0) >= 1)
        let summary = try server.request("/api/v1/summary")
        let ipfix = try #require((summary.json as? [String: Any])?["ipfix"] as? [String: Any], "\(summary.body)")
        #expect(ipfix["records_sent"] as? Int == Int(sent))
        #expect(ipfix["collector"] as? String == "127.0.0.1:\(collector.port)")
        let stopped = server.stop()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        // Nothing was open at the stop: the closing line counts what /metrics counted.
        #expect(stopped.stderr.contains("ipfix: \(Int(sent)) records in "), "\(stopped.stderr)")
        #expect(stopped.stderr.contains(" 0 dropped, 0 send errors"), "\(stopped.stderr)")
        usleep(150_000)
        collector.stop()
        let records = try collector.records()
        #expect(records.count == Int(sent), "nfcapd stored as many records as /metrics says were sent")
        #expect(records.allSatisfy { $0.key.dst == "127.0.0.1" && $0.key.dport == port })
        #expect(records.reduce(0) { $0 + $1.packets } == UInt64(count))
        // IP-layer bytes: the IPv4 and UDP headers and the payload of each datagram.
        #expect(records.reduce(0) { $0 + $1.bytes } == UInt64(count * (20 + 8 + size)))
    }

    /// `--idle-timeout 1s`: a flow that went quiet is exported while serve runs, long before the
    /// default 15 s (and the 60 s active timeout) would have ended it.
    @Test func idleTimeoutExportsAQuietFlowWhileServing() throws {
        _ = try requireTool("nfcapd", package: "nfdump")
        _ = try requireTool("curl")
        let collector = try NfcapdCollector()
        let port = testPort(82)
        let server = try ServeProcess([
            "-i", "lo", "--ipfix", "127.0.0.1:\(collector.port)", "--idle-timeout", "1s", "udp", "port", "\(port)",
        ])
        let (count, size) = (10, 100)
        try sendUDP(port: port, count: count, size: size)
        var metrics = ""
        let exported = try poll(timeout: 8) {
            metrics = try server.request("/metrics").body
            return (sample(metrics, "pktstat_ipfix_records_sent_total") ?? 0) >= 1
        }
        #expect(exported, "\(metrics)")
        let stopped = server.stop()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        // The one flow was exported before the stop: nothing was open then.
        #expect(stopped.stderr.contains("ipfix: 1 records in "), "\(stopped.stderr)")
        usleep(150_000)
        collector.stop()
        let records = try collector.records()
        #expect(records.count == 1 && records.first?.packets == UInt64(count), "\(records)")
        #expect(records.first?.bytes == UInt64(count * (20 + 8 + size)))
    }

    /// Without --ipfix: no pktstat_ipfix_ counters, and the summary's ipfix is null.
    @Test func withoutIPFIXNothingIsCounted() throws {
        _ = try requireTool("curl")
        let server = try ServeProcess(["-i", "lo", "udp", "port", "\(testPort(81))"])
        defer { _ = server.stop() }
        #expect(!(try server.request("/metrics").body.contains("pktstat_ipfix_")))
        let summary = try server.request("/api/v1/summary")
        let doc = try #require(summary.json as? [String: Any])
        #expect(doc.keys.contains("ipfix") && doc["ipfix"] is NSNull, "\(summary.body)")
    }

    @Test func badIPFIXOptionsAreOneLine() throws {
        for (args, says) in [
            (["--ipfix", "nowhere"], "not a collector address"),
            (["--active-timeout", "5s"], "--ipfix"),
            (["--idle-timeout", "5s"], "--ipfix"),
            (["--ipfix", "127.0.0.1:4739", "--idle-timeout", "0s"], "--idle-timeout"),
            (["--biflow"], "need --ipfix"),
            (["--ipfix", "127.0.0.1:4739", "--ipfix-rate", "10"], "ipfix-rate"),
        ] {
            let r = try pktstat(["serve", "-i", "lo"] + args)
            #expect(r.status == 64 && r.noCrash, "\(args)")
            #expect(r.stderr.split(separator: "\n").first?.contains(says) == true, "\(args): \(r.stderr)")
        }
    }
}
