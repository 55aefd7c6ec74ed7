public import PacketWire

/// Zeek's `conn_state`.
public enum ConnState: UInt8, Sendable, CaseIterable {
    case s0, s1, sf, rej, s2, s3, rsto, rstr, rstos0, rstrh, sh, shr, oth

    public var name: String { staticName.description }

    /// The name as a static string (written without a `String`).
    public var staticName: StaticString {
        switch self {
        case .s0: "S0"
        case .s1: "S1"
        case .sf: "SF"
        case .rej: "REJ"
        case .s2: "S2"
        case .s3: "S3"
        case .rsto: "RSTO"
        case .rstr: "RSTR"
        case .rstos0: "RSTOS0"
        case .rstrh: "RSTRH"
        case .sh: "SH"
        case .shr: "SHR"
        case .oth: "OTH"
        }
    }
}

/// The transport as Zeek's `proto` column names it.
public enum ConnTransport: UInt8, Sendable {
    case tcp, udp, icmp, unknown

    public var name: String { staticName.description }

    /// The name as a static string (written without a `String`).
    public var staticName: StaticString {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .icmp: "icmp"
        case .unknown: "unknown_transport"
        }
    }
}

/// A connection's history letters (Zeek's `history`), in a fixed buffer: at most `capacity`
/// letters are kept (Zeek's scaled repetition rules keep real histories far shorter).
public struct ConnHistory: Sendable, Equatable {
    public static let capacity = 46
    var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    public private(set) var count: UInt8 = 0

    public init() {}

    public init(_ text: String) {
        for c in text.utf8 { append(c) }
    }

    public mutating func append(_ c: UInt8) {
        guard Int(count) < ConnHistory.capacity else { return }
        let i = Int(count)
        withUnsafeMutableBytes(of: &bytes) { $0[i] = c }
        count += 1
    }

    public mutating func removeAll() { count = 0 }

    public var isEmpty: Bool { count == 0 }

    public subscript(i: Int) -> UInt8 {
        withUnsafeBytes(of: bytes) { $0[i] }
    }

    /// Whether the history is exactly `text`.
    public func equals(_ text: StaticString) -> Bool {
        guard text.utf8CodeUnitCount == Int(count) else { return false }
        let p = text.utf8Start
        for i in 0..<Int(count) where self[i] != p[i] { return false }
        return true
    }

    public static func == (a: ConnHistory, b: ConnHistory) -> Bool { a.text == b.text }

    public var text: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    /// Calls `body` with the letters (valid only during the call).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: bytes) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(count)))) }
    }
}

/// A 96-bit uid as Zeek writes it: "C" and up to 17 base62 digits.
public struct ConnUID: Sendable, Equatable {
    public var hi: UInt64
    public var lo: UInt32

    public init(hi: UInt64, lo: UInt32) {
        self.hi = hi
        self.lo = lo
    }

    /// The length of the text.
    public static let length = 18

    /// The text: "C", then the digits of both halves in base 62 (Zeek's `uid` style).
    public var text: String {
        String(unsafeUninitializedCapacity: ConnUID.length) { out in
            write(to: out.baseAddress!)
            return ConnUID.length
        }
    }

    /// Writes the text's `length` bytes at `out`.
    @inline(__always)
    public func write(to out: UnsafeMutablePointer<UInt8>) {
        let digits: StaticString = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        let table = digits.utf8Start
        out[0] = UInt8(ascii: "C")
        var a = hi
        for i in 1...11 {
            out[i] = table[Int(a % 62)]
            a /= 62
        }
        var b = UInt64(lo)
        for i in 12...17 {
            out[i] = table[Int(b % 62)]
            b /= 62
        }
    }
}

/// One finished connection, as `conn.log` writes it. Times are microseconds (Zeek's precision).
public struct ConnectionRecord: Sendable {
    public var startMicros: Int64 = 0
    /// Last time minus first time; 0 leaves `duration`, `orig_bytes` and `resp_bytes` unset.
    public var durationMicros: Int64 = 0
    public var uid = ConnUID(hi: 0, lo: 0)
    public var ipVersion: UInt8 = 4
    public var origAddress: IPAddress = .zero
    public var respAddress: IPAddress = .zero
    public var origPort: UInt16 = 0
    public var respPort: UInt16 = 0
    public var transport: ConnTransport = .unknown
    public var ipProto: UInt8 = 0
    public var origBytes: UInt64 = 0
    public var respBytes: UInt64 = 0
    public var state: ConnState = .oth
    /// nil when no `--local-nets` were given.
    public var localOrig: Bool?
    public var localResp: Bool?
    public var missedBytes: UInt64 = 0
    public var history = ConnHistory()
    public var origPackets: UInt64 = 0
    public var origIPBytes: UInt64 = 0
    public var respPackets: UInt64 = 0
    public var respIPBytes: UInt64 = 0
    /// The number of encapsulating connections (`tunnelParentUIDs.count`).
    public var tunnelParents: Int = 0
    /// The Community ID (`1:...`), nil until it is computed: set it where the record is made
    /// (`ConnectionTracker.record(of:)`), every writer prints it. Kept inline (`communityID` is
    /// its text as a `String`).
    public var communityIDText: CommunityIDText?
    public var communityID: String? {
        get { communityIDText?.string }
        set { communityIDText = newValue.map { CommunityIDText($0) } }
    }
    /// Zeek's `tunnel_parents`: the uids of the innermost encapsulating connections the
    /// connection's packets came through (UDP tunnels: the outer connection's uid; IP-in-IP and
    /// GRE: the uid of the IP tunnel between the two outer addresses), up to
    /// `Tunnel::max_changes_per_connection` changes.
    public var tunnelParentUIDs: [ConnUID] = []
    /// The three-way handshake's time (SYN to the ACK that completes it), in nanoseconds; nil
    /// without a complete handshake.
    public var initialRTTNanos: Int64?

    public init() {}

    /// Whether Zeek sets `duration`, `orig_bytes` and `resp_bytes` (only when the duration is
    /// above 0).
    public var hasDuration: Bool { durationMicros > 0 }

    /// The port's transport for the text of `id.*_p` (Zeek's port type carries it).
    public var portProtocolName: String { transport.name }
}
