public import History
public import PacketRecords
public import SocketOwners
public import TrafficAnalysis
public import TrafficPipeline

/// The capture's consumer in `serve`: every batch goes to the metrics and to the interval series;
/// each interval that closes goes to the feed (window and stream). Used by the one thread that
/// drains the capture ring, so it needs no lock of its own.
public final class ServeConsumer: LiveConsumer {
    public let metrics: ServeMetrics
    public let feed: LiveFeed
    private var session: SeriesSession
    /// Flows for `/api/v1/flows`, bounded by `flowLimits` (by default idle ones leave after 5
    /// minutes, at most 100,000).
    private let flows: FlowTable
    /// The names learned from the wire for the flows (DNS answers, ClientHellos), and each batch's.
    private let names = NameTable()
    public let nameEvents: NameEvents? = NameEvents()
    private let flowIdleNs: Int64?
    private var lastFlowCopyNs: Int64 = 0
    public static let defaultFlowLimits = FlowLimits(idleTimeoutNs: 300_000_000_000, maxFlows: 100_000)
    /// `--history`: the store, and the minute being gathered from the flow table (written when the
    /// capture has surely passed its end, or when a packet of a later minute comes; one transaction
    /// a minute).
    private let historyStore: HistoryStore?
    private var rollup: HistoryRollup?
    /// Minutes the history could not take (a full disk): counted, the capture goes on.
    public private(set) var historyFailures = 0
    private var lastHistoryFailure: String?
    private let owners: SocketOwners?
    /// `--ipfix`: the flows exported as they end (idle, active slices, evicted, at the stop), from
    /// a table of their own: the API's flows stay whole.
    private let export: LiveFlowExport?

    /// - Parameter startNs: where interval 0 begins until the capture starts (`start` moves it
    ///   to the capture's start).
    public init(
        metrics: ServeMetrics, feed: LiveFeed, startNs: Int64 = LivePipeline.realtimeNow(),
        flowLimits: FlowLimits = ServeConsumer.defaultFlowLimits, history: HistoryStore? = nil,
        owners: SocketOwners? = nil, export: LiveFlowExport? = nil
    ) {
        self.export = export
        self.metrics = metrics
        self.feed = feed
        historyStore = history
        self.owners = owners
        session = Self.session(intervalNs: feed.intervalNs, startNs: startNs)
        flows = FlowTable(limits: flowLimits)
        flows.names = names
        flowIdleNs = flowLimits.idleTimeoutNs
        if let owners { flows.onNewFlow = { owners.flowStarted($0) } }
    }

    private static func session(intervalNs: Int64, startNs: Int64) -> SeriesSession {
        SeriesSession(
            intervalNs: intervalNs, align: .first, start: startNs, late: .counted, keepChart: false,
            keepIntervals: false)
    }

    /// Interval 0 begins when the capture starts.
    public func start(_ capture: LiveStart) {
        session = Self.session(intervalNs: feed.intervalNs, startNs: capture.startNs)
        if let historyStore {
            rollup = HistoryRollup(store: historyStore, interface: capture.interface, flows: flows, owners: owners)
        }
        export?.start(interface: capture.interface)
    }

    private func history(_ body: (HistoryRollup) throws(HistoryError) -> Void) {
        guard let rollup else { return }
        do throws(HistoryError) { try body(rollup) } catch {
            historyFailures += 1
            lastHistoryFailure = error.description
        }
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        metrics.add(batch)
        if let rollup {
            // The flow table is rolled up where a minute ends: the batch goes in in parts.
            var from = 0
            while let cut = rollup.cut(batch, from: from) {
                addFlows(batch, from..<cut)
                history { r throws(HistoryError) in try r.roll(flows) }
                from = cut
            }
            addFlows(batch, from..<batch.count)
        } else if let nameEvents {
            flows.add(batch, events: nameEvents)
        } else {
            flows.add(batch)
        }
        export?.add(batch)
        let feed = self.feed
        session.add(batch) { feed.publish($0) }
    }

    private func addFlows(_ batch: UnsafeBufferPointer<PacketRecord>, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        if let nameEvents {
            flows.add(batch, events: nameEvents, range: range)
        } else {
            flows.add(UnsafeBufferPointer(rebasing: batch[range]))
        }
    }

    /// Drops so far, and the intervals that ended by `settledNs` (now minus the capture delay).
    public func tick(nowNs: Int64, settledNs: Int64, drops: DropCounters) {
        metrics.setDrops(drops)
        session.analyzer.recordDrops(cumulative: drops, atTimeNs: nowNs)
        let feed = self.feed
        session.close(through: settledNs) { feed.publish($0) }
        feed.update(summary: session.analyzer.summary)
        export?.tick(nowNs: nowNs, settledNs: settledNs)
        if nowNs - lastFlowCopyNs >= 1_000_000_000 { copyFlows(nowNs: nowNs) }
        if let end = rollup?.minuteEndNs, settledNs >= end { history { r throws(HistoryError) in try r.roll(flows) } }
    }

    /// Expires idle flows, publishes a copy of the table and the flow metrics (once a second).
    private func copyFlows(nowNs: Int64) {
        lastFlowCopyNs = nowNs
        if let flowIdleNs { flows.expire(olderThan: nowNs - flowIdleNs) }
        var snapshot = FlowSnapshot(flows, takenNs: nowNs, nameTable: names)
        owners?.settle()
        if let owners {
            let copy = snapshot.flows
            snapshot.owners = owners.withOwners { lookup in copy.map { lookup.owners(of: $0) } }
        }
        feed.flows = snapshot
        metrics.setFlows(active: flows.count, counters: flows.counters)
        publishExport()
    }

    /// The exporter's counts, to `/metrics` and the API's summary.
    private func publishExport() {
        guard let exporter = export?.exporter else { return }
        metrics.setIPFIX(exporter.counters)
        feed.ipfix = IPFIXStatus(collector: exporter.destination.description, counters: exporter.counters)
    }

    /// The capture ended: the last drops and the summary (the open intervals are not published:
    /// they did not run their full length).
    public func finish(drops: DropCounters) {
        metrics.setDrops(drops)
        session.analyzer.recordDrops(cumulative: drops, atTimeNs: session.analyzer.summary.lastNs ?? 0)
        feed.update(summary: session.analyzer.summary)
        export?.finish()
        copyFlows(nowNs: session.analyzer.summary.lastNs ?? lastFlowCopyNs)
        history { r throws(HistoryError) in
            try r.roll(flows)
            try r.store.finish()
        }
        owners?.stop()
    }

    public var closingLines: [String] {
        var lines: [String] = []
        if let export, let exporter = export.exporter {
            let c = export.table.counters
            lines.append(
                "ipfix: \(export.flowsEnded) flows exported: \(c.expired) ended idle, \(c.sliced) cut by "
                    + "--active-timeout, \(c.evicted) evicted (--max-flows), the rest open at the end")
            lines.append(exporter.summary)
        }
        if historyFailures > 0, let lastHistoryFailure {
            lines.append("warning: \(historyFailures) history writes failed, the last: \(lastHistoryFailure)")
        }
        return lines
    }

    public var summary: Summary { session.analyzer.summary }
}
