import Dispatch
import Glibc
import History
import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
public import SocketOwners
import Synchronization
public import TrafficAnalysis
public import TrafficPipeline
import UnixSignals

/// What `serve` keeps and reports besides the HTTP settings.
public struct ServeOptions: Sendable {
    /// The interval of the series and the stream.
    public var intervalNs: Int64 = 1_000_000_000
    /// Closed intervals kept for `/api/v1/series`.
    public var window = 3600
    public var flowLimits = ServeConsumer.defaultFlowLimits
    /// `pktstat_build_info`'s labels.
    public var versions: [(String, String)] = []
    /// `--history PATH`: the SQLite history written every minute.
    public var historyPath: String?
    /// Attribution of flows to local processes (nil: `--no-processes`).
    public var owners: SocketOwners?
    /// `--ipfix`: flows exported as they end (a flow table of their own, beside the API's).
    public var ipfix: IPFIXOptions?
    /// The export's timeouts: idle (15 s, as `flows -i` and softflowd) and active (`--active-timeout`).
    public var exportIdleTimeoutNs = LiveFlowsSettings.defaultIdleTimeoutNs
    public var exportActiveTimeoutNs = LiveFlowsSettings.defaultActiveTimeoutNs

    public init() {}
}

/// A server that could not run (the port is taken), in words: "address already in use" rather
/// than NIO's call description.
public struct ServeFailure: Error, CustomStringConvertible {
    public let listen: ListenAddress
    public let underlying: any Error

    public var description: String {
        let why =
            (underlying as? IOError).map { String(cString: strerror($0.errnoCode)).lowercased() } ?? "\(underlying)"
        return "cannot serve on \(listen): \(why)"
    }

    public var hint: String? { "pick a free port with --listen HOST:PORT" }
}

/// `serve`, async end to end: one ServiceGroup runs the HTTP server, the capture (a service whose
/// blocking pipeline runs on a thread of its own) and the stream closer, until SIGTERM or SIGINT
/// or the capture's end. Shutdown goes in reverse order: the streams end (so their responses
/// complete), the capture stops, then the server stops accepting and lets the requests in flight
/// finish (1.5 s at most). The capture's status lines are printed once everything has stopped.
public enum ServeRun {
    public static func run(
        _ capture: consuming LiveRun, settings: ServeSettings, options: ServeOptions, logger: Logger,
        report: @escaping @Sendable (String) -> Void
    ) async throws {
        let metrics = ServeMetrics(
            interface: capture.interface, versions: options.versions, ipfix: options.ipfix != nil)
        // The collector resolved and the socket opened before anything is served.
        let export = try options.ipfix.map { ipfix throws(IPFIXError) in
            try LiveFlowExport(
                idleTimeoutNs: options.exportIdleTimeoutNs, activeTimeoutNs: options.exportActiveTimeoutNs,
                maxFlows: options.flowLimits.maxFlows, ipfix: ipfix)
        }
        let feed = LiveFeed(intervalNs: options.intervalNs, windowCapacity: options.window, metrics: metrics)
        // Opened before anything is served: a second writer, a foreign file fail the start.
        let history = try options.historyPath.map { path throws(HistoryError) in
            try HistoryStore(path: path, writable: true)
        }
        let consumer = ServeConsumer(
            metrics: metrics, feed: feed, flowLimits: options.flowLimits, history: history, owners: options.owners,
            export: export)
        let scheme = settings.scheme
        let host = settings.listen.host.contains(":") ? "[\(settings.listen.host)]" : settings.listen.host
        let app = try ServeServer.makeApplication(
            settings: settings, metrics: metrics, feed: feed, logger: logger, historyPath: options.historyPath,
            onRunning: { port in report("serving on \(scheme)://\(host):\(port)/") })
        let service = CaptureService(capture: capture, consumer: consumer)
        var config = ServiceGroupConfiguration(
            services: [
                .init(service: app),
                .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: StreamCloser(feed: feed), successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        // SIGTERM to exit within 2 s: requests in flight get 1.5 s, then they are cancelled.
        config.maximumGracefulShutdownDuration = .milliseconds(1500)
        var serverError: (any Error)?
        do { try await ServiceGroup(configuration: config).run() } catch { serverError = error }
        feed.closeStreams()
        for line in service.lines { report(line) }
        if let captureError = service.error { throw captureError }
        if let serverError { throw ServeFailure(listen: settings.listen, underlying: serverError) }
    }
}

/// The live capture as a service: the pipeline blocks, so it runs on a queue of its own, and the
/// task awaits its end. Graceful shutdown and cancellation both stop it (the stop flag, then a
/// wake-up of the capture loop). Its status lines and error are kept for after the group ends.
final class CaptureService: Service, @unchecked Sendable {
    private var capture: LiveRun?
    private let stopper: LiveStopper
    private let consumer: ServeConsumer
    private let state = Mutex<(lines: [String], error: (any Error)?)>(([], nil))

    init(capture: consuming LiveRun, consumer: ServeConsumer) {
        stopper = capture.stopper
        self.capture = consume capture
        self.consumer = consumer
    }

    var lines: [String] { state.withLock { $0.lines } }
    var error: (any Error)? { state.withLock { $0.error } }

    func run() async {
        let stopper = self.stopper
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    // A serial queue of its own: libdispatch gives it a thread (an overcommit
                    // queue), so the blocking capture never holds a thread of the task pool.
                    DispatchQueue(label: "pktstat.capture").async { [self] in
                        runCapture()
                        done.resume()
                    }
                }
            } onGracefulShutdown: {
                stopper()
            }
        } onCancel: {
            stopper()
        }
    }

    /// On the capture thread: the one live run, signals left to the service group.
    private func runCapture() {
        guard let capture = capture.take() else { return }
        do {
            try capture.run(
                trapSignals: false, consumer: consumer,
                report: { line in state.withLock { $0.lines.append(line) } })
        } catch {
            state.withLock { $0.error = error }
        }
    }
}

/// Waits for the graceful shutdown, then ends every stream (so the server can finish them).
struct StreamCloser: Service {
    let feed: LiveFeed

    func run() async throws {
        try? await gracefulShutdown()
        feed.closeStreams()
    }
}
