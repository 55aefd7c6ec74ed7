/// Why a capture file could not be opened or read to its end.
///
/// `description` is one line, worded like libpcap's message where libpcap has one (so scripts and
/// people who know tcpdump recognise it); `hint` is the fix, when there is one.
public struct CaptureFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in broad strokes, for callers that branch on it (tests, exit codes).
    public enum Kind: Sendable, Equatable {
        /// The path could not be opened or read: missing, a directory, no permission, I/O error.
        case access
        /// The file is a compressed archive, not a capture.
        case compressed
        /// Neither pcap nor pcapng (from the magic number), or a version we do not read.
        case unsupportedFormat
        /// The file ends in the middle of a header, record or block.
        case truncated
        /// A length, version or option contradicts the format.
        case corrupt
        /// pcapng interfaces with different link types or snap lengths (libpcap refuses them too).
        case mixedInterfaces
    }

    public var kind: Kind
    public var description: String
    public var hint: String?

    public init(_ kind: Kind, _ description: String, hint: String? = nil) {
        self.kind = kind
        self.description = description
        self.hint = hint
    }

    static func truncated(_ description: String) -> CaptureFileError {
        CaptureFileError(
            .truncated, description,
            hint:
                "the file was cut short (a capture still being written, or an interrupted copy); the packets before the cut were read"
        )
    }

    static func mixedInterfaces(_ description: String) -> CaptureFileError {
        CaptureFileError(
            .mixedInterfaces, description,
            hint:
                "pktstat, like libpcap, reads one link type and snap length per file; split it by interface with tshark -Y frame.interface_id==N -w"
        )
    }

    static func corrupt(_ description: String) -> CaptureFileError {
        CaptureFileError(.corrupt, description, hint: "the file is damaged; the packets before the damage were read")
    }
}
