import Glibc
public import History
public import OutputSinks
public import PacketRecords
import PacketWire
public import Rendering

/// Packets into minutes of history: per minute, packets and bytes (wire lengths) by interface, by
/// protocol label, by host (a packet counts for its source and its destination: what a host sent
/// and received) and by port (TCP, UDP, SCTP: the lower of the two ports, usually the service's,
/// as `TCP/443`). A minute is handed to the store when a packet of a later (or earlier) minute
/// arrives, and at the end. Keys stay typed per packet; text is made once a minute.
public final class HistoryRecorder {
    public let store: HistoryStore
    public let interface: String
    private var minute: Int64?
    private var tally = MinuteTally()
    /// Minutes handed to the store.
    public private(set) var minutesWritten = 0

    public init(store: HistoryStore, interface: String) {
        self.store = store
        self.interface = interface
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) throws(HistoryError) {
        for r in batch { try add(r) }
    }

    public func add(_ r: PacketRecord) throws(HistoryError) {
        let m = MinuteTally.minute(of: r.timestampNs)
        if m != minute {
            try flush()
            minute = m
        }
        let d = r.decoded
        tally.add(
            HistoryCounts(packets: 1, bytes: UInt64(r.length)), label: d.label, version: d.ipVersion, a: d.src,
            b: d.dst, ports: d.hasPorts ? (d.srcPort, d.dstPort) : nil)
    }

    /// The end (epoch ns) of the minute being gathered, nil before the first packet.
    public var minuteEndNs: Int64? { minute.map { ($0 + 60) * 1_000_000_000 } }

    /// Hands the current minute to the store.
    public func flush() throws(HistoryError) {
        guard let m = minute, tally.total.packets > 0 else { return }
        try store.add(tally.take(start: m, interface: interface))
        minutesWritten += 1
        minute = nil
    }
}

/// `pktstat history import`: capture files into the history under their own timestamps, one
/// after the other. A file already imported (the same size and the same first and last MiB) is
/// refused: importing is not idempotent by adding twice, it is refused, with the date it was
/// imported.
public enum HistoryImport {
    public struct Result: Sendable {
        public var files = 0
        public var packets: UInt64 = 0
        public var minutes = 0
    }

    public static func run(
        paths: [String], db: String, interface: String, top: Int, report: (String) -> Void
    ) throws -> Result {
        let store = try HistoryStore(path: db, writable: true, topTalkers: top)
        var result = Result()
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        for path in paths {
            let print = try fingerprint(path)
            if let when = try store.importedAt(fingerprint: print) {
                throw HistoryImportError.alreadyImported(path: path, epochSeconds: when)
            }
            let recorder = HistoryRecorder(store: store, interface: interface)
            var packets: UInt64 = 0
            var first: Int64?
            var last: Int64?
            var storeError: HistoryError?
            let source = FileSource(paths: [path], window: TimeWindow(), filter: nil, acceptsCSV: false)
            try source.stream(stop: stop, opened: { _ in }) { batch in
                for r in batch {
                    packets &+= 1
                    first = min(first ?? r.timestampNs, r.timestampNs)
                    last = max(last ?? r.timestampNs, r.timestampNs)
                }
                do throws(HistoryError) { try recorder.add(batch) } catch {
                    storeError = error
                    return false
                }
                return !stop.isRequested
            }
            if let storeError { throw storeError }
            try recorder.flush()
            if stop.isRequested {
                try store.finish()
                report("\(path): interrupted; \(recorder.minutesWritten) minutes kept, the file is not marked imported")
                break
            }
            try store.recordImport(fingerprint: print, path: path, packets: packets, first: first, last: last)
            result.files += 1
            result.packets += packets
            result.minutes += recorder.minutesWritten
        }
        try store.finish()
        return result
    }

    /// Size, then FNV-1a over the first and the last MiB.
    static func fingerprint(_ path: String) throws(HistoryImportError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, errno: errno) }
        let size = Int64(st.st_size)
        let window = 1 << 20
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var buffer = [UInt8](repeating: 0, count: window)
        for offset in [0, max(0, size - Int64(window))] {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, window, off_t(offset)) }
            guard n >= 0 else { throw .unreadable(path: path, errno: errno) }
            for b in buffer.prefix(n) { hash = (hash ^ UInt64(b)) &* 0x100_0000_01B3 }
        }
        return "\(size)-\(String(hash, radix: 16))"
    }
}

public enum HistoryImportError: Error, Sendable, CustomStringConvertible {
    case alreadyImported(path: String, epochSeconds: Int64)
    case unreadable(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .alreadyImported(let p, let t):
            "\(p) was already imported into this history (at \(CivilDate.rfc3339(seconds: t)))"
        case .unreadable(let p, let e): "cannot read \(p): \(String(cString: strerror(e)))"
        }
    }

    public var hint: String? {
        switch self {
        case .alreadyImported: "a file is imported once; to import it again, use a new --db file"
        case .unreadable: "check the path and its permissions"
        }
    }
}

/// `pktstat history`: the query's rows (or its 95th percentile), or their bar chart, written whole.
public enum HistoryShow {
    /// Returns the lines for people (stderr): why `--by process` has no rows.
    public static func run(
        db: String, query: HistoryQuery, percentile: Bool, format: HistoryFormat, output: ByteOutput
    ) throws -> [String] {
        let store = try HistoryStore(path: db, writable: false)
        var notes: [String] = []
        if percentile, let rowFormat = format.flowFormat {
            HistoryWriter.write(try query.percentile95(store), format: rowFormat, into: &output.buffer)
        } else {
            let (r, rows) = try query.run(store)
            if rows.isEmpty && query.dimension == .process {
                notes.append(
                    "note: no processes in this span: only serve --history records them (history import has none: captures do not say which process sent a packet)"
                )
            }
            if let rowFormat = format.flowFormat {
                HistoryWriter.write(
                    rows, dimension: query.dimension, resolution: r, format: rowFormat, into: &output.buffer)
            } else {
                HistoryChart.write(rows, dimension: query.dimension, resolution: r, into: &output.buffer)
            }
        }
        try output.commit()
        return notes
    }
}
