import Hummingbird
public import Logging
public import ServiceLifecycle

/// Runs the server under a ServiceGroup until SIGTERM or SIGINT, then shuts down in order: the
/// streams end (so their responses complete) and `stopCapture` runs, then the server stops
/// accepting and lets the requests in flight finish.
public enum ServeRun {
    public static func run(
        application: some Service, feed: LiveFeed, logger: Logger, stopCapture: @escaping @Sendable () -> Void
    ) async throws {
        let closer = StreamCloser(feed: feed, stopCapture: stopCapture)
        var config = ServiceGroupConfiguration(
            services: [
                .init(service: application),
                .init(service: closer, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        // SIGTERM to exit within 2 s: requests in flight get 1.5 s, then they are cancelled.
        config.maximumGracefulShutdownDuration = .milliseconds(1500)
        let group = ServiceGroup(configuration: config)
        do {
            try await group.run()
        } catch {
            stopCapture()
            feed.closeStreams()
            throw error
        }
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
