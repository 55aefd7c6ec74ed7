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

/// The `-w` options of `sniff`, related to each other and turned into a `WritePlan`.
struct WriteOptionValues {
    var write: String?
    var pcapng: Bool
    var rotateSeconds: Int64?
    var rotateSize: Int64?
    var rotateFiles: Int?
    var compress: WritePlan.Compression?
    var reading: Bool

    var rotates: Bool { rotateSeconds != nil || rotateSize != nil }

    func validate() throws {
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
        plan.rotateBytes = rotateSize
        plan.maxFiles = rotateFiles
        plan.compression = compress
        plan.application = application
        plan.interfaceNames = interfaceNames
        return plan
    }
}
