public import ArgumentParser
import OutputSinks
import PacketCapture
import Rendering
import TrafficAnalysis
import TrafficPipeline

extension FlowGrouping: ExpressibleByArgument {}
extension FlowSort: ExpressibleByArgument {}

/// `pktstat flows`: the conversations in a capture file (or sniff's CSV on stdin).
struct Flows: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Conversations in a capture: packets and bytes per flow, host, protocol or port.",
        discussion: """
            Examples:
              pktstat flows capture.pcap                      a table, a row per flow
              pktstat flows capture.pcap --format csv > flows.csv
              pktstat flows capture.pcap --sort bytes --top 10
              pktstat flows capture.pcap --by host --top 10   top talkers
              pktstat flows capture.pcap --by port            per protocol and destination port
              pktstat flows capture.pcap --filter 'tcp port 443'
              sudo pktstat sniff -c 1000 --format csv | pktstat flows -
              pktstat flows capture.pcap --format zeek > conn.log   Zeek connection records
              pktstat flows capture.pcap --format csv | cut -d, -f4,6,14-   who by name
              pktstat flows capture.pcap --format csv --ipfix 127.0.0.1:4739 > /dev/null
                                                              the flows to an IPFIX collector (UDP)
              pktstat flows capture.pcap --ipfix tcp://collector:4739 --biflow
              sudo pktstat flows -i eth0 > flows.csv          live: each flow as it ends (idle 15s, slices of 60s)
              sudo pktstat flows -i eth0 --ipfix collector:4739 --active-timeout 30s tcp or udp

            A flow is the protocol label plus the unordered pair of endpoints (address, port) of its packets, as sniff prints them: both directions are one flow; all ARP packets are one flow, as are all 'other' packets; ICMP flows are keyed by the address pair; non-first fragments (no ports) form a flow of their own. The flow's src is the sender of its first packet; first and last are its smallest and largest timestamps; src_* counts what src sent, dst_* what the other side sent.

            CSV columns: first,last,protocol,src,sport,dst,dport,packets,bytes,src_packets,src_bytes,dst_packets,dst_bytes,src_name,dst_name,server_name, rows in the order of each flow's first packet (--sort bytes|packets|first to change it). --by host: host,flows,packets,bytes,sent_packets,sent_bytes,received_packets,received_bytes (flows without addresses left out); --by port: protocol,port (the flow's dport),flows,packets,bytes; --by protocol: protocol,flows,packets,bytes; these are sorted by bytes unless --sort says otherwise.

            Names come from the capture, never from lookups (pktstat sends nothing): src_name and dst_name are the question name of the latest DNS response (UDP/TCP port 53, mDNS 5353) read before the flow's first packet that answered the end's address with an A or AAAA record (with a CNAME chain, the name asked for); server_name is the SNI of the flow's first TLS ClientHello (reassembled over segments). Empty when none; bounded (65,536 addresses, least recently used forgotten). Read from one file with pktstat's own reader (not with a filter, -w, several files or --since/--until); see docs/flows-and-top.md.

            The count is exact: every flow is kept until the end (about 100 bytes each). --flow-timeout and --max-flows bound the memory instead: a flow idle longer than the timeout (in capture time) or evicted from a full table (one of the least recently seen) is written when it leaves (CSV and JSON without --sort), and a later packet of it starts a new flow; the rows still in the table follow, by first timestamp. Sorting, --by and tables spill to a temporary file in $TMPDIR (else /tmp) past 16,384 rows.

            --ipfix sends each flow to an IPFIX collector (RFC 7011; nfcapd, nfacctd, goflow2, ...) as well as writing the rows: one record per direction that carried packets (--biflow: one RFC 5103 record per flow), with the flow's own first and last times to the millisecond, packets, and bytes counted at the IP layer (IP header and payload, as routers count them; the CSV counts frame bytes, also sent as layer2OctetDeltaCount). Over UDP the send buffer is raised to 16 MB; --ipfix-rate paces a collector that cannot keep up. See docs/fleet.md.

            Live (-i IF, the words after the options a BPF filter): each flow is written (CSV by default, or JSON; the columns above) when it ends: idle for --flow-timeout (default 15s, as softflowd), or, for a long flow, every --active-timeout (default 60s) as a slice whose next packet starts the flow again; evicted from a full table (--max-flows, default 1000000); or still open when the run stops (Ctrl-C, SIGTERM, --duration, --count): every open flow is written then. With --ipfix each goes to the collector too.

            --format zeek writes connections as Zeek's conn.log does (TSV with Zeek's header lines; --connections with csv or json for the same records): originator and responder by Zeek's rules, conn_state, history, payload bytes from TCP sequence numbers, missed bytes, Zeek's timeouts, IP fragments reassembled, tunnels followed (IP-in-IP, GRE, ERSPAN, VXLAN, Geneve, Teredo, AYIYA, GTP) with tunnel_parents, Community ID; see docs/flows-and-top.md.
            """
    )

    @OptionGroup var inputs: CaptureInputs

    @Option(
        help:
            "Output: table (the default), csv, json (one object per line) or zeek (Zeek's conn.log); live (-i): csv (the default) or json."
    )
    var format: FlowsFormat?

    @Option(help: "Order: bytes or packets (most first), or first (earliest first packet first).")
    var sort: FlowSort?

    @Option(help: ArgumentHelp("Print only the first N rows.", valueName: "n"))
    var top: Int?

    @Option(
        help: ArgumentHelp("Aggregate per host, protocol or port instead of per flow.", valueName: "host|protocol|port")
    )
    var by: FlowGrouping?

    @Flag(
        name: .customLong("no-names"),
        help: "Leave out src_name, dst_name and server_name (no DNS or TLS payload is read; a little faster).")
    var noNames = false

    @OptionGroup var bounds: FlowBoundOptions

    @OptionGroup(title: "Connections (Zeek conn.log)") var model: ConnectionModelOptions

    @OptionGroup(title: "IPFIX export") var ipfix: IPFIXExportOptions

    @Option(
        name: .customLong("ipfix-rate"),
        help: ArgumentHelp(
            "Send at most this many IPFIX records per second over UDP (default 0: no limit).", valueName: "n"))
    var ipfixRate: Int = 0

    @OptionGroup(title: "Live flows (flows -i IF [filter])") var device: LiveDeviceOptions

    @Option(
        name: .customLong("active-timeout"),
        help: ArgumentHelp(
            "Live: write a flow older than this as a slice, and start it again (default 60s).", valueName: "time"))
    var activeTimeout: TimeSpan?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Live: stop after this long (e.g. 10, 1.5s, 2m).", valueName: "time"))
    var duration: TimeSpan?

    @Option(name: [.short, .customLong("count")], parsing: .unconditional, help: "Live: stop after this many packets.")
    var count: Int64?

    /// `flows -i`: the words after the options are a filter, not files.
    private var live: Bool { device.interface != nil }

    private var liveSettings: LiveFlowsSettings {
        var s = LiveFlowsSettings()
        s.idleTimeoutNs = bounds.flowTimeout?.nanoseconds ?? LiveFlowsSettings.defaultIdleTimeoutNs
        s.activeTimeoutNs = activeTimeout?.nanoseconds ?? LiveFlowsSettings.defaultActiveTimeoutNs
        s.maxFlows = bounds.maxFlows ?? 1_000_000
        s.format = (format ?? .csv).flowFormat ?? .csv
        s.ipfix = ipfix.options(rate: ipfixRate)
        return s
    }

    private func runLive() throws {
        let filter = inputs.filter ?? (inputs.files.isEmpty ? nil : inputs.files.joined(separator: " "))
        let consumer = try LiveFlowsConsumer(liveSettings)
        let capture = try LiveRun.open(device.settings(filter: filter), report: Console.line)
        try capture.run(
            limits: RunLimits(count: count.map { UInt64($0) }, durationNs: duration?.nanoseconds), consumer: consumer,
            report: Console.line)
    }

    func validate() throws {
        if ipfixRate != 0 && ipfix.destination == nil { throw ValidationError("--ipfix-rate needs --ipfix HOST:PORT") }
        if live {
            if format == .table || format == .zeek { throw ValidationError("flows -i writes --format csv or json") }
            if by != nil || sort != nil || top != nil || inputs.time.given || model.connections {
                throw ValidationError(
                    "flows -i writes each flow as it ends: --by, --sort, --top, --since and --until are for files")
            }
            if let count, count <= 0 { throw ValidationError("--count must be a positive number of packets") }
            if let problem = liveSettings.problem { throw ValidationError(problem) }
            return
        }
        try inputs.requireFiles()
        if activeTimeout != nil || duration != nil || count != nil {
            throw ValidationError("--active-timeout, --duration and --count are for live flows (-i IF)")
        }
        if let top, top <= 0 { throw ValidationError("--top must be a positive number of rows (got \(top))") }
        let format = self.format ?? .table
        let flowRowOptions = by != nil || sort != nil || top != nil || noNames
        if ipfix.destination != nil, format == .zeek || model.connections {
            throw ValidationError("--ipfix exports pktstat's flows, not Zeek connections; drop --format zeek")
        }
        if let problem = model.options.problem(
            format: format, connections: model.connections, flowRowOptions: flowRowOptions)
        {
            throw ValidationError(problem)
        }
    }

    func run() throws {
        try ErrorReport.run {
            if live { return try runLive() }
            let format = self.format ?? .table
            let out = ByteOutput.standardOutput()
            if let connections = try format.connectionFormat(connections: model.connections) {
                var options = model.options
                options.maxConnections = bounds.maxFlows
                return try ConnectionRun.run(
                    paths: inputs.files, options: options, format: connections, output: out, filter: inputs.filter,
                    window: try inputs.time.window, report: Console.line)
            }
            let run = FlowsRun(
                limits: bounds.limits(defaultTimeoutNs: nil, defaultMax: .max), bounded: bounds.given, grouping: by,
                sort: sort, top: top, format: format.flowFormat ?? .table, names: !noNames,
                ipfix: ipfix.options(rate: ipfixRate))
            try run.run(try inputs.source(), out: out, report: Console.line)
        }
    }
}
