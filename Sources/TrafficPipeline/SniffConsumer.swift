public import OutputSinks
public import PacketRecords
public import Rendering
public import TrafficAnalysis

/// What `sniff` does with each batch of records, live or from files: print packet rows, or feed
/// the interval series (printing each interval as it closes), and keep the chart for `--plot`.
///
/// An interval table names only the protocols seen so far: its header comes with the first row,
/// and is printed again with a column added when a row brings a new protocol (the CSV keeps every
/// protocol's columns, its header printed once).
public final class SniffConsumer: LiveConsumer {
    public let out: ByteOutput
    private var packetRows: RecordWriter?
    private var seriesRows: SeriesWriter?
    public private(set) var session: SeriesSession?
    /// The first failed write (a closed pipe): rows stop there, and it ends the run.
    public private(set) var outputError: OutputError?
    /// The table's header waits for the first row, so that it names that row's protocols.
    private var tableHeaderWritten = false

    public init(out: ByteOutput, packetRows: RecordWriter?, seriesRows: SeriesWriter?, session: SeriesSession?) {
        self.out = out
        self.packetRows = packetRows
        self.seriesRows = seriesRows
        self.session = session
        if seriesRows?.format == .table { self.seriesRows?.protocols = ProtocolSet() }
    }

    /// Headers; the table's IFACE and DIR columns only for the link types that carry them
    /// (Linux cooked).
    public func begin(linkTypeName name: String) {
        packetRows?.tableShowsInterface = name == "LINUX_SLL" || name == "LINUX_SLL2"
        packetRows?.header(into: &out.buffer)
        if seriesRows?.format != .table { seriesRows?.writeHeader(into: &out.buffer) }
    }

    /// Files: formats a batch, writing out full buffers; false once a write failed.
    public func read(_ batch: UnsafeBufferPointer<PacketRecord>) -> Bool {
        append(batch)
        flush(whole: false)
        return outputError == nil
    }

    /// Files: the last intervals (their drops unknown), everything written out.
    public func end() {
        if outputError == nil { session?.finish(writeInterval) }
        flush(whole: true)
    }

    // MARK: live

    public func start(_ capture: LiveStart) throws {
        packetRows?.interfaceNames = InterfaceNames(capture.interfaceNames)
        begin(linkTypeName: capture.linkTypeName)
        try flushLive()
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) throws {
        append(batch)
        try flushLive()
    }

    /// Attributes the capture's drops so far and closes the intervals that ended by `settledNs`.
    public func tick(nowNs: Int64, settledNs: Int64, drops: DropCounters) throws {
        if session != nil {
            session!.analyzer.recordDrops(cumulative: drops, atTimeNs: nowNs)
            session!.close(through: settledNs, writeInterval)
        }
        try flushLive()
    }

    public func finish(drops: DropCounters) throws {
        guard outputError == nil else { return }
        if session != nil {
            session!.analyzer.recordDrops(cumulative: drops, atTimeNs: session!.analyzer.summary.lastNs ?? 0)
            session!.finish(writeInterval)
        }
        try flushLive()
    }

    /// The status line for packets that came after their interval was printed, if any did.
    public var closingLines: [String] {
        guard seriesRows != nil, let n = session?.analyzer.summary.latePackets, n > 0 else { return [] }
        return ["\(n) packet\(n == 1 ? "" : "s") arrived after their interval was printed"]
    }

    // MARK: rows

    private func append(_ batch: UnsafeBufferPointer<PacketRecord>) {
        guard outputError == nil else { return }
        packetRows?.write(batch, into: &out.buffer)
        if session != nil { session!.add(batch, writeInterval) }
    }

    private func flushLive() throws(OutputError) {
        flush(whole: true)
        if let outputError { throw outputError }
    }

    private func flush(whole: Bool) {
        guard outputError == nil else { return }
        do throws(OutputError) {
            if whole { try out.flush() } else { try out.flushIfFull() }
        } catch {
            outputError = error
        }
    }

    private func writeInterval(_ s: IntervalStats) {
        guard outputError == nil, seriesRows != nil else { return }
        // The row's own protocols (the session is busy handing it out: not read here).
        let seen = s.protocols
        if seriesRows!.format == .table, !tableHeaderWritten || seen.bits & ~seriesRows!.protocols.bits != 0 {
            seriesRows!.protocols.formUnion(seen)
            seriesRows!.writeHeader(into: &out.buffer)
            tableHeaderWritten = true
        }
        seriesRows!.write(s, into: &out.buffer)
        flush(whole: false)
    }
}
