/// `--listen HOST:PORT`: where the server binds, and whether that is loopback only.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// pktstat's default port: 9977, in the 9100-9999 range Prometheus reserves for exporters
    /// (see the README for why this one).
    public static let defaultPort = 9977
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = ListenAddress.defaultPort) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`, `[IPV6]:PORT`, `:PORT` (all addresses) or `HOST` (the default port).
    public init(parsing text: String) throws(ServeError) {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .badListenAddress(text) }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { throw .badListenAddress(text) }
                portText = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon else { throw .badListenAddress(text) }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
        }
        if host.isEmpty { host = "0.0.0.0" }
        var port = Self.defaultPort
        if let portText {
            guard let p = Int(portText), (0...65_535).contains(p) else { throw .badListenAddress(text) }
            port = p
        }
        guard !host.contains(where: { $0 == " " || $0 == "/" }) else { throw .badListenAddress(text) }
        self.init(host: host, port: port)
    }

    /// Loopback only: 127.0.0.0/8, ::1, localhost.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
