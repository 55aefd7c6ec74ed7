import Glibc
public import PacketCapture
public import PacketRecords
public import TrafficAnalysis

/// Live capture as a pipeline: libpcap runs on its own thread (`CaptureThread`, which owns the
/// handle) and pushes record batches into a bounded ring, never waiting on output; the caller's
/// consumer runs on the calling thread and sees every batch, plus a tick at a steady pace (for
/// closing intervals and refreshing screens) with the drop counters so far. Stop conditions
/// (count, duration, idle timeout, the stop flag, a consumer error) and drop accounting (kernel,
/// interface, ring) live here, once, for every command that captures.
///
/// Use: `open` (as root), `setFilter`, drop privileges, `startWriting` (files are created as the
/// user we run as by then), then `LivePipeline.run`, which consumes the pipeline.
///
/// Sendable because it is `~Copyable`: whoever holds it holds the only reference to the handle,
/// so moving it to the thread that runs it shares nothing.
public struct LivePipeline: ~Copyable, @unchecked Sendable {
    private var capture: LiveCapture
    public let interface: String
    public let options: LiveOptions
    /// Interface index → name, taken when the capture opened (for SLL2's interface column).
    public let interfaceNames: [UInt32: String]

    /// Opens and activates the capture on `options.interface`.
    public static func open(_ options: LiveOptions) throws(CaptureError) -> LivePipeline {
        LivePipeline(capture: try LiveCapture.open(options), options: options)
    }

    private init(capture: consuming LiveCapture, options: LiveOptions) {
        self.capture = capture
        self.options = options
        interface = options.interface
        interfaceNames = CaptureDevice.indexNames()
    }

    public var linkTypeName: String { capture.linkTypeName }
    public var linkTypeDescription: String { capture.linkTypeDescription }
    public var snapLength: Int32 { capture.snapLength }
    /// Warnings from activation, to print.
    public var warnings: [String] { capture.warnings }
    /// Wakes the capture loop from a signal handler; harmless once the capture has closed.
    public var interrupter: Interrupter { capture.interrupter }

    /// The status line tcpdump prints when it starts listening.
    public var listeningLine: String {
        "listening on \(interface), link-type \(linkTypeName) (\(linkTypeDescription)), snapshot length \(snapLength) bytes"
    }

    public func setFilter(_ expression: String) throws(CaptureError) { try capture.setFilter(expression) }

    /// Starts writing every packet to a capture file (`-w`), in whole records.
    public func startWriting(to path: String) throws(CaptureError) { try capture.startWriting(to: path) }

    /// Starts writing as `plan` says: pcap or pcapng, rotated, compressed (see `WritePlan`).
    public func startWriting(_ plan: WritePlan) throws(CaptureError) { try capture.startWriting(plan) }

    /// What the consumer is handed.
    public enum Event {
        /// Records in capture order, valid only during the call.
        case batch(UnsafeBufferPointer<PacketRecord>)
        /// About every `tickNs`: the realtime clock now, the time up to which packets have surely
        /// arrived (now minus the kernel timeout and batching delay), and the drops so far.
        case tick(nowNs: Int64, settledNs: Int64, drops: DropCounters)
    }

    /// How a run ended.
    public struct Outcome: Sendable {
        /// Packets handed over by libpcap (after the filter).
        public var captured: UInt64
        /// The kernel's counters (final).
        public var stats: KernelStats?
        /// Every drop: kernel, interface, ring.
        public var drops: DropCounters
        /// A capture or `-w` failure.
        public var captureError: CaptureError?
    }

    /// Runs until a limit, the stop flag, the end of the capture or a consumer error. The consumer
    /// runs on this thread; if it throws, capture stops, the ring is drained and discarded, and the
    /// error is rethrown after the capture has ended (its outcome is passed to `ended` first, so
    /// status lines can still be printed).
    ///
    /// Static, taking the pipeline as `sending`: its handle moves to the capture thread, and the
    /// compiler checks that nothing here keeps a reference to it.
    ///
    /// With `names`, the capture thread reads names from the payloads (DNS answers, ClientHellos)
    /// and, before each batch is handed over, `names` holds that batch's (see `NameEvents`).
    public static func run(
        _ pipeline: consuming sending LivePipeline, limits: RunLimits, stop: StopFlag, ringCapacity: Int = 1 << 16,
        tickNs: Int64 = 100_000_000, names: NameEvents? = nil, ended: (Outcome) -> Void = { _ in },
        _ consumer: (Event) throws -> Void
    ) throws -> Outcome {
        let ring = RecordRing(capacity: ringCapacity)
        let nameRing = names == nil ? nil : NameRing()
        let interrupter = pipeline.capture.interrupter
        let interface = pipeline.interface
        // Packets reach us up to this long after their timestamp (kernel timeout + batching).
        let deliveryDelayNs = Int64(pipeline.options.timeoutMs) * 1_000_000 + 400_000_000
        let capture = pipeline.capture
        guard let thread = CaptureThread(capture: capture, ring: ring, limits: limits, stop: stop, names: nameRing)
        else {
            throw CaptureError.captureFailed(interface: interface, detail: "cannot start the capture thread")
        }
        var consumerError: (any Error)?
        var lastTick: Int64 = 0
        do {
            while try ring.drain(
                timeoutMs: 50,
                { batch, position in
                    if let names, let nameRing {
                        nameRing.take(from: position, to: position + batch.count, into: names)
                    }
                    try consumer(.batch(batch))
                })
            {
                let now = Self.realtimeNow()
                if now - lastTick >= tickNs {
                    lastTick = now
                    let drops = Self.drops(thread.outcome, ring)
                    try consumer(.tick(nowNs: now, settledNs: now - deliveryDelayNs, drops: drops))
                }
            }
        } catch {
            consumerError = error
            stop.request()
            interrupter.breakLoop()
            while ring.drain(timeoutMs: 50, { _ in }) {}
        }
        let final = thread.wait()
        let outcome = Outcome(
            captured: final.captured, stats: final.stats, drops: Self.drops(final, ring), captureError: final.error)
        ended(outcome)
        if let consumerError { throw consumerError }
        return outcome
    }

    private static func drops(_ o: CaptureOutcome, _ ring: RecordRing) -> DropCounters {
        DropCounters(
            kernel: o.stats?.droppedByKernel ?? 0, interface: o.stats?.droppedByInterface ?? 0, ring: ring.droppedCount)
    }

    /// CLOCK_REALTIME in nanoseconds (packet timestamps are on this clock).
    public static func realtimeNow() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
}

extension LivePipeline.Outcome {
    /// The status lines, as tcpdump prints them, plus pktstat's ring drops.
    public var statusLines: [String] {
        func line(_ n: UInt64, _ what: String) -> String { "\(n) packet\(n == 1 ? "" : "s") \(what)" }
        var lines = [line(captured, "captured")]
        if let stats {
            lines.append(line(stats.received, "received by filter"))
            lines.append(line(stats.droppedByKernel, "dropped by kernel"))
            if stats.droppedByInterface > 0 { lines.append(line(stats.droppedByInterface, "dropped by interface")) }
        }
        lines.append(line(drops.ring, "dropped by ring"))
        return lines
    }
}
