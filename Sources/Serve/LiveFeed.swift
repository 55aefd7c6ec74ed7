import Prometheus
import Rendering
import Synchronization
public import TrafficAnalysis
public import TrafficPipeline

/// What the capture publishes for the API: the recent closed intervals (a bounded window), the
/// running summary, and the Server-Sent Events subscribers that get each interval as it closes.
///
/// A subscriber has a bounded queue (`subscriberQueue`: 5 s of intervals, at least 64); one that
/// falls that far behind is disconnected and counted, so a slow reader never holds up the capture
/// or the others.
public final class LiveFeed: Sendable {
    public let subscriberQueue: Int
    public let windowCapacity: Int
    public let intervalNs: Int64
    private let metrics: ServeMetrics?
    private let state = Mutex(State())

    struct State {
        var window: [IntervalStats] = []
        var head = 0
        var summary = Summary()
        var flows = FlowSnapshot()
        var ipfix: IPFIXStatus?
        var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
        var nextID = 0
        var closed = false
    }

    public init(intervalNs: Int64, windowCapacity: Int = 3600, metrics: ServeMetrics? = nil) {
        self.intervalNs = intervalNs
        subscriberQueue = Int(max(64, min(100_000, 5_000_000_000 / max(1, intervalNs))))
        self.windowCapacity = max(1, windowCapacity)
        self.metrics = metrics
    }

    /// A closed interval: kept in the window and sent to every subscriber.
    public func publish(_ interval: IntervalStats) {
        let event = "event: interval\ndata: \(ServeJSON.interval(interval))\n\n"
        let cut: [AsyncStream<String>.Continuation] = state.withLock { s in
            if s.window.count < windowCapacity {
                s.window.append(interval)
            } else {
                s.window[s.head] = interval
                s.head = (s.head + 1) % windowCapacity
            }
            var cut: [AsyncStream<String>.Continuation] = []
            for (id, c) in s.subscribers {
                if case .dropped = c.yield(event) {
                    s.subscribers[id] = nil
                    cut.append(c)
                }
            }
            return cut
        }
        // Finished outside the lock: finish() runs onTermination, which takes the lock.
        for c in cut { c.finish() }
        if !cut.isEmpty {
            metrics?.streamCut.increment(by: Int64(cut.count))
            metrics?.streamSubscribers.decrement(by: Double(cut.count))
        }
    }

    /// The running summary, its `drops` set from the capture's counters.
    public func update(summary: Summary) {
        state.withLock { $0.summary = summary }
    }

    /// The closed intervals that start at or after `sinceNs`, oldest first.
    public func intervals(sinceNs: Int64?) -> [IntervalStats] {
        state.withLock { s in
            let ordered = Array(s.window[s.head...] + s.window[..<s.head])
            guard let sinceNs else { return ordered }
            return ordered.filter { $0.startNs >= sinceNs }
        }
    }

    public var summary: Summary { state.withLock { $0.summary } }

    /// The flow table's latest copy.
    public var flows: FlowSnapshot {
        get { state.withLock { $0.flows } }
        set { state.withLock { $0.flows = newValue } }
    }

    /// `--ipfix`: the collector and the exporter's counts (nil without `--ipfix`).
    public var ipfix: IPFIXStatus? {
        get { state.withLock { $0.ipfix } }
        set { state.withLock { $0.ipfix = newValue } }
    }

    /// A new subscriber's id and events; nil once the streams are closed (shutting down).
    public func subscribe() -> (Int, AsyncStream<String>)? {
        let (stream, continuation) = AsyncStream.makeStream(
            of: String.self, bufferingPolicy: .bufferingOldest(subscriberQueue))
        let id: Int? = state.withLock { s in
            if s.closed { return nil }
            s.nextID += 1
            s.subscribers[s.nextID] = continuation
            return s.nextID
        }
        guard let id else { return nil }
        metrics?.streamSubscribers.increment()
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return (id, stream)
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every stream (graceful shutdown); later subscribers get nil.
    public func closeStreams() {
        let open = state.withLock { s in
            s.closed = true
            defer { s.subscribers = [:] }
            return Array(s.subscribers.values)
        }
        for c in open { c.finish() }
        if !open.isEmpty { metrics?.streamSubscribers.set(to: 0) }
    }

    /// A subscriber went away (its connection closed).
    public func unsubscribe(_ id: Int) {
        let removed = state.withLock { $0.subscribers.removeValue(forKey: id) != nil }
        if removed { metrics?.streamSubscribers.decrement() }
    }
}

/// What `serve --ipfix` has exported, for the API's summary.
public struct IPFIXStatus: Sendable, Equatable {
    public var collector: String
    public var counters: IPFIXCounters

    public init(collector: String, counters: IPFIXCounters) {
        self.collector = collector
        self.counters = counters
    }
}
