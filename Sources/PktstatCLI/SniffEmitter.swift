import OutputSinks
import PacketRecords
import Rendering
import TrafficAnalysis

/// What `sniff` does with each batch of records: print packet rows, or feed the interval series
/// (printing each interval as it closes), and keep the chart for `--plot`.
///
/// An interval table names only the protocols seen so far: its header comes with the first row,
/// and is printed again with a column added when a row brings a new protocol (the CSV keeps every
/// protocol's columns, its header printed once).
final class SniffEmitter {
    let out: ByteOutput
    private(set) var packetRows: RecordWriter?
    private(set) var seriesRows: SeriesWriter?
    var session: SeriesSession?
    /// A write failed (a closed pipe): rows stop here, the caller's next flush reports it.
    private var writeFailed = false
    /// The table's header waits for the first row, so that it names that row's protocols.
    private var tableHeaderWritten = false

    init(out: ByteOutput, packetRows: RecordWriter?, seriesRows: SeriesWriter?, session: SeriesSession?) {
        self.out = out
        self.packetRows = packetRows
        self.seriesRows = seriesRows
        self.session = session
        if seriesRows?.format == .table { self.seriesRows?.protocols = ProtocolSet() }
    }

    /// The table's IFACE and DIR columns only for the link types that carry them (Linux cooked).
    func linkType(named name: String) {
        packetRows?.tableShowsInterface = name == "LINUX_SLL" || name == "LINUX_SLL2"
    }

    func start() {
        packetRows?.header(into: &out.buffer)
        if seriesRows?.format != .table { seriesRows?.writeHeader(into: &out.buffer) }
    }

    func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        packetRows?.write(batch, into: &out.buffer)
        guard session != nil else { return }
        session!.add(batch, writeInterval)
    }

    /// Live: attributes the capture's drops so far and closes the intervals that ended by
    /// `closeThroughNs`, printing them.
    func tick(drops: DropCounters, nowNs: Int64, closeThroughNs: Int64) {
        guard session != nil else { return }
        session!.analyzer.recordDrops(cumulative: drops, atTimeNs: nowNs)
        session!.close(through: closeThroughNs, writeInterval)
    }

    func finish(drops: DropCounters?) {
        guard session != nil else { return }
        if let drops {
            session!.analyzer.recordDrops(cumulative: drops, atTimeNs: session!.analyzer.summary.lastNs ?? 0)
        }
        session!.finish(writeInterval)
    }

    /// The status line for packets that came after their interval was printed, if any did.
    var latePackets: String? {
        guard seriesRows != nil, let n = session?.analyzer.summary.latePackets, n > 0 else { return nil }
        return "\(n) packet\(n == 1 ? "" : "s") arrived after their interval was printed"
    }

    private func writeInterval(_ s: IntervalStats) {
        guard !writeFailed, seriesRows != nil else { return }
        // The row's own protocols (the session is busy handing it out: not read here).
        let seen = s.protocols
        if seriesRows!.format == .table, !tableHeaderWritten || seen.bits & ~seriesRows!.protocols.bits != 0 {
            seriesRows!.protocols.formUnion(seen)
            seriesRows!.writeHeader(into: &out.buffer)
            tableHeaderWritten = true
        }
        seriesRows!.write(s, into: &out.buffer)
        do throws(OutputError) { try out.flushIfFull() } catch { writeFailed = true }
    }
}
