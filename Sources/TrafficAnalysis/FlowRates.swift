public import PacketWire

/// The process that owns a socket: its pid, its name (`comm`) and its systemd unit or container
/// ("" when none). `pid` is 0 when several processes with this name and unit share the socket
/// (a forked server): the name is known, the pid is not.
public struct ProcessOwner: Sendable, Hashable {
    public var pid: Int32
    public var name: String
    public var unit: String

    public init(pid: Int32, name: String, unit: String) {
        self.pid = pid
        self.name = name
        self.unit = unit
    }
}

/// What `top` shows per row: a flow, a host, a (protocol, port) group or a local process.
public enum RateView: String, Sendable, CaseIterable {
    case flows, hosts, ports, processes

    public var next: RateView {
        switch self {
        case .flows: .hosts
        case .hosts: .ports
        case .ports: .processes
        case .processes: .flows
        }
    }
}

/// The order of `top`'s rows: a rate window (most first), the total bytes, or the TCP handshake's
/// round trip (slowest first; rows without one after, by total).
public enum RateSort: Int, Sendable, CaseIterable {
    case last = 0
    case short, medium, long, total, rtt

    public var next: RateSort { RateSort(rawValue: (rawValue + 1) % RateSort.allCases.count) ?? .last }
}

/// One row of `top`: its identity and the bytes it moved over the last 1, 2 s, 10 s and 40 s
/// worth of intervals (iftop's windows), plus its totals.
public struct RateRow: Sendable, Equatable {
    public enum Identity: Sendable, Equatable {
        case flow(Flow)
        case host(IPAddress, UInt8)
        case port(ProtocolLabel, hasPort: Bool, port: UInt16)
        case process(ProcessOwner)
    }

    public var identity: Identity
    /// Bytes over the last interval, then over each longer window (`FlowRates.windows`).
    public var windowBytes: [UInt64]
    /// Packets over the last interval.
    public var lastPackets: UInt64
    public var totalBytes: UInt64
    public var totalPackets: UInt64
    /// What the flow's src sent over the last interval and in all (a process row: what the
    /// process sent); the rest went the other way.
    public var lastSrcPackets: UInt64 = 0
    public var lastSrcBytes: UInt64 = 0
    public var totalSrcPackets: UInt64 = 0
    public var totalSrcBytes: UInt64 = 0
    /// The local processes at the flow's src and dst ends, when attribution found them.
    public var srcOwner: ProcessOwner?
    public var dstOwner: ProcessOwner?

    public init(
        identity: Identity, windowBytes: [UInt64], lastPackets: UInt64, totalBytes: UInt64, totalPackets: UInt64
    ) {
        self.identity = identity
        self.windowBytes = windowBytes
        self.lastPackets = lastPackets
        self.totalBytes = totalBytes
        self.totalPackets = totalPackets
    }

    /// Bytes and packets the other way (to the src; a process row: what it received).
    public var lastDstBytes: UInt64 { (windowBytes.first ?? 0) &- lastSrcBytes }
    public var lastDstPackets: UInt64 { lastPackets &- lastSrcPackets }
    public var totalDstBytes: UInt64 { totalBytes &- totalSrcBytes }
    public var totalDstPackets: UInt64 { totalPackets &- totalSrcPackets }
}

/// Per-flow byte history for `top`, one bucket per interval, kept only for the flows still in the
/// table. `tick` is called once per interval (O(flows), never per packet), so the flow table's
/// packet path stays untouched. Memory: a dictionary entry per flow in the table (about 100 bytes),
/// plus 8 bytes per interval of the longest window (40 at 1 s) for the flows that moved in it.
public struct FlowRates {
    public let intervalNs: Int64
    /// The windows in intervals: 1, then about 2 s, 10 s and 40 s (at least 1, at most 400).
    public let windows: [Int]
    private var history: [FlowKey: History] = [:]

    struct History {
        var total: UInt64
        var buckets: [UInt64]
        var packets: UInt64
        var lastPackets: UInt64
        var srcBytes: UInt64 = 0
        var srcPackets: UInt64 = 0
    }

    public init(intervalNs: Int64) {
        self.intervalNs = max(1, intervalNs)
        windows = [1] + [2, 10, 40].map { s in Int(min(400, max(1, (Int64(s) * 1_000_000_000) / max(1, intervalNs)))) }
    }

    /// The window lengths in nanoseconds (for labels and rates).
    public var windowNs: [Int64] { windows.map { Int64($0) * intervalNs } }

    /// Closes an interval: records what each flow moved since the last tick (a flow that left the
    /// table and came back starts again) and returns a row per flow that moved anything in the
    /// longest window.
    public mutating func tick(_ table: FlowTable) -> [RateRow] {
        var next: [FlowKey: History] = [:]
        next.reserveCapacity(table.count)
        var rows: [RateRow] = []
        let depth = windows.last ?? 1
        for f in table {
            var h = history.removeValue(forKey: f.key) ?? History(total: 0, buckets: [], packets: 0, lastPackets: 0)
            let delta = f.bytes >= h.total ? f.bytes - h.total : f.bytes
            h.lastPackets = f.packets >= h.packets ? f.packets - h.packets : f.packets
            let restarted = f.bytes < h.total
            let srcDelta = restarted || f.srcBytes < h.srcBytes ? f.srcBytes : f.srcBytes - h.srcBytes
            let srcPacketsDelta = restarted || f.srcPackets < h.srcPackets ? f.srcPackets : f.srcPackets - h.srcPackets
            h.total = f.bytes
            h.packets = f.packets
            h.srcBytes = f.srcBytes
            h.srcPackets = f.srcPackets
            h.buckets.insert(delta, at: 0)
            if h.buckets.count > depth { h.buckets.removeLast(h.buckets.count - depth) }
            let sums = windows.map { h.buckets.prefix($0).reduce(0, +) }
            if sums.last ?? 0 > 0 {
                var row = RateRow(
                    identity: .flow(f), windowBytes: sums, lastPackets: h.lastPackets, totalBytes: f.bytes,
                    totalPackets: f.packets)
                row.lastSrcBytes = srcDelta
                row.lastSrcPackets = srcPacketsDelta
                row.totalSrcBytes = f.srcBytes
                row.totalSrcPackets = f.srcPackets
                rows.append(row)
            } else {
                // Idle for the longest window: only the totals are kept (an empty array allocates nothing).
                h.buckets = []
            }
            next[f.key] = h
        }
        history = next
        return rows
    }

