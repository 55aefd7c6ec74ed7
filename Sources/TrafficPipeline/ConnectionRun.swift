import Glibc
public import OutputSinks
import PacketCapture
import PacketFile
public import PacketRecords
import PacketWire
public import Rendering
public import TrafficAnalysis

/// How `flows` writes: its flow rows (`FlowFormat`) or, with the connection model, Zeek
/// connection records. `zeek` implies the connection model.
public enum FlowsFormat: String, Sendable, CaseIterable {
    case table, csv, json, zeek

    /// The flow-model format; nil for `zeek`.
    public var flowFormat: FlowFormat? {
        switch self {
        case .table: .table
        case .csv: .csv
        case .json: .json
        case .zeek: nil
        }
    }

    /// The connection-model format when the model is asked for (`connections`, or `zeek`); nil
    /// for flow rows. Throws for a table, which the connection model does not have.
    public func connectionFormat(connections: Bool) throws(SettingsProblem) -> ConnectionFormat? {
        switch self {
        case .zeek: return .zeek
        case .csv: return connections ? .csv : nil
        case .json: return connections ? .json : nil
        case .table:
            if connections {
                throw SettingsProblem("--connections writes zeek, csv or json; add --format zeek (or csv, json)")
            }
            return nil
        }
    }
}

/// The options that only the connection model takes, as the command line gives them, checked
/// and turned into `ConnectionSettings`.
public struct ConnectionOptions: Sendable {
    public var serverPorts: String?
    public var localNets: String?
    public var timeouts: [String] = []
    public var verifyChecksums = false
    public var communityIDSeed: String?
    public var maxConnections: Int?

    public init() {}

    /// The problem with giving these options to the flow model.
    public static let needModel =
        "--server-ports, --local-nets, --connection-timeout, --verify-checksums and --community-id-seed need the "
        + "connection model; "
        + "add --format zeek (or --connections)"

    /// The problem with giving options of flow rows to the connection model.
    public static let flowRowsOnly =
        "--by, --sort and --top work on flow rows, not on connections; "
        + "leave them out with --format zeek or --connections"

    /// Whether any option of the connection model was given (they need the model).
    public var given: Bool {
        serverPorts != nil || localNets != nil || !timeouts.isEmpty || verifyChecksums || communityIDSeed != nil
    }

    public func settings() throws(SettingsProblem) -> ConnectionSettings {
        var s = ConnectionSettings()
        if let serverPorts { s.serverPorts = try ServerPorts(parsing: serverPorts) }
        if let localNets { try s.setLocalNets(localNets) }
        for t in timeouts { try s.setTimeout(t) }
        s.verifyChecksums = verifyChecksums
        if let communityIDSeed {
            switch CommunityID.seed(option: communityIDSeed) {
            case .success(let seed): s.communityID = CommunityID(seed: seed)
            case .failure(let problem): throw SettingsProblem(problem.description)
            }
        }
        if let maxConnections { s.maxConnections = maxConnections }
        return s
    }
}

/// `flows` with the connection model: reads capture files in order (our reader, undecoded
/// packets), walks each packet with `ConnDecoder` through fragments and tunnels
/// (`ConnectionDecapsulator`), tracks connections with `ConnectionTracker` and writes each as it
/// ends.
public enum ConnectionRun {
    public struct Counts: Sendable {
        public var connections: UInt64 = 0
        public var evicted: UInt64 = 0
        public var ignoredPackets: UInt64 = 0
    }

    /// Reads `paths` (files, or "-" alone), writes the log to `output`. An input that cannot be
    /// opened throws before anything is written; damage after readable packets is thrown after
    /// their connections are written.
    public static func run(
        paths: [String], settings: ConnectionSettings, format: ConnectionFormat, output: ByteOutput, stop: StopFlag,
        filter: String? = nil, window: TimeWindow = TimeWindow()
    ) throws -> Counts {
        var readers: [CaptureFileReader] = []
        for path in paths { readers.append(try CaptureFileReader(path: path, readAhead: paths.count == 1)) }
        // A BPF filter per file (each has its link type), compiled before anything is written.
        var filters: [PacketFilter?] = []
        for r in readers {
            filters.append(try filter.map { e throws(CaptureError) in try PacketFilter(e, linkType: r.linkType) })
        }
        let tracker = ConnectionTracker(settings: settings)
        let walker = ConnectionDecapsulator(tracker: tracker)
        let writer = ConnectionWriter(format: format)
        var counts = Counts()
        writer.header(openTime: ConnectionWriter.logTime(epochSeconds: Int64(time(nil))), into: &output.buffer)
        var outputError: OutputError?
        var readError: (any Error)?
        // Records end at some packets only: the output is looked at after those (a check per
        // packet of the class's buffer was 3% of the run). The flag is behind a pointer: a
        // captured variable is checked for exclusive access at every packet.
        let emitted = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        emitted.initialize(to: false)
        defer { emitted.deallocate() }
        let emit: (ConnectionRecord) -> Void = { record in
            counts.connections &+= 1
            writer.write(record, into: &output.buffer)
            emitted.pointee = true
        }
        for (reader, bpf) in zip(readers, filters) {
            let linkType = reader.linkType
            let everything = window.isEverything
            do {
                try reader.readPackets { packet in
                    // Packets outside the window or the filter are not there, as if the capture
                    // had been cut (editcap -A/-B) or filtered (tcpdump -w) first.
                    if !everything && !window.contains(packet.timestampNs) { return !stop.isRequested }
                    if let bpf, !bpf.matches(packet.bytes.buffer, length: Int(packet.length)) {
                        return !stop.isRequested
                    }
                    walker.process(
                        packet.bytes, length: Int(packet.length), linkType: linkType,
                        timestampNs: packet.timestampNs, emit: emit)
                    if emitted.pointee {
                        emitted.pointee = false
                        do throws(OutputError) { try output.flushIfFull() } catch {
                            outputError = error
                            return false
                        }
                    }
                    return !stop.isRequested
                }
            } catch {
                readError = error
            }
            reader.suspend()
            if outputError != nil || readError != nil || stop.isRequested { break }
        }
        if let outputError { throw outputError }
        tracker.finish(emit: emit)
        writer.footer(closeTime: ConnectionWriter.logTime(epochSeconds: Int64(time(nil))), into: &output.buffer)
        try output.flush()
        counts.evicted = tracker.evicted
        counts.ignoredPackets = tracker.ignoredPackets
        if let readError { throw readError }
        return counts
    }
}
