import Glibc
import PacketWire

/// How `flows --by` aggregates.
public enum FlowGrouping: String, Sendable, CaseIterable {
    case host
    case byProtocol = "protocol"
    case port
}

/// One row of a flows report.
public enum FlowReportRow: Sendable, Equatable {
    case flow(Flow)
    case host(HostTotals)
    case group(GroupTotals)
}

/// The report's temporary file could not be read back.
public enum FlowReportError: Error, Equatable, Sendable, CustomStringConvertible {
    case spillFileUnreadable(errno: Int32)

    public var description: String {
        switch self {
        case .spillFileUnreadable(let e): "cannot read back the temporary flows file: \(String(cString: strerror(e)))"
        }
    }

    public var hint: String? { "check the disk holding $TMPDIR (else /tmp), or point TMPDIR at another one" }
}

/// The rows of `pktstat flows`, in memory bounded by what the mode must keep, never by the number
/// of flows that left a bounded table (`--max-flows`, `--flow-timeout`). Flows come in as they
/// leave the table (`take`), then those still in it (`finish`), and the rows go out in order
/// (`forEachRow`, which can be called again, as a table's two passes need):
///
/// - no order asked and rows that may come as flows leave (CSV, JSON: `streams`): each leaving
///   flow is handed to the writer at once, then the table's, by first timestamp; `top` stops the
///   writing after that many rows. Memory: the table.
/// - `top` N (N up to `memoryLimit`): a `TopHeap` of N rows.
/// - an order and no `top` (or a larger one): an `ExternalSorter` (`memoryLimit` rows in memory,
///   sorted runs in an unlinked temporary file, merged at the end).
/// - `grouping`: totals added up as flows come, up to `memoryLimit` groups in memory; when that
///   fills (a scan: a host per spoofed source) the groups go to the temporary file as a run
///   sorted by group, and the runs are merged (equal groups added up) at the end; the groups
///   then go through the heap or the sorter above.
/// - when nothing left the table (no bounds, or they were never reached): the table's own flows,
///   ordered by an index (8 bytes a flow), as before there was a report.
///
/// Rows are the same, in the same order, as if every flow had been kept: ties are broken by the
/// order flows came in (those that left, in the order they left, then the table's), as
/// `FlowViews.order` breaks them by position, and groups by the order they first appeared, as
/// `FlowViews.sorted` does.
public final class FlowReport {
    /// The default `memoryLimit`: 16,384 rows (1.5 MB of flows).
    public static var defaultMemoryLimit: Int { 16_384 }

    public let grouping: FlowGrouping?
    public let top: Int?
    /// Whether flows are written as they leave the table (`take(from:write:)` hands them out).
    public let streams: Bool
    /// Flows taken as they left the table.
    public private(set) var retiredCount = 0

    /// The order of the rows: nil for the table's own order (no bounds, no `--sort`).
    private let order: FlowSort?
    private let memoryLimit: Int
    private let directory: String?
    private var sequence = 0
    private var streamed = 0
    private var finished = false
    private var pending: [Flow] = []
    private var table: FlowTable?
    /// The table's positions in the order of the rows; nil: the table's own order, its first
    /// `tableCount` (no array of a million positions for a file's million flows).
    private var tableOrder: [Int]?
    private var tableCount = 0
    private var flowRows: OrderedRows<Flow>?
    private var hosts: GroupAggregator<HostTotals>?
    private var groups: GroupAggregator<GroupTotals>?
    private var hostRows: OrderedRows<HostTotals>?
    private var groupRows: OrderedRows<GroupTotals>?

    /// - Parameters:
    ///   - grouping: `--by`, or nil for a row per flow.
    ///   - sort: `--sort`; nil: groups by bytes, flows in the table's order (bounded: by first
    ///     timestamp, or as they leave when `inRetireOrder`).
    ///   - top: `--top`.
    ///   - bounded: whether flows can leave the table (`--max-flows` or `--flow-timeout` given).
    ///   - inRetireOrder: whether, with no `sort`, rows may go out as flows leave (CSV and JSON;
    ///     a table, printed whole at the end, is ordered by first timestamp instead).
    ///   - memoryLimit: rows (or groups) kept in memory before they go to the temporary file.
    ///   - directory: where the temporary file goes (default `$TMPDIR`, else /tmp).
    public init(
        grouping: FlowGrouping?, sort: FlowSort?, top: Int?, bounded: Bool, inRetireOrder: Bool,
        memoryLimit: Int = FlowReport.defaultMemoryLimit, directory: String? = nil
    ) {
        self.grouping = grouping
        self.top = top.map { max(0, $0) }
        self.memoryLimit = max(1, memoryLimit)
        self.directory = directory
        streams = bounded && grouping == nil && sort == nil && inRetireOrder
        order = grouping != nil ? (sort ?? .bytes) : bounded ? (sort ?? .first) : sort
        switch grouping {
        case nil: break
        case .host: hosts = GroupAggregator(memoryLimit: self.memoryLimit, directory: directory)
        case .port, .byProtocol: groups = GroupAggregator(memoryLimit: self.memoryLimit, directory: directory)
        }
    }

