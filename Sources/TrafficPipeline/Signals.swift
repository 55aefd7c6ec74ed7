import Dispatch
import Glibc
public import PacketRecords
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into a raised `StopFlag` (plus an optional wake-up call), and
/// ignores SIGPIPE so a closed pipe shows up as EPIPE from write(2) instead of killing us.
///
/// Any number of stop signals may arrive while stopping (coreutils `timeout` signals the child,
/// then its process group; an impatient user presses Ctrl-C twice): each one only raises the flag
/// again, so the rows and the `-w` file are flushed and the status lines printed. Only a signal
/// arriving when the stop has been pending for `forceAfterNs` (output stuck on a stalled pipe)
/// exits at once, with 130; the `-w` file holds whole records at every instant, so even that
/// leaves a file tcpdump reads.
public final class SignalTrap {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "pktstat.signals")
    public static let forceAfterNs: Int64 = 5_000_000_000

    public init(stop: StopFlag, onSignal: (@Sendable () -> Void)? = nil) {
        signal(SIGPIPE, SIG_IGN)
        let firstStop = FirstStop()
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if firstStop.pendingFor() >= Self.forceAfterNs { _exit(130) }
                if !stop.isRequested { stop.request(signal: sig) }
                onSignal?()
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for s in sources { s.cancel() }
    }
}

/// When the first stop signal arrived (CLOCK_MONOTONIC ns; 0: none yet).
private final class FirstStop: Sendable {
    private let at = Atomic<Int64>(0)

    /// How long the stop has been pending; the first call starts the clock and returns 0.
    func pendingFor() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        let now = max(1, Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec))
        let (exchanged, original) = at.compareExchange(expected: 0, desired: now, ordering: .relaxed)
        return exchanged ? 0 : now - original
    }
}
