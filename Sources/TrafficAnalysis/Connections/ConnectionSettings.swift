public import PacketWire

/// Zeek's "likely server ports" (`likely_server_ports`): a connection whose first packet comes from
/// one of these (and, for TCP, is not a bare SYN) is flipped so that the server is the responder.
/// A bitmap per protocol (16 KiB), so a lookup is two shifts.
public struct ServerPorts: Sendable, Equatable {
    var tcp: [UInt64]
    var udp: [UInt64]

    public init() {
        tcp = Array(repeating: 0, count: 1024)
        udp = Array(repeating: 0, count: 1024)
    }

    /// The set Zeek builds with its default scripts loaded (73 ports).
    public static let zeekDefault: ServerPorts = {
        // Safe: the list is a constant in Zeek's notation.
        (try? ServerPorts(parsing: zeekDefaultList)) ?? ServerPorts()
    }()

    /// Zeek 8's `likely_server_ports` with the default scripts, in Zeek's notation.
    public static let zeekDefaultList =
        "1080/tcp,123/udp,135/tcp,137/udp,139/tcp,143/tcp,1434/tcp,161/udp,162/udp,1812/udp,1883/tcp,20000/tcp,"
        + "20000/udp,21/tcp,2123/udp,2152/udp,22/tcp,25/tcp,2811/tcp,3128/tcp,3268/tcp,3306/tcp,3389/tcp,3389/udp,"
        + "3544/udp,389/tcp,389/udp,4011/udp,443/tcp,443/udp,445/tcp,465/tcp,4754/udp,4789/udp,502/tcp,5060/udp,"
        + "5072/udp,514/tcp,514/udp,5222/tcp,5223/tcp,5269/tcp,53/tcp,53/udp,5353/udp,5355/udp,5432/tcp,563/tcp,"
        + "585/tcp,587/tcp,6081/udp,614/tcp,631/tcp,636/tcp,6379/tcp,6666/tcp,6667/tcp,6668/tcp,6669/tcp,67/udp,"
        + "79/tcp,80/tcp,8000/tcp,8080/tcp,81/tcp,88/tcp,88/udp,8888/tcp,989/tcp,990/tcp,992/tcp,993/tcp,995/tcp"

    /// Parses `53/udp,80/tcp,...` (an empty text is the empty set). Throws a `SettingsProblem`
    /// naming the bad entry.
    public init(parsing text: String) throws(SettingsProblem) {
        self.init()
        for entry in text.split(separator: ",", omittingEmptySubsequences: true) {
            let item = entry.trimmingSpaces
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let port = UInt16(parts[0]) else {
                throw SettingsProblem(
                    "--server-ports: '\(item)' is not PORT/PROTOCOL; write ports as Zeek does, e.g. 53/udp,80/tcp")
            }
            switch parts[1].lowercased() {
            case "tcp": insert(port, tcp: true)
            case "udp": insert(port, tcp: false)
            case "icmp", "unknown": break  // Zeek never flips these.
            default:
                throw SettingsProblem("--server-ports: '\(item)' names protocol '\(parts[1])'; use tcp or udp")
            }
        }
    }

    public mutating func insert(_ port: UInt16, tcp isTCP: Bool) {
        let word = Int(port >> 6)
        let bit = UInt64(1) << UInt64(port & 63)
        if isTCP { tcp[word] |= bit } else { udp[word] |= bit }
    }

    public func contains(_ port: UInt16, tcp isTCP: Bool) -> Bool {
        let word = Int(port >> 6)
        let bit = UInt64(1) << UInt64(port & 63)
        return (isTCP ? tcp[word] : udp[word]) & bit != 0
    }
}

/// A problem with a connection setting: a one-line message that says what is wrong and how to
/// write it.
public struct SettingsProblem: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The fix is part of the description.
    public var hint: String? { nil }
    public init(_ description: String) { self.description = description }
}

/// An IPv4 or IPv6 prefix (`10.0.0.0/8`, `2001:db8::/32`) for `--local-nets`.
public struct IPPrefix: Sendable, Equatable {
    public var version: UInt8
    public var address: IPAddress
    public var length: Int

    public init(version: UInt8, address: IPAddress, length: Int) {
        self.version = version
        self.address = address
        self.length = length
    }

    /// Parses `ADDRESS/LENGTH` or a bare address (a host prefix).
    public init(parsing text: String) throws(SettingsProblem) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let fix = "write networks as 10.0.0.0/8 or 2001:db8::/32, separated by commas"
        guard (1...2).contains(parts.count), let parsed = AddressText.parse(String(parts[0])) else {
            throw SettingsProblem("--local-nets: '\(text)' is not an address or prefix; \(fix)")
        }
        let maximum = parsed.version == 4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else {
                throw SettingsProblem("--local-nets: '\(text)' has a bad prefix length (0 to \(maximum)); \(fix)")
            }
            length = value
        }
        self.init(version: parsed.version, address: parsed.address, length: length)
    }

    /// Whether `a` (of IP version `v`) is inside the prefix.
    public func contains(_ a: IPAddress, version v: UInt8) -> Bool {
        guard v == version else { return false }
        if version == 4 {
            guard length > 0 else { return true }
            let mask = UInt32.max << UInt32(32 - length)
            return a.v4 & mask == address.v4 & mask
        }
        if length == 0 { return true }
        if length <= 64 {
            let mask = UInt64.max << UInt64(64 - length)
            return a.hi & mask == address.hi & mask
        }
        guard a.hi == address.hi else { return false }
        let mask = length == 128 ? UInt64.max : UInt64.max << UInt64(128 - length)
        return a.lo & mask == address.lo & mask
    }
}

