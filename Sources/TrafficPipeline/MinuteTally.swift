import History
import PacketWire
import Rendering

/// One minute of history being gathered: totals by interface, protocol label, host and port, kept
/// under typed keys (text is made once, when the minute is handed over). What `HistoryRecorder`
/// gathers per packet and `HistoryRollup` per flow once a minute.
struct MinuteTally {
    struct HostKey: Hashable {
        var address: IPAddress
        var version: UInt8
    }

    struct PortKey: Hashable {
        var label: ProtocolLabel
        var port: UInt16
    }

    private(set) var total = HistoryCounts()
    private var protocols: [ProtocolLabel: HistoryCounts] = [:]
    private var hosts: [HostKey: HistoryCounts] = [:]
    private var ports: [PortKey: HistoryCounts] = [:]

    /// The minute (epoch seconds, a multiple of 60) a time in epoch nanoseconds falls in.
    static func minute(of ns: Int64) -> Int64 {
        (ns >= 0 ? ns : ns - 59_999_999_999) / 60_000_000_000 * 60
    }

    /// Traffic between `a` and `b` (IP version 0: not IP): counted for the interface and the
    /// protocol, for each host (a host talking to itself once) and, where the protocol has ports,
    /// for the lower of the two, usually the service's.
    @inline(__always)
    mutating func add(
        _ c: HistoryCounts, label: ProtocolLabel, version: UInt8, a: IPAddress, b: IPAddress,
        ports p: (UInt16, UInt16)?
    ) {
        total.add(c)
        protocols[label, default: HistoryCounts()].add(c)
        if version != 0 {
            hosts[HostKey(address: a, version: version), default: HistoryCounts()].add(c)
            if b != a { hosts[HostKey(address: b, version: version), default: HistoryCounts()].add(c) }
        }
        if let p { ports[PortKey(label: label, port: min(p.0, p.1)), default: HistoryCounts()].add(c) }
    }

    /// The minute's rows (the one that starts at `start`, on `interface`), and forgets them.
    mutating func take(start: Int64, interface: String) -> HistoryMinute {
        var out = HistoryMinute(start: start)
        out.add(.interface, interface, total)
        for (l, c) in protocols { out.add(.protocol, l.name, c) }
        for (h, c) in hosts { out.add(.host, AddressText.string(h.address, version: h.version), c) }
        for (p, c) in ports { out.add(.port, "\(p.label.name)/\(p.port)", c) }
        total = HistoryCounts()
        protocols.removeAll(keepingCapacity: true)
        hosts.removeAll(keepingCapacity: true)
        ports.removeAll(keepingCapacity: true)
        return out
    }
}
