import Glibc
import PacketRecords
import Rendering
import TrafficAnalysis

/// What `sniff` does with each batch of records: print packet rows, or feed the interval series
/// (printing each interval as it closes), and keep the chart for `--plot`.
final class SniffEmitter {
    let out: ByteOutput
    let packetRows: RecordWriter?
    let seriesRows: SeriesWriter?
    var session: SeriesSession?

    init(out: ByteOutput, packetRows: RecordWriter?, seriesRows: SeriesWriter?, session: SeriesSession?) {
        self.out = out
        self.packetRows = packetRows
        self.seriesRows = seriesRows
        self.session = session
    }

    func start() {
        packetRows?.header(into: &out.buffer)
        seriesRows?.writeHeader(into: &out.buffer)
    }

    func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        packetRows?.write(batch, into: &out.buffer)
        guard session != nil else { return }
        session!.add(batch)
        session!.collect(writeInterval)
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
        if let drops { session!.analyzer.recordDrops(cumulative: drops, atTimeNs: session!.analyzer.summary.lastNs ?? 0) }
        session!.finish(writeInterval)
    }

    private func writeInterval(_ s: IntervalStats) {
        seriesRows?.write(s, into: &out.buffer)
    }

    /// CLOCK_REALTIME in nanoseconds (packet timestamps are on this clock).
    static func realtimeNow() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
}
