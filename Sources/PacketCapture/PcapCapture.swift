import CPcap
import Glibc
public import PacketRecords
public import PacketWire
import Synchronization

/// Settings for a live capture, applied between `pcap_create` and `pcap_activate`.
public struct LiveOptions: Sendable {
    public var interface: String
    public var snapLength: Int32 = 262_144
    public var promiscuous = true
    /// Kernel buffer in bytes (`-B` is given in KiB, as in tcpdump).
    public var bufferBytes: Int32 = 8 << 20
    /// How long the kernel may hold packets before handing them over; also how often the loop
    /// wakes on a silent link to check the stop flag, `--duration` and `--idle-timeout`.
    public var timeoutMs: Int32 = 100
    /// Deliver every packet at once (for a terminal); costs throughput.
    public var immediate = false
    /// Where libpcap gives Linux cooked v1 (the `any` device), ask for v2 (SLL2) as tcpdump does:
    /// its header carries the interface index as well as the direction.
    public var cookedV2 = true

    public init(interface: String) { self.interface = interface }
}

/// When to stop reading. All limits fire on a silent link too (the loop wakes every timeout).
public struct RunLimits: Sendable {
    public var count: UInt64?
    public var durationNs: Int64?
    public var idleTimeoutNs: Int64?
    public init(count: UInt64? = nil, durationNs: Int64? = nil, idleTimeoutNs: Int64? = nil) {
        self.count = count
        self.durationNs = durationNs
        self.idleTimeoutNs = idleTimeoutNs
    }
}

/// Why a run ended.
public enum RunEnd: Sendable, Equatable {
    case endOfFile, count, duration, idle, stopped, consumerStopped
}

/// Counters from `pcap_stats` (live captures only).
public struct KernelStats: Sendable, Equatable {
    public var received: UInt64
    public var droppedByKernel: UInt64
    public var droppedByInterface: UInt64
}

/// A libpcap handle on a file (live captures: `LiveCapture`, which owns one of these). Owns the
/// `pcap_t` and closes it on deinit. Not Sendable: it lives on the thread that reads it; only its
/// `Interrupter` crosses threads, and that is disarmed before the handle closes.
public final class PcapCapture {
    private let handle: OpaquePointer
    private var writer: RotatingWriter?
    /// The BPF filter installed, for the pcapng interface blocks.
    private var filterExpression: String?
    /// The one way other threads reach the handle; disarmed in deinit before `pcap_close`.
    let interrupter: Interrupter
    /// Interface name or file path, for messages.
    public let source: String
    public let isLive: Bool
    public let linkType: LinkType
    public let snapLength: Int32
    private let fractionScale: Int64
    /// What a classic pcap file's 32-bit fraction field wraps at, in nanoseconds. The field is
    /// unsigned, but libpcap 1.10 sign-extends it (as it does the seconds); adding this back to a
    /// negative fraction gives what the file says, and what pktstat's own reader reports. 0 where
    /// fractions cannot be negative (live captures, pcapng).
    private var fractionWrapNs: Int64 = 0
    /// True for a classic pcap file, whose 32-bit seconds field is unsigned but sign-extended by
    /// libpcap 1.10 (fixed in `run`). False for live captures and pcapng files, whose seconds
    /// are 64-bit and may really be negative (a negative if_tsoffset). Standard input cannot be
    /// probed without consuming it: it is taken as classic pcap, what `tcpdump -w -` writes.
    private var unsignedSeconds = false
    /// Warnings from activation (printed, not thrown).
    public private(set) var warnings: [String] = []
    private var pollTimeoutMs: Int32 = 100
    private var selectableFD: Int32 = -1
    /// Packets handed to the consumer so far.
    public private(set) var packetsCaptured: UInt64 = 0

    private init(handle: OpaquePointer, source: String, isLive: Bool) {
        self.handle = handle
        self.source = source
        self.isLive = isLive
        linkType = LinkType(pcap_datalink(handle))
        snapLength = pcap_snapshot(handle)
        interrupter = Interrupter(handle: handle)
        fractionScale =
            pcap_get_tstamp_precision(handle) == Int32(PCAP_TSTAMP_PRECISION_NANO) ? 1_000_000_000 : 1_000_000
    }

    deinit {
        writer = nil
        interrupter.disarm()
        pcap_close(handle)
    }

