import Foundation
import Serve
import TestSupport
import Testing

@Suite struct ServeConfigTests {
    @Test func listenAddresses() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:9100") == ListenAddress(host: "127.0.0.1", port: 9100))
        #expect(try ListenAddress(parsing: "[::1]:80") == ListenAddress(host: "::1", port: 80))
        #expect(try ListenAddress(parsing: ":9100") == ListenAddress(host: "0.0.0.0", port: 9100))
        #expect(try ListenAddress(parsing: "localhost").port == ListenAddress.defaultPort)
        #expect(try ListenAddress(parsing: "127.0.0.1:9100").isLoopback)
        #expect(try !ListenAddress(parsing: ":9100").isLoopback)
        #expect(try !ListenAddress(parsing: "[::]:1").isLoopback)
        for bad in ["1.2.3.4:x", "1.2.3.4:70000", "::1:80", "[::1", "a b:1"] {
            #expect(throws: ServeError.self) { try ListenAddress(parsing: bad) }
        }
    }

    @Test func nonLoopbackNeedsAuthentication() throws {
        var s = ServeSettings()
        s.listen = try ListenAddress(parsing: "0.0.0.0:9100")
        #expect(throws: ServeError.self) { try s.validate() }
        s.tokens = [BearerToken("0123456789abcdef0123")]
        try s.validate()
    }

    @Test func webConfigKeysAndPaths() throws {
        let yaml = """
            tls_server_config:
              cert_file: server.crt
              key_file: /abs/server.key
              min_version: TLS13
            basic_auth_users:
              alice: $2y$10$abcdefghijklmnopqrstuu5Ztjz8pZ0mQzvV6hq9fJ8z3LxSg0gGi
            http_server_config:
              headers:
                X-Frame-Options: deny
            """
        let c = try WebConfig.parse(yaml, path: "web.yml", folder: "/etc/pktstat")
        #expect(c.tls?.certFile == "/etc/pktstat/server.crt")
        #expect(c.tls?.keyFile == "/abs/server.key")
        #expect(c.tls?.minVersion == "TLS13")
        #expect(c.basicAuthUsers["alice"]?.hasPrefix("$2y$10$") == true)
        #expect(c.headers["X-Frame-Options"] == "deny")
        for bad in [
            "tls_server_config:\n  cert_file: a\n", "basic_auth_users:\n  bob: plain\n", "tls_config: {}\n",
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n", "[1, 2",
        ] {
            #expect(throws: ServeError.self, "\(bad)") { try WebConfig.parse(bad, path: "w.yml", folder: ".") }
        }
    }

    @Test func tokenFileMustBePrivate() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("token").path
        try writeFile(path, "# comment\n0123456789abcdef0123\n\nsecond-token-0123456789\n", mode: 0o644)
        do {
            _ = try TokenFile.load(path: path)
            Issue.record("a world-readable token file was accepted")
        } catch {
            #expect(error.description.contains("644"))
            #expect(error.hint == "run: chmod 600 \(path)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(
            try TokenFile.load(path: path) == [
                BearerToken("0123456789abcdef0123"), BearerToken("second-token-0123456789"),
            ])
        try writeFile(path, "short\n", mode: 0o600)
        #expect(throws: ServeError.self) { try TokenFile.load(path: path) }
    }

    @Test func tokenScopes() throws {
        let text = "  0123456789abcdef0123\t metrics \r\nsecond-token-0123456789 all\n# x y z\nthird-token-0123456789\n"
        #expect(
            try TokenFile.parse(text, path: "t") == [
                BearerToken("0123456789abcdef0123", scope: .metrics), BearerToken("second-token-0123456789"),
                BearerToken("third-token-0123456789"),
            ])
        for (bad, says) in [
            ("0123456789abcdef0123 admin\n", "line 1: unknown scope 'admin' (use all or metrics)"),
            ("\n0123456789abcdef0123 metrics extra\n", "line 2 has 3 words; a line is TOKEN [SCOPE]"),
            ("# only a comment\n", "it holds no token"),
        ] {
            do {
                _ = try TokenFile.parse(bad, path: "t")
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.description == "cannot use the token file t: \(says)")
            }
        }
        let auth = Authenticator(
            tokens: [BearerToken("scraper-token-0123456789", scope: .metrics), BearerToken("full-token-0123456789")],
            users: [:])
        #expect(auth.access(authorization: "Bearer scraper-token-0123456789") == .metricsOnly)
        #expect(auth.access(authorization: "Bearer full-token-0123456789") == .all)
        #expect(auth.access(authorization: "Bearer scraper-token-012345678") == .denied)
        #expect(auth.access(authorization: nil) == .denied)
        let twice = Authenticator(
            tokens: [BearerToken("listed-twice-0123456789"), BearerToken("listed-twice-0123456789", scope: .metrics)],
            users: [:])
        #expect(twice.access(authorization: "Bearer listed-twice-0123456789") == .all)
    }

    @Test func bearerAndBasicAuthentication() throws {
        let hash = try bcryptHash("s3cret pass")
        #expect(hash.hasPrefix("$2b$"))
        let users = ["alice": hash, "bob": "$2y$" + hash.dropFirst(4)]
        let auth = Authenticator(tokens: [BearerToken("0123456789abcdef0123")], users: users)
        #expect(auth.allows(authorization: "Bearer 0123456789abcdef0123"))
        #expect(auth.allows(authorization: "bearer 0123456789abcdef0123"))
        #expect(!auth.allows(authorization: "Bearer 0123456789abcdef012"))
        #expect(!auth.allows(authorization: "Bearer 0123456789abcdef01234"))
        #expect(!auth.allows(authorization: nil))
        func basic(_ s: String) -> String { "Basic " + Data(s.utf8).base64EncodedString() }
        #expect(auth.allows(authorization: basic("alice:s3cret pass")))
        #expect(auth.allows(authorization: basic("bob:s3cret pass")), "$2y$ is read as $2b$")
        #expect(!auth.allows(authorization: basic("alice:s3cret pas")))
        #expect(!auth.allows(authorization: basic("carol:s3cret pass")))
        #expect(!auth.allows(authorization: "Basic !!!"))
        #expect(Authenticator(tokens: [], users: [:]).allows(authorization: nil))
    }
}
