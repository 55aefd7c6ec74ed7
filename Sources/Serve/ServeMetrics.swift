import Glibc
public import PacketRecords
import PacketWire
public import Prometheus
import Synchronization
public import TrafficAnalysis
public import TrafficPipeline

/// The Prometheus registry `serve` exposes on `/metrics`, and the counters the capture feeds.
///
/// Labels are bounded: `interface` (the interfaces captured on) and `protocol` (the 17 labels
/// `sniff` prints); never addresses or ports. Counters are added once per batch and label pair;
/// the size histogram records each packet.
public final class ServeMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The usual modes: minimum frames, small, MTU 1500, jumbo 9000.
    public static let sizeBuckets: [Double] = [64, 128, 256, 512, 1024, 1500, 9000]
    private let captureInterface: String
    private let series = Mutex<[UInt64: LabelMetrics]>([:])
    private let dropCounters: [Counter]
    private let dropsSeen = Mutex(DropCounters.zero)
    public let streamSubscribers: Gauge
    private let activeFlows: Gauge
    private let flowsLeft: [Counter]
    private let flowsSeen = Mutex(FlowTableCounters())
    public let streamCut: Counter
    /// `--ipfix`: records sent, records dropped, send errors, TCP reconnects, messages sent.
    private let ipfixCounters: [Counter]
    private let ipfixSeen = Mutex(IPFIXCounters())

    struct LabelMetrics: Sendable {
        let packets: Counter
        let bytes: Counter
        let sizes: ValueHistogram
    }

    /// - Parameters:
    ///   - interface: the capture interface, the `interface` label when packets carry no index.
    ///   - versions: `pktstat_build_info` labels (version, libpcap, ...).
    ///   - ipfix: whether `--ipfix` exports (the `pktstat_ipfix_*` counters exist only then).
    public init(interface: String, versions: [(String, String)], ipfix: Bool = false) {
        captureInterface = interface
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        dropCounters = ["kernel", "interface", "ring"].map {
            registry.makeCounter(descriptor: Self.drops, labels: [("stage", $0)])
        }
        streamSubscribers = registry.makeGauge(descriptor: Self.subscribers)
        streamCut = registry.makeCounter(descriptor: Self.cut)
        activeFlows = registry.makeGauge(descriptor: Self.active)
        flowsLeft = ["idle", "evicted"].map {
            registry.makeCounter(descriptor: Self.evictions, labels: [("reason", $0)])
        }
        ipfixCounters =
            ipfix
            ? Self.ipfixNames.map { registry.makeCounter(descriptor: Self.name($0.name, $0.help)) } : []
        registry.makeGauge(descriptor: Self.name("pktstat_build_info", "Versions; always 1"), labels: versions)
            .set(to: 1)
        registry.makeGauge(descriptor: Self.name("pktstat_start_time_seconds", "When serve started, Unix time"))
            .set(to: Double(time(nil)))
    }

    /// Counts a batch of captured packets.
    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        guard !batch.isEmpty else { return }
        var sums: [UInt64: (packets: Int64, bytes: Int64)] = [:]
        var metrics: [UInt64: LabelMetrics] = [:]
        for r in batch {
            let key = UInt64(r.decoded.ifIndex) << 8 | UInt64(r.label.rawValue)
            sums[key, default: (0, 0)].packets += 1
            sums[key, default: (0, 0)].bytes += Int64(r.length)
            let m = metrics[key] ?? labelMetrics(key)
            metrics[key] = m
            m.sizes.record(Double(r.length))
        }
        for (key, s) in sums {
            let m = metrics[key]!
            m.packets.increment(by: s.packets)
            m.bytes.increment(by: s.bytes)
        }
    }

    /// Sets the drop counters from the capture's cumulative figures.
    public func setDrops(_ cumulative: DropCounters) {
        let delta = dropsSeen.withLock { seen in
            let d = DropCounters(
                kernel: cumulative.kernel &- min(seen.kernel, cumulative.kernel),
                interface: cumulative.interface &- min(seen.interface, cumulative.interface),
                ring: cumulative.ring &- min(seen.ring, cumulative.ring))
            seen = cumulative
            return d
        }
        for (c, n) in zip(dropCounters, [delta.kernel, delta.interface, delta.ring]) where n > 0 {
            c.increment(by: Int64(n))
        }
    }

    /// The flow table's size and what left it (cumulative counters from the table).
    public func setFlows(active: Int, counters: FlowTableCounters) {
        activeFlows.set(to: Double(active))
        let (expired, evicted) = flowsSeen.withLock { seen in
            defer { seen = counters }
            return (
                counters.expired &- min(seen.expired, counters.expired),
                counters.evicted &- min(seen.evicted, counters.evicted)
            )
        }
        if expired > 0 { flowsLeft[0].increment(by: Int64(expired)) }
        if evicted > 0 { flowsLeft[1].increment(by: Int64(evicted)) }
    }

    static let ipfixNames: [(name: String, help: String)] = [
        ("pktstat_ipfix_records_sent_total", "IPFIX data records in messages the socket accepted (--ipfix)"),
        (
            "pktstat_ipfix_records_dropped_total",
            "IPFIX data records not sent: send errors, no TCP connection, a full queue"
        ),
        ("pktstat_ipfix_send_errors_total", "Failed IPFIX sends and TCP connection attempts"),
        ("pktstat_ipfix_reconnects_total", "TCP connection attempts to the IPFIX collector after the first"),
        ("pktstat_ipfix_messages_sent_total", "IPFIX messages with data records sent"),
    ]

    /// The exporter's cumulative counts (without `--ipfix`, nothing).
    public func setIPFIX(_ counters: IPFIXCounters) {
        guard !ipfixCounters.isEmpty else { return }
        let values = { (c: IPFIXCounters) in
            [c.recordsSent, c.recordsDropped, c.sendErrors, c.reconnects, c.messagesSent]
        }
        let delta = ipfixSeen.withLock { seen in
            defer { seen = counters }
            return zip(values(counters), values(seen)).map { $0 &- min($1, $0) }
        }
        for (c, n) in zip(ipfixCounters, delta) where n > 0 { c.increment(by: Int64(n)) }
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    private func labelMetrics(_ key: UInt64) -> LabelMetrics {
        series.withLock { table in
            if let m = table[key] { return m }
            let ifIndex = UInt32(key >> 8)
            let label = ProtocolLabel(rawValue: UInt8(key & 0xff)) ?? .other
            let labels = [("interface", Self.interfaceName(ifIndex) ?? captureInterface), ("protocol", label.name)]
            let m = LabelMetrics(
                packets: registry.makeCounter(descriptor: Self.packets, labels: labels),
                bytes: registry.makeCounter(descriptor: Self.bytes, labels: labels),
                sizes: registry.makeValueHistogram(
                    descriptor: Self.sizes, labels: labels, buckets: Self.sizeBuckets))
            table[key] = m
            return m
        }
    }

    static var packets: MetricNameDescriptor {
        name("pktstat_packets_total", "Packets captured, by interface and protocol")
    }
    static var bytes: MetricNameDescriptor {
        name("pktstat_bytes_total", "Bytes on the wire (original lengths) of the packets captured")
    }
    static var sizes: MetricNameDescriptor { name("pktstat_packet_size_bytes", "Wire length of the packets captured") }
    static var drops: MetricNameDescriptor {
        name("pktstat_dropped_packets_total", "Packets lost before pktstat counted them: kernel, interface, ring")
    }
    static var subscribers: MetricNameDescriptor {
        name("pktstat_stream_subscribers", "Clients subscribed to /api/v1/series/stream")
    }
    static var cut: MetricNameDescriptor {
        name("pktstat_stream_subscribers_cut_total", "Stream subscribers cut off for not keeping up")
    }

    static var active: MetricNameDescriptor { name("pktstat_active_flows", "Flows in the flow table") }
    static var evictions: MetricNameDescriptor {
        name(
            "pktstat_flow_evictions_total",
            "Flows that left the table: idle longer than --flow-timeout (default 5 min), or evicted when it was full")
    }

    static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The interface name for a cooked (`-i any`) packet's index; nil for 0 (not cooked).
    static func interfaceName(_ index: UInt32) -> String? {
        guard index != 0 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buf) != nil else { return String(index) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
