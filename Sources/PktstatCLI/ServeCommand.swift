import ArgumentParser
import Dispatch
import Foundation
import Logging
import PacketCapture
import PacketRecords
import Serve
import Synchronization
import TrafficAnalysis
import TrafficPipeline

/// `pktstat serve`: capture continuously and serve Prometheus metrics, a JSON API, a live stream
/// and a dashboard over HTTP. An adapter: it parses options and composes `Serve` with the capture.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Capture continuously and serve /metrics (Prometheus), a JSON API, a live stream and a dashboard.",
        discussion: """
            Examples:
              sudo pktstat serve -i eth0                     http://127.0.0.1:\(ListenAddress.defaultPort)/
              sudo pktstat serve -i any --interval 5s udp or tcp
              sudo pktstat serve --listen 0.0.0.0:\(ListenAddress.defaultPort) --token-file /etc/pktstat/token
              sudo pktstat serve --listen :\(ListenAddress.defaultPort) --web.config.file web.yml   (TLS, basic auth)

            Endpoints: / (dashboard), /metrics, /api/v1/{interfaces,routes,gateways,summary,series,series/stream}, \
            /api/v1/openapi.json. It listens on 127.0.0.1 unless told otherwise, and refuses any other address \
            without --token-file or basic_auth_users. SIGTERM or Ctrl-C: requests in flight finish, streams \
            close, the status lines print, exit 0.
            """
    )

    @Option(
        name: [.short, .customLong("interface")],
        help: "Interface to capture on ('any' for all). Default: the first one libpcap lists.")
    var interface: String?

    @Option(help: ArgumentHelp("Interval of the series and the stream (1, 500ms, 5s; default 1s).", valueName: "time"))
    var interval: TimeSpan?

    @Option(
        help: ArgumentHelp("Where to listen: HOST:PORT, [IPv6]:PORT or :PORT (all addresses).", valueName: "host:port"))
    var listen: String = "127.0.0.1:\(ListenAddress.defaultPort)"

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp(
            "Bearer tokens, one per line, in a file only its owner may read (chmod 600). A token followed by "
                + "'metrics' may read /metrics only (403 elsewhere): give that one to Prometheus.", valueName: "file"))
    var tokenFile: String?

    @Option(
        name: .customLong("web.config.file"),
        help: ArgumentHelp(
            "Prometheus exporter-toolkit web config: tls_server_config, basic_auth_users (bcrypt).", valueName: "file"))
    var webConfigFile: String?

    @Option(
        name: .customLong("header-timeout"),
        help: ArgumentHelp(
            "Close a connection whose request head is not complete after this long (default 10s).", valueName: "time"))
    var headerTimeout: TimeSpan?

    @OptionGroup var bounds: FlowBoundOptions

    @Option(name: .customLong("window"), help: "Closed intervals kept for /api/v1/series.")
    var window: Int = 3600

    @Option(name: [.short, .customLong("snaplen")], help: "Bytes to capture per packet.")
    var snaplen: Int32 = 262_144

    @Flag(
        name: [.customShort("p"), .customLong("no-promiscuous")],
        help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(name: [.customShort("B"), .customLong("buffer-size")], help: "Kernel capture buffer in KiB.")
    var bufferSizeKiB: Int32 = 8192

    @Option(
        name: [.customShort("Z"), .customLong("relinquish-privileges")],
        help: ArgumentHelp(
            "After opening the device, become this user (default under sudo: SUDO_USER).", valueName: "user"))
    var relinquish: String?

    @Argument(
        parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as with tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if intervalNs < 1_000_000 { throw ValidationError("--interval must be at least 1ms") }
        if window < 1 || window > 1_000_000 {
            throw ValidationError("--window must be between 1 and 1000000 intervals")
        }
        if snaplen < 0 {
            throw ValidationError("-s/--snaplen must be a positive number of bytes, or 0 for the default")
        }
        if bufferSizeKiB <= 0 || bufferSizeKiB > 2_097_151 {
            throw ValidationError("--buffer-size is in KiB and must be between 1 and 2097151")
        }
        do { _ = try ListenAddress(parsing: listen) } catch {
            throw ValidationError("\(error.description); \(error.hint ?? "")")
        }
    }

    func run() throws {
        try ErrorReport.run {
            CaptureHelper.handOver()  // the package's group members: CaptureHelper.swift
            let settings = try makeSettings()
            try ServeLive(command: self, settings: settings).run()
        }
    }

    /// Listen address and authentication, checked before the capture opens.
    private func makeSettings() throws(ServeError) -> ServeSettings {
        var settings = ServeSettings()
        settings.listen = try ListenAddress(parsing: listen)
        if let headerTimeout { settings.headerTimeoutSeconds = max(1, headerTimeout.nanoseconds / 1_000_000_000) }
        if let tokenFile { settings.tokens = try TokenFile.load(path: tokenFile) }
        if let webConfigFile { settings.web = try WebConfig.load(path: webConfigFile) }
        try settings.validate()
        return settings
    }

    var intervalNs: Int64 { interval?.nanoseconds ?? 1_000_000_000 }

    var liveOptions: LiveOptions {
        var options = LiveOptions(interface: interface ?? "")
        options.snapLength = snaplen == 0 ? 262_144 : snaplen
        options.promiscuous = !noPromiscuous
        options.bufferBytes = bufferSizeKiB * 1024
        return options
    }
}

