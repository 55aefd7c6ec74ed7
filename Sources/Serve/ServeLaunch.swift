import Glibc
public import Logging
public import TrafficPipeline

/// What `serve` prepares before it serves: settings from its options, the open capture handed to
/// the serving task, the server's log.
extension ServeSettings {
    /// The settings `serve`'s options give: the listen address, the header timeout (whole seconds,
    /// at least 1), the token file and web config loaded, then checked (`validate`).
    public init(
        listen: String, headerTimeoutNs: Int64?, tokenFile: String?, webConfigFile: String?
    ) throws(ServeError) {
        self.init()
        self.listen = try ListenAddress(parsing: listen)
        if let headerTimeoutNs { headerTimeoutSeconds = max(1, headerTimeoutNs / 1_000_000_000) }
        if let tokenFile { tokens = try TokenFile.load(path: tokenFile) }
        if let webConfigFile { web = try WebConfig.load(path: webConfigFile) }
        try validate()
    }
}

/// The open capture, moved from the thread that opened it into the serving task (a `LiveRun` is
/// `~Copyable`: taken exactly once).
public final class LiveRunHandOff: @unchecked Sendable {
    private var capture: LiveRun?

    public init(_ capture: consuming LiveRun) { self.capture = consume capture }

    public func take() -> LiveRun {
        guard let capture = capture.take() else { preconditionFailure("the capture was handed off twice") }
        return capture
    }
}

extension ServeRun {
    /// The server's own log: errors only, unless `PKTSTAT_LOG` names a level (`debug` shows the
    /// start and shutdown steps).
    public static func logger() -> Logger {
        var logger = Logger(label: "pktstat.serve")
        let level = getenv("PKTSTAT_LOG").flatMap { Logger.Level(rawValue: String(cString: $0)) }
        logger.logLevel = level ?? .error
        return logger
    }
}

extension ServeOptions {
    /// Why `serve` cannot keep a series with these options, in their words; nil when it can.
    public var problem: String? {
        if intervalNs < 1_000_000 { return "--interval must be at least 1ms" }
        if window < 1 || window > 1_000_000 { return "--window must be between 1 and 1000000 intervals" }
        return nil
    }
}

extension ListenAddress {
    /// Why `text` is not an address to listen on, with its fix; nil when it is one.
    public static func problem(_ text: String) -> String? {
        do {
            _ = try ListenAddress(parsing: text)
            return nil
        } catch {
            return "\(error.description); \(error.hint ?? "")"
        }
    }
}
