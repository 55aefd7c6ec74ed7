import Glibc
import PacketWire
import Testing

@testable import Rendering

/// The hand-written address and number formatting must print exactly what libc prints.
@Suite("row formatting")
struct RowBytesTests {
    static func ntop(_ hi: UInt64, _ lo: UInt64) -> String {
        var raw: (UInt64, UInt64) = (hi.bigEndian, lo.bigEndian)
        var buf = [CChar](repeating: 0, count: 64)
        _ = withUnsafeBytes(of: &raw) { inet_ntop(AF_INET6, $0.baseAddress, &buf, 64) }
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func ours(_ hi: UInt64, _ lo: UInt64) -> String {
        var out: [UInt8] = []
        out.append(address: IPAddress(hi: hi, lo: lo), version: 6)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func ipv6MatchesInetNtop() {
        var cases: [(UInt64, UInt64)] = [
            (0, 0), (0, 1), (0, 0x0000_FFFF_C000_0201), (0, 0xC000_0201), (0x2001_0DB8_0000_0000, 1),
            (0x2001_0DB8_0000_0001, 0x0000_0000_0000_0001), (0xFE80_0000_0000_0000, 0x0211_22FF_FE33_4455),
            (0xFF02_0000_0000_0000, 0x0000_0000_0000_00FB), (0x0001_0000_0000_0000, 0), (0, 0x0001_0000_0000_0000),
            (0x2001_0000_0000_0001, 0x0000_0000_0000_0000), (0x0000_0000_0001_0000, 0x0000_0001_0000_0000),
            (UInt64.max, UInt64.max), (0, 0x0000_0000_0001_0002),
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Random groups, many of them zero, so every run shape comes up.
            var hi: UInt64 = 0
            var lo: UInt64 = 0
            for g in 0..<8 {
                let bits = (seed >> UInt64(g * 8)) & 0xFF
                let w: UInt64 = bits < 128 ? 0 : bits < 160 ? 0xFFFF : (bits & 0x3F) << UInt64((bits & 3) * 4)
                if g < 4 { hi |= w << UInt64(48 - 16 * g) } else { lo |= w << UInt64(48 - 16 * (g - 4)) }
            }
            cases.append((hi, lo))
        }
        for (hi, lo) in cases {
            #expect(Self.ours(hi, lo) == Self.ntop(hi, lo))
        }
    }

    @Test func numbersAndTimestamps() {
        var out: [UInt8] = []
        out.append(decimal: UInt64(0))
        out.append(UInt8(ascii: " "))
        out.append(decimal: UInt64.max)
        out.append(UInt8(ascii: " "))
        out.append(timestampNs: 1_700_000_000_000_000_001)
        out.append(UInt8(ascii: " "))
        out.append(timestampNs: -1_500_000_000)
        out.append(UInt8(ascii: " "))
        out.append(address: IPAddress(v4: 0xC000_0201), version: 4)
        #expect(
            String(decoding: out, as: UTF8.self) == "0 18446744073709551615 1700000000.000000001 -1.500000000 192.0.2.1"
        )
    }
}