extension ServeError: CustomHintedError {}

/// The live run: capture opened first (and privileges dropped) before the server reads a request;
/// the capture pipeline feeds the metrics and series on this thread while the server runs in a
/// task, until SIGTERM/SIGINT.
private struct ServeLive {
    let command: ServeCommand
    let settings: ServeSettings

    func run() throws {
        var options = command.liveOptions
        options.interface = try command.interface ?? CaptureDevice.defaultInterface()
        let pipeline = try LivePipeline.open(options)
        for w in pipeline.warnings { Console.line("warning: \(w)") }
        if !command.expression.isEmpty { try pipeline.setFilter(command.expression.joined(separator: " ")) }
        try Privileges.relinquish(explicit: command.relinquish)
        Console.line(pipeline.listeningLine)
        let metrics = ServeMetrics(
            interface: options.interface, versions: [("version", Version.pktstat), ("libpcap", Libpcap.version)])
        let feed = LiveFeed(intervalNs: command.intervalNs, windowCapacity: command.window, metrics: metrics)
        let stop = StopFlag()
        let interrupter = pipeline.interrupter
        let runner = try makeRunner(metrics: metrics, feed: feed) {
            stop.request()
            interrupter.breakLoop()
        }
        let failure = Mutex<(any Error)?>(nil)
        let served = DispatchSemaphore(value: 0)
        Task {
            do { try await runner.run() } catch { failure.withLock { $0 = error } }
            served.signal()
        }
        let defaults = ServeConsumer.defaultFlowLimits
        let consumer = ServeConsumer(
            metrics: metrics, feed: feed, startNs: LivePipeline.realtimeNow(),
            flowLimits: command.bounds.limits(defaultTimeoutNs: defaults.idleTimeoutNs, defaultMax: defaults.maxFlows))
        let outcome = try LivePipeline.run(pipeline, limits: RunLimits(), stop: stop) { event in
            switch event {
            case .batch(let batch): consumer.add(batch)
            case .tick(let now, let settled, let drops):
                consumer.tick(drops: drops, nowNs: now, closeThroughNs: settled)
            }
        }
        consumer.finish(drops: outcome.drops)
        // The capture ended on its own (an error): stop serving too.
        Task { await runner.shutdown() }
        served.wait()
        for line in outcome.statusLines { Console.line(line) }
        if let error = failure.withLock({ $0 }) {
            Console.error(
                "cannot serve on \(settings.listen): \(ServeRunner.describe(error))",
                hint: "pick a free port with --listen HOST:PORT")
            throw ExitCode(1)
        }
        if let failure = outcome.captureError { throw failure }
    }

    private func makeRunner(
        metrics: ServeMetrics, feed: LiveFeed, stopCapture: @escaping @Sendable () -> Void
    ) throws(ServeError) -> ServeRunner {
        var logger = Logger(label: "pktstat.serve")
        // PKTSTAT_LOG=debug shows the server's own log (start, shutdown steps).
        let level = ProcessInfo.processInfo.environment["PKTSTAT_LOG"].flatMap { Logger.Level(rawValue: $0) }
        logger.logLevel = level ?? .error
        let scheme = settings.scheme
        let host = settings.listen.host.contains(":") ? "[\(settings.listen.host)]" : settings.listen.host
        let app = try ServeServer.makeApplication(
            settings: settings, metrics: metrics, feed: feed, logger: logger,
            onRunning: { port in Console.line("serving on \(scheme)://\(host):\(port)/") })
        return ServeRunner(application: app, feed: feed, logger: logger, stopCapture: stopCapture)
    }
}
