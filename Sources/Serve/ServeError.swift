public import TrafficPipeline

/// Everything `serve` can refuse or fail at before it serves: one line for the problem, one for the fix.
public enum ServeError: Error, CustomStringConvertible, Sendable {
    case badListenAddress(String)
    case unauthenticatedNonLoopback(String)
    case tokenFile(path: String, problem: String)
    case tokenFileOpen(path: String, mode: UInt32)
    case webConfig(path: String, problem: String)
    case tls(problem: String)

    public var description: String {
        switch self {
        case .badListenAddress(let a): "cannot listen on '\(a)': not HOST:PORT"
        case .unauthenticatedNonLoopback(let a):
            "refusing to listen on \(a) without authentication: anyone who can reach it could read the traffic figures"
        case .tokenFile(let p, let problem): "cannot use the token file \(p): \(problem)"
        case .tokenFileOpen(let p, let mode):
            "refusing the token file \(p): its mode \(String(mode & 0o777, radix: 8)) lets others read it"
        case .webConfig(let p, let problem): "cannot use the web config \(p): \(problem)"
        case .tls(let problem): "cannot set up TLS: \(problem)"
        }
    }

    public var hint: String? {
        switch self {
        case .badListenAddress:
            "give --listen HOST:PORT, e.g. 127.0.0.1:\(ListenAddress.defaultPort) or [::1]:\(ListenAddress.defaultPort)"
        case .unauthenticatedNonLoopback:
            "add --token-file FILE or --web.config.file FILE with basic_auth_users, or listen on 127.0.0.1"
        case .tokenFile:
            "put one token (a long random string) in the file: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE"
        case .tokenFileOpen(let p, _): "run: chmod 600 \(p)"
        case .webConfig:
            "see the exporter-toolkit web configuration format (tls_server_config, basic_auth_users) in the README"
        case .tls: "check tls_server_config's cert_file and key_file (PEM) in the web config"
        }
    }
}

extension ServeError: HintedError {}
extension ServeFailure: HintedError {}
