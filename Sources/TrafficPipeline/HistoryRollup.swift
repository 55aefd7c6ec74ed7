public import History
public import PacketRecords
import PacketWire
import Rendering
public import SocketOwners
public import TrafficAnalysis

/// `serve --history`: the minutes of history rolled up from the live flow table once a minute,
/// not per packet. The flows carry their counts; the roll-up keeps, per flow, what it had counted
/// at the last minute (`marks`, one dictionary entry per flow, touched once a minute) and adds the
/// difference to the minute: by interface, protocol, host (both ends of the flow, as a packet
/// counts for its source and its destination), port (the lower of the two, TCP/UDP/SCTP) and
/// process (the local process at either end, from `SocketOwners`, by `comm (unit)`; a flow between
/// two sockets of one process counts once).
///
/// Exact, packet for packet, as the per-packet `HistoryRecorder` is: the consumer cuts a batch
/// where a minute ends (`cut`), so the table holds exactly the minute's packets when it is rolled
/// up; a flow that leaves the table mid-minute (idle, evicted from a full table) hands its
/// difference over as it leaves (`FlowTable.onRemove`). A packet older than the minute being
/// gathered (out of order across the boundary) counts in the minute being gathered.
public final class HistoryRollup {
    struct Mark {
        var packets: UInt64
        var bytes: UInt64
    }

    public let store: HistoryStore
    public let interface: String
    private let owners: SocketOwners?
    /// The minute being gathered (epoch seconds), nil before its first packet.
    private var minute: Int64?
    private var marks: [FlowKey: Mark] = [:]
    private var tally = MinuteTally()
    /// Flows that left the table this minute with counts, waiting for their owners (bounded).
    private var left: [(flow: Flow, counts: HistoryCounts)] = []
    static let maxLeft = 4096
    /// Minutes handed to the store.
    public private(set) var minutesWritten = 0

    public init(store: HistoryStore, interface: String, flows: FlowTable, owners: SocketOwners?) {
        self.store = store
        self.interface = interface
        self.owners = owners
        flows.onRemove = { [unowned self] f in self.flowLeft(f) }
    }

    /// The end (epoch ns) of the minute being gathered, nil before the first packet.
    public var minuteEndNs: Int64? { minute.map { ($0 + 60) * 1_000_000_000 } }

    /// The index of the first packet of `batch` at or after `from` that belongs to a later minute
    /// than the one being gathered (nil: none; the minute starts with the first packet when none is
    /// being gathered). The packets before it go to the flow table, then `roll` writes the minute.
    @inline(__always)
    public func cut(_ batch: UnsafeBufferPointer<PacketRecord>, from: Int) -> Int? {
        guard from < batch.count else { return nil }
        let m = minute ?? MinuteTally.minute(of: batch[from].timestampNs)
        minute = m
        let end = (m + 60) * 1_000_000_000
        // One comparison per packet: the only per-packet work of the history.
        var i = from
        while i < batch.count {
            if batch[i].timestampNs >= end { return i }
            i += 1
        }
        return nil
    }

    /// Writes the minute being gathered from the flows' differences (one transaction); the next
    /// packet starts the next.
    public func roll(_ flows: FlowTable) throws(HistoryError) {
        guard let m = minute else { return }
        minute = nil
        var moved: [(flow: Flow, counts: HistoryCounts)] = left
        left.removeAll(keepingCapacity: true)
        for f in flows {
            let mark = marks[f.key] ?? Mark(packets: 0, bytes: 0)
            let p = f.packets
            guard p != mark.packets else { continue }
            let c = HistoryCounts(packets: p &- mark.packets, bytes: f.bytes &- mark.bytes)
            marks[f.key] = Mark(packets: p, bytes: f.bytes)
            add(f, c)
            moved.append((f, c))
        }
        guard tally.total.packets > 0 else { return }
        var out = tally.take(start: m, interface: interface)
        if let owners {
            owners.settle()
            owners.withOwners { lookup in
                for (f, c) in moved {
                    let (s, d) = lookup.owners(of: f)
                    if let s { out.add(.process, Self.name(s), c) }
                    if let d, d != s { out.add(.process, Self.name(d), c) }
                }
            }
        }
        try store.add(out)
        minutesWritten += 1
    }

    /// A process as the history names it: `comm`, and its unit or container when known.
    static func name(_ o: ProcessOwner) -> String { o.unit.isEmpty ? o.name : "\(o.name) (\(o.unit))" }

    private func add(_ f: Flow, _ c: HistoryCounts) {
        let k = f.key
        tally.add(c, label: k.label, version: k.ipVersion, a: k.a, b: k.b, ports: k.hasPorts ? (k.aPort, k.bPort) : nil)
    }

    /// A flow leaves the table: what it carried since the last minute goes into this one.
    private func flowLeft(_ f: Flow) {
        let mark = marks.removeValue(forKey: f.key) ?? Mark(packets: 0, bytes: 0)
        guard f.packets != mark.packets else { return }
        let c = HistoryCounts(packets: f.packets &- mark.packets, bytes: f.bytes &- mark.bytes)
        add(f, c)
        if owners != nil && left.count < Self.maxLeft { left.append((f, c)) }
    }
}
