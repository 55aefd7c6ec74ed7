import ArgumentParser
import Dispatch
import Foundation
import Logging
import PacketCapture
import PacketRecords
import Serve
import Synchronization
import TrafficAnalysis

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

    @Option(name: [.short, .customLong("interface")], help: "Interface to capture on ('any' for all). Default: the first one libpcap lists.")
    var interface: String?

    @Option(help: ArgumentHelp("Interval of the series and the stream (1, 500ms, 5s).", valueName: "time"))
    var interval: TimeSpan = TimeSpan(nanoseconds: 1_000_000_000)

    @Option(help: ArgumentHelp("Where to listen: HOST:PORT, [IPv6]:PORT or :PORT (all addresses).", valueName: "host:port"))
    var listen: String = "127.0.0.1:\(ListenAddress.defaultPort)"

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Bearer tokens, one per line, in a file only its owner may read (chmod 600).", valueName: "file"))
    var tokenFile: String?

    @Option(name: .customLong("web.config.file"), help: ArgumentHelp("Prometheus exporter-toolkit web config: tls_server_config, basic_auth_users (bcrypt).", valueName: "file"))
    var webConfigFile: String?

    @Option(name: .customLong("window"), help: "Closed intervals kept for /api/v1/series.")
    var window: Int = 3600

    @Option(name: [.short, .customLong("snaplen")], help: "Bytes to capture per packet.")
    var snaplen: Int32 = 262_144

    @Flag(name: [.customShort("p"), .customLong("no-promiscuous")], help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(name: [.customShort("B"), .customLong("buffer-size")], help: "Kernel capture buffer in KiB.")
    var bufferSizeKiB: Int32 = 8192

    @Option(name: [.customShort("Z"), .customLong("relinquish-privileges")], help: ArgumentHelp("After opening the device, become this user (default under sudo: SUDO_USER).", valueName: "user"))
    var relinquish: String?

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as with tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if interval.nanoseconds < 1_000_000 { throw ValidationError("--interval must be at least 1ms") }
        if window < 1 || window > 1_000_000 { throw ValidationError("--window must be between 1 and 1000000 intervals") }
        if snaplen < 0 { throw ValidationError("-s/--snaplen must be a positive number of bytes, or 0 for the default") }
        if bufferSizeKiB <= 0 || bufferSizeKiB > 2_097_151 { throw ValidationError("--buffer-size is in KiB and must be between 1 and 2097151") }
        do { _ = try ListenAddress(parsing: listen) } catch { throw ValidationError("\(error.description); \(error.hint ?? "")") }
    }

    func run() throws {
        try ErrorReport.run {
            let settings = try makeSettings()
            try ServeLive(command: self, settings: settings).run()
        }
    }

    /// Listen address and authentication, checked before the capture opens.
    private func makeSettings() throws(ServeError) -> ServeSettings {
        var settings = ServeSettings()
        settings.listen = try ListenAddress(parsing: listen)
        if let tokenFile { settings.tokens = try TokenFile.load(path: tokenFile) }
        if let webConfigFile { settings.web = try WebConfig.load(path: webConfigFile) }
        try settings.validate()
        return settings
    }

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
/// a drain thread feeds the metrics and series; the server runs until SIGTERM/SIGINT.
private struct ServeLive {
    let command: ServeCommand
    let settings: ServeSettings

