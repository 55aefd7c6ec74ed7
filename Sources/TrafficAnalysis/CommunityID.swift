internal import Crypto
public import PacketWire

/// Community ID v1 (corelight/community-id-spec): a connection's endpoints, protocol and ports
/// hashed into a string that Zeek, Suricata and Elastic compute the same way, so records of one
/// connection join across tools.
///
///     "1:" + base64(sha1(seed | saddr | daddr | proto | 0 | sport | dport))
///
/// with the seed (2 bytes), the addresses (4 or 16 bytes) and the ports (2 bytes each) in network
/// byte order. The endpoints are put in order first so that both directions give the same ID: the
/// smaller address comes first, and when the addresses are equal the smaller port.
///
/// Ports are hashed for TCP (6), UDP (17), SCTP (132), ICMP (1) and ICMPv6 (58); every other
/// protocol is hashed without them (the given ports are ignored). ICMP and ICMPv6 map the message
/// type and code to "ports" as Zeek does (`ICMP4_counterpart`, `ICMP6_counterpart`): a type with a
/// counterpart (echo request and reply, timestamp, information, router solicitation and
/// advertisement, address mask; for ICMPv6 also neighbour solicitation and advertisement, MLD
/// query and report, node information, home agent address discovery) is hashed as the ports
/// (type, counterpart type) and ordered like any two-way flow; any other type is one-way, hashed
/// as (type, code) with the sender first, never swapped.
///
/// For ICMP the source port is the type and the destination port the code. Zeek's `conn.log`
/// (`id.orig_p`, `id.resp_p`) gives the type and the counterpart type (or the code for one-way
/// types): either pair gives the same ID.
///
/// SCTP: Zeek has no SCTP analyzer, logs an SCTP connection as `unknown_transport` with ports 0
/// and hashes those zeros (its `community_id_v1` hashes ports for protocol 132 whatever they
/// are); the spec and Suricata hash SCTP's real ports. Which one a caller gets depends only on the
/// ports it passes.
///
/// The input is laid out on the stack. Each call allocates once inside swift-crypto (the SHA-1
/// state of `Insecure.SHA1` lives in a class instance, and its public API has no way to reuse
/// one), and `id` once more for the result string: 2 allocations per `id`, 1 per `withID`
/// (counted with a malloc-counting preload over 100,000 calls).
public struct CommunityID: Sendable, Hashable {
    /// The seed that separates "domains" of IDs; 0 unless the user chose one (all tools default
    /// to 0).
    public var seed: UInt16

    /// The length of an ID in ASCII bytes: "1:" and 28 base64 characters (a 20-byte SHA-1).
    public static let length = 30

    public init(seed: UInt16 = 0) {
        self.seed = seed
    }

    /// The Community ID of a connection, "1:" and 28 base64 characters.
    ///
    /// - Parameters:
    ///   - source, destination: the endpoints' addresses (`IPAddress`, IPv4 in the low 32 bits
    ///     of `lo`), in either direction.
    ///   - ipVersion: 4 or 6 (anything else is a programming error).
    ///   - protocolNumber: the IP protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, 58 ICMPv6,
    ///     or any other, hashed without ports).
    ///   - sourcePort, destinationPort: the ports; for ICMP and ICMPv6 the type and the code (or
    ///     the counterpart type, as Zeek's conn_id has it).
    public func id(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        protocolNumber: UInt8, ipVersion: UInt8
    ) -> String {
        withID(
            source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort,
            protocolNumber: protocolNumber, ipVersion: ipVersion
        ) { text in
            String(unsafeUninitializedCapacity: Self.length) { out in
                for i in 0..<Self.length { out[i] = text[i] }
                return Self.length
            }
        }
    }

    /// The same ID as an inline value (no allocation for the text): what `ConnectionRecord` keeps.
    /// The parameters are `id`'s.
    public func text(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        protocolNumber: UInt8, ipVersion: UInt8
    ) -> CommunityIDText {
        withID(
            source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort,
            protocolNumber: protocolNumber, ipVersion: ipVersion
        ) { CommunityIDText($0) }
    }

