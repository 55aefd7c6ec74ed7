import Dispatch
import Glibc
import PacketRecords

/// Turns SIGINT, SIGTERM and SIGHUP into a raised `StopFlag` (plus an optional wake-up call), and
/// ignores SIGPIPE so a closed pipe shows up as EPIPE from write(2) instead of killing us.
final class SignalTrap {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "pktstat.signals")

    init(stop: StopFlag, onSignal: (@Sendable () -> Void)? = nil) {
        signal(SIGPIPE, SIG_IGN)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if stop.isRequested {
                    // A second Ctrl-C while stopping: leave at once, as most tools do.
                    _exit(130)
                }
                stop.request(signal: sig)
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
