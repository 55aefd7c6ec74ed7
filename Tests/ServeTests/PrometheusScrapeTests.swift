import Foundation
import TestSupport
import Testing

/// A real Prometheus (Debian's) scrapes `serve` every second over TLS (a CA made here with openssl)
/// with a bearer token; a second job without the token gets 401.
@Suite(.enabled(if: TestPaths.isRoot, "live capture needs root"))
struct PrometheusScrapeTests {
    @Test func prometheusSeesExactCounts() throws {
        guard let prometheus = TestPaths.tool("prometheus") else {
            Issue.record("prometheus is missing: scripts/install-deps installs it")
            return
        }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = dir.path
        try makeCertificates(in: d)
        // serve's token file gives Prometheus's token the scope 'metrics' (the README's advice);
        // Prometheus reads the bare token from a file of its own.
        try writeFile("\(d)/tokens", "prometheus-scrape-token-0123456789 metrics\n")
        try writeFile("\(d)/token", "prometheus-scrape-token-0123456789\n")
        try writeFile("\(d)/web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
        let udpPort = testPort(20)
        let server = try ServeProcess(
            [
                "-i", "lo", "--interval", "200ms", "--token-file", "\(d)/tokens", "--web.config.file", "\(d)/web.yml",
                "udp", "port", "\(udpPort)",
            ], scheme: "https")
        defer { _ = server.stop() }
        let target = server.base.replacingOccurrences(of: "https://", with: "")
        let promPort = testPort(21)
        try writeFile(
            "\(d)/prometheus.yml",
            """
            global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}
            scrape_configs:
              - job_name: pktstat
                scheme: https
                authorization: {type: Bearer, credentials_file: \(d)/token}
                tls_config: {ca_file: \(d)/ca.crt, server_name: localhost}
                static_configs: [{targets: ['\(target)']}]
              - job_name: noauth
                scheme: https
                tls_config: {ca_file: \(d)/ca.crt, server_name: localhost}
                static_configs: [{targets: ['\(target)']}]
            """)
        let prom = try Spawned(
            prometheus,
            [
                "--config.file=\(d)/prometheus.yml", "--storage.tsdb.path=\(d)/data",
                "--web.listen-address=127.0.0.1:\(promPort)",
            ])
        defer {
            prom.signal(SIGTERM)
            _ = prom.finish(timeout: 10)
        }
        let api = "http://127.0.0.1:\(promPort)/api/v1/query?query="
        func query(_ q: String) throws -> Double? {
            let r = try curl(api + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q))
            guard let data = (r.json as? [String: Any])?["data"] as? [String: Any],
                let result = (data["result"] as? [[String: Any]])?.first, let value = result["value"] as? [Any],
                let text = value.last as? String
            else { return nil }
            return Double(text)
        }
        // Prometheus starts, then scrapes every second; with the whole suite on two cores its start
        // alone was once over 20 s (the test then passed alone in 8 s): a minute, polled.
        #expect(try poll(timeout: 60) { try query("up{job=\"pktstat\"}") == 1 }, "Prometheus scrapes with the token")
        let n = 250
        let size = 500
        try sendUDP(port: udpPort, count: n, size: size)
        let packets = "sum(pktstat_packets_total{job=\"pktstat\",protocol=\"UDP\"})"
        let counted = try poll(timeout: 15) { try query(packets) == Double(n) }
        let have = try query(packets)
        #expect(counted, "Prometheus has \(String(describing: have)) packets, not \(n)")
        #expect(try query("sum(pktstat_bytes_total{job=\"pktstat\",protocol=\"UDP\"})") == Double(n * (size + 42)))
        #expect(try query("up{job=\"noauth\"}") == 0)
        let targets = try curl("http://127.0.0.1:\(promPort)/api/v1/targets").body
        #expect(targets.contains("401"), "the unauthenticated job's error names 401")
        // The scraper's token reads /metrics only: the talkers are forbidden to it.
        let talkers = try server.request(
            "/api/v1/flows", headers: ["Authorization: Bearer prometheus-scrape-token-0123456789"],
            extra: ["--cacert", "\(d)/ca.crt"])
        #expect(talkers.status == 403, "\(talkers.status) \(talkers.body)")
    }

    /// A CA, and a server certificate for localhost and 127.0.0.1 signed by it.
    func makeCertificates(in d: String) throws {
        let script = """
            set -e
            cd '\(d)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
              -subj '/CN=pktstat test CA' 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=localhost' 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
              -extfile san.ext 2>/dev/null
            chmod 600 server.key
            """
        let r = try shell(script, timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
    }
}
