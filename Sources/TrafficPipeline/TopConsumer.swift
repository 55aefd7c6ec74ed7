import Glibc
public import OutputSinks
public import PacketRecords
public import Rendering
public import SocketOwners
public import TrafficAnalysis

/// What `top` shows, as the command line says.
public struct TopSettings: Sendable {
    public var intervalNs: Int64 = 1_000_000_000
    public var top: Int?
    public var flowLimits = FlowLimits(idleTimeoutNs: 60_000_000_000, maxFlows: 1_000_000)
    public var view: RateView = .flows
    public var sort: RateSort = .last
    /// Snapshots (no terminal): csv or json.
    public var format: FlowFormat = .csv
    public var filter: String?
    /// Look up the local process at each end of each flow (`--no-processes` turns it off).
    public var processes = true

    public init() {}
}

/// One run of `top`, the consumer of a live run: batches go into the flow table; ticks close an
/// interval on the wall clock (expire idle flows, compute the rates), and draw the screen or write
/// a snapshot. Keys (q, s, v, p) and resizes are read on every tick.
public final class TopConsumer: LiveConsumer {
    public let table: FlowTable
    private let terminal: TopTerminal?
    private let settings: TopSettings
    private var rates: FlowRates
    private var status: TopStatus
    private var rows: [RateRow] = []
    private let out = ByteOutput.standardOutput()
    private let writer: FlowWriter
    private var outputError: OutputError?
    private var lastTotal: UInt64 = 0
    private var intervalStart: Int64 = 0
    private var drops = DropCounters(kernel: 0, interface: 0, ring: 0)
    private var stop: LiveStopper?
    private let owners: SocketOwners?

    /// `terminal` nil: CSV or JSON snapshots on standard output. `owners`: attribution, started
    /// by the caller before privileges are dropped (nil: none).
    public init(_ settings: TopSettings, terminal: TopTerminal?, owners: SocketOwners? = nil) {
        self.settings = settings
        self.terminal = terminal
        self.owners = owners
        table = FlowTable(limits: settings.flowLimits)
        rates = FlowRates(intervalNs: settings.intervalNs)
        status = TopStatus(interface: "", filter: settings.filter)
        status.view = settings.view
        status.sort = settings.sort
        status.windowNs = rates.windowNs
        status.processes = owners != nil
        writer = FlowWriter(format: settings.format, columns: FlowScreen.columns(settings.view))
        if let owners { table.onNewFlow = { owners.flowStarted($0) } }
    }

    /// The screen (or the CSV header) before the first packet.
    public func start(_ capture: LiveStart) throws {
        status.interface = capture.interface
        stop = capture.stop
        intervalStart = capture.startNs
        if let terminal {
            terminal.enter()
            _ = terminal.resized()
            draw()
        } else {
            writer.header(into: &out.buffer)
            flush()
        }
        if let outputError { throw outputError }
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) throws { table.add(batch) }

    /// Closes the interval when it is due, then applies keys and resizes.
    public func tick(nowNs now: Int64, settledNs: Int64, drops: DropCounters) throws {
        self.drops = drops
        let intervalNs = settings.intervalNs
        if now - intervalStart >= intervalNs {
            close(intervalStartNs: intervalStart, now: now)
            intervalStart += (now - intervalStart) / intervalNs * intervalNs
        }
        if let terminal, handle(terminal.keys()) || terminal.resized() { draw() }
        if let outputError { throw outputError }
    }

    /// After the capture: batch mode prints the last, cut-short interval; the terminal is restored.
    public func finish(drops: DropCounters) throws {
        self.drops = drops
        if terminal == nil && outputError == nil {
            close(intervalStartNs: intervalStart, now: LivePipeline.realtimeNow(), last: true)
        }
        terminal?.restore()
        owners?.stop()
    }

    public var closingLines: [String] {
        var lines = [
            "\(table.counters.expired) flows ended idle (--flow-timeout)",
            "\(table.counters.evicted) flows evicted (--max-flows reached)",
        ]
        if let owners { lines.append(owners.counters.summaryLine) }
        return lines
    }

    /// An interval ends: idle flows leave, rates move on, the screen or a snapshot shows them.
    /// The `last` interval, cut short by the end of the run, gives rates over its real length.
    private func close(intervalStartNs: Int64, now: Int64, last: Bool = false) {
        table.expire(olderThan: now - (settings.flowLimits.idleTimeoutNs ?? 0))
        rows = rates.tick(table)
        if let owners { Self.attribute(&rows, owners) }
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
        let intervalNs = settings.intervalNs
        let spanNs = last ? min(intervalNs, max(1, now - intervalStartNs)) : intervalNs
        for r in shown.prefix(settings.top ?? .max) {
            writer.write(FlowScreen.cells(r, intervalStartNs: intervalStartNs, intervalNs: spanNs), into: &out.buffer)
        }
        flush()
    }

    /// Applies keys; true when the screen should be redrawn.
    private func handle(_ keys: [UInt8]) -> Bool {
        var redraw = false
        for k in keys {
            switch k {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"): stop?()
            case UInt8(ascii: "s"): status.sort = status.sort.next
            case UInt8(ascii: "v"):
                status.view = status.view.next
                if status.view == .processes && !status.processes { status.view = status.view.next }
            case UInt8(ascii: "p"), UInt8(ascii: " "): status.paused.toggle()
            default: continue
            }
            redraw = true
        }
        return redraw
    }

    /// Puts the owners attribution found on the flow rows.
    public static func attribute(_ rows: inout [RateRow], _ owners: SocketOwners) {
        owners.settle()
        owners.withOwners { lookup in
            for i in rows.indices {
                guard case .flow(let f) = rows[i].identity else { continue }
                (rows[i].srcOwner, rows[i].dstOwner) = lookup.owners(of: f)
            }
        }
    }

    private func draw() {
        guard let terminal else { return }
        let size = terminal.size()
        let shown = FlowRates.sorted(FlowRates.aggregate(rows, as: status.view), by: status.sort)
        terminal.draw(FlowScreen.lines(status, rows: shown, width: size.width, height: size.height))
    }

    private func flush() {
        guard outputError == nil else { return }
        do throws(OutputError) { try out.flush() } catch { outputError = error }
    }
}
