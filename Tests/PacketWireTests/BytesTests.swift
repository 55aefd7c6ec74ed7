import PacketWire
import Testing

@Suite struct BytesTests {
    @Test func readsInsideTheBuffer() {
        let data: [UInt8] = [
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11,
        ]
        data.withUnsafeBytes { raw in
            let b = Bytes(raw)
            #expect(b.count == 17)
            #expect(b.u8(0) == 0x01 && b.u8(16) == 0x11)
            #expect(b.u16be(1) == 0x0203 && b.u16le(1) == 0x0302)
            #expect(b.u32be(13) == 0x0E0F_1011 && b.u32le(13) == 0x1110_0F0E)
            let wide = b.u128be(1)
            #expect(wide?.0 == 0x0203_0405_0607_0809 && wide?.1 == 0x0A0B_0C0D_0E0F_1011)
        }
    }

    @Test func readsPastTheEndAreNil() {
        let data: [UInt8] = [1, 2, 3, 4]
        data.withUnsafeBytes { raw in
            let b = Bytes(raw)
            #expect(b.u8(4) == nil && b.u8(-1) == nil && b.u8(Int.max) == nil && b.u8(Int.min) == nil)
            #expect(b.u16be(3) == nil && b.u16le(3) == nil && b.u16be(Int.max - 1) == nil)
            #expect(b.u32be(1) == nil && b.u32le(1) == nil && b.u32be(0) == 0x0102_0304)
            #expect(b.u128be(0) == nil)
            #expect(b.has(0, at: 4) && !b.has(1, at: 4) && !b.has(-1, at: 0) && !b.has(Int.max, at: 1))
        }
    }

    @Test func emptyAndNilBuffers() {
        let none = Bytes(base: nil, count: 100)
        #expect(none.count == 0 && none.u8(0) == nil)
        let empty = Bytes(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(empty.u8(0) == nil && empty.u32be(0) == nil)
        let data: [UInt8] = [9]
        data.withUnsafeBytes { raw in
            let negative = Bytes(base: raw.baseAddress, count: -5)
            #expect(negative.count == 0 && negative.u8(0) == nil)
        }
    }
}
