public import PacketWire

/// How `flows` orders its rows.
public enum FlowSort: String, Sendable, CaseIterable {
    /// Most bytes first.
    case bytes
    /// Most packets first.
    case packets
    /// Earliest first packet first (ties: table order).
    case first
}

/// Per-host totals over all the flows an address takes part in: `packets`/`bytes` count each
/// flow's packets once; `sent_*`/`received_*` what it sent and received. A flow between two ports
/// of one address (loopback) is both sent and received by it, whole.
public struct HostTotals: Sendable, Equatable {
    public var address: IPAddress
    public var ipVersion: UInt8
    public var flows: UInt64 = 0
    public var sentPackets: UInt64 = 0
    public var sentBytes: UInt64 = 0
    public var receivedPackets: UInt64 = 0
    public var receivedBytes: UInt64 = 0
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var first: Int64 = .max
}

/// Per-protocol or per-(protocol, port) totals. `port` is the flow's dport (the port its first
/// packet was sent to); `hasPort` false for flows without ports.
public struct GroupTotals: Sendable, Equatable {
    public var label: ProtocolLabel
    public var hasPort: Bool
    public var port: UInt16
    public var flows: UInt64 = 0
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var first: Int64 = .max
}

/// Orders and aggregates flows, once at the end (not per packet).
public enum FlowViews {
    /// Dense positions of `flows` in the order asked, cut to `top`.
    public static func order<C: RandomAccessCollection<Flow>>(
        _ flows: C, by sort: FlowSort?, top: Int?
    ) -> [C.Index] {
        var idx = Array(flows.indices)
        switch sort {
        case nil: break
        case .bytes: idx.sort { flows[$0].bytes != flows[$1].bytes ? flows[$0].bytes > flows[$1].bytes : $0 < $1 }
        case .packets:
            idx.sort { flows[$0].packets != flows[$1].packets ? flows[$0].packets > flows[$1].packets : $0 < $1 }
        case .first: idx.sort { flows[$0].first != flows[$1].first ? flows[$0].first < flows[$1].first : $0 < $1 }
        }
        if let top, top < idx.count { idx.removeLast(idx.count - top) }
        return idx
    }

    /// Totals per address (flows without addresses, such as ARP, have no host and are left out).
    public static func hosts(_ flows: some Sequence<Flow>) -> [HostTotals] {
        var at: [HostKey: Int] = [:]
        var rows: [HostTotals] = []
        func add(_ a: IPAddress, _ v: UInt8, sent: (UInt64, UInt64), received: (UInt64, UInt64), flow f: Flow) {
            let k = HostKey(address: a, version: v)
            let i =
                at[k]
                ?? {
                    rows.append(HostTotals(address: a, ipVersion: v))
                    at[k] = rows.count - 1
                    return rows.count - 1
                }()
            rows[i].flows += 1
            rows[i].packets += f.packets
            rows[i].bytes += f.bytes
            rows[i].sentPackets += sent.0
            rows[i].sentBytes += sent.1
            rows[i].receivedPackets += received.0
            rows[i].receivedBytes += received.1
            rows[i].first = min(rows[i].first, f.first)
        }
        for f in flows where f.key.ipVersion != 0 {
            let src = (f.srcPackets, f.srcBytes)
            let dst = (f.dstPackets, f.dstBytes)
            if f.src.address == f.dst.address {
                let all = (f.packets, f.bytes)
                add(f.src.address, f.key.ipVersion, sent: all, received: all, flow: f)
            } else {
                add(f.src.address, f.key.ipVersion, sent: src, received: dst, flow: f)
                add(f.dst.address, f.key.ipVersion, sent: dst, received: src, flow: f)
            }
        }
        return rows
    }

    /// Totals per protocol label (`byPort` false) or per protocol and the flow's dport.
    public static func groups(_ flows: some Sequence<Flow>, byPort: Bool) -> [GroupTotals] {
        var at: [GroupKey: Int] = [:]
        var rows: [GroupTotals] = []
        for f in flows {
            let hasPort = byPort && f.key.hasPorts
            let k = GroupKey(label: f.key.label, hasPort: hasPort, port: hasPort ? f.dst.port : 0)
            let i =
                at[k]
                ?? {
                    rows.append(GroupTotals(label: k.label, hasPort: k.hasPort, port: k.port))
                    at[k] = rows.count - 1
                    return rows.count - 1
                }()
            rows[i].flows += 1
            rows[i].packets += f.packets
            rows[i].bytes += f.bytes
            rows[i].first = min(rows[i].first, f.first)
        }
        return rows
    }

    /// Aggregate rows sorted (default: most bytes first) and cut to `top`.
    public static func sorted<T>(
        _ rows: [T], by sort: FlowSort?, top: Int?, packets: (T) -> UInt64, bytes: (T) -> UInt64, first: (T) -> Int64
    ) -> [T] {
        var idx = Array(rows.indices)
        switch sort ?? .bytes {
        case .bytes: idx.sort { bytes(rows[$0]) != bytes(rows[$1]) ? bytes(rows[$0]) > bytes(rows[$1]) : $0 < $1 }
        case .packets:
            idx.sort { packets(rows[$0]) != packets(rows[$1]) ? packets(rows[$0]) > packets(rows[$1]) : $0 < $1 }
        case .first: idx.sort { first(rows[$0]) != first(rows[$1]) ? first(rows[$0]) < first(rows[$1]) : $0 < $1 }
        }
        if let top, top < idx.count { idx.removeLast(idx.count - top) }
        return idx.map { rows[$0] }
    }
}

private struct HostKey: Hashable {
    var address: IPAddress
    var version: UInt8
}

private struct GroupKey: Hashable {
    var label: ProtocolLabel
    var hasPort: Bool
    var port: UInt16
}
