import Rendering
import Testing

@Suite struct TicksTests {
    func labels(_ a: Double, _ b: Double, _ n: Int) -> [String] { Ticks.ticks(a, b, count: n).map(\.label) }

    @Test func d3KnownAnswers() {
        // d3.ticks(0, 1, 10), d3.ticks(0, 10, 5), d3.ticks(-10, 10, 5), d3.ticks(0, 1437, 5)
        #expect(labels(0, 1, 10) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"])
        #expect(labels(0, 10, 5) == ["0", "2", "4", "6", "8", "10"])
        #expect(labels(-10, 10, 5) == ["-10", "-5", "0", "5", "10"])
        #expect(labels(0, 1437, 5) == ["0", "200", "400", "600", "800", "1000", "1200", "1400"])
        #expect(labels(1, 2, 2) == ["1", "1.5", "2"])
        #expect(labels(0.001, 0.0045, 4) == ["0.001", "0.002", "0.003", "0.004"])
        #expect(labels(0, 60, 8) == ["0", "10", "20", "30", "40", "50", "60"])
    }

    @Test func noFloatNoise() {
        for t in Ticks.ticks(0, 0.7, count: 7) {
            #expect(t.label.count <= 3)
        }
        #expect(Ticks.ticks(0, 0.7, count: 7)[3].label == "0.3")
        #expect(Ticks.ticks(0, 3e-7, count: 3).map(\.label) == ["0", "0.0000001", "0.0000002", "0.0000003"])
    }

    @Test func stepsAreOneTwoFive() {
        for stop in stride(from: 0.37, through: 123_456.0, by: 977.3) {
            let step = Ticks.step(0, stop, count: 6)!
            #expect([1, 2, 5, 10].contains(step.mantissa))
        }
    }

    @Test func siLabels() {
        #expect(Tick(mantissa: 15, exponent: 2).siLabel == "1.5k")
        #expect(Tick(mantissa: 2, exponent: 7).siLabel == "20M")
        #expect(Tick(mantissa: 500, exponent: 0).siLabel == "500")
        #expect(Tick(mantissa: 1, exponent: 9).siLabel == "1G")
        #expect(Tick(mantissa: 0, exponent: 3).siLabel == "0")
    }

    @Test func degenerateDomains() {
        #expect(Ticks.ticks(5, 5, count: 5).map(\.label) == ["5"])
        #expect(Ticks.ticks(1, 0, count: 5).isEmpty)
        #expect(Ticks.ticks(0, .infinity, count: 5).isEmpty)
        #expect(Ticks.ticks(.nan, 1, count: 5).isEmpty)
        #expect(Ticks.nice(0, 1437, count: 5) == (0, 1600))
        #expect(Ticks.nice(0, 1514, count: 5) == (0, 1600))
    }

    @Test func linearScale() {
        let s = LinearScale(domain: (0, 10), range: (100, 0))
        #expect(s(0) == 100 && s(10) == 0 && s(5) == 50)
        #expect(LinearScale(domain: (3, 3), range: (0, 10))(3) == 5)
    }
}
