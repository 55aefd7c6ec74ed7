import Glibc
public import PacketRecords
public import TrafficAnalysis

/// Live flows that end: a flow table of their own, swept by the idle timeout and cut by the
/// active timeout, each flow handed to `ended` and exported (`--ipfix`) as it leaves (idle, a
/// slice, evicted from a full table) or at the end (`finish`: every open flow). `flows -i` writes
/// its rows from it; `serve --ipfix` exports beside its own table (whose flows stay for the API).
/// Used by the one thread that drains the capture ring: the exporter never blocks it for long
/// (over UDP a send waits for the local socket buffer only, TCP is non-blocking).
public final class LiveFlowExport {
    public let idleTimeoutNs: Int64
    public let activeTimeoutNs: Int64
    public let table: FlowTable
    public let exporter: IPFIXExporter?
    /// Each flow as it ends, before it is exported.
    public var ended: ((Flow) -> Void)?
    public private(set) var flowsEnded: UInt64 = 0
    private var nextSweepNs: Int64 = 0
    private var nextFlushNs: Int64 = 0
    private var ingressInterface: UInt32 = 0

    /// Opens the exporter (a bad collector fails here, before the capture starts).
    public init(idleTimeoutNs: Int64, activeTimeoutNs: Int64, maxFlows: Int, ipfix: IPFIXOptions?) throws(IPFIXError) {
        self.idleTimeoutNs = idleTimeoutNs
        self.activeTimeoutNs = activeTimeoutNs
        table = FlowTable(limits: FlowLimits(idleTimeoutNs: idleTimeoutNs, maxFlows: maxFlows), keepsRetired: true)
        exporter = try ipfix.map { options throws(IPFIXError) in try IPFIXExporter(options: options) }
    }

    /// The capture started on `interface`: its index is the records' ingressInterface (0 for `any`).
    public func start(interface: String) {
        ingressInterface = if_nametoindex(interface)
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        table.add(batch)
        drain()
    }

    /// Sweeps the idle and the active timeouts (about every 250 ms), and sends a half-full
    /// message at least every second.
    public func tick(nowNs: Int64, settledNs: Int64) {
        if nowNs >= nextSweepNs {
            nextSweepNs = nowNs + min(250_000_000, idleTimeoutNs / 4)
            table.expire(olderThan: settledNs - idleTimeoutNs)
            // By the realtime clock, a little early (the next sweep is up to 250 ms and a tick
            // away), so that no slice spans more than the active timeout; packets still on their
            // way when a flow is cut start its next slice.
            let margin = min(activeTimeoutNs / 2, 400_000_000)
            table.expireActive(startedBefore: nowNs - activeTimeoutNs + margin)
            drain()
        }
        if nowNs >= nextFlushNs {
            nextFlushNs = nowNs + 1_000_000_000
            exporter?.flush()
        }
    }

    /// The end: every open flow, then the exporter's last messages (over TCP, up to 5 s).
    public func finish() {
        drain()
        for f in table { emit(f) }
        exporter?.finish()
    }

    /// The exporter's counts (zero without `--ipfix`).
    public var counters: IPFIXCounters { exporter?.counters ?? IPFIXCounters() }

    private func drain() {
        guard !table.retired.isEmpty else { return }
        for f in table.retired { emit(f) }
        table.retired.removeAll(keepingCapacity: true)
    }

    private func emit(_ f: Flow) {
        flowsEnded += 1
        ended?(f)
        exporter?.export(f, reason: IPFIXExporter.reason(f), ingressInterface: ingressInterface)
    }
}
