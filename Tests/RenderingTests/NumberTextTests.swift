import Testing

@testable import Rendering

@Suite struct NumberTextTests {
    func s(_ body: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        body(&out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func ratios() {
        #expect(s { $0.appendRatio(161, 2) } == "80.5")
        #expect(s { $0.appendRatio(8, 3) } == "2.667")
        #expect(s { $0.appendRatio(10, 5) } == "2")
        #expect(s { $0.appendRatio(1, 2000) } == "0.001")  // 0.0005 rounds half up
        #expect(s { $0.appendRatio(1, 3000) } == "0")
        #expect(s { $0.appendRatio(UInt128(UInt64.max) * 8_000_000_000, 1) } == "147573952589676412920000000000")
        #expect(s { $0.appendRatio(5, 0) } == "0")
    }

    @Test func seconds() {
        #expect(s { $0.appendSeconds(ns: 0) } == "0")
        #expect(s { $0.appendSeconds(ns: 250_000_000) } == "0.25")
        #expect(s { $0.appendSeconds(ns: -1_000_000_001) } == "-1.000000001")
        #expect(s { $0.appendSeconds(ns: .min) } == "-9223372036.854775808")
    }

    @Test func fixedAndSI() {
        #expect(s { $0.appendFixed(1.25, decimals: 1) } == "1.3")
        #expect(s { $0.appendFixed(-0.04, decimals: 1) } == "0")
        #expect(s { $0.appendFixed(12.0, decimals: 2) } == "12")
        #expect(s { $0.appendFixed(.nan) } == "0")
        #expect(s { $0.appendFixed(1e30, decimals: 1) } == "1000000000000000019884624838656")
        #expect(s { $0.appendSI(950) } == "950")
        #expect(s { $0.appendSI(1288) } == "1.29k")
        #expect(s { $0.appendSI(999_600) } == "1M")
        #expect(s { $0.appendSI(12_345_678) } == "12.3M")
    }

    /// Quantities in chart texts: a space between number and unit, decimal SI prefix and unit
    /// together.
    @Test func quantities() {
        #expect(s { $0.appendQuantity(325, unit: "bit/s") } == "325 bit/s")
        #expect(s { $0.appendQuantity(24_500_000, unit: "bit/s") } == "24.5 Mbit/s")
        #expect(s { $0.appendQuantity(2_360, unit: "bit/s") } == "2.36 kbit/s")
        #expect(s { $0.appendQuantity(999_600, unit: "bit/s") } == "1 Mbit/s")
        #expect(s { $0.appendQuantity(0, unit: "B") } == "0 B")
        #expect(s { $0.appendQuantity(950, unit: "B") } == "950 B")
        #expect(s { $0.appendQuantity(1_200, unit: "B") } == "1.2 kB")
        #expect(s { $0.appendQuantity(24_500_000, unit: "B") } == "24.5 MB")
        #expect(s { $0.appendQuantity(3e12, unit: "B") } == "3 TB")
        #expect(s { $0.appendQuantity(-1_500, unit: "B") } == "-1.5 kB")
        #expect(s { $0.appendQuantity(.nan, unit: "B") } == "0 B")
    }

    @Test func utcTime() {
        #expect(UTCTime(ns: 1_700_000_000_000_000_000).iso() == "2023-11-14T22:13:20Z")
        #expect(UTCTime(ns: 0).iso(fractionDigits: 3) == "1970-01-01T00:00:00.000Z")
        #expect(UTCTime(ns: -1).iso(fractionDigits: 9) == "1969-12-31T23:59:59.999999999Z")
        #expect(UTCTime(ns: 951_782_400_000_000_000).iso() == "2000-02-29T00:00:00Z")
        #expect(UTCTime(ns: 4_294_967_296_000_000_000).iso() == "2106-02-07T06:28:16Z")
        _ = UTCTime(ns: .min).iso()
        _ = UTCTime(ns: .max).iso()
    }
}