    /// Opens a pcap or pcapng file (format from its magic number), nanosecond timestamps.
    public static func openFile(_ path: String) throws(CaptureError) -> PcapCapture {
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        if let problem = FileProbe.problem(path: path) {
            throw .cannotOpenFile(path: path, detail: problem)
        }
        guard let p = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &err) else {
            throw .cannotOpenFile(path: path, detail: FileProbe.explain(libpcap: errorText(err), path: path))
        }
        let capture = PcapCapture(handle: p, source: path, isLive: false)
        if let unit = FileProbe.pcapFractionUnitNs(path: path) { capture.fractionWrapNs = unit << 32 }
        capture.unsignedSeconds = path == "-" || capture.fractionWrapNs != 0
        return capture
    }

    /// Creates, configures and activates a live capture (wrapped by `LiveCapture.open`).
    static func openLive(_ o: LiveOptions) throws(CaptureError) -> PcapCapture {
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let p = pcap_create(o.interface, &err) else {
            throw .activationFailed(interface: o.interface, detail: errorText(err))
        }
        _ = pcap_set_snaplen(p, o.snapLength)
        _ = pcap_set_promisc(p, o.promiscuous ? 1 : 0)
        _ = pcap_set_timeout(p, o.timeoutMs)
        _ = pcap_set_buffer_size(p, o.bufferBytes)
        if o.immediate { _ = pcap_set_immediate_mode(p, 1) }
        _ = pcap_set_tstamp_precision(p, Int32(PCAP_TSTAMP_PRECISION_NANO))
        let status = pcap_activate(p)
        var warnings: [String] = []
        if status < 0 {
            let detail = String(cString: pcap_geterr(p))
            pcap_close(p)
            switch status {
            case PCAP_ERROR_PERM_DENIED: throw .permissionDenied(interface: o.interface, detail: detail)
            case PCAP_ERROR_PROMISC_PERM_DENIED:
                throw .promiscuousPermissionDenied(interface: o.interface, detail: detail)
            case PCAP_ERROR_NO_SUCH_DEVICE: throw .noSuchInterface(o.interface, detail: detail)
            case PCAP_ERROR_IFACE_NOT_UP: throw .interfaceDown(o.interface)
            default:
                let text = detail.isEmpty ? String(cString: pcap_statustostr(status)) : detail
                throw .activationFailed(interface: o.interface, detail: text)
            }
        } else if status > 0 {
            let detail = String(cString: pcap_geterr(p))
            let text = String(cString: pcap_statustostr(status))
            warnings.append(detail.isEmpty ? "\(o.interface): \(text)" : "\(o.interface): \(text) (\(detail))")
        }
        if o.cookedV2 && pcap_datalink(p) == LinkType.linuxSLL.rawValue
            && pcap_set_datalink(p, LinkType.linuxSLL2.rawValue) != 0
        {
            let detail = String(cString: pcap_geterr(p))
            warnings.append("\(o.interface): cannot use LINUX_SLL2 (\(detail)), using LINUX_SLL")
        }
        // Non-blocking reads plus our own poll(2): with TPACKET_V3 libpcap's blocking read waits
        // forever on a silent link, so --duration, --idle-timeout and Ctrl-C could never fire.
        if pcap_setnonblock(p, 1, &err) != 0 {
            warnings.append("\(o.interface): cannot use non-blocking mode (\(errorText(err)))")
        }
        let capture = PcapCapture(handle: p, source: o.interface, isLive: true)
        capture.pollTimeoutMs = o.timeoutMs
        capture.selectableFD = pcap_get_selectable_fd(p)
        capture.warnings = warnings
        return capture
    }

    /// Compiles and installs a BPF filter (tcpdump syntax).
    public func setFilter(_ expression: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, bpf_u_int32(0xFFFF_FFFF)) == 0 else {
            throw .badFilter(expression: expression, detail: String(cString: pcap_geterr(handle)))
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw .badFilter(expression: expression, detail: String(cString: pcap_geterr(handle)))
        }
        filterExpression = expression
    }

    /// Starts writing every captured packet to a capture file (`-w`), in whole records: pcap, or
    /// pcapng when the name ends in `.pcapng` (see `WritePlan`). "-" writes pcap to stdout. The
    /// file header is written at once.
    public func startWriting(to path: String) throws(CaptureError) {
        try startWriting(WritePlan(path: path))
    }

    /// Starts writing every captured packet as `plan` says: pcap or pcapng, one file or rotated
    /// files, compressed after closing (see `RotatingWriter`). The first file is created at once.
    public func startWriting(_ plan: WritePlan) throws(CaptureError) {
        let layout: RotatingWriter.Layout
        switch plan.format {
        case .pcap:
            let header = try PcapFileWriter.fileHeader(handle: handle, path: plan.path)
            layout = .pcap(header: header, snapLength: Int(max(0, snapLength)))
        case .pcapng:
            let interfaces = PcapngFileWriter.Interfaces(
                linkType: linkType.rawValue, snapLength: snapLength, device: isLive ? source : nil,
                filter: filterExpression, names: plan.interfaceNames)
            layout = .pcapng(interfaces)
        }
        writer = try RotatingWriter(plan: plan, layout: layout) { [unowned self] in
            EndStats(kernel: self.stats(), delivered: self.packetsCaptured, nowNs: RotatingWriter.realtimeNow())
        }
    }

    /// Flushes and closes the `-w` file; reports a failed write (a full disk) as an error.
    public func finishWriting() throws(CaptureError) {
        guard let w = writer else { return }
        defer { writer = nil }
        try w.finish()
    }

    /// libpcap's name and description of the link type ("EN10MB", "Ethernet").
    public var linkTypeName: String {
        pcap_datalink_val_to_name(linkType.rawValue).map { String(cString: $0) } ?? "\(linkType.rawValue)"
    }
    public var linkTypeDescription: String {
        pcap_datalink_val_to_description(linkType.rawValue).map { String(cString: $0) } ?? "unknown"
    }

    /// libpcap's name and description for a link type given as a LINKTYPE_ (file) or DLT_ number.
    public static func names(ofLinkType link: LinkType) -> (name: String, description: String) {
        let dlt = link == .raw ? LinkType.rawDLT.rawValue : link.rawValue
        let name = pcap_datalink_val_to_name(dlt).map { String(cString: $0) } ?? "\(link.rawValue)"
        let description = pcap_datalink_val_to_description(dlt).map { String(cString: $0) } ?? "unknown"
        return (name, description)
    }

    /// Kernel counters; nil for files or when libpcap cannot tell.
    public func stats() -> KernelStats? {
        guard isLive else { return nil }
        var s = pcap_stat()
        guard pcap_stats(handle, &s) == 0 else { return nil }
        return KernelStats(
            received: UInt64(s.ps_recv), droppedByKernel: UInt64(s.ps_drop), droppedByInterface: UInt64(s.ps_ifdrop))
    }

    /// A thread-safe way to wake a blocked loop; does nothing once the handle is closed.
    public func makeInterrupter() -> Interrupter { interrupter }

    /// Reads packets, decodes each into a record and hands them to `onBatch` in batches of up to
    /// `batchSize`, until a limit fires, `stop` is raised, the file ends or `onBatch` returns
    /// false. Live captures also hand over a partial batch on every read timeout and when its
    /// first record is older than `maxBatchDelayNs`. A read error is thrown after every record
    /// read before it was handed over. The `-w` file gets each batch's records (whole) before
    /// `onBatch` sees them; a failed write ends the run with that error. Live captures call
    /// `onStats` with `pcap_stats` about every 100 ms, from this thread.
    public func run(
        limits: RunLimits = RunLimits(),
        stop: StopFlag,
        batchSize: Int = 256,
        maxBatchDelayNs: Int64 = 20_000_000,
        onStats: ((KernelStats) -> Void)? = nil,
        sniffer: NameSniffer? = nil,
        onBatch: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws(CaptureError) -> RunEnd {
        let batch = UnsafeMutablePointer<PacketRecord>.allocate(capacity: max(1, batchSize))
        defer { batch.deallocate() }
        var filled = 0
        var batchStarted: Int64 = 0
        let started = Monotonic.now()
        var lastPacket = started
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let writer = self.writer
        var lastStats = started

        /// The file first (so it holds at least what was printed), then the consumer.
        func flush() throws(CaptureError) -> Bool {
            var writeError: CaptureError?
            do throws(CaptureError) { try writer?.flush() } catch { writeError = error }
            var ok = true
            if filled > 0 {
                ok = onBatch(UnsafeBufferPointer(start: batch, count: filled))
                filled = 0
                sniffer?.events.clear()
            }
            if let writeError { throw writeError }
            return ok
        }

        while true {
            if stop.isRequested { return try flush() ? .stopped : .consumerStopped }
            if let c = limits.count, packetsCaptured >= c { return try flush() ? .count : .consumerStopped }
            let code = pcap_next_ex(handle, &header, &data)
            let now = isLive ? Monotonic.now() : 0
            switch code {
            case 1:
                guard let h = header else { continue }
                var full = false
                let r = record(h, data, sniffer: sniffer, index: filled, full: &full)
                writer?.append(h, data, timestampNs: r.timestampNs)
                if filled == 0 { batchStarted = now }
                (batch + filled).initialize(to: r)
                filled += 1
                packetsCaptured += 1
                lastPacket = now
                if filled == batchSize || (isLive && now - batchStarted >= maxBatchDelayNs) || full {
                    guard try flush() else { return .consumerStopped }
                }
            case 0:
                // Nothing waiting: hand over what we have, then sleep in poll until packets
                // arrive or the timeout passes (so limits and the stop flag are checked).
                guard try flush() else { return .consumerStopped }
                if selectableFD >= 0 {
                    var fds = pollfd(fd: selectableFD, events: Int16(POLLIN), revents: 0)
                    _ = poll(&fds, 1, pollTimeoutMs)
                }
                if isLive { writer?.tick(nowNs: RotatingWriter.realtimeNow()) }
            case PCAP_ERROR_BREAK:
                // libpcap 1.10 returns -2 both for pcap_breakloop and at the end of a file.
                let end: RunEnd = isLive || stop.isRequested ? .stopped : .endOfFile
                return try flush() ? end : .consumerStopped
            case PCAP_ERROR:
                let detail = String(cString: pcap_geterr(handle))
                _ = try? flush()
                if isLive { throw .captureFailed(interface: source, detail: detail) }
                throw .readFailed(path: source, detail: detail)
            default:
                // Any other negative code: treat as the end of the input.
                return try flush() ? .endOfFile : .consumerStopped
            }
            if isLive {
                if let d = limits.durationNs, now - started >= d { return try flush() ? .duration : .consumerStopped }
                if let i = limits.idleTimeoutNs, now - lastPacket >= i { return try flush() ? .idle : .consumerStopped }
                if let onStats, now - lastStats >= 100_000_000, let s = stats() {
                    lastStats = now
                    onStats(s)
                }
            }
        }
    }
}

