import Glibc
import OutputSinks
public import PacketRecords
public import Rendering
public import TrafficAnalysis

/// What `flows -i` does with its flows: the table's bounds, the timeouts, the rows, the export.
public struct LiveFlowsSettings: Sendable {
    /// A flow with no packet for this long ends (default 15 s, as softflowd).
    public var idleTimeoutNs: Int64 = 15_000_000_000
    /// A flow older than this is cut into a slice and starts again (default 60 s).
    public var activeTimeoutNs: Int64 = 60_000_000_000
    public var maxFlows = 1_000_000
    /// CSV or JSON lines (a table cannot be streamed).
    public var format: FlowFormat = .csv
    public var ipfix: IPFIXOptions?

    public static let defaultIdleTimeoutNs: Int64 = 15_000_000_000
    public static let defaultActiveTimeoutNs: Int64 = 60_000_000_000

    public init() {}

    /// Why these settings cannot run, in the words of the options; nil when they can.
    public var problem: String? {
        if format == .table { return "flows -i writes csv or json (each flow as it ends); give --format csv or json" }
        if activeTimeoutNs <= 0 { return "--active-timeout must be positive" }
        if idleTimeoutNs <= 0 { return "--flow-timeout must be positive" }
        if let ipfix {
            do { _ = try ipfix.checked() } catch { return "\(error.description); \(error.hint ?? "")" }
        }
        return nil
    }
}

/// `flows -i`: live packets into a flow table (`LiveFlowExport`); each flow is written (CSV or
/// JSON, the file `flows` contract) and exported (`--ipfix`) when it ends idle, is cut by the
/// active timeout, is evicted from a full table, or is still open when the run stops (signals,
/// `--duration`, `--count`: every open flow is flushed).
public final class LiveFlowsConsumer: LiveConsumer {
    public let settings: LiveFlowsSettings
    public let export: LiveFlowExport
    public var table: FlowTable { export.table }
    public var exporter: IPFIXExporter? { export.exporter }
    private let out = ByteOutput.standardOutput()
    private let writer: FlowWriter
    private var outputError: OutputError?
    private var nextFlushNs: Int64 = 0
    public var flowsWritten: UInt64 { export.flowsEnded }

    /// Opens the exporter first, so a bad collector fails before the capture starts.
    public init(_ settings: LiveFlowsSettings) throws {
        self.settings = settings
        export = try LiveFlowExport(
            idleTimeoutNs: settings.idleTimeoutNs, activeTimeoutNs: settings.activeTimeoutNs,
            maxFlows: settings.maxFlows, ipfix: settings.ipfix)
        let writer = FlowWriter(format: settings.format, grouping: nil)
        self.writer = writer
        export.ended = { [out] f in writer.write(.flow(f), into: &out.buffer) }
    }

    public func start(_ capture: LiveStart) throws {
        export.start(interface: capture.interface)
        writer.header(into: &out.buffer)
        flush()
        if let outputError { throw outputError }
    }

    public func add(_ batch: UnsafeBufferPointer<PacketRecord>) throws {
        export.add(batch)
        flush()
        if let outputError { throw outputError }
    }

    public func tick(nowNs: Int64, settledNs: Int64, drops: DropCounters) throws {
        export.tick(nowNs: nowNs, settledNs: settledNs)
        flush()
        if let outputError { throw outputError }
    }

    public func finish(drops: DropCounters) throws {
        export.finish()
        flush()
        if let outputError { throw outputError }
    }

    public var closingLines: [String] {
        let c = table.counters
        var lines = [
            "\(flowsWritten) flows: \(c.expired) ended idle (--flow-timeout), \(c.sliced) cut by --active-timeout, "
                + "\(c.evicted) evicted (--max-flows), the rest open at the end"
        ]
        if let exporter { lines.append(exporter.summary) }
        return lines
    }

    private func flush() {
        guard outputError == nil, !out.buffer.isEmpty else { return }
        do throws(OutputError) { try out.flush() } catch { outputError = error }
    }
}