    /// Calls `body` with the ID's `length` ASCII bytes (on the stack, valid only during the call),
    /// for writers that append it to their own buffer. The parameters are `id`'s.
    public func withID<R>(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        protocolNumber: UInt8, ipVersion: UInt8, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        precondition(ipVersion == 4 || ipVersion == 6, "CommunityID: IP version must be 4 or 6, got \(ipVersion)")
        let ordered = Self.ordered(
            source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort,
            protocolNumber: protocolNumber, ipVersion: ipVersion
        )
        // seed 2, addresses 2 x 16, protocol 1, padding 1, ports 2 x 2.
        return try withUnsafeTemporaryAllocation(byteCount: 40 + Self.length, alignment: 8) { buffer in
            var n = Self.put(UInt64(seed), bytes: 2, into: buffer, at: 0)
            n = Self.put(ordered.first, ipVersion: ipVersion, into: buffer, at: n)
            n = Self.put(ordered.second, ipVersion: ipVersion, into: buffer, at: n)
            n = Self.put(UInt64(protocolNumber) << 8, bytes: 2, into: buffer, at: n)  // protocol, padding 0
            if ordered.hasPorts {
                n = Self.put(UInt64(ordered.firstPort), bytes: 2, into: buffer, at: n)
                n = Self.put(UInt64(ordered.secondPort), bytes: 2, into: buffer, at: n)
            }
            var sha1 = Insecure.SHA1()
            sha1.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            let digest = sha1.finalize()
            let text = UnsafeMutableRawBufferPointer(rebasing: buffer[40..<(40 + Self.length)])
            text[0] = UInt8(ascii: "1")
            text[1] = UInt8(ascii: ":")
            digest.withUnsafeBytes { bytes in Self.base64(bytes, into: text, at: 2) }
            return try body(UnsafeRawBufferPointer(text))
        }
    }