    /// Flow rows folded into host, port or process rows (a host's rows count what it sent and
    /// received).
    public static func aggregate(_ rows: [RateRow], as view: RateView) -> [RateRow] {
        guard view != .flows else { return rows }
        if view == .processes { return processes(rows) }
        var at: [String: Int] = [:]
        var out: [RateRow] = []
        func add(_ id: RateRow.Identity, _ name: String, _ r: RateRow) {
            if let i = at[name] {
                for w in out[i].windowBytes.indices { out[i].windowBytes[w] += r.windowBytes[w] }
                out[i].lastPackets += r.lastPackets
                out[i].totalBytes += r.totalBytes
                out[i].totalPackets += r.totalPackets
            } else {
                at[name] = out.count
                out.append(
                    RateRow(
                        identity: id, windowBytes: r.windowBytes, lastPackets: r.lastPackets,
                        totalBytes: r.totalBytes, totalPackets: r.totalPackets))
            }
        }
        for r in rows {
            guard case .flow(let f) = r.identity else { continue }
            if view == .ports {
                let p = f.key.hasPorts ? f.dst.port : 0
                add(
                    .port(f.key.label, hasPort: f.key.hasPorts, port: p),
                    "\(f.key.label.rawValue)/\(f.key.hasPorts)/\(p)", r)
                continue
            }
            guard f.key.ipVersion != 0 else { continue }
            let v = f.key.ipVersion
            add(.host(f.src.address, v), "\(f.src.address.hi)/\(f.src.address.lo)/\(v)", r)
            if f.dst.address != f.src.address {
                add(.host(f.dst.address, v), "\(f.dst.address.hi)/\(f.dst.address.lo)/\(v)", r)
            }
        }
        return out
    }

    /// Flow rows folded into a row per local process (the owners attribution put on them): a
    /// process sent what the flow's end it owns sent and received the rest; a flow between two
    /// sockets of one process is both sent and received by it, whole. Flows with no owner at
    /// either end give no row.
    public static func processes(_ rows: [RateRow]) -> [RateRow] {
        var at: [ProcessOwner: Int] = [:]
        var out: [RateRow] = []
        func add(_ o: ProcessOwner, _ r: RateRow, sent: (UInt64, UInt64, UInt64, UInt64)) {
            let i: Int
            if let j = at[o] {
                i = j
                for w in out[i].windowBytes.indices { out[i].windowBytes[w] += r.windowBytes[w] }
                out[i].lastPackets += r.lastPackets
                out[i].totalBytes += r.totalBytes
                out[i].totalPackets += r.totalPackets
            } else {
                i = out.count
                at[o] = i
                out.append(
                    RateRow(
                        identity: .process(o), windowBytes: r.windowBytes, lastPackets: r.lastPackets,
                        totalBytes: r.totalBytes, totalPackets: r.totalPackets))
            }
            out[i].lastSrcPackets += sent.0
            out[i].lastSrcBytes += sent.1
            out[i].totalSrcPackets += sent.2
            out[i].totalSrcBytes += sent.3
        }
        for r in rows {
            let fromSrc = (r.lastSrcPackets, r.lastSrcBytes, r.totalSrcPackets, r.totalSrcBytes)
            let fromDst = (r.lastDstPackets, r.lastDstBytes, r.totalDstPackets, r.totalDstBytes)
            if let s = r.srcOwner, let d = r.dstOwner, s == d {
                // Both ends one process: it sent it all and received it all (received is derived as
                // the rest, so the row is added with sent = all and then the rest doubled).
                add(s, r, sent: (r.lastPackets, r.windowBytes.first ?? 0, r.totalPackets, r.totalBytes))
                if let i = at[s] {
                    for w in out[i].windowBytes.indices { out[i].windowBytes[w] += r.windowBytes[w] }
                    out[i].lastPackets += r.lastPackets
                    out[i].totalBytes += r.totalBytes
                    out[i].totalPackets += r.totalPackets
                }
                continue
            }
            if let s = r.srcOwner { add(s, r, sent: fromSrc) }
            if let d = r.dstOwner { add(d, r, sent: fromDst) }
        }
        return out
    }

    /// Rows sorted by a window's bytes (or total bytes), most first; ties by total.
    public static func sorted(_ rows: [RateRow], by sort: RateSort) -> [RateRow] {
        if sort == .rtt {
            func rtt(_ r: RateRow) -> Int64 {
                if case .flow(let f) = r.identity { return f.initialRTTNanos ?? -1 }
                return -1
            }
            return rows.sorted { rtt($0) != rtt($1) ? rtt($0) > rtt($1) : $0.totalBytes > $1.totalBytes }
        }
        func value(_ r: RateRow) -> UInt64 {
            sort == .total ? r.totalBytes : r.windowBytes[min(sort.rawValue, r.windowBytes.count - 1)]
        }
        return rows.sorted { value($0) != value($1) ? value($0) > value($1) : $0.totalBytes > $1.totalBytes }
    }
}
