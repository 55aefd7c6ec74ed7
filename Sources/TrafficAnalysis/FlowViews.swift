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

    /// Adds the totals of `o` (same host) to these.
    public mutating func add(_ o: HostTotals) {
        flows += o.flows
        packets += o.packets
        bytes += o.bytes
        sentPackets += o.sentPackets
        sentBytes += o.sentBytes
        receivedPackets += o.receivedPackets
        receivedBytes += o.receivedBytes
        first = min(first, o.first)
    }
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

    /// Adds the totals of `o` (same group) to these.
    public mutating func add(_ o: GroupTotals) {
        flows += o.flows
        packets += o.packets
        bytes += o.bytes
        first = min(first, o.first)
    }
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
        for f in flows {
            hostShares(f) { share in
                let k = HostKey(address: share.address, version: share.ipVersion)
                if let i = at[k] {
                    rows[i].add(share)
                } else {
                    at[k] = rows.count
                    rows.append(share)
                }
            }
        }
        return rows
    }

    /// What one flow adds to its hosts: a share for its src, then one for its dst (one only for a
    /// flow between two ports of one address, sent and received whole; none without addresses).
    public static func hostShares(_ f: Flow, _ body: (HostTotals) -> Void) {
        let v = f.key.ipVersion
        guard v != 0 else { return }
        func share(_ a: IPAddress, sent: (UInt64, UInt64), received: (UInt64, UInt64)) -> HostTotals {
            HostTotals(
                address: a, ipVersion: v, flows: 1, sentPackets: sent.0, sentBytes: sent.1,
                receivedPackets: received.0, receivedBytes: received.1, packets: f.packets, bytes: f.bytes,
                first: f.first)
        }
        let src = (f.srcPackets, f.srcBytes)
        let dst = (f.dstPackets, f.dstBytes)
        if f.src.address == f.dst.address {
            let all = (f.packets, f.bytes)
            body(share(f.src.address, sent: all, received: all))
        } else {
            body(share(f.src.address, sent: src, received: dst))
            body(share(f.dst.address, sent: dst, received: src))
        }
    }

    /// Totals per protocol label (`byPort` false) or per protocol and the flow's dport.
    public static func groups(_ flows: some Sequence<Flow>, byPort: Bool) -> [GroupTotals] {
        var at: [GroupKey: Int] = [:]
        var rows: [GroupTotals] = []
        for f in flows {
            let share = groupShare(f, byPort: byPort)
            let k = GroupKey(label: share.label, hasPort: share.hasPort, port: share.port)
            if let i = at[k] {
                rows[i].add(share)
            } else {
                at[k] = rows.count
                rows.append(share)
            }
        }
        return rows
    }

    /// What one flow adds to its protocol's (or its protocol and dport's) totals.
    public static func groupShare(_ f: Flow, byPort: Bool) -> GroupTotals {
        let hasPort = byPort && f.key.hasPorts
        return GroupTotals(
            label: f.key.label, hasPort: hasPort, port: hasPort ? f.dst.port : 0, flows: 1, packets: f.packets,
            bytes: f.bytes, first: f.first)
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
