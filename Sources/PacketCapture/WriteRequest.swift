/// The `-w` options as given (tcpdump's -w, -C, -G, -W and pktstat's rotation and compression):
/// sizes parsed, the options checked against each other, then turned into a `WritePlan`.
public struct WriteRequest: Sendable, Equatable {
    /// `-w`: a path, a strftime pattern, or "-"; nil without -w.
    public var path: String?
    /// `--pcapng`.
    public var pcapng = false
    /// `-G` / `--rotate-seconds`.
    public var rotateSeconds: Int64?
    /// `--rotate-size`, in bytes.
    public var rotateSize: Int64?
    /// `-C`, in bytes.
    public var rotateMillions: Int64?
    /// `-W` / `--rotate-files`.
    public var rotateFiles: Int?
    /// `--compress`.
    public var compression: WritePlan.Compression?

    public init() {}

    private var rotateBytes: Int64? { rotateSize ?? rotateMillions }

    public var rotates: Bool { rotateSeconds != nil || rotateBytes != nil }

    /// What is wrong with the options together (`reading`: packets come from files, not live),
    /// as the message for the user; nil when nothing is.
    public func problem(reading: Bool) -> String? {
        if rotateSize != nil && rotateMillions != nil { return "give --rotate-size or -C, not both" }
        guard let path else {
            if pcapng || rotates || rotateFiles != nil || compression != nil {
                return "--pcapng, --rotate-*, -C/-G/-W and --compress apply to -w FILE; add one"
            }
            return nil
        }
        if let s = rotateSeconds, s <= 0 { return "--rotate-seconds/-G must be a positive number of seconds" }
        if let n = rotateFiles, n <= 0 { return "--rotate-files/-W must be a positive number of files" }
        if rotateFiles != nil && !rotates {
            return "--rotate-files/-W keeps a ring of rotated files; add --rotate-seconds or --rotate-size"
        }
        if path == "-" && (rotates || compression != nil) {
            return "standard output (-w -) cannot be rotated or compressed; name a file"
        }
        if reading && (rotates || compression != nil) {
            return "rotation and --compress are for live captures; with -r write one file"
        }
        if reading && pcapng && !path.hasSuffix(".pcapng") {
            return "with -r, pcapng is chosen by the name: write to a file ending in .pcapng"
        }
        return nil
    }

    /// The plan for the capture, or nil without -w.
    public func plan(interfaceNames: [UInt32: String], application: String) -> WritePlan? {
        guard let path else { return nil }
        var plan = WritePlan(path: path, format: pcapng ? .pcapng : nil)
        plan.rotateSeconds = rotateSeconds
        plan.rotateBytes = rotateBytes
        plan.maxFiles = rotateFiles
        plan.compression = compression
        plan.application = application
        plan.interfaceNames = interfaceNames
        return plan
    }

    /// A size for `--rotate-size`: `100M`, `1G`, `512K`, `1000000` (K, M, G, T are powers of 1024;
    /// a `B` or `iB` after them is accepted); nil unless a positive size below 9e18 bytes.
    public static func parseSize(_ text: String) -> Int64? {
        var text = text.uppercased()
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
        let bytes = Int64(value * Double(scale))
        return bytes > 0 ? bytes : nil
    }

    /// tcpdump's `-C`: millions of bytes (1,000,000, not 1,048,576), as tcpdump's man page says;
    /// nil unless a positive size.
    public static func parseMillions(_ text: String) -> Int64? {
        guard let value = Double(text), value > 0, value < 9e12 else { return nil }
        let bytes = Int64(value * 1_000_000)
        return bytes > 0 ? bytes : nil
    }
}
