import Glibc
public import PacketRecords
public import PacketWire
import Synchronization

/// The owner of a live libpcap handle. `~Copyable`: there is exactly one owner, and the compiler
/// checks it. It is configured on the thread that opened it, then consumed (moved) into a
/// `CaptureThread`, which runs it and closes it; from then on only its `Interrupter` (which
/// cannot reach a closed handle) and the published counters are seen by other threads.
public struct LiveCapture: ~Copyable {
    /// The libpcap handle. Never handed out, so this value is its only owner.
    private let capture: PcapCapture

    private init(_ capture: PcapCapture) { self.capture = capture }

    /// Creates, configures and activates a live capture (nanosecond timestamps, non-blocking).
    public static func open(_ options: LiveOptions) throws(CaptureError) -> LiveCapture {
        LiveCapture(try PcapCapture.openLive(options))
    }

    public var source: String { capture.source }
    public var linkType: LinkType { capture.linkType }
    public var linkTypeName: String { capture.linkTypeName }
    public var linkTypeDescription: String { capture.linkTypeDescription }
    public var snapLength: Int32 { capture.snapLength }
    /// Warnings from activation (printed, not thrown).
    public var warnings: [String] { capture.warnings }
    /// Wakes the loop from another thread; does nothing once the handle is closed.
    public var interrupter: Interrupter { capture.interrupter }
    /// Packets handed to the consumer so far.
    public var packetsCaptured: UInt64 { capture.packetsCaptured }

    /// Compiles and installs a BPF filter (tcpdump syntax).
    public func setFilter(_ expression: String) throws(CaptureError) { try capture.setFilter(expression) }

    /// Starts writing every packet to a pcap file (`-w`) in whole records.
    public func startWriting(to path: String) throws(CaptureError) { try capture.startWriting(to: path) }

    /// Starts writing as `plan` says: pcap or pcapng, rotated, compressed (see `WritePlan`).
    public func startWriting(_ plan: WritePlan) throws(CaptureError) { try capture.startWriting(plan) }

    /// Flushes and closes the `-w` file.
    public func finishWriting() throws(CaptureError) { try capture.finishWriting() }

    /// Kernel counters from `pcap_stats`; call it on the thread that runs the capture.
    public func stats() -> KernelStats? { capture.stats() }

    /// Runs the capture on the calling thread (see `PcapCapture.run`).
    public func run(
        limits: RunLimits = RunLimits(),
        stop: StopFlag,
        onStats: ((KernelStats) -> Void)? = nil,
        sniffer: NameSniffer? = nil,
        onBatch: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws(CaptureError) -> RunEnd {
        try capture.run(limits: limits, stop: stop, onStats: onStats, sniffer: sniffer, onBatch: onBatch)
    }
}

/// What a capture thread reports: counters while it runs, and how it ended.
public struct CaptureOutcome: Sendable {
    /// Packets handed to the ring so far.
    public var captured: UInt64 = 0
    /// The latest `pcap_stats`, read on the capture thread (at most ~100 ms old while running;
    /// final once `finished`).
    public var stats: KernelStats?
    public var end: RunEnd?
    /// A capture or `-w` failure.
    public var error: CaptureError?
    /// The run ended, the `-w` file is flushed and closed, and the handle is closed.
    public var finished = false
}

/// The capture thread: runs a `LiveCapture` it owns, pushes record batches into the ring (never
/// waiting on output), publishes `pcap_stats`, then finishes the `-w` file, closes the handle and
/// closes the ring. Everything shared is `Sendable` and checked by the compiler.
public final class CaptureThread: Sendable {
    private let shared: Shared
    private let thread: pthread_t
    /// Wakes the capture loop; safe to call at any time, also after the handle closed.
    public let interrupter: Interrupter

    /// Starts the thread; `capture` is moved into it. With `names`, the thread reads names from
    /// the payloads (a `NameSniffer` of its own) and hands them over there, beside the records.
    public init?(
        capture: consuming sending LiveCapture, ring: RecordRing, limits: RunLimits, stop: StopFlag,
        names: NameRing? = nil
    ) {
        interrupter = capture.interrupter
        shared = Shared(capture: capture, ring: ring, limits: limits, stop: stop, names: names)
        var id = pthread_t()
        let started = pthread_create(
            &id, nil,
            { argument in
                Unmanaged<Shared>.fromOpaque(argument!).takeRetainedValue().run()
                return nil
            }, Unmanaged.passRetained(shared).toOpaque())
        guard started == 0 else {
            Unmanaged.passUnretained(shared).release()
            return nil
        }
        thread = id
    }

    /// The counters and outcome so far.
    public var outcome: CaptureOutcome { shared.outcome.withLock { $0 } }

    /// Waits for the thread to end and returns how it ended.
    public func wait() -> CaptureOutcome {
        var result: UnsafeMutableRawPointer?
        _ = pthread_join(thread, &result)
        return outcome
    }

    /// Everything the capture thread and the others share.
    private final class Shared: Sendable {
        /// The capture, until the thread takes it.
        let handoff: Mutex<LiveCapture?>
        let outcome = Mutex(CaptureOutcome())
        let ring: RecordRing
        let names: NameRing?
        let limits: RunLimits
        let stop: StopFlag

        init(
            capture: consuming sending LiveCapture, ring: RecordRing, limits: RunLimits, stop: StopFlag,
            names: NameRing?
        ) {
            handoff = Mutex(Optional(capture))
            self.ring = ring
            self.names = names
            self.limits = limits
            self.stop = stop
        }

        func run() {
            // Signals are for the thread that handles them, never this one.
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            handoff.withLock { slot in
                // The capture lives in the slot for the whole run: nobody else ever locks it.
                guard let capture = slot.take() else { return }
                runToEnd(capture)
            }
            ring.close()
        }

        /// Runs `capture`, finishes the file, publishes the outcome, then closes the handle.
        private func runToEnd(_ capture: consuming LiveCapture) {
            var end: RunEnd?
            var failure: CaptureError?
            // Made on this thread and used only here.
            let sniffer = names == nil ? nil : NameSniffer()
            do throws(CaptureError) {
                end = try capture.run(
                    limits: limits, stop: stop,
                    onStats: { s in
                        self.outcome.withLock { $0.stats = s }
                    },
                    sniffer: sniffer
                ) { batch in
                    if let names, let sniffer {
                        ring.push(batch) { base, accepted in
                            names.push(sniffer.events, recordBase: base, accepted: accepted)
                        }
                    } else {
                        ring.push(batch)
                    }
                    let n = UInt64(batch.count)
                    outcome.withLock { $0.captured &+= n }
                    return true
                }
            } catch {
                failure = error
            }
            do throws(CaptureError) { try capture.finishWriting() } catch { failure = failure ?? error }
            let final = capture.stats()
            let captured = capture.packetsCaptured
            _ = consume capture  // pcap_close; the interrupter is disarmed first
            outcome.withLock {
                $0.captured = captured
                $0.stats = final ?? $0.stats
                $0.end = end
                $0.error = failure
                $0.finished = true
            }
        }
    }
}
