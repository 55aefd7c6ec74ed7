public import OutputSinks
public import PacketCapture
public import PacketRecords
public import TrafficAnalysis

/// How a live command opens its device: the options `sniff`, `top` and `serve` share (`-i`, `-p`,
/// `-s`, `-B`, `-Z`, the BPF filter).
public struct LiveSettings: Sendable {
    /// nil: the first device libpcap lists, as tcpdump picks.
    public var interface: String?
    public var snapLength: Int32 = 262_144
    public var promiscuous = true
    public var bufferKiB: Int32 = 8192
    /// `-Z USER`: nil picks SUDO_USER under sudo; "root" stays root.
    public var relinquishTo: String?
    public var filter: String?
    /// Hand over each packet at once (a person watching a terminal), not in batches.
    public var immediate = false
    /// How long the kernel may hold packets before handing them over (ms; libpcap's timeout).
    /// Attribution shortens it so that a short connection is looked up while it is still open.
    public var deliveryTimeoutMs: Int32 = 100

    public init() {}
}

/// What a live run hands its consumer when the capture is open, before the first packet.
public struct LiveStart: Sendable {
    public let interface: String
    public let linkTypeName: String
    /// Interface index → name (SLL2's interface column).
    public let interfaceNames: [UInt32: String]
    /// CLOCK_REALTIME when the capture started (where interval 0 begins).
    public let startNs: Int64
    /// Ends the run from the consumer (top's `q`): as a signal does.
    public let stop: LiveStopper
}

/// Stops a live run from anywhere: raises the stop flag and wakes the capture loop.
public struct LiveStopper: Sendable {
    let flag: StopFlag
    let interrupter: Interrupter

    public func callAsFunction() {
        flag.request()
        interrupter.breakLoop()
    }
}

/// A live command's consumer: `sniff`'s rows, `top`'s screen, `serve`'s metrics. Called on the
/// thread that runs the pipeline, one call at a time.
public protocol LiveConsumer: AnyObject {
    /// The capture is open and writing (`-w`): headers, the first screen.
    func start(_ capture: LiveStart) throws
    /// Records in capture order, valid only during the call.
    func add(_ batch: UnsafeBufferPointer<PacketRecord>) throws
    /// About every tick: the realtime clock, the time up to which packets have surely arrived,
    /// and the drops so far.
    func tick(nowNs: Int64, settledNs: Int64, drops: DropCounters) throws
    /// The capture ended (also after a consumer error): the last rows, the terminal restored.
    func finish(drops: DropCounters) throws
    /// Lines printed after the status lines (late packets, flows that ended).
    var closingLines: [String] { get }
}

extension LiveConsumer {
    public var closingLines: [String] { [] }
}

/// The one live run every live command composes. `open` does, in this order: hand over to the
/// package's capture copy when this user may use it and lacks the capability; open the device;
/// print libpcap's warnings; set the filter; drop privileges (`-Z`, SUDO_USER, every capability);
/// start `-w`; print tcpdump's "listening on" line. `run` then drives the consumer, traps the stop
/// signals, prints the status lines, and decides which error wins: a failed write of the output,
/// then the consumer's other errors, then the capture's; a closed output pipe ends the run quietly.
public struct LiveRun: ~Copyable, Sendable {
    private var pipeline: LivePipeline
    private let stopFlag = StopFlag()
    public let interface: String

    /// Opens the capture as `settings` say; `writePlan` (given the interface names) starts `-w`.
    public static func open(
        _ settings: LiveSettings, writePlan: ([UInt32: String]) -> WritePlan? = { _ in nil },
        report: (String) -> Void
    ) throws -> LiveRun {
        CaptureHandOver.ifPermitted()
        var options = LiveOptions(interface: try settings.interface ?? CaptureDevice.defaultInterface())
        options.snapLength = settings.snapLength == 0 ? 262_144 : settings.snapLength
        options.promiscuous = settings.promiscuous
        options.bufferBytes = settings.bufferKiB * 1024
        options.immediate = settings.immediate
        options.timeoutMs = max(1, settings.deliveryTimeoutMs)
        let pipeline = try LivePipeline.open(options)
        for w in pipeline.warnings { report("warning: \(w)") }
        if let f = settings.filter { try pipeline.setFilter(f) }
        try Privileges.relinquish(explicit: settings.relinquishTo)
        if let plan = writePlan(pipeline.interfaceNames) { try pipeline.startWriting(plan) }
        report(pipeline.listeningLine)
        return LiveRun(pipeline: pipeline, interface: options.interface)
    }

    private init(pipeline: consuming LivePipeline, interface: String) {
        self.pipeline = pipeline
        self.interface = interface
    }

    /// Stops the run from another thread or task (serve's graceful shutdown).
    public var stopper: LiveStopper { LiveStopper(flag: stopFlag, interrupter: pipeline.interrupter) }

    /// Runs until a limit, a stop signal (unless `trapSignals` is false: serve's service group
    /// has its own), the stopper, the end of the capture or a consumer error. `after` runs once
    /// the status lines are printed, when the capture and the output both ended cleanly (sniff's
    /// chart). Returns the outcome; throws the error that wins.
    @discardableResult
    public consuming func run(
        limits: RunLimits = RunLimits(), tickNs: Int64 = 100_000_000, trapSignals: Bool = true,
        consumer: some LiveConsumer, report: (String) -> Void, after: () throws -> Void = {}
    ) throws -> LivePipeline.Outcome {
        let stop = stopFlag
        let interface = self.interface
        let interrupter = pipeline.interrupter
        let trap = trapSignals ? SignalTrap(stop: stop) { interrupter.breakLoop() } : nil
        defer { withExtendedLifetime(trap) {} }
        let start = LiveStart(
            interface: interface, linkTypeName: pipeline.linkTypeName, interfaceNames: pipeline.interfaceNames,
            startNs: LivePipeline.realtimeNow(), stop: LiveStopper(flag: stop, interrupter: interrupter))
        try consumer.start(start)
        var consumerError: (any Error)?
        var outcome: LivePipeline.Outcome?
        do {
            _ = try LivePipeline.run(pipeline, limits: limits, stop: stop, tickNs: tickNs, ended: { outcome = $0 }) {
                event in
                switch event {
                case .batch(let batch): try consumer.add(batch)
                case .tick(let now, let settled, let drops):
                    try consumer.tick(nowNs: now, settledNs: settled, drops: drops)
                }
            }
        } catch {
            consumerError = error
        }
        // `LivePipeline.run` hands over its outcome before it returns or rethrows; without one it
        // could not start its thread.
        guard let ended = outcome else {
            throw consumerError ?? CaptureError.captureFailed(interface: interface, detail: "no outcome")
        }
        do { try consumer.finish(drops: ended.drops) } catch { consumerError = consumerError ?? error }
        for line in ended.statusLines { report(line) }
        for line in consumer.closingLines { report(line) }
        if let e = consumerError {
            guard let output = e as? OutputError else { throw e }
            if case .writeFailed = output { throw output }
        }
        if let failure = ended.captureError { throw failure }
        try after()
        return ended
    }
}