    func run() throws {
        let name = try command.interface ?? CaptureDevice.defaultInterface()
        var options = command.liveOptions
        options.interface = name
        let capture = try LiveCapture.open(options)
        for w in capture.warnings { Console.line("warning: \(w)") }
        if !command.expression.isEmpty { try capture.setFilter(command.expression.joined(separator: " ")) }
        if let user = Privileges.target(explicit: command.relinquish) { try Privileges.drop(to: user) }
        Console.line("listening on \(name), link-type \(capture.linkTypeName) (\(capture.linkTypeDescription)), snapshot length \(capture.snapLength) bytes")
        let metrics = ServeMetrics(
            interface: name, versions: [("version", Version.pktstat), ("libpcap", Libpcap.version)])
        let feed = LiveFeed(intervalNs: command.interval.nanoseconds, windowCapacity: command.window, metrics: metrics)
        let stop = StopFlag()
        let ring = RecordRing(capacity: 1 << 16)
        guard let job = CaptureThread(capture: capture, ring: ring, limits: RunLimits(), stop: stop) else {
            throw CaptureError.captureFailed(interface: name, detail: "cannot start the capture thread")
        }
        let drainer = Drainer(job: job, ring: ring, metrics: metrics, feed: feed, delayNs: Int64(options.timeoutMs) * 1_000_000 + 400_000_000)
        Thread { drainer.run() }.start()
        var logger = Logger(label: "pktstat.serve")
        logger.logLevel = .error
        let scheme = settings.scheme
        let host = settings.listen.description.split(separator: ":").dropLast().joined(separator: ":")
        let interrupter = job.interrupter
        let failure = Mutex<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let app = try ServeServer.makeApplication(
            settings: settings, metrics: metrics, feed: feed, logger: logger,
            onRunning: { port in Console.line("serving on \(scheme)://\(host):\(port)/") })
        Task {
            do {
                try await ServeRun.run(application: app, feed: feed, logger: logger) {
                    stop.request()
                    interrupter.breakLoop()
                }
            } catch { failure.withLock { $0 = error } }
            done.signal()
        }
        done.wait()
        let outcome = drainer.finished()
        Self.printStatus(outcome, ringDrops: ring.droppedCount)
        if let error = failure.withLock({ $0 }) {
            Console.error("cannot serve on \(settings.listen): \(error)", hint: "pick a free port with --listen HOST:PORT")
            throw ExitCode(1)
        }
        if let failure = outcome.error { throw failure }
    }

    /// The status lines, as `sniff` prints them.
    static func printStatus(_ o: CaptureOutcome, ringDrops: UInt64) {
        func line(_ n: UInt64, _ what: String) { Console.line("\(n) packet\(n == 1 ? "" : "s") \(what)") }
        line(o.captured, "captured")
        if let stats = o.stats {
            line(stats.received, "received by filter")
            line(stats.droppedByKernel, "dropped by kernel")
            if stats.droppedByInterface > 0 { line(stats.droppedByInterface, "dropped by interface") }
        }
        line(ringDrops, "dropped by ring")
    }
}

/// The thread that drains the capture ring into the metrics and series, ticking every 100 ms,
/// and collects the capture's outcome when it ends.
private final class Drainer: Sendable {
    let job: CaptureThread
    let ring: RecordRing
    let metrics: ServeMetrics
    let feed: LiveFeed
    let delayNs: Int64
    private let outcome = Mutex<CaptureOutcome?>(nil)
    private let ended = DispatchSemaphore(value: 0)

    init(job: CaptureThread, ring: RecordRing, metrics: ServeMetrics, feed: LiveFeed, delayNs: Int64) {
        self.job = job
        self.ring = ring
        self.metrics = metrics
        self.feed = feed
        self.delayNs = delayNs
    }

    func run() {
        let consumer = ServeConsumer(metrics: metrics, feed: feed, startNs: SniffEmitter.realtimeNow())
        var lastTick: Int64 = 0
        while ring.drain(timeoutMs: 50, { batch in consumer.add(batch) }) {
            let now = SniffEmitter.realtimeNow()
            if now - lastTick >= 100_000_000 {
                lastTick = now
                consumer.tick(drops: drops(job.outcome), nowNs: now, closeThroughNs: now - delayNs)
            }
        }
        let result = job.wait()
        consumer.finish(drops: drops(result))
        outcome.withLock { $0 = result }
        ended.signal()
    }

    /// Waits for the capture to end (the stop flag raised) and returns its outcome.
    func finished() -> CaptureOutcome {
        ended.wait()
        // Set before `ended` is signalled.
        return outcome.withLock { $0 }!
    }

    private func drops(_ o: CaptureOutcome) -> DropCounters {
        DropCounters(
            kernel: o.stats?.droppedByKernel ?? 0, interface: o.stats?.droppedByInterface ?? 0, ring: ring.droppedCount)
    }
}
