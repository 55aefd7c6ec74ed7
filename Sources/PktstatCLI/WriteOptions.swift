public import ArgumentParser
import PacketCapture

/// A size in bytes for `--rotate-size`: `100M`, `1G`, `512K`, `1000000` (K, M, G, T are powers
/// of 1024; a `B` or `iB` after them is accepted).
struct ByteSize: ExpressibleByArgument, Equatable {
    let bytes: Int64

    init?(argument: String) {
        var text = argument.uppercased()
        for tail in ["IB", "B"] where text.hasSuffix(tail) && text.count > tail.count {
            text.removeLast(tail.count)
            break
        }
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var scale: Int64 = 1
        if let last = text.last, let unit = units[last] {
            scale = unit
            text.removeLast()
        }
        guard let value = Double(text), value > 0, value * Double(scale) < 9e18 else { return nil }
        bytes = Int64(value * Double(scale))
        guard bytes > 0 else { return nil }
    }

    static var defaultCompletionKind: CompletionKind { .list(["100M", "1G"]) }
}

/// tcpdump's `-C`: millions of bytes (1,000,000, not 1,048,576), as tcpdump's man page says.
struct MillionBytes: ExpressibleByArgument, Equatable {
    let bytes: Int64

    init?(argument: String) {
        guard let value = Double(argument), value > 0, value < 9e12 else { return nil }
        bytes = Int64(value * 1_000_000)
        guard bytes > 0 else { return nil }
    }
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

    private var rotateBytes: Int64? { rotateSize?.bytes ?? rotateMillions?.bytes }

    var rotates: Bool { rotateSeconds != nil || rotateBytes != nil }

    func validate(reading: Bool) throws {
        if rotateSize != nil && rotateMillions != nil { throw ValidationError("give --rotate-size or -C, not both") }
        guard let write else {
            if pcapng || rotates || rotateFiles != nil || compress != nil {
                throw ValidationError("--pcapng, --rotate-*, -C/-G/-W and --compress apply to -w FILE; add one")
            }
            return
        }
        if let s = rotateSeconds, s <= 0 {
            throw ValidationError("--rotate-seconds/-G must be a positive number of seconds")
        }
        if let n = rotateFiles, n <= 0 {
            throw ValidationError("--rotate-files/-W must be a positive number of files")
        }
        if rotateFiles != nil && !rotates {
            throw ValidationError(
                "--rotate-files/-W keeps a ring of rotated files; add --rotate-seconds or --rotate-size")
        }
        if write == "-" && (rotates || compress != nil) {
            throw ValidationError("standard output (-w -) cannot be rotated or compressed; name a file")
        }
        if reading && (rotates || compress != nil) {
            throw ValidationError("rotation and --compress are for live captures; with -r write one file")
        }
        if reading && pcapng && !write.hasSuffix(".pcapng") {
            throw ValidationError("with -r, pcapng is chosen by the name: write to a file ending in .pcapng")
        }
    }

    /// The plan for the capture, or nil without -w.
    func plan(interfaceNames: [UInt32: String], application: String) -> WritePlan? {
        guard let write else { return nil }
        var plan = WritePlan(path: write, format: pcapng ? .pcapng : nil)
        plan.rotateSeconds = rotateSeconds
        plan.rotateBytes = rotateBytes
        plan.maxFiles = rotateFiles
        plan.compression = compress
        plan.application = application
        plan.interfaceNames = interfaceNames
        return plan
    }
}