    /// Writes the low `bytes` bytes of `value` big-endian at `offset`; returns the offset after them.
    @inline(__always)
    static func put(_ value: UInt64, bytes: Int, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        for i in 0..<bytes {
            buffer[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (bytes - 1 - i)))
        }
        return offset + bytes
    }

    /// Writes an address in network byte order (4 or 16 bytes) at `offset`.
    @inline(__always)
    static func put(
        _ address: IPAddress, ipVersion: UInt8, into buffer: UnsafeMutableRawBufferPointer, at offset: Int
    ) -> Int {
        if ipVersion == 4 { return put(address.lo, bytes: 4, into: buffer, at: offset) }
        return put(address.lo, bytes: 8, into: buffer, at: put(address.hi, bytes: 8, into: buffer, at: offset))
    }

    /// The endpoints in hashing order and whether ports are hashed (see the type's comment).
    struct Ordered: Equatable {
        var first: IPAddress
        var firstPort: UInt16
        var second: IPAddress
        var secondPort: UInt16
        var hasPorts: Bool
    }

    static func ordered(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        protocolNumber: UInt8, ipVersion: UInt8
    ) -> Ordered {
        var sourcePort = sourcePort
        var destinationPort = destinationPort
        var oneWay = false
        let hasPorts: Bool
        switch protocolNumber {
        case 6, 17, 132:
            hasPorts = true
        case 1, 58:
            hasPorts = true
            let type = UInt8(truncatingIfNeeded: sourcePort)
            let counterpart = protocolNumber == 1 ? icmpCounterpart(type) : icmp6Counterpart(type)
            if sourcePort <= 0xFF, let counterpart {
                destinationPort = UInt16(counterpart)
            } else {
                oneWay = true
            }
        default:
            hasPorts = false
            sourcePort = 0
            destinationPort = 0
        }
        let keep: Bool
        if oneWay {
            keep = true
        } else {
            let order = compare(source, destination, ipVersion: ipVersion)
            keep = order < 0 || (order == 0 && hasPorts && sourcePort < destinationPort)
        }
        return keep
            ? Ordered(
                first: source, firstPort: sourcePort, second: destination, secondPort: destinationPort,
                hasPorts: hasPorts)
            : Ordered(
                first: destination, firstPort: destinationPort, second: source, secondPort: sourcePort,
                hasPorts: hasPorts)
    }

    /// -1, 0 or 1 as `a` is below, equal to or above `b` in network byte order.
    static func compare(_ a: IPAddress, _ b: IPAddress, ipVersion: UInt8) -> Int {
        if ipVersion == 4 {
            let x = a.v4
            let y = b.v4
            return x < y ? -1 : (x == y ? 0 : 1)
        }
        if a.hi != b.hi { return a.hi < b.hi ? -1 : 1 }
        return a.lo < b.lo ? -1 : (a.lo == b.lo ? 0 : 1)
    }

    /// ICMPv4 types with a counterpart (Zeek's `ICMP4_counterpart`): echo, timestamp,
    /// information, router solicitation and advertisement, address mask.
    static func icmpCounterpart(_ type: UInt8) -> UInt8? {
        switch type {
        case 8: 0
        case 0: 8
        case 13: 14
        case 14: 13
        case 15: 16
        case 16: 15
        case 10: 9
        case 9: 10
        case 17: 18
        case 18: 17
        default: nil
        }
    }

    /// ICMPv6 types with a counterpart (Zeek's `ICMP6_counterpart`): echo, router and neighbour
    /// discovery, MLD query and report, node information, home agent address discovery.
    static func icmp6Counterpart(_ type: UInt8) -> UInt8? {
        switch type {
        case 128: 129
        case 129: 128
        case 133: 134
        case 134: 133
        case 135: 136
        case 136: 135
        case 130: 131
        case 131: 130
        case 139: 140
        case 140: 139
        case 144: 145
        case 145: 144
        default: nil
        }
    }

    /// Standard base64 (RFC 4648, with padding) of `bytes` written into `out` from `at`. A table
    /// lookup per symbol (a chain of range tests mispredicted on random digests: 6% of
    /// `flows --format zeek` on a million connections).
    static func base64(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, at start: Int) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let table = alphabet.utf8Start
        var i = 0
        var o = start
        while i < bytes.count {
            let remaining = bytes.count - i
            let b0 = UInt32(bytes[i])
            let b1 = remaining > 1 ? UInt32(bytes[i + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[i + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out[o] = table[Int(group >> 18)]
            out[o + 1] = table[Int((group >> 12) & 63)]
            out[o + 2] = remaining > 1 ? table[Int((group >> 6) & 63)] : UInt8(ascii: "=")
            out[o + 3] = remaining > 2 ? table[Int(group & 63)] : UInt8(ascii: "=")
            i += 3
            o += 4
        }
    }

    /// Why a `--community-id-seed` value cannot be a seed; nil when it can (0 to 65535).
    public static func problem(seed: Int) -> String? {
        (0...Int(UInt16.max)).contains(seed) ? nil : "--community-id-seed must be 0 to 65535; got \(seed)"
    }

    /// The seed that the text of a `--community-id-seed` option names (decimal, 0 to 65535), or
    /// the one-line error text saying why it names none.
    public static func seed(option text: String) -> Result<UInt16, SeedProblem> {
        if let value = UInt16(text) { return .success(value) }
        return .failure(SeedProblem(message: "--community-id-seed must be 0 to 65535; got \(text)"))
    }

    /// A `--community-id-seed` value that is not a seed; `message` is the one-line error text.
    public struct SeedProblem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }
}

/// A Community ID's text ("1:" and 28 base64 characters, or any other text of at most
/// `capacity` ASCII bytes) kept inline: a record carries it without a `String`.
public struct CommunityIDText: Sendable, Equatable {
    public static let capacity = 32
    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public private(set) var count = 0

    /// The first `capacity` bytes of `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        let n = min(bytes.count, CommunityIDText.capacity)
        withUnsafeMutableBytes(of: &storage) { out in
            for i in 0..<n { out[i] = bytes[i] }
        }
        count = n
    }

    /// `text`'s UTF-8 bytes (at most `capacity` of them are kept).
    public init(_ text: String) {
        var copy = text
        self = copy.withUTF8 { CommunityIDText(UnsafeRawBufferPointer($0)) }
    }

    /// Calls `body` with the text's bytes (valid only during the call).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
    }

    public var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    public static func == (a: CommunityIDText, b: CommunityIDText) -> Bool {
        a.count == b.count && a.storage == b.storage
    }
}
