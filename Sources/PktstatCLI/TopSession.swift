import Glibc
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

/// One run of `top`, the consumer of a `LivePipeline`: batches go into the flow table; ticks close
/// an interval on the wall clock (expire idle flows, compute the rates), and draws the screen or writes a snapshot.
struct TopSession {
    let table: FlowTable
    let terminal: TopTerminal?
    let intervalNs: Int64
    let top: Int?
    let timeoutNs: Int64
    var rates: FlowRates
    var status: TopStatus
    var rows: [RateRow] = []
    let out = ByteOutput.standardOutput()
    let writer: FlowWriter
    var outputError: OutputError?
    private var lastTotal: UInt64 = 0

    init(command: Top, interface: String, terminal: TopTerminal?) {
        table = FlowTable(
            limits: command.flowLimits)
        self.terminal = terminal
        intervalNs = command.interval.nanoseconds
        top = command.top
        timeoutNs = command.flowLimits.idleTimeoutNs ?? 0
        rates = FlowRates(intervalNs: intervalNs)
        status = TopStatus(interface: interface, filter: command.filterExpression)
        status.view = RateView(rawValue: command.view.rawValue) ?? .flows
        status.sort = RateSort.allCases[TopSortOption.allCases.firstIndex(of: command.sort) ?? 0]
        status.windowNs = rates.windowNs
        let view = status.view
        writer = FlowWriter(format: command.format == .json ? .json : .csv, columns: FlowScreen.columns(view))
    }

    private var intervalStart: Int64 = 0
    private var drops = DropCounters(kernel: 0, interface: 0, ring: 0)

    /// The screen (or the CSV header) before the first packet.
    mutating func start() {
        intervalStart = LivePipeline.realtimeNow()
        if let terminal {
            terminal.enter()
            _ = terminal.resized()
            draw()
        } else {
            writer.header(into: &out.buffer)
            flush()
        }
    }

    /// One pipeline event: a batch goes into the table; a tick closes the interval when it is
    /// due, then applies keys and resizes.
    mutating func handle(_ event: LivePipeline.Event, stop: StopFlag, quit: () -> Void) throws(OutputError) {
        switch event {
        case .batch(let batch): table.add(batch)
        case .tick(let now, _, let drops):
            self.drops = drops
            if now - intervalStart >= intervalNs {
                close(intervalStartNs: intervalStart, now: now)
                intervalStart += (now - intervalStart) / intervalNs * intervalNs
            }
            if let terminal, handle(terminal.keys(), stop: stop, quit: quit) || terminal.resized() { draw() }
        }
        if let outputError { throw outputError }
    }

    /// After the capture: batch mode prints the last, cut-short interval.
    mutating func finish(drops: DropCounters) {
        self.drops = drops
        if terminal == nil && outputError == nil {
            close(intervalStartNs: intervalStart, now: LivePipeline.realtimeNow(), last: true)
        }
    }

    /// An interval ends: idle flows leave, rates move on, the screen or a snapshot shows them.
    /// The `last` interval, cut short by the end of the run, gives rates over its real length.
    private mutating func close(intervalStartNs: Int64, now: Int64, last: Bool = false) {
        table.expire(olderThan: now - timeoutNs)
        rows = rates.tick(table)
        let c = table.counters
        status.packets = c.packets
        status.bytes = c.bytes
        status.lastBytes = c.bytes - min(c.bytes, lastTotal)
        lastTotal = c.bytes
        status.flows = table.count
        status.expired = c.expired
        status.evicted = c.evicted
        status.droppedByKernel = drops.kernel
        status.droppedByRing = drops.ring
        if terminal != nil {
            if !status.paused { draw() }
            return
        }
        var shown = FlowRates.sorted(FlowRates.aggregate(rows, as: status.view), by: status.sort)
        shown = shown.filter { $0.windowBytes.first ?? 0 > 0 }
        let spanNs = last ? min(intervalNs, max(1, now - intervalStartNs)) : intervalNs
        for r in shown.prefix(top ?? .max) {
            writer.write(
                FlowScreen.cells(r, intervalStartNs: intervalStartNs, intervalNs: spanNs), into: &out.buffer)
        }
        flush()
    }

    /// Applies keys; true when the screen should be redrawn.
    private mutating func handle(_ keys: [UInt8], stop: StopFlag, quit: () -> Void) -> Bool {
        var redraw = false
        for k in keys {
            switch k {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"):
                stop.request()
                quit()
            case UInt8(ascii: "s"): status.sort = status.sort.next
            case UInt8(ascii: "v"): status.view = status.view.next
            case UInt8(ascii: "p"), UInt8(ascii: " "): status.paused.toggle()
            default: continue
            }
            redraw = true
        }
        return redraw
    }

    private func draw() {
        guard let terminal else { return }
        let size = terminal.size()
        let shown = FlowRates.sorted(FlowRates.aggregate(rows, as: status.view), by: status.sort)
        terminal.draw(FlowScreen.lines(status, rows: shown, width: size.width, height: size.height))
    }

    private mutating func flush() {
        do throws(OutputError) { try out.flush() } catch { outputError = error }
    }
}
