import Testing
import TrafficAnalysis

@Suite struct IntervalSpecTests {
    @Test(
        arguments: [
            ("1", 1_000_000_000), ("0.1", 100_000_000), ("250ms", 250_000_000), ("5s", 5_000_000_000),
            ("1m", 60_000_000_000), ("2us", 2_000), ("2µs", 2_000), ("7ns", 7), ("1h", 3_600_000_000_000),
            (".5", 500_000_000), ("5.", 5_000_000_000), (" 1.5 s ", 1_500_000_000), ("0.001", 1_000_000),
            ("1.5ms", 1_500_000), ("0.000000001", 1), ("1.25m", 75_000_000_000), ("0.1000", 100_000_000),
        ] as [(String, Int64)])
    func parses(text: String, ns: Int64) throws {
        #expect(try IntervalSpec.parse(text) == ns)
        #expect(try IntervalSpec(parsing: text).nanoseconds == ns)
    }

    @Test func badTextIsNotANumber() {
        for text in ["", "abc", ".", "1.2.3", "s", "--1", "+1", "1e3"] {
            #expect(throws: AnalysisError.self, "\(text)") { try IntervalSpec.parse(text) }
        }
        #expect(throws: AnalysisError.intervalNotANumber("abc")) { try IntervalSpec.parse("abc") }
        #expect(throws: AnalysisError.intervalUnknownUnit(text: "5parsecs", unit: "parsecs")) {
            try IntervalSpec.parse("5parsecs")
        }
    }

    @Test func zeroAndNegativeAreRefused() {
        #expect(throws: AnalysisError.intervalZero("0")) { try IntervalSpec.parse("0") }
        #expect(throws: AnalysisError.intervalZero("0ms")) { try IntervalSpec.parse("0ms") }
        #expect(throws: AnalysisError.intervalZero("0.000")) { try IntervalSpec.parse("0.000") }
        #expect(throws: AnalysisError.intervalNegative("-1")) { try IntervalSpec.parse("-1") }
        #expect(throws: AnalysisError.intervalNegative("-250ms")) { try IntervalSpec.parse("-250ms") }
        #expect(throws: AnalysisError.intervalZero("-0")) { try IntervalSpec.parse("-0") }
        #expect(throws: AnalysisError.intervalNotANumber("-x")) { try IntervalSpec.parse("-x") }
    }

    @Test func tooFineAndTooLarge() {
        #expect(throws: AnalysisError.intervalTooFine("0.5ns")) { try IntervalSpec.parse("0.5ns") }
        #expect(throws: AnalysisError.intervalTooFine("0.0000000001")) { try IntervalSpec.parse("0.0000000001") }
        #expect(throws: AnalysisError.intervalTooLarge("99999999999999999999")) {
            try IntervalSpec.parse("99999999999999999999")
        }
        #expect(throws: AnalysisError.intervalTooLarge("10000000000000h")) { try IntervalSpec.parse("10000000000000h") }
    }

    @Test func errorsAreOneLineWithAHint() {
        let errors: [AnalysisError] = [
            .intervalNotANumber("x"), .intervalUnknownUnit(text: "1q", unit: "q"), .intervalZero("0"),
            .intervalNegative("-1"), .intervalTooFine("0.5ns"), .intervalTooLarge("9e99"),
        ]
        for e in errors {
            #expect(!e.description.contains("\n"))
            #expect(e.description.hasPrefix("invalid interval"))
            #expect(e.hint.contains("250ms"))
        }
        #expect(
            AnalysisError.intervalZero("0").description
                == "invalid interval '0': the interval must be greater than zero")
    }

    @Test func describes() {
        #expect(IntervalSpec.describe(1_000_000_000) == "1 s")
        #expect(IntervalSpec.describe(250_000_000) == "250 ms")
        #expect(IntervalSpec.describe(1_500_000_000) == "1.5 s")
        #expect(IntervalSpec.describe(60_000_000_000) == "1 min")
        #expect(IntervalSpec.describe(90_000_000_000) == "90 s")
        #expect(IntervalSpec.describe(3_600_000_000_000) == "1 h")
        #expect(IntervalSpec.describe(7) == "7 ns")
        #expect(IntervalSpec.describe(1_234_567) == "1234.567 us")
    }
}
