public import Foundation

/// Builds classic pcap files byte by byte (little-endian, microseconds) for tests.
public struct PcapBuilder {
    public private(set) var data = Data()

    public init(linkType: UInt32 = 1, snapLength: UInt32 = 65535, nanosecond: Bool = false) {
        put32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        put16(2)
        put16(4)
        put32(0)
        put32(0)
        put32(snapLength)
        put32(linkType)
    }

    public mutating func put16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    public mutating func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }

    /// Appends a record; `originalLength` defaults to the bytes' count.
    public mutating func add(seconds: UInt32, fraction: UInt32, bytes: [UInt8], originalLength: UInt32? = nil) {
        put32(seconds)
        put32(fraction)
        put32(UInt32(bytes.count))
        put32(originalLength ?? UInt32(bytes.count))
        data.append(contentsOf: bytes)
    }

    public mutating func append(bytes: [UInt8]) { data.append(contentsOf: bytes) }

    public func write(to url: URL) throws { try data.write(to: url) }

    /// An Ethernet + IPv4 + UDP frame with `payload` zero bytes.
    public static func udpFrame(
        src: [UInt8] = [192, 0, 2, 1], dst: [UInt8] = [192, 0, 2, 2], sport: UInt16 = 40000, dport: UInt16 = 53,
        payload: Int = 16
    ) -> [UInt8] {
        var f: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        let total = 20 + 8 + payload
        f += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, 17, 0, 0] + src + dst
        f += [
            UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), UInt8((8 + payload) >> 8),
            UInt8((8 + payload) & 0xFF), 0, 0,
        ]
        f += [UInt8](repeating: 0, count: payload)
        return f
    }

    /// A file of `count` UDP frames, one every millisecond from `start` seconds.
    public static func udpCapture(count: Int, start: UInt32 = 1_700_000_000) -> PcapBuilder {
        var b = PcapBuilder()
        let frame = udpFrame()
        for i in 0..<count {
            b.add(seconds: start + UInt32(i / 1000), fraction: UInt32((i % 1000) * 1000), bytes: frame)
        }
        return b
    }
}
