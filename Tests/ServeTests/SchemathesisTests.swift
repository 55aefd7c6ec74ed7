import Foundation
import TestSupport
import Testing

/// schemathesis (PyPI) against the running server, with the server's own OpenAPI document as the
/// contract: every response must conform (status, content type, schema), bad input gets 4xx.
@Suite(.enabled(if: TestPaths.isRoot, "live capture needs root"))
struct SchemathesisTests {
    @Test func everyResponseConforms() throws {
        guard let st = Self.onPath("schemathesis") else {
            Issue.record("schemathesis is missing: scripts/install-deps installs it (pip)")
            return
        }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // With a history file, so /api/v1/history answers (without one it is a 503 by design).
        let history = dir.appendingPathComponent("history.sqlite").path
        let server = try ServeProcess([
            "-i", "lo", "--interval", "200ms", "--history", history, "udp", "port", "\(testPort(50))",
        ])
        defer { _ = server.stop() }
        // The stream never ends, so it is checked by ServeHTTPTests and the browser test instead.
        // Run in the temporary folder: schemathesis keeps a cache in ./.schemathesis.
        let r = try run(
            "/usr/bin/env",
            [
                "-C", dir.path, st, "run", server.base + "/api/v1/openapi.json", "--url", server.base, "--checks",
                "all",
                "--exclude-path", "/api/v1/series/stream", "--max-examples", "25", "--workers", "1",
                "--seed", "1", "--generation-database", "none", "--request-timeout", "5", "--report-dir", dir.path,
            ], timeout: 240, environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 })
        #expect(r.status == 0, "\(r.stdout.suffix(6000))\(r.stderr.suffix(2000))")
    }

    /// pip puts it wherever its Python's scripts go (a pyenv shim, /usr/local/bin, ~/.local/bin).
    static func onPath(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (dirs + ["/usr/local/bin", "/usr/bin"]).map { $0 + "/" + name }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
