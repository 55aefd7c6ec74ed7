public import ArgumentParser
import Dispatch
import Foundation
import PacketCapture
import PacketRecords
import Rendering
import TrafficAnalysis

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
              sudo pktstat sniff -i eth0 --interval 1 --format csv   a row a second
              sudo pktstat sniff --count 100 --plot sizes.svg   capture and chart
              pktstat sniff -r out.pcap --format json  read a pcap or pcapng file
              pktstat sniff -r out.pcap --format csv | head -5
              pktstat sniff -D                         list interfaces (tcpdump -D)
              sudo pktstat sniff -i eth0 -Z nobody -w /tmp/x.pcap

            CSV columns: timestamp (epoch seconds, 9 decimals), length (on the wire), captured, protocol, src, dst, sport, dport (empty when absent). JSON: one object per line with the same keys (null when absent).

            Protocol labels name the outermost network header: TCP UDP ICMP ICMPv6 IGMP GRE ESP AH SCTP OSPF IPIP PIM VRRP ARP, else IPv4 or IPv6, else other. Headers are not validated: a label comes from the protocol fields as captured, even when the IP version or header length is bogus.

            Stop with --count, --duration, --idle-timeout or Ctrl-C: what was captured is kept, and the status lines (as tcpdump prints them) go to stderr. Under sudo, pktstat becomes SUDO_USER once the device is open, so the files it writes are yours; -Z USER picks another user, -Z root keeps root. Live capture needs CAP_NET_RAW: run with sudo, or once: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v pktstat)".
            """
    )

    @Option(name: [.short, .customLong("interface")], help: "Interface to capture on ('any' for all). Default: the first one libpcap lists, as tcpdump picks.")
    var interface: String?

    @Option(name: [.short, .customLong("count")], help: "Stop after this many packets.")
    var count: UInt64?

    @Option(help: ArgumentHelp("Stop after this long (e.g. 10, 1.5s, 500ms, 2m).", valueName: "time"))
    var duration: String?

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Stop when no packet arrived for this long.", valueName: "time"))
    var idleTimeout: String?

    @Option(name: [.short, .customLong("read")], help: ArgumentHelp("Read packets from a pcap or pcapng file instead of an interface.", valueName: "file"))
    var read: String?

    @Option(name: [.short, .customLong("write")], help: ArgumentHelp("Also write the packets to a pcap file (tcpdump reads it).", valueName: "file"))
    var write: String?

    @Option(name: [.short, .customLong("snaplen")], help: "Bytes to capture per packet.")
    var snaplen: Int32 = 262_144

    @Flag(name: [.customShort("p"), .customLong("no-promiscuous")], help: "Do not put the interface into promiscuous mode.")
    var noPromiscuous = false

    @Option(name: [.customShort("B"), .customLong("buffer-size")], help: "Kernel capture buffer in KiB.")
    var bufferSizeKiB: Int32 = 8192

    @Option(help: "Output: table, csv or json (one object per line).")
    var format: RecordFormat = .table

    @Option(help: ArgumentHelp("Print one row per interval as it closes, instead of one per packet (1, 0.5, 250ms, 1m); the --plot chart uses it too, else a round interval (auto).", valueName: "time"))
    var interval: String?

    @Option(help: "Where intervals start: first (the capture start or first packet) or clock.")
    var align: AlignOption = .first

    @Option(help: ArgumentHelp("At the end, chart packet sizes and bytes per interval into FILE.svg, FILE.gp or FILE.png.", valueName: "file"))
    var plot: String?

    @Option(help: "Chart title for --plot.")
    var title: String = "Packet size over time"

    @Option(name: .customLong("y-max"), help: ArgumentHelp("Top of the --plot packet size axis in bytes; longer packets are marked on its top edge.", valueName: "bytes"))
    var yMax: UInt32?

    @Flag(help: "A logarithmic packet size axis for --plot.")
    var log = false

    @Flag(name: [.customShort("D"), .customLong("list-interfaces")], help: "List the interfaces you can capture on, and exit.")
    var listInterfaces = false

    @Flag(name: [.short, .customLong("quiet")], help: "Print no packet rows, only the status lines.")
    var quiet = false

    @Flag(help: "Print packet rows even while writing them to a file with -w (as tcpdump --print).")
    var print = false

    @Option(name: [.customShort("Z"), .customLong("relinquish-privileges")], help: ArgumentHelp("After opening the device, become this user (default under sudo: SUDO_USER; '-Z root' stays root).", valueName: "user"))
    var relinquish: String?

    @Option(help: ArgumentHelp("A BPF filter (tcpdump syntax); or give it as trailing words.", valueName: "expression"))
    var filter: String?

    @Argument(parsing: .remaining, help: ArgumentHelp("A BPF filter expression, as with tcpdump.", valueName: "expression"))
    var expression: [String] = []

    func validate() throws {
        if let count, count == 0 { throw ValidationError("--count must be at least 1") }
        if snaplen <= 0 { throw ValidationError("--snaplen must be a positive number of bytes") }
        if bufferSizeKiB <= 0 || bufferSizeKiB > 2_097_151 { throw ValidationError("--buffer-size is in KiB and must be between 1 and 2097151") }
        if filter != nil && !expression.isEmpty {
            throw ValidationError("give the filter either with --filter or as trailing words, not both")
        }
        if let duration { _ = try parseDuration(duration, option: "--duration") }
        if let idleTimeout { _ = try parseDuration(idleTimeout, option: "--idle-timeout") }
        if quiet && print { throw ValidationError("--quiet and --print contradict each other; pick one") }
        if ChartInterval.isAuto(interval) {
            if plot == nil { throw ValidationError("--interval auto is the --plot chart's default; give rows a time, e.g. --interval 1") }
        } else if let interval {
            do { _ = try IntervalSpec(parsing: interval) } catch { throw ValidationError("\(error.description); \(error.hint)") }
        }
        if let plot, ChartOutput.kind(of: plot) == nil {
            throw ValidationError("--plot \(plot): name a .svg, .gp or .png file")
        }
        if read != nil && interface != nil { throw ValidationError("use either -r FILE or -i INTERFACE, not both") }
    }

    var filterExpression: String? {
        if let filter { return filter }
        return expression.isEmpty ? nil : expression.joined(separator: " ")
    }

    func run() throws {
        do {
            if listInterfaces { return try printInterfaces() }
            let stop = StopFlag()
            let out = ByteOutput.standardOutput()
            let writer = RecordWriter(format: format)
            let limits = RunLimits(
                count: count,
                durationNs: try duration.map { try parseDuration($0, option: "--duration") },
                idleTimeoutNs: try idleTimeout.map { try parseDuration($0, option: "--idle-timeout") }
            )
            if let read {
                try readFile(read, limits: limits, stop: stop, out: out, writer: writer)
            } else {
                try captureLive(limits: limits, stop: stop, out: out, writer: writer)
            }
        } catch let e as any CustomHintedError {
            Console.error(e.description, hint: e.hint)
            throw ExitCode(1)
        } catch let e as OutputError {
            Console.error(e.description)
            throw ExitCode(1)
        }
    }

    /// Packet rows, interval rows, or neither (-q, -w without --print), plus the chart session.
    private func makeEmitter(out: ByteOutput, writer: RecordWriter, live: Bool) -> SniffEmitter {
        let intervalNs = interval.flatMap { try? IntervalSpec(parsing: $0).nanoseconds }
        let printing = !quiet && (write == nil || print)
        var session: SeriesSession?
        if intervalNs != nil || plot != nil {
            session = SeriesSession(
                intervalNs: intervalNs ?? ChartInterval.autoAnalyzerNs, align: align == .clock ? .clock : .first,
                start: live ? SniffEmitter.realtimeNow() : nil, keepChart: plot != nil, keepIntervals: false)
            if intervalNs == nil { session?.chart = ChartBuffer(line: .auto) }
        }
        let seriesFormat: SeriesFormat = format == .csv ? .csv : format == .json ? .json : .table
        return SniffEmitter(
            out: out,
            packetRows: printing && intervalNs == nil ? writer : nil,
            seriesRows: printing && intervalNs != nil ? SeriesWriter(format: seriesFormat, protocols: .all, includeDrops: live) : nil,
            session: session)
    }

    /// Writes the --plot chart (after the capture, as the user we run as by then).
    private func writePlot(_ emitter: SniffEmitter) throws {
        guard let plot, let session = emitter.session else { return }
        let commandLine = (["pktstat"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let auto = interval == nil || ChartInterval.isAuto(interval)
        let options = ChartOptions(
            title: title, originNs: auto ? nil : session.analyzer.anchorNs, yMax: yMax, logScale: log)
        let request = ChartOutput.Request(kind: ChartOutput.kind(of: plot) ?? .svg, options: options, commandLine: commandLine)
        try ChartOutput.write(session.chart, summary: session.analyzer.summary, request, to: ChartOutput.prepare(plot))
        if !quiet { Console.line("chart written to \(plot)") }
    }

    /// Drops root (-Z, or SUDO_USER under sudo) once the capture is open, before any file is created.
    private func relinquishPrivileges() throws(PrivilegeError) {
        if let user = Privileges.target(explicit: relinquish) { try Privileges.drop(to: user) }
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

    private func readFile(_ path: String, limits: RunLimits, stop: StopFlag, out: ByteOutput, writer: RecordWriter) throws {
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        let emitter = makeEmitter(out: out, writer: writer, live: false)
        var input = FileInput(path: path, filter: filterExpression, writePath: write)
        input.limits = limits
        var outputError: OutputError?
        var readError: (any Error)?
        do {
            try input.stream(stop: stop, opened: { file in
                try relinquishPrivileges()
                if !quiet || write != nil {
                    Console.line("reading from file \(path), link-type \(file.linkTypeName) (\(file.linkTypeDescription)), snapshot length \(file.snapLength)")
                }
                emitter.start()
            }) { batch in
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
        if outputError == nil {
            do throws(OutputError) { try out.flush() } catch { outputError = error }
        }
        if let outputError, case .writeFailed = outputError { throw outputError }
        if readError == nil { try writePlot(emitter) }
        if let readError { throw readError }
    }

    // MARK: live

    private func captureLive(limits: RunLimits, stop: StopFlag, out: ByteOutput, writer: RecordWriter) throws {
        let name = try interface ?? CaptureDevice.defaultInterface()
        var options = LiveOptions(interface: name)
        options.snapLength = snaplen
        options.promiscuous = !noPromiscuous
        options.bufferBytes = bufferSizeKiB * 1024
        let printing = !quiet && (write == nil || print)
        // A person watching a terminal wants each packet at once; pipes and files get batches.
        options.immediate = printing && out.isTerminal
        let capture = try PcapCapture.openLive(options)
        for w in capture.warnings { Console.line("warning: \(w)") }
        if let f = filterExpression { try capture.setFilter(f) }
        try relinquishPrivileges()
        if let write { try capture.startWriting(to: write) }
        Console.line("listening on \(name), link-type \(capture.linkTypeName) (\(capture.linkTypeDescription)), snapshot length \(capture.snapLength) bytes")

        let interrupter = capture.makeInterrupter()
        let trap = SignalTrap(stop: stop) { interrupter.breakLoop() }
        defer { withExtendedLifetime(trap) {} }

        let ring = RecordRing(capacity: 1 << 16)
        let job = CaptureJob(capture: capture, ring: ring, limits: limits, stop: stop)
        job.start()

        let emitter = makeEmitter(out: out, writer: writer, live: true)
        emitter.start()
        var outputError: OutputError?
        // Packets reach us up to this long after their timestamp (kernel timeout + batching).
        let deliveryDelayNs: Int64 = Int64(options.timeoutMs) * 1_000_000 + 400_000_000
        var lastTick: Int64 = 0
        do throws(OutputError) {
            try out.flush()
            while ring.drain(timeoutMs: 50, { batch in emitter.add(batch) }) {
                let now = SniffEmitter.realtimeNow()
                if emitter.session != nil && now - lastTick >= 100_000_000 {
                    lastTick = now
                    emitter.tick(drops: job.drops(ring: ring), nowNs: now, closeThroughNs: now - deliveryDelayNs)
                }
                try out.flush()
            }
        } catch let e {
            outputError = e
            stop.request()
            interrupter.breakLoop()
            while ring.drain(timeoutMs: 50, { _ in }) {}
        }
        job.wait()
        let captured = capture.packetsCaptured
        let stats = capture.stats()
        if outputError == nil {
            emitter.finish(drops: job.drops(ring: ring))
            do throws(OutputError) { try out.flush() } catch { outputError = error }
        }
        var failure: CaptureError? = job.error
        do throws(CaptureError) { try capture.finishWriting() } catch { failure = failure ?? error }

        Console.line("\(captured) packet\(captured == 1 ? "" : "s") captured")
        if let stats {
            Console.line("\(stats.received) packet\(stats.received == 1 ? "" : "s") received by filter")
            Console.line("\(stats.droppedByKernel) packet\(stats.droppedByKernel == 1 ? "" : "s") dropped by kernel")
            if stats.droppedByInterface > 0 {
                Console.line("\(stats.droppedByInterface) packet\(stats.droppedByInterface == 1 ? "" : "s") dropped by interface")
            }
        }
        let ringDrops = ring.droppedCount
        Console.line("\(ringDrops) packet\(ringDrops == 1 ? "" : "s") dropped by ring")
        if let outputError, case .writeFailed = outputError { throw outputError }
        if failure == nil { try writePlot(emitter) }
        if let failure { throw failure }
    }
}

/// The capture thread: runs libpcap, pushes record batches into the ring, never waits on output.
final class CaptureJob: @unchecked Sendable {
    private let capture: PcapCapture
    private let ring: RecordRing
    private let limits: RunLimits
    private let stop: StopFlag
    private let done = DispatchSemaphore(value: 0)
    private(set) var error: CaptureError?
    private(set) var end: RunEnd?

    init(capture: PcapCapture, ring: RecordRing, limits: RunLimits, stop: StopFlag) {
        self.capture = capture
        self.ring = ring
        self.limits = limits
        self.stop = stop
    }

    func start() {
        let thread = Thread { [self] in
            do throws(CaptureError) {
                end = try capture.run(limits: limits, stop: stop) { batch in
                    ring.push(batch)
                    return true
                }
            } catch {
                self.error = error
            }
            ring.close()
            done.signal()
        }
        thread.name = "pktstat-capture"
        thread.start()
    }

    func wait() { done.wait() }

    /// Cumulative drops: the kernel's (pcap_stats from this thread is safe: the capture thread
    /// never calls it) and the ring's.
    func drops(ring: RecordRing) -> DropCounters {
        let k = capture.stats()
        return DropCounters(kernel: k?.droppedByKernel ?? 0, interface: k?.droppedByInterface ?? 0, ring: ring.droppedCount)
    }
}

/// Parses `10`, `1.5`, `1.5s`, `500ms`, `2m`, `1h`, `250us` into nanoseconds.
func parseDuration(_ text: String, option: String) throws -> Int64 {
    let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
    var number = Substring(text.trimmingCharacters(in: .whitespaces))
    var scale = 1e9
    for (suffix, s) in units where number.hasSuffix(suffix) {
        number = number.dropLast(suffix.count)
        scale = s
        break
    }
    guard let value = Double(number), value.isFinite else {
        throw ValidationError("\(option) '\(text)' is not a time; use e.g. 10, 1.5s, 500ms or 2m")
    }
    guard value > 0 else { throw ValidationError("\(option) must be greater than zero (got '\(text)')") }
    let ns = value * scale
    guard ns >= 1, ns < 9.2e18 else { throw ValidationError("\(option) '\(text)' is out of range") }
    return Int64(ns)
}

extension RecordFormat: ExpressibleByArgument {}
