import Synchronization

/// A flag one thread raises (a signal handler, the consumer) and the capture loop polls.
public final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    private let signalNumber = Atomic<Int32>(0)

    public init() {}

    public func request(signal: Int32 = 0) {
        if signal != 0 { signalNumber.store(signal, ordering: .relaxed) }
        raised.store(true, ordering: .releasing)
    }

    public var isRequested: Bool { raised.load(ordering: .acquiring) }

    /// The signal that raised the flag, or 0.
    public var signal: Int32 { signalNumber.load(ordering: .relaxed) }
}
