/// A line of a /proc route file that did not parse. It is skipped, never turned into 0.0.0.0.
public struct ProcLineProblem: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    /// 1-based line number in the file.
    public var line: Int
    public var reason: String

    public init(path: String, line: Int, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(path) line \(line): \(reason)" }
}

/// What a /proc route parser found: the routes, and the lines it skipped with why.
public struct ProcRoutes: Sendable {
    public var routes: [Route]
    public var problems: [ProcLineProblem]
}

/// Parsers for `/proc/net/route` and `/proc/net/ipv6_route`. They take the file's text, so they run
/// on fixtures as well as on the live files.
public enum ProcRouteParser {
    public static let ipv4Path = "/proc/net/route"
    public static let ipv6Path = "/proc/net/ipv6_route"

    // RTF_* from <linux/route.h> and <linux/ipv6_route.h>.
    static let rtfUp: UInt32 = 0x0001
    static let rtfGateway: UInt32 = 0x0002
    static let rtfReject: UInt32 = 0x0200
    static let rtfCache: UInt32 = 0x0100_0000
    static let rtfAnycast: UInt32 = 0x0010_0000
    static let rtfLocal: UInt32 = 0x8000_0000

    /// Why a line was skipped.
    struct LineProblem: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Splits the text into whitespace-separated fields per line and parses each non-empty line
    /// that is not the header; a line that throws is recorded as a problem, a nil is skipped.
    static func parseLines(
        _ text: String, path: String, header: Substring?,
        _ parse: ([Substring]) throws(LineProblem) -> Route?
    ) -> ProcRoutes {
        var routes: [Route] = []
        var problems: [ProcLineProblem] = []
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty || fields[0] == header { continue }
            do {
                if let r = try parse(fields) { routes.append(r) }
            } catch {
                problems.append(ProcLineProblem(path: path, line: i + 1, reason: error.reason))
            }
        }
        return ProcRoutes(routes: routes, problems: problems)
    }

    /// `/proc/net/route`: the IPv4 main table only, one line per route (a multipath route shows its
    /// first next hop only). Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT.
    ///
    /// The hex numbers are the kernel's `__be32` printed with `%08X`, so they are host-order values
    /// whose memory bytes are the address: `UInt32(hex, radix: 16)` then the bytes in memory order.
    public static func parseIPv4(_ text: String, path: String = ipv4Path) -> ProcRoutes {
        parseLines(text, path: path, header: "Iface", ipv4Route)
    }

    /// One line of `/proc/net/route`.
    static func ipv4Route(_ fields: [Substring]) throws(LineProblem) -> Route? {
        guard fields.count >= 8 else { throw LineProblem("expected at least 8 columns, found \(fields.count)") }
        guard let dst = hexIPv4(fields[1]) else { throw LineProblem("bad destination '\(fields[1])'") }
        guard let gw = hexIPv4(fields[2]) else { throw LineProblem("bad gateway '\(fields[2])'") }
        guard let flags = UInt32(fields[3], radix: 16) else { throw LineProblem("bad flags '\(fields[3])'") }
        guard let metric = UInt32(fields[6]) else { throw LineProblem("bad metric '\(fields[6])'") }
        guard let mask = hexIPv4(fields[7]) else { throw LineProblem("bad mask '\(fields[7])'") }
        guard let prefix = mask.prefixLengthOfMask else { throw LineProblem("mask \(mask) is not contiguous") }
        guard dst.value & ~mask.value == 0 else {
            throw LineProblem("destination \(dst) has bits outside mask \(mask)")
        }
        let iface = String(fields[0])
        let noDevice = iface == "*"
        let type: RouteType
        if flags & rtfReject != 0 {
            type = .reject
        } else if noDevice {
            type = .blackhole  // no device and no RTF_REJECT: blackhole (a throw route looks the same)
        } else {
            type = .unicast
        }
        let hasGateway = flags & rtfGateway != 0
        if hasGateway && gw.isUnspecified { throw LineProblem("RTF_GATEWAY set but the gateway is 0.0.0.0") }
        return Route(
            family: .inet, destination: .v4(dst), prefixLength: prefix,
            gateway: hasGateway ? .v4(gw) : nil, device: noDevice ? nil : iface, table: .main, type: type,
            metric: metric == 0 ? nil : metric, source: .proc)
    }

    /// `/proc/net/ipv6_route`: every table (it does not say which), one line per next hop.
    /// Columns: destination, prefix length (hex), source, source prefix length, next hop, metric,
    /// refcount, use, flags (all hex), device. Addresses are 32 hex digits in network order.
    /// The kernel's null entry (`::/0`, reject, metric 0xffffffff, on `lo`) and cached clones are skipped.
    public static func parseIPv6(_ text: String, path: String = ipv6Path) -> ProcRoutes {
        parseLines(text, path: path, header: nil, ipv6Route)
    }

    /// One line of `/proc/net/ipv6_route`; nil for the null entry and cached clones.
    static func ipv6Route(_ fields: [Substring]) throws(LineProblem) -> Route? {
        guard fields.count == 10 else { throw LineProblem("expected 10 columns, found \(fields.count)") }
        guard let dst = hexIPv6(fields[0]) else { throw LineProblem("bad destination '\(fields[0])'") }
        guard fields[1].count == 2, let plen = UInt8(fields[1], radix: 16), plen <= 128 else {
            throw LineProblem("bad prefix length '\(fields[1])'")
        }
        guard hexIPv6(fields[2]) != nil, fields[3].count == 2, UInt8(fields[3], radix: 16) != nil else {
            throw LineProblem("bad source '\(fields[2]) \(fields[3])'")
        }
        guard let gw = hexIPv6(fields[4]) else { throw LineProblem("bad next hop '\(fields[4])'") }
        guard fields[5].count == 8, let metric = UInt32(fields[5], radix: 16) else {
            throw LineProblem("bad metric '\(fields[5])'")
        }
        guard UInt32(fields[6], radix: 16) != nil, UInt32(fields[7], radix: 16) != nil else {
            throw LineProblem("bad refcount/use '\(fields[6]) \(fields[7])'")
        }
        guard fields[8].count == 8, let flags = UInt32(fields[8], radix: 16) else {
            throw LineProblem("bad flags '\(fields[8])'")
        }
        let netmask = IPv6Address.netmask(prefixLength: Int(plen))
        guard dst.high & ~netmask.high == 0, dst.low & ~netmask.low == 0 else {
            throw LineProblem("destination \(dst) has bits outside /\(plen)")
        }
        let dev = String(fields[9])
        if flags & rtfCache != 0 { return nil }
        if plen == 0 && dst.isUnspecified && flags & rtfReject != 0 && metric == .max && dev == "lo" { return nil }
        let hasGateway = flags & rtfGateway != 0
        if hasGateway && gw.isUnspecified { throw LineProblem("RTF_GATEWAY set but the next hop is ::") }
        return Route(
            family: .inet6, destination: .v6(dst), prefixLength: Int(plen), gateway: hasGateway ? .v6(gw) : nil,
            device: dev, table: nil, type: ipv6Type(flags), metric: metric, source: .proc)
    }

    static func ipv6Type(_ flags: UInt32) -> RouteType {
        if flags & rtfReject != 0 { return .reject }
        if flags & rtfLocal != 0 { return .local }
        if flags & rtfAnycast != 0 { return .anycast }
        return .unicast
    }

    /// Eight hex digits, a host-order value whose bytes in memory are the address.
    static func hexIPv4(_ s: Substring) -> IPv4Address? {
        guard s.count == 8, s.allSatisfy(\.isHexDigit), let host = UInt32(s, radix: 16) else { return nil }
        let bytes = withUnsafeBytes(of: host) { Array($0) }
        return IPv4Address(bytes: bytes)
    }

    /// Thirty-two hex digits in network order.
    static func hexIPv6(_ s: Substring) -> IPv6Address? {
        guard s.count == 32, s.allSatisfy(\.isHexDigit) else { return nil }
        let utf8 = Array(s.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var i = 0
        while i < 32 {
            guard let b = UInt8(String(decoding: utf8[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(b)
            i += 2
        }
        return IPv6Address(bytes: bytes)
    }

    /// Reads and parses the live /proc route files of the requested families.
    public static func read(families: [AddressFamily]) throws(NetInfoError) -> ProcRoutes {
        var out = ProcRoutes(routes: [], problems: [])
        for family in families {
            let path = family == .inet ? ipv4Path : ipv6Path
            let text = try SysFiles.readText(path)
            let parsed = family == .inet ? parseIPv4(text, path: path) : parseIPv6(text, path: path)
            if parsed.routes.isEmpty && !parsed.problems.isEmpty {
                throw .procUnrecognized(path: path, reason: parsed.problems[0].description)
            }
            out.routes += parsed.routes
            out.problems += parsed.problems
        }
        return out
    }
}