    /// Takes the flows that left `table` (emptying `table.retired`). When the report `streams`,
    /// those to write are handed to `write` now, in the order they left.
    public func take(from table: FlowTable, write: (Flow) -> Void) {
        guard !table.retired.isEmpty else { return }
        for f in table.retired { offer(f, write: write) }
        table.retired.removeAll(keepingCapacity: true)
    }

    /// Takes the flows still in `table` (and any that left it and were not taken): after this,
    /// `forEachRow` hands out the rows. Throws `FlowReportError` when the temporary file cannot be
    /// read back.
    public func finish(_ table: FlowTable) throws {
        precondition(!finished, "finish called twice")
        finished = true
        for f in table.retired { offer(f) { pending.append($0) } }
        table.retired.removeAll()
        if streams {
            self.table = table
            tableOrder = FlowViews.order(table, by: .first, top: top.map { max(0, $0 - streamed) })
        } else if grouping == nil && flowRows == nil {
            self.table = table
            if order == nil {
                tableCount = min(table.count, top ?? table.count)
            } else {
                tableOrder = FlowViews.order(table, by: order, top: top)
            }
        } else {
            for f in table { add(f) }
        }
        flowRows?.finish()
        if let hosts {
            let rows = orderedRows(HostTotals.self)
            try hosts.finish(into: rows)
            rows.finish()
            hostRows = rows
        }
        if let groups {
            let rows = orderedRows(GroupTotals.self)
            try groups.finish(into: rows)
            rows.finish()
            groupRows = rows
        }
        aggregateProblem = hosts?.spillProblem ?? groups?.spillProblem
        self.hosts = nil
        self.groups = nil
    }

    /// The rows in order, cut to `top` (in a streaming report: those not written by `take`).
    /// Throws `FlowReportError` when the temporary file cannot be read back, or what `body` throws.
    public func forEachRow(_ body: (FlowReportRow) throws -> Void) throws {
        precondition(finished, "forEachRow before finish")
        for f in pending { try body(.flow(f)) }
        if let table {
            if let tableOrder {
                for i in tableOrder { try body(.flow(table[i])) }
            } else {
                for i in 0..<tableCount { try body(.flow(table[i])) }
            }
        }
        try flowRows?.forEach { try body(.flow($0)) }
        try hostRows?.forEach { try body(.host($0)) }
        try groupRows?.forEach { try body(.group($0)) }
    }

    /// Why the temporary file could not be used, if it could not (the rows were then kept in
    /// memory; the output is complete either way).
    public var spillProblem: String? {
        flowRows?.spillProblem ?? hostRows?.spillProblem ?? groupRows?.spillProblem ?? aggregateProblem
    }
    private var aggregateProblem: String?

    private func offer(_ f: Flow, write: (Flow) -> Void) {
        retiredCount += 1
        if streams {
            if streamed < top ?? .max {
                write(f)
                streamed += 1
            }
            return
        }
        add(f)
    }

    private func add(_ f: Flow) {
        if let hosts {
            FlowViews.hostShares(f) { share in
                hosts.add(share, sequence: sequence)
                sequence += 1
            }
        } else if let groups {
            groups.add(FlowViews.groupShare(f, byPort: grouping == .port), sequence: sequence)
            sequence += 1
        } else {
            if flowRows == nil { flowRows = orderedRows(Flow.self) }
            flowRows!.add(Ranked(value: f, sequence: sequence))
            sequence += 1
        }
    }

    private func orderedRows<T: FlowRanked>(_: T.Type) -> OrderedRows<T> {
        OrderedRows(order: order ?? .first, top: top, memoryLimit: memoryLimit, directory: directory)
    }
}

/// A row and its place in the order rows came in (which breaks ties).
struct Ranked<Value> {
    var value: Value
    var sequence: Int
}

/// What a `FlowSort` orders by.
protocol FlowRanked {
    var packets: UInt64 { get }
    var bytes: UInt64 { get }
    var first: Int64 { get }
}

extension Flow: FlowRanked {}
extension HostTotals: FlowRanked {}
extension GroupTotals: FlowRanked {}

extension FlowSort {
    /// Whether `a` comes before `b`: most bytes or packets first, or earliest first; ties in the
    /// order they came.
    @inline(__always)
    func precedes<T: FlowRanked>(_ a: Ranked<T>, _ b: Ranked<T>) -> Bool {
        switch self {
        case .bytes: a.value.bytes != b.value.bytes ? a.value.bytes > b.value.bytes : a.sequence < b.sequence
        case .packets:
            a.value.packets != b.value.packets ? a.value.packets > b.value.packets : a.sequence < b.sequence
        case .first: a.value.first != b.value.first ? a.value.first < b.value.first : a.sequence < b.sequence
        }
    }
}

