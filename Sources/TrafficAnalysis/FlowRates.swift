public import PacketWire

/// What `top` shows per row: a flow, a host or a (protocol, port) group.
public enum RateView: String, Sendable, CaseIterable {
    case flows, hosts, ports

    public var next: RateView {
        switch self {
        case .flows: .hosts
        case .hosts: .ports
        case .ports: .flows
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
    }

    public var identity: Identity
    /// Bytes over the last interval, then over each longer window (`FlowRates.windows`).
    public var windowBytes: [UInt64]
    /// Packets over the last interval.
    public var lastPackets: UInt64
    public var totalBytes: UInt64
    public var totalPackets: UInt64
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
            h.total = f.bytes
            h.packets = f.packets
            h.buckets.insert(delta, at: 0)
            if h.buckets.count > depth { h.buckets.removeLast(h.buckets.count - depth) }
            let sums = windows.map { h.buckets.prefix($0).reduce(0, +) }
            if sums.last ?? 0 > 0 {
                rows.append(
                    RateRow(
                        identity: .flow(f), windowBytes: sums, lastPackets: h.lastPackets, totalBytes: f.bytes,
                        totalPackets: f.packets))
            } else {
                // Idle for the longest window: only the totals are kept (an empty array allocates nothing).
                h.buckets = []
            }
            next[f.key] = h
        }
        history = next
        return rows
    }

    /// Flow rows folded into host or port rows (a host's rows count what it sent and received).
    public static func aggregate(_ rows: [RateRow], as view: RateView) -> [RateRow] {
        guard view != .flows else { return rows }
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
