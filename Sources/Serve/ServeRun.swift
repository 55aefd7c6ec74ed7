import Glibc
import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle
import UnixSignals

/// Runs the server under a ServiceGroup until SIGTERM or SIGINT (or `shutdown()`), then shuts
/// down in order: the streams end (so their responses complete) and `stopCapture` runs, then the
/// server stops accepting and lets the requests in flight finish (1.5 s at most).
public final class ServeRunner: Sendable {
    private let group: ServiceGroup
    private let feed: LiveFeed
    private let stopCapture: @Sendable () -> Void

    public init(
        application: some Service, feed: LiveFeed, logger: Logger, stopCapture: @escaping @Sendable () -> Void
    ) {
        let closer = StreamCloser(feed: feed, stopCapture: stopCapture)
        var config = ServiceGroupConfiguration(
            services: [
                .init(service: application),
                .init(service: closer, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        // SIGTERM to exit within 2 s: requests in flight get 1.5 s, then they are cancelled.
        config.maximumGracefulShutdownDuration = .milliseconds(1500)
        group = ServiceGroup(configuration: config)
        self.feed = feed
        self.stopCapture = stopCapture
    }

    /// Serves until shut down; on failure (the port is taken) stops the capture too and throws.
    public func run() async throws {
        do {
            try await group.run()
        } catch {
            stopCapture()
            feed.closeStreams()
            throw error
        }
    }

    /// A server failure in words: "address already in use" rather than NIO's call description.
    public static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }

    /// Starts the graceful shutdown (the capture ended on its own).
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}

/// Waits for the graceful shutdown, then ends every stream and asks the capture to stop.
struct StreamCloser: Service {
    let feed: LiveFeed
    let stopCapture: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        feed.closeStreams()
        stopCapture()
    }
}
