import Foundation
import Yams

/// exporter-toolkit's web configuration file (`--web.config.file`), the same keys Prometheus
/// exporters read: `tls_server_config` (`cert_file`, `key_file`, `client_auth_type`,
/// `client_ca_file`, `min_version`, `max_version`), `basic_auth_users` (user: bcrypt hash) and
/// `http_server_config` (`headers`). Relative paths are relative to the file's folder, as
/// exporter-toolkit resolves them. Unknown keys are refused (exporter-toolkit reads strictly).
public struct WebConfig: Sendable, Equatable {
    public struct TLS: Sendable, Equatable {
        public var certFile: String
        public var keyFile: String
        public var clientAuthType = "NoClientCert"
        public var clientCAFile: String?
        /// "TLS12" or "TLS13" (exporter-toolkit's default: TLS12).
        public var minVersion = "TLS12"
        public var maxVersion: String?
    }

    public var tls: TLS?
    /// user → bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
    public var basicAuthUsers: [String: String] = [:]
    /// Extra response headers (`http_server_config.headers`).
    public var headers: [String: String] = [:]

    public init() {}

    public static func load(path: String) throws(ServeError) -> WebConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw .webConfig(path: path, problem: "cannot read it")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text, path: path, folder: folder.isEmpty ? "." : folder)
    }

    public static func parse(_ text: String, path: String, folder: String) throws(ServeError) -> WebConfig {
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            let first = String(describing: error).split(separator: "\n").first ?? ""
            throw .webConfig(path: path, problem: "not YAML (\(first))")
        }
        var config = WebConfig()
        guard let node else { return config }
        let top = try mapping(node, "the file", path)
        try checkKeys(top, ["tls_server_config", "basic_auth_users", "http_server_config"], "the top level", path)
        if let t = top["tls_server_config"] { config.tls = try parseTLS(t, path: path, folder: folder) }
        if let users = top["basic_auth_users"] {
            for (user, hash) in try mapping(users, "basic_auth_users", path) {
                guard let h = hash as? String, h.hasPrefix("$2") else {
                    throw .webConfig(path: path, problem: "basic_auth_users.\(user) is not a bcrypt hash")
                }
                config.basicAuthUsers[user] = h
            }
        }
        if let http = top["http_server_config"] {
            let m = try mapping(http, "http_server_config", path)
            try checkKeys(m, ["headers", "http2"], "http_server_config", path)
            if let h = m["headers"] {
                for (k, v) in try mapping(h, "http_server_config.headers", path) { config.headers[k] = "\(v)" }
            }
        }
        return config
    }

    private static func parseTLS(_ node: Any, path: String, folder: String) throws(ServeError) -> TLS {
        let m = try mapping(node, "tls_server_config", path)
        let known = [
            "cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version",
            "cipher_suites", "curve_preferences", "prefer_server_cipher_suites",
        ]
        try checkKeys(m, known, "tls_server_config", path)
        guard let cert = m["cert_file"] as? String, let key = m["key_file"] as? String else {
            throw .webConfig(path: path, problem: "tls_server_config needs cert_file and key_file")
        }
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : folder + "/" + p }
        var tls = TLS(certFile: resolve(cert), keyFile: resolve(key))
        if let a = m["client_auth_type"] as? String { tls.clientAuthType = a }
        if let ca = m["client_ca_file"] as? String { tls.clientCAFile = resolve(ca) }
        if let v = m["min_version"] as? String { tls.minVersion = v }
        if let v = m["max_version"] as? String { tls.maxVersion = v }
        let authTypes = [
            "NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
            "RequireAndVerifyClientCert",
        ]
        guard authTypes.contains(tls.clientAuthType) else {
            let known = authTypes.joined(separator: ", ")
            throw .webConfig(path: path, problem: "client_auth_type '\(tls.clientAuthType)' is not one of \(known)")
        }
        let versions = ["TLS10", "TLS11", "TLS12", "TLS13"]
        for v in [tls.minVersion] + (tls.maxVersion.map { [$0] } ?? []) where !versions.contains(v) {
            throw .webConfig(path: path, problem: "TLS version '\(v)' is not TLS10, TLS11, TLS12 or TLS13")
        }
        return tls
    }

    private static func mapping(_ node: Any, _ what: String, _ path: String) throws(ServeError) -> [String: Any] {
        guard let m = node as? [String: Any] else {
            if let m = node as? [AnyHashable: Any] {
                return Dictionary(uniqueKeysWithValues: m.map { ("\($0.key)", $0.value) })
            }
            throw .webConfig(path: path, problem: "\(what) must be a mapping of keys to values")
        }
        return m
    }

    private static func checkKeys(
        _ m: [String: Any], _ known: [String], _ what: String, _ path: String
    ) throws(ServeError) {
        if let bad = m.keys.sorted().first(where: { !known.contains($0) }) {
            throw .webConfig(path: path, problem: "unknown key '\(bad)' in \(what)")
        }
    }
}
