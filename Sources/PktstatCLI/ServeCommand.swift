import ArgumentParser
import Dispatch
import PacketCapture
import Serve
import SocketOwners
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
              sudo pktstat serve -i any -Z root              /api/v1/processes names every process
              sudo pktstat serve -i eth0 --ipfix collector:4739   flows to an IPFIX collector as they end

            \(ServeRoutes.helpText)

            Flows name the local process, systemd unit or container at each end (sock_diag and /proc, every network namespace; as root, or only the -Z user's processes; --no-processes turns it off); /metrics has no per-process labels.

            --ipfix HOST:PORT (or tcp://HOST:PORT) exports the flows to an IPFIX collector (nfcapd, nfacctd, goflow2) as they end, from a flow table of its own beside the API's: idle for --idle-timeout (default 15s, as flows -i and softflowd), every --active-timeout (default 60s) for a long flow, evicted (--max-flows) or open at the stop; one record per direction (--biflow: one per flow), bytes at the IP layer. The capture never waits for it: over UDP a send waits only for the local socket buffer, TCP is non-blocking and what does not fit is dropped and counted. Records sent, dropped, send errors and TCP reconnects: in /metrics (pktstat_ipfix_*_total), in /api/v1/summary's ipfix and in the status lines at the end. See docs/fleet.md.

            It listens on 127.0.0.1 unless told otherwise, and refuses any other address without --token-file or basic_auth_users. SIGTERM or Ctrl-C: requests in flight finish, streams close, the status lines print, exit 0.
            """
    )

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

    @Option(
        help: ArgumentHelp(
            "Write the traffic history to this SQLite file every minute (read it with pktstat history).",
            valueName: "path"))
    var history: String?

    @OptionGroup(title: "IPFIX export") var ipfix: IPFIXExportOptions

    @Option(
        name: .customLong("active-timeout"),
        help: ArgumentHelp(
            "With --ipfix: export a flow older than this as a slice, and start it again (default 60s).",
            valueName: "time"))
    var activeTimeout: TimeSpan?

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "With --ipfix: export a flow once it has been idle this long (default 15s; --flow-timeout is the API's).",
            valueName: "time"))
    var idleTimeout: TimeSpan?

    @OptionGroup var live: LiveCaptureOptions

    @OptionGroup var processes: ProcessOptions

    func validate() throws {
        if let problem = options.problem ?? ListenAddress.problem(listen) { throw ValidationError(problem) }
        if activeTimeout != nil && ipfix.destination == nil {
            throw ValidationError("--active-timeout slices the flows --ipfix exports; give --ipfix HOST:PORT")
        }
        if let ns = activeTimeout?.nanoseconds, ns <= 0 { throw ValidationError("--active-timeout must be positive") }
        if idleTimeout != nil && ipfix.destination == nil {
            throw ValidationError("--idle-timeout ends the flows --ipfix exports; give --ipfix HOST:PORT")
        }
        if let ns = idleTimeout?.nanoseconds, ns <= 0 { throw ValidationError("--idle-timeout must be positive") }
    }

    /// The series and the flow table (1 s intervals unless told otherwise).
    private var options: ServeOptions {
        var options = ServeOptions()
        options.intervalNs = interval?.nanoseconds ?? 1_000_000_000
        options.window = window
        options.historyPath = history
        let defaults = ServeConsumer.defaultFlowLimits
        options.flowLimits = bounds.limits(defaultTimeoutNs: defaults.idleTimeoutNs, defaultMax: defaults.maxFlows)
        options.ipfix = ipfix.options
        options.exportActiveTimeoutNs = activeTimeout?.nanoseconds ?? LiveFlowsSettings.defaultActiveTimeoutNs
        options.exportIdleTimeoutNs = idleTimeout?.nanoseconds ?? LiveFlowsSettings.defaultIdleTimeoutNs
        return options
    }

    /// Opens the capture and drops privileges here, on the process's main thread, then serves from
    /// async code. The order matters: Swift's async main hands the main thread to `dispatchMain`,
    /// which retires it, and a retired main thread keeps the credentials it had (root, in `ps` and
    /// /proc/PID/status) whatever setuid does later on the other threads.
    func run() throws {
        var settings = ServeSettings()
        var handOff: LiveRunHandOff?
        var owners: SocketOwners?
        try ErrorReport.run {
            // Listen address and authentication, checked before the capture opens.
            settings = try ServeSettings(
                listen: listen, headerTimeoutNs: headerTimeout?.nanoseconds, tokenFile: tokenFile,
                webConfigFile: webConfigFile)
            var liveSettings = live.settings
            owners = processes.start(&liveSettings, flowIdleNs: self.options.flowLimits.idleTimeoutNs)
            handOff = LiveRunHandOff(try LiveRun.open(liveSettings, report: Console.line))
        }
        guard let handOff else { return }
        var options = options
        options.owners = owners
        options.versions = [("version", Version.pktstat), ("libpcap", Libpcap.version)]
        let logger = ServeRun.logger()
        Task {
            do {
                try await ErrorReport.run {
                    try await ServeRun.run(
                        handOff.take(), settings: settings, options: options, logger: logger,
                        report: { Console.line($0) })
                }
                Self.exit()
            } catch {
                Self.exit(withError: error)
            }
        }
        dispatchMain()
    }
}
