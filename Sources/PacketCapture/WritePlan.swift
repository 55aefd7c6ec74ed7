import Glibc

/// What `-w` writes: the file (or the pattern of the files), its format, when to start a new file,
/// how many to keep and how to compress the closed ones.
public struct WritePlan: Sendable {
    public enum Format: Sendable, Equatable {
        case pcap, pcapng
    }

    public enum Compression: String, Sendable, CaseIterable {
        case gzip, zstd

        /// What the compressor appends to a file name.
        public var suffix: String { self == .gzip ? ".gz" : ".zst" }
    }

    /// A path, a strftime pattern (`cap-%Y%m%d-%H%M%S.pcap`), or "-" for standard output.
    public var path: String
    public var format: Format
    /// Start a new file at every multiple of this many seconds of the wall clock (UTC epoch).
    public var rotateSeconds: Int64?
    /// Start a new file before a record that would take the file past this many bytes.
    public var rotateBytes: Int64?
    /// Keep at most this many files: the oldest one this run wrote is deleted.
    public var maxFiles: Int?
    /// Compress each file once it is closed, in a worker that never blocks the capture.
    public var compression: Compression?
    /// The application named in a pcapng Section Header Block.
    public var application: String = "pktstat"
    /// Interface index → name (SLL2 captures, `-i any`): names of the pcapng interfaces.
    public var interfaceNames: [UInt32: String] = [:]

    /// A plain single file; pcapng when the name ends in `.pcapng`.
    public init(path: String, format: Format? = nil) {
        self.path = path
        self.format = format ?? (path.hasSuffix(".pcapng") ? .pcapng : .pcap)
    }

    /// More than one file may be written.
    public var rotates: Bool { rotateSeconds != nil || rotateBytes != nil }
}

/// The names of the files a rotating `-w` writes, as tcpdump makes them.
///
/// A pattern with `%` goes through strftime(3) (local time, as tcpdump) at the start of each
/// file's time slot; a second file within the same name gets a number appended (`1`, `2`, ...).
/// A name without `%` is numbered as tcpdump `-C` numbers: `NAME`, `NAME1`, `NAME2`, ...; with a
/// ring of N files (`-W N`), `NAME0` to `NAME<N-1>`, zero-padded to one width and reused in turn.
public struct FileNamer: Sendable {
    public let pattern: String
    public let ring: Int?
    /// Numbers wrap at `ring` (tcpdump reuses the names); not when compressing, so that a name is
    /// never reused while the worker may still be compressing the file of the same name.
    public let wraps: Bool
    private var lastBase: String?
    private var sequence = 0

    public init(pattern: String, ring: Int?, wraps: Bool = true) {
        self.pattern = pattern
        self.ring = ring
        self.wraps = wraps
    }

    public var usesTime: Bool { pattern.contains("%") }

    /// The name of the next file, for a file whose slot starts at `epochSeconds`.
    public mutating func next(epochSeconds: Int64) -> String {
        if usesTime {
            let base = Self.strftime(pattern, epochSeconds)
            sequence = base == lastBase ? sequence + 1 : 0
            lastBase = base
            return sequence == 0 ? base : base + String(sequence)
        }
        defer { sequence += 1 }
        guard let ring else { return sequence == 0 ? pattern : pattern + String(sequence) }
        let n = wraps ? sequence % ring : sequence
        let digits = String(n)
        let width = String(max(ring - 1, 0)).count
        return pattern + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// strftime(3) in local time, as tcpdump names `-G` files.
    static func strftime(_ format: String, _ epochSeconds: Int64) -> String {
        var t = time_t(epochSeconds)
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = Glibc.strftime(&buffer, buffer.count, format, &parts)
        guard n > 0 else { return format }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
