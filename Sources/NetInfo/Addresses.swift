import Glibc

/// An address family as iproute2 names it in JSON (`"family": "inet"`).
public enum AddressFamily: String, Hashable, Sendable, CaseIterable {
    case inet
    case inet6

    /// The `AF_*` number (netifaces uses it as a key: 2 and 10 on Linux).
    public var number: Int32 {
        switch self {
        case .inet: return Int32(AF_INET)
        case .inet6: return Int32(AF_INET6)
        }
    }

    /// The families that `-4` / `-6` ask for: one of them, or both when neither (or both) is given.
    public static func selected(ipv4: Bool, ipv6: Bool) -> [AddressFamily] {
        if ipv4 && !ipv6 { return [.inet] }
        if ipv6 && !ipv4 { return [.inet6] }
        return [.inet, .inet6]
    }
}

/// An IPv4 address. `value` holds it in numeric (big-endian reading) order: 192.0.2.1 is 0xC000_0201.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: UInt32

    public init(value: UInt32) { self.value = value }

    /// From the four bytes as they sit on the wire / in memory (`in_addr`).
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// From exactly four bytes in network order; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        let b = Array(bytes)
        self.init(b[0], b[1], b[2], b[3])
    }

    /// Dotted quad; nil unless it is exactly four decimal numbers 0...255.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt32(p), n <= 255
            else { return nil }
            v = v << 8 | n
        }
        value = v
    }

    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public var description: String { "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)" }

    public var isUnspecified: Bool { value == 0 }
    public var isLoopback: Bool { value >> 24 == 127 }

    /// The netmask for a prefix length 0...32.
    public static func netmask(prefixLength: Int) -> IPv4Address {
        precondition((0...32).contains(prefixLength))
        return IPv4Address(value: prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength))
    }

    /// The prefix length of a contiguous netmask; nil when the mask has holes.
    public var prefixLengthOfMask: Int? {
        let ones = (~value).leadingZeroBitCount
        guard ones == 32 || value << UInt32(ones) == 0 else { return nil }
        return ones
    }

    public static func < (l: IPv4Address, r: IPv4Address) -> Bool { l.value < r.value }
}

/// An IPv6 address, sixteen bytes in network order. Printed as `inet_ntop` prints it (RFC 5952),
/// without a `%zone`.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From exactly sixteen bytes in network order; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h
        low = l
    }

    /// Any textual form `inet_pton` accepts; nil otherwise.
    public init?(_ text: String) {
        var raw = in6_addr()
        let ok = text.withCString { inet_pton(AF_INET6, $0, &raw) }
        guard ok == 1 else { return nil }
        let b = withUnsafeBytes(of: raw) { Array($0) }
        self.init(bytes: b)
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for word in [high, low] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    public var description: String {
        var raw = in6_addr()
        let b = bytes
        withUnsafeMutableBytes(of: &raw) { dst in
            for i in 0..<16 { dst[i] = b[i] }
        }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok = buf.withUnsafeMutableBufferPointer { p in
            inet_ntop(AF_INET6, &raw, p.baseAddress, socklen_t(p.count))
        }
        guard ok != nil else { return "?" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isUnspecified: Bool { high == 0 && low == 0 }
    public var isLoopback: Bool { high == 0 && low == 1 }
    /// fe80::/10
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// fec0::/10 (deprecated site-local)
    public var isSiteLocal: Bool { high >> 54 == 0x3FB }
    /// ff00::/8
    public var isMulticast: Bool { high >> 56 == 0xFF }

    /// The netmask for a prefix length 0...128.
    public static func netmask(prefixLength: Int) -> IPv6Address {
        precondition((0...128).contains(prefixLength))
        let h: UInt64 = prefixLength >= 64 ? .max : (prefixLength == 0 ? 0 : .max << UInt64(64 - prefixLength))
        let l: UInt64 = prefixLength <= 64 ? 0 : (prefixLength == 128 ? .max : .max << UInt64(128 - prefixLength))
        return IPv6Address(high: h, low: l)
    }

    /// The prefix length of a contiguous netmask; nil when the mask has holes.
    public var prefixLengthOfMask: Int? {
        let ones: Int
        if high == .max {
            ones = 64 + (low == .max ? 64 : (~low).leadingZeroBitCount)
            guard ones == 128 || low << UInt64(ones - 64) == 0 else { return nil }
        } else {
            ones = (~high).leadingZeroBitCount
            guard high << UInt64(ones) == 0, low == 0 else { return nil }
        }
        return ones
    }

    public static func < (l: IPv6Address, r: IPv6Address) -> Bool { (l.high, l.low) < (r.high, r.low) }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family; nil when it is neither.
    public init?(_ text: String) {
        if let a = IPv4Address(text) {
            self = .v4(a)
        } else if !text.contains("%"), let a = IPv6Address(text) {
            self = .v6(a)
        } else {
            return nil
        }
    }

    public var family: AddressFamily {
        switch self {
        case .v4: return .inet
        case .v6: return .inet6
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }

    /// The address in network order: 4 or 16 bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): return a.bytes
        case .v6(let a): return a.bytes
        }
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): return a.isUnspecified
        case .v6(let a): return a.isUnspecified
        }
    }

    /// The all-zero address of a family.
    public static func unspecified(_ family: AddressFamily) -> IPAddress {
        family == .inet ? .v4(IPv4Address(value: 0)) : .v6(IPv6Address(high: 0, low: 0))
    }

    /// The netmask of a family for a prefix length.
    public static func netmask(_ family: AddressFamily, prefixLength: Int) -> IPAddress {
        family == .inet
            ? .v4(.netmask(prefixLength: prefixLength)) : .v6(.netmask(prefixLength: prefixLength))
    }

    public static func < (l: IPAddress, r: IPAddress) -> Bool {
        switch (l, r) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v6(let a), .v6(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }
}

/// A link-layer (MAC) address, printed as lowercase colon-separated hex like `ip link`.
public struct HardwareAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var description: String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: ":")
    }
}
