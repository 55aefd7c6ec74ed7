public import ArgumentParser
import OutputSinks
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis
import TrafficPipeline

/// `pktstat sniff`: capture live or read a file, print one row per packet.
/// An adapter: it parses options, wires capture → ring → writer, and maps errors to messages.
struct Sniff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sniff",
        abstract: "Capture packets (or read a capture file) and print one row per packet.",
        discussion: """
            Examples:
              sudo pktstat sniff --count 100           100 packets, default interface
              sudo pktstat sniff -i lo -c 10 udp port 53   a BPF filter, as tcpdump
              sudo pktstat sniff -i any --duration 10s --format csv > packets.csv
              sudo pktstat sniff -i eth0 -w out.pcap   write a pcap (Ctrl-C stops)
              sudo pktstat sniff -i eth0 -w out.pcap --print --format csv
              sudo pktstat sniff -i any -w out.pcapng   pcapng, one interface block per interface
              sudo pktstat sniff -i eth0 -w 'cap-%H%M%S.pcap' --rotate-seconds 60 --rotate-files 24
              sudo pktstat sniff -i eth0 -w ring.pcap -C 100 -W 10 --compress zstd   as tcpdump -C/-W
              sudo pktstat sniff -i eth0 --interval 1 --format csv   a row a second
              sudo pktstat sniff --count 100 --plot sizes.svg   capture and chart
              pktstat sniff -r out.pcap --format json  read a pcap or pcapng file
              pktstat sniff -r out.pcap --format csv | head -5
              pktstat sniff -D                         list interfaces (tcpdump -D)
              sudo pktstat sniff -i eth0 -Z nobody -w /tmp/x.pcap

            CSV columns: timestamp (epoch seconds, 9 decimals), length (on the wire), captured, protocol, src, dst, sport, dport, interface, direction (empty when absent; interface and direction come from Linux cooked headers, e.g. -i any). JSON: one object per line with the same keys (null when absent).

            Protocol labels name the outermost network header: TCP UDP ICMP ICMPv6 IGMP GRE ESP AH SCTP OSPF IPIP PIM VRRP ARP, else IPv4 or IPv6, else other. Headers are not validated: a label comes from the protocol fields as captured, even when the IP version or header length is bogus.

            Stop with --count, --duration, --idle-timeout or Ctrl-C (any number of SIGINT/SIGTERM/SIGHUP): what was captured is kept, the -w file is written in whole records, and the status lines (as tcpdump prints them) go to stderr. Under sudo, pktstat becomes SUDO_USER once the device is open, so the files it writes are yours; -Z USER picks another user, -Z root keeps root. Live capture needs CAP_NET_RAW: run with sudo, or once: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v pktstat)".
            """
    )

    @Option(
        name: [.short, .customLong("interface")],
        help: "Interface to capture on ('any' for all). Default: the first one libpcap lists, as tcpdump picks.")
    var interface: String?

    @Option(name: [.short, .customLong("count")], parsing: .unconditional, help: "Stop after this many packets.")
    var count: Int64?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Stop after this long (e.g. 10, 1.5s, 500ms, 2m).", valueName: "time"),
        transform: TimeSpan.parse)
    var duration: TimeSpan?

    @Option(
        name: .customLong("idle-timeout"), parsing: .unconditional,
        help: ArgumentHelp("Stop when no packet arrived for this long (e.g. 5, 1.5s, 500ms).", valueName: "time"),
        transform: TimeSpan.parse)
    var idleTimeout: TimeSpan?

    @Option(
        name: [.short, .customLong("read")],
        help: ArgumentHelp(
            "Read packets from a pcap or pcapng file (gzip, zstd too) or folder instead of an interface; "
                + "repeat to merge several by time.",
            valueName: "file"))
    var read: [String] = []

    @Option(parsing: .unconditional, help: TimeBoundArgument.help("With -r, only packets from this time on"))
    var since: TimeBoundArgument?

    @Option(parsing: .unconditional, help: TimeBoundArgument.help("With -r, only packets before this time"))
    var until: TimeBoundArgument?

    @Option(
        name: [.short, .customLong("write")],
        help: ArgumentHelp("Also write the packets to a pcap (or .pcapng) file (tcpdump reads it).", valueName: "file"))
    var write: String?

    @Flag(help: "Write -w as pcapng (the default for a name ending in .pcapng).")
    var pcapng = false

    @Option(
        name: [.customLong("rotate-seconds"), .customShort("G")], parsing: .unconditional,
        help: ArgumentHelp(
            "Start a new -w file at every multiple of N seconds of the clock, packets or not; "
                + "name the files with strftime % codes or get them numbered.",
            valueName: "n"))
    var rotateSeconds: Int64?

    @Option(
        name: .customLong("rotate-size"),
        help: ArgumentHelp("Start a new -w file before it passes SIZE (100M, 1G; powers of 1024).", valueName: "size"))
    var rotateSize: ByteSize?

    @Option(
        name: .customShort("C"), parsing: .unconditional,
        help: ArgumentHelp("As tcpdump -C: --rotate-size in millions of bytes.", valueName: "millions"))
    var rotateMillions: MillionBytes?

    @Option(
        name: [.customLong("rotate-files"), .customShort("W")], parsing: .unconditional,
        help: ArgumentHelp("Keep at most N rotated files: the oldest is deleted (tcpdump -W).", valueName: "n"))
    var rotateFiles: Int?

    @Option(
        help: ArgumentHelp(
            "Compress each -w file once it is closed: gzip or zstd (in the background).",
            valueName: "tool"))
    var compress: WritePlan.Compression?

    @Option(
        name: [.short, .customLong("snaplen")], parsing: .unconditional,
        help: "Bytes to capture per packet (0: the default, 262144, as tcpdump).")
    var snaplen: Int32 = 262_144

    @Flag(
        name: .customShort("n"),
        help: "Accepted for tcpdump habits (-n, -nn): pktstat never resolves names or ports.")
    var noResolve: Int

    @Flag(
        name: .customShort("l"),
        help: "Write each batch of rows as soon as it is formatted (line-buffered, as tcpdump -l).")
    var lineBuffered = false

    @Flag(
        name: [.customShort("p"), .customLong("no-promiscuous")],
        help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(
        name: [.customShort("B"), .customLong("buffer-size")], parsing: .unconditional,
        help: "Kernel capture buffer in KiB.")
    var bufferSizeKiB: Int32 = 8192

    @Option(help: "Output: table, csv or json (one object per line).")
    var format: TextFormat = .table

    @Option(
        help: ArgumentHelp(
            "Print one row per interval as it closes, instead of one per packet (1, 0.5, 250ms, 1m); the --plot chart uses it too, else a round interval (auto).",
            valueName: "time"),
        transform: IntervalOption.parse)
    var interval: IntervalOption?

    @Option(help: "Where intervals start: first (the capture start or first packet) or clock.")
    var align: AlignOption = .first

    @Option(
        help: ArgumentHelp(
            "At the end, chart packet sizes and bytes per interval into FILE.svg, FILE.gp or FILE.png.",
            valueName: "file"))
    var plot: String?

    @OptionGroup var look: ChartLookOptions

    @Flag(
        name: [.customShort("D"), .customLong("list-interfaces")],
        help: "List the interfaces you can capture on, and exit.")
    var listInterfaces = false

    @Flag(name: [.short, .customLong("quiet")], help: "Print no packet rows, only the status lines.")
    var quiet = false

    @Flag(help: "Print packet rows even while writing them to a file with -w (as tcpdump --print).")
    var print = false

    @Option(
        name: [.customShort("Z"), .customLong("relinquish-privileges")],
        help: ArgumentHelp(
            "After opening the device, become this user (default under sudo: SUDO_USER; '-Z root' stays root).",
            valueName: "user"))
    var relinquish: String?

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax); or give it as trailing words.", valueName: "expression"))
    var filter: String?

    @Argument(
        parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as with tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if let count, count <= 0 {
            throw ValidationError("-c/--count must be a positive number of packets (got \(count))")
        }
        if snaplen < 0 {
            throw ValidationError("-s/--snaplen must be a positive number of bytes, or 0 for the default")
        }
        if bufferSizeKiB <= 0 || bufferSizeKiB > 2_097_151 {
            throw ValidationError("--buffer-size is in KiB and must be between 1 and 2097151")
        }
        if filter != nil && !expression.isEmpty {
            throw ValidationError("give the filter either with --filter or as trailing words, not both")
        }
        if quiet && print { throw ValidationError("--quiet and --print contradict each other; pick one") }
        if interval == .auto && plot == nil {
            throw ValidationError("--interval auto is the --plot chart's default; give rows a time, e.g. --interval 1")
        }
        if let plot, ChartOutput.kind(of: plot) == nil {
            throw ValidationError("--plot \(plot): name a .svg, .gp or .png file")
        }
        if !read.isEmpty && interface != nil { throw ValidationError("use either -r FILE or -i INTERFACE, not both") }
        if read.isEmpty && (since != nil || until != nil) {
            throw ValidationError("--since and --until apply to files: add -r FILE")
        }
        _ = try timeWindow(since: since, until: until)
        if rotateSize != nil && rotateMillions != nil { throw ValidationError("give --rotate-size or -C, not both") }
        try writeOptions.validate()
    }

    var writeOptions: WriteOptionValues {
        WriteOptionValues(
            write: write, pcapng: pcapng, rotateSeconds: rotateSeconds,
            rotateSize: rotateSize?.bytes ?? rotateMillions?.bytes, rotateFiles: rotateFiles, compress: compress,
            reading: !read.isEmpty)
    }

    var filterExpression: String? {
        if let filter { return filter }
        return expression.isEmpty ? nil : expression.joined(separator: " ")
    }

    func run() throws {
        try ErrorReport.run {
            if listInterfaces { return try printInterfaces() }
            if read.isEmpty { CaptureHelper.handOver() }  // the package's group members: CaptureHelper.swift
            let stop = StopFlag()
            let out = ByteOutput.standardOutput()
            if lineBuffered { out.threshold = 1 }
            let writer = RecordWriter(format: format)
            let limits = RunLimits(
                count: count.map { UInt64($0) },
                durationNs: duration?.nanoseconds,
                idleTimeoutNs: idleTimeout?.nanoseconds
            )
            if !read.isEmpty {
                try readFile(read, limits: limits, stop: stop, out: out, writer: writer)
            } else {
                try captureLive(limits: limits, stop: stop, out: out, writer: writer)
            }
        }
    }

    /// Packet rows, interval rows, or neither (-q, -w without --print), plus the chart session.
    private func makeEmitter(out: ByteOutput, writer: RecordWriter, live: Bool) -> SniffEmitter {
        let intervalNs = interval?.nanoseconds
        let printing = !quiet && (write == nil || print)
        var session: SeriesSession?
        if intervalNs != nil || plot != nil {
            session = SeriesSession(
                intervalNs: intervalNs ?? ChartInterval.autoAnalyzerNs, align: align == .clock ? .clock : .first,
                start: live ? LivePipeline.realtimeNow() : nil, late: .counted,
                keepChart: plot != nil, keepIntervals: false,
                chart: intervalNs == nil ? ChartBuffer(line: .auto) : ChartBuffer())
        }
        return SniffEmitter(
            out: out,
            packetRows: printing && intervalNs == nil ? writer : nil,
            seriesRows: printing && intervalNs != nil
                ? SeriesWriter(format: format, protocols: .all, includeDrops: live) : nil,
            session: session)
    }

    /// Writes the --plot chart (after the capture, as the user we run as by then).
    private func writePlot(_ emitter: SniffEmitter) throws {
        guard let plot, let session = emitter.session else { return }
        let commandLine = (["pktstat"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let auto = (interval ?? .auto) == .auto
        let options = look.options(originNs: auto ? nil : session.analyzer.anchorNs)
        let request = ChartOutput.Request(
            kind: ChartOutput.kind(of: plot) ?? .svg, options: options, commandLine: commandLine)
        try ChartOutput.write(session.chart, summary: session.analyzer.summary, request, to: ChartOutput.prepare(plot))
        if !quiet { Console.line("chart written to \(plot)") }
    }

    /// Drops root (-Z, or SUDO_USER under sudo) once the capture is open, before any file is created.
    private func relinquishPrivileges() throws(PrivilegeError) {
        try Privileges.relinquish(explicit: relinquish)
    }

    private func printInterfaces() throws {
        let devices = try CaptureDevice.all()
        let out = ByteOutput.standardOutput()
        for (i, d) in devices.enumerated() {
            var line = "\(i + 1).\(d.name)"
            if let desc = d.description { line += " (\(desc))" }
            out.write(line + " " + d.flagText + "\n")
        }
        try? out.flush()
    }

    // MARK: files

    private func readFile(
        _ paths: [String], limits: RunLimits, stop: StopFlag, out: ByteOutput, writer: RecordWriter
    ) throws {
        let path = paths.count == 1 ? paths[0] : "\(paths[0]) and \(paths.count - 1) more"
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        let emitter = makeEmitter(out: out, writer: writer, live: false)
        let window = try timeWindow(since: since, until: until)
        let input = FileSource(paths: paths, window: window, filter: filterExpression, copyPath: write, limits: limits)
        var outputError: OutputError?
        var readError: (any Error)?
        do {
            try input.stream(
                stop: stop,
                opened: { file in
                    try relinquishPrivileges()
                    if !quiet || write != nil {
                        Console.line(
                            "reading from file \(path), link-type \(file.linkTypeName) (\(file.linkTypeDescription)), snapshot length \(file.snapLength)"
                        )
                    }
                    emitter.linkType(named: file.linkTypeName)
                    emitter.start()
                }
            ) { batch in
                emitter.add(batch)
                do throws(OutputError) { try out.flushIfFull() } catch {
                    outputError = error
                    return false
                }
                return true
            }
        } catch {
            readError = error
        }
        emitter.finish(drops: nil)
        if let late = emitter.latePackets { Console.line(late) }
        if outputError == nil {
            do throws(OutputError) { try out.flush() } catch { outputError = error }
        }
        if let outputError, case .writeFailed = outputError { throw outputError }
        if readError == nil { try writePlot(emitter) }
        if let readError { throw readError }
    }

    // MARK: live

    private func captureLive(limits: RunLimits, stop: StopFlag, out: ByteOutput, writer: RecordWriter) throws {
        var options = LiveOptions(interface: try interface ?? CaptureDevice.defaultInterface())
        options.snapLength = snaplen == 0 ? 262_144 : snaplen
        options.promiscuous = !noPromiscuous
        options.bufferBytes = bufferSizeKiB * 1024
        // A person watching a terminal wants each packet at once; pipes and files get batches.
        options.immediate = !quiet && (write == nil || print) && out.isTerminal
        let pipeline = try LivePipeline.open(options)
        for w in pipeline.warnings { Console.line("warning: \(w)") }
        if let f = filterExpression { try pipeline.setFilter(f) }
        try relinquishPrivileges()
        let application = "pktstat \(Version.pktstat)"
        if let plan = writeOptions.plan(interfaceNames: pipeline.interfaceNames, application: application) {
            try pipeline.startWriting(plan)
        }
        Console.line(pipeline.listeningLine)
        var writer = writer
        writer.interfaceNames = InterfaceNames(pipeline.interfaceNames)
        let interrupter = pipeline.interrupter
        let trap = SignalTrap(stop: stop) { interrupter.breakLoop() }
        defer { withExtendedLifetime(trap) {} }

        let emitter = makeEmitter(out: out, writer: writer, live: true)
        emitter.linkType(named: pipeline.linkTypeName)
        emitter.start()
        try out.flush()
        var outputError: OutputError?
        var outcome: LivePipeline.Outcome?
        do {
            _ = try LivePipeline.run(pipeline, limits: limits, stop: stop, ended: { outcome = $0 }) {
                event throws(OutputError) in
                switch event {
                case .batch(let batch): emitter.add(batch)
                case .tick(let now, let settled, let drops):
                    emitter.tick(drops: drops, nowNs: now, closeThroughNs: settled)
                }
                try out.flush()
            }
        } catch let e as OutputError {
            outputError = e
        }
        // `run` hands over its outcome before returning or rethrowing a consumer's error.
        guard let ended = outcome else { return }
        if outputError == nil {
            emitter.finish(drops: ended.drops)
            do throws(OutputError) { try out.flush() } catch { outputError = error }
        }
        for line in ended.statusLines { Console.line(line) }
        if let late = emitter.latePackets { Console.line(late) }
        if let outputError, case .writeFailed = outputError { throw outputError }
        if ended.captureError == nil { try writePlot(emitter) }
        if let failure = ended.captureError { throw failure }
    }
}

extension TextFormat: ExpressibleByArgument {}