/// Everything that decides how packets become connections: Zeek's constants, some settable.
public struct ConnectionSettings: Sendable {
    public var serverPorts: ServerPorts = .zeekDefault
    /// Inactivity timeouts in microseconds (Zeek: tcp 5 min, udp, icmp and other 1 min). A TCP
    /// connection uses the UDP timeout until its handshake is over, as Zeek does.
    public var tcpTimeout: Int64 = 300_000_000
    public var udpTimeout: Int64 = 60_000_000
    public var icmpTimeout: Int64 = 60_000_000
    public var otherTimeout: Int64 = 60_000_000
    /// `tcp_attempt_delay`: an unanswered SYN ends after this (5 s).
    public var attemptDelay: Int64 = 5_000_000
    /// The most connections kept at once; past it the one due to end first is ended early.
    public var maxConnections: Int = .max
    /// `Site::local_nets`: empty leaves `local_orig`/`local_resp` unset.
    public var localNets: [IPPrefix] = []
    /// Verify IPv4 header and transport checksums (Zeek's default; its `-C` turns it off).
    public var verifyChecksums = false
    /// Seeds the uid generator (uids are deterministic for a given input and seed).
    public var uidSeed: UInt64 = 0
    /// The Community ID hash of every record (seed 0 unless `--community-id-seed` says otherwise).
    public var communityID = CommunityID(seed: 0)

    public init() {}

    /// Sets a timeout from `PROTOCOL=SECONDS` (`tcp=300`, `udp=60`, `icmp=60`, `other=60`,
    /// `attempt=5`); throws a one-line problem otherwise.
    public mutating func setTimeout(_ text: String) throws(SettingsProblem) {
        let fix = "write PROTOCOL=SECONDS with PROTOCOL tcp, udp, icmp, other or attempt, e.g. udp=30"
        let parts = text.split(separator: "=", omittingEmptySubsequences: false)
        guard parts.count == 2, let seconds = Double(parts[1]), seconds > 0, seconds < 1e9 else {
            throw SettingsProblem("--connection-timeout: '\(text)' is not PROTOCOL=SECONDS; \(fix)")
        }
        let micros = Int64(seconds * 1_000_000)
        switch parts[0].lowercased() {
        case "tcp": tcpTimeout = micros
        case "udp": udpTimeout = micros
        case "icmp": icmpTimeout = micros
        case "other": otherTimeout = micros
        case "attempt": attemptDelay = micros
        default: throw SettingsProblem("--connection-timeout: unknown protocol '\(parts[0])'; \(fix)")
        }
    }

    /// Parses `--local-nets`' comma-separated prefixes.
    public mutating func setLocalNets(_ text: String) throws(SettingsProblem) {
        var nets: [IPPrefix] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            nets.append(try IPPrefix(parsing: item.trimmingSpaces))
        }
        if nets.isEmpty {
            throw SettingsProblem("--local-nets: no network given; write networks as 10.0.0.0/8,192.168.0.0/16")
        }
        localNets = nets
    }

    func isLocal(_ a: IPAddress, version: UInt8) -> Bool {
        localNets.contains { $0.contains(a, version: version) }
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// IPv4 and IPv6 address text to `IPAddress`, without Foundation or inet_pton.
enum AddressText {
    static func parse(_ text: String) -> (version: UInt8, address: IPAddress)? {
        if text.contains(":") {
            guard let (hi, lo) = parseIPv6(text) else { return nil }
            return (6, IPAddress(hi: hi, lo: lo))
        }
        guard let v4 = parseIPv4(Substring(text)) else { return nil }
        return (4, IPAddress(v4: v4))
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func parseIPv6(_ text: String) -> (UInt64, UInt64)? {
        var words: [UInt16] = []
        var gap: Int?
        let halves = text.components(separatedByDoubleColon: ())
        guard halves.count <= 2 else { return nil }
        for (n, half) in halves.enumerated() {
            if n == 1 { gap = words.count }
            if half.isEmpty { continue }
            let groups = half.split(separator: ":", omittingEmptySubsequences: false)
            for (i, group) in groups.enumerated() {
                if i == groups.count - 1, group.contains(".") {
                    guard let v4 = parseIPv4(group) else { return nil }
                    words.append(UInt16(v4 >> 16))
                    words.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard !group.isEmpty, group.count <= 4, let w = UInt16(group, radix: 16) else { return nil }
                words.append(w)
            }
        }
        if let gap {
            guard words.count < 8 else { return nil }
            words.insert(contentsOf: Array(repeating: 0, count: 8 - words.count), at: gap)
        }
        guard words.count == 8 else { return nil }
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(words[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(words[i]) }
        return (hi, lo)
    }
}

extension String {
    /// Splits at the first "::" (at most two parts).
    fileprivate func components(separatedByDoubleColon: Void) -> [Substring] {
        guard let range = firstRange(of: "::") else { return [Substring(self)] }
        let rest = self[range.upperBound...]
        if rest.contains("::") { return [Substring(self), Substring(""), Substring("")] }
        return [self[..<range.lowerBound], rest]
    }
}