/// Rows in a `FlowSort` order cut to `top`: a heap of `top` rows when that fits in `memoryLimit`,
/// else an external sort whose output stops at `top`.
final class OrderedRows<T: FlowRanked> {
    private var heap: TopHeap<Ranked<T>>?
    private var sorted: [Ranked<T>] = []
    private let sorter: ExternalSorter<Ranked<T>>?
    private let top: Int?

    init(order: FlowSort, top: Int?, memoryLimit: Int, directory: String?) {
        self.top = top
        let precedes: (Ranked<T>, Ranked<T>) -> Bool = { order.precedes($0, $1) }
        if let top, top <= memoryLimit {
            heap = TopHeap(capacity: top, precedes: precedes)
            sorter = nil
        } else {
            sorter = ExternalSorter(memoryLimit: memoryLimit, directory: directory, precedes: precedes)
        }
    }

    func add(_ r: Ranked<T>) {
        if heap != nil { heap!.insert(r) } else { sorter!.append(r) }
    }

    func finish() {
        if let heap { sorted = heap.sorted() }
        heap = nil
    }

    var spillProblem: String? { sorter?.spillProblem }

    func forEach(_ body: (T) throws -> Void) throws {
        guard let sorter else {
            for r in sorted { try body(r.value) }
            return
        }
        var left = top ?? .max
        do {
            try sorter.forEach { r in
                guard left > 0 else { throw EnoughRows() }
                left -= 1
                try body(r.value)
            }
        } catch is EnoughRows {}
    }
}

/// Stops a merge once `top` rows are out.
private struct EnoughRows: Error {}

/// Totals a flow adds to a group, and how groups are told apart and put in order (in runs).
protocol FlowGroupTotals: FlowRanked {
    var groupKey: GroupOrderKey { get }
    mutating func add(_ other: Self)
}

/// A group's identity as three numbers, compared in turn.
struct GroupOrderKey: Hashable, Comparable {
    var a: UInt64
    var b: UInt64
    var c: UInt64

    static func < (l: GroupOrderKey, r: GroupOrderKey) -> Bool {
        l.a != r.a ? l.a < r.a : l.b != r.b ? l.b < r.b : l.c < r.c
    }
}

extension HostTotals: FlowGroupTotals {
    var groupKey: GroupOrderKey { GroupOrderKey(a: UInt64(ipVersion), b: address.hi, c: address.lo) }
}

extension GroupTotals: FlowGroupTotals {
    var groupKey: GroupOrderKey {
        GroupOrderKey(a: UInt64(label.rawValue), b: hasPort ? 1 : 0, c: UInt64(port))
    }
}

/// Groups added up as flows come: up to `memoryLimit` in memory; when that fills, they go to the
/// temporary file as a run sorted by group, and `finish` merges the runs, adding up equal groups.
/// Each group keeps the sequence of its first share, so the merged groups tie as `FlowViews`'s do.
final class GroupAggregator<T: FlowGroupTotals> {
    private var at: [GroupOrderKey: Int] = [:]
    private var rows: [Ranked<T>] = []
    private let memoryLimit: Int
    private let runs: ExternalSorter<Ranked<T>>

    init(memoryLimit: Int, directory: String?) {
        self.memoryLimit = memoryLimit
        runs = ExternalSorter(memoryLimit: memoryLimit, directory: directory) { $0.value.groupKey < $1.value.groupKey }
    }

    func add(_ share: T, sequence: Int) {
        let k = share.groupKey
        if let i = at[k] {
            rows[i].value.add(share)
            return
        }
        at[k] = rows.count
        rows.append(Ranked(value: share, sequence: sequence))
        if rows.count >= memoryLimit { spill() }
    }

    private func spill() {
        rows.sort { $0.value.groupKey < $1.value.groupKey }
        runs.appendRun(rows)
        rows.removeAll(keepingCapacity: true)
        at.removeAll(keepingCapacity: true)
    }

    /// Hands every group to `out` (in the order they first appeared when nothing was spilled).
    func finish(into out: OrderedRows<T>) throws {
        if runs.count == 0 {
            for r in rows { out.add(r) }
            return
        }
        spill()
        rows = []
        at = [:]
        var current: Ranked<T>?
        try runs.forEach { r in
            if var c = current, c.value.groupKey == r.value.groupKey {
                c.value.add(r.value)
                c.sequence = min(c.sequence, r.sequence)
                current = c
            } else {
                if let c = current { out.add(c) }
                current = r
            }
        }
        if let c = current { out.add(c) }
    }

    var spillProblem: String? { runs.spillProblem }
}
