public import ArgumentParser
import PacketCapture

/// A size for `--rotate-size` or `-C`, parsed by `WriteRequest`; nil is the parser's error.
private func size(_ bytes: Int64?, _ expected: String) throws -> Int64 {
    guard let bytes else { throw ValidationError(expected) }
    return bytes
}

extension WritePlan.Compression: ExpressibleByArgument {}

/// The `-w` options of `sniff` (tcpdump's -w, -C, -G, -W and pktstat's rotation and compression),
/// related to each other and turned into a `WritePlan`.
struct WriteOptions: ParsableArguments {
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
        help: ArgumentHelp("Start a new -w file before it passes SIZE (100M, 1G; powers of 1024).", valueName: "size"),
        transform: { try size(WriteRequest.parseSize($0), "give bytes, or K, M or G of them: 100M, 1G") })
    var rotateSize: Int64?

    @Option(
        name: .customShort("C"), parsing: .unconditional,
        help: ArgumentHelp("As tcpdump -C: --rotate-size in millions of bytes.", valueName: "millions"),
        transform: { try size(WriteRequest.parseMillions($0), "give millions of bytes: 100, 0.5") })
    var rotateMillions: Int64?

    @Option(
        name: [.customLong("rotate-files"), .customShort("W")], parsing: .unconditional,
        help: ArgumentHelp("Keep at most N rotated files: the oldest is deleted (tcpdump -W).", valueName: "n"))
    var rotateFiles: Int?

    @Option(
        help: ArgumentHelp(
            "Compress each -w file once it is closed: gzip or zstd (in the background).",
            valueName: "tool"))
    var compress: WritePlan.Compression?

    /// The options as given, checked and planned by `WriteRequest`.
    var request: WriteRequest {
        var r = WriteRequest()
        r.path = write
        r.pcapng = pcapng
        r.rotateSeconds = rotateSeconds
        r.rotateSize = rotateSize
        r.rotateMillions = rotateMillions
        r.rotateFiles = rotateFiles
        r.compression = compress
        return r
    }

    func validate(reading: Bool) throws {
        if let problem = request.problem(reading: reading) { throw ValidationError(problem) }
    }

    /// The plan for the capture, or nil without -w.
    func plan(interfaceNames: [UInt32: String], application: String) -> WritePlan? {
        request.plan(interfaceNames: interfaceNames, application: application)
    }
}