extension PcapCapture {
    /// One packet as a record: the timestamp in nanoseconds, the lengths and the decoded headers.
    @inline(__always)
    fileprivate func record(
        _ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?, sniffer: NameSniffer?, index: Int,
        full: inout Bool
    ) -> PacketRecord {
        var seconds = Int64(h.pointee.ts.tv_sec)
        // pcap stores seconds as unsigned 32 bits; libpcap 1.10 sign-extends from 2038 on.
        if unsignedSeconds && seconds < 0 && seconds >= -(1 << 31) { seconds += 1 << 32 }
        var fraction = Int64(h.pointee.ts.tv_usec)
        if fraction < 0 { fraction &+= fractionWrapNs }
        let ts = Timestamp.nanoseconds(seconds: seconds, fraction: fraction, fractionScale: fractionScale)
        let caplen = h.pointee.caplen
        let bytes = Bytes(base: UnsafeRawPointer(data), count: Int(caplen))
        let decoded = Decoder.decode(bytes, linkType: linkType)
        if let sniffer { full = sniffer.take(bytes, decoded, timestampNs: ts, index: index) }
        return PacketRecord(timestampNs: ts, length: h.pointee.len, captured: caplen, decoded: decoded)
    }
}

/// Wakes a capture loop from another thread (a signal handler, the output thread). It cannot
/// outlive the handle: the handle's owner disarms it before `pcap_close`, under the same lock
/// `breakLoop` takes, so a late signal finds it disarmed and does nothing.
public final class Interrupter: Sendable {
    /// The `pcap_t` as a bit pattern (an integer is Sendable; the pointer is not); 0 once closed.
    private let handle: Mutex<UInt>

    init(handle: OpaquePointer) { self.handle = Mutex(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))) }

    /// `pcap_breakloop` on the handle if it is still open.
    public func breakLoop() {
        handle.withLock { bits in
            if let h = OpaquePointer(bitPattern: bits) { pcap_breakloop(h) }
        }
    }

    /// True until the handle closed.
    public var isArmed: Bool { handle.withLock { $0 != 0 } }

    func disarm() { handle.withLock { $0 = 0 } }
}

/// CLOCK_MONOTONIC in nanoseconds.
public enum Monotonic {
    public static func now() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
}
