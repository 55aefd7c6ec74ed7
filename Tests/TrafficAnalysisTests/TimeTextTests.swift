import Testing
import TrafficAnalysis

/// `TimeText`: exact nanoseconds, and times beyond what nanoseconds hold told apart from text that
/// is not a time (they used to trap on overflow).
@Suite struct TimeTextTests {
    let now: Int64 = 1_700_000_000_000_000_000

    @Test func exactNanoseconds() throws {
        #expect(try TimeText.nanoseconds("1700000000.123456789", nowNs: now) == 1_700_000_000_123_456_789)
        #expect(try TimeText.nanoseconds("0", nowNs: now) == 0)
        #expect(try TimeText.nanoseconds("9223372036.854775807", nowNs: now) == .max)
        #expect(try TimeText.nanoseconds("2262-04-11T23:47:16.854775807Z", nowNs: now) == .max)
        #expect(try TimeText.nanoseconds("1677-09-21T00:12:43.145224192Z", nowNs: now) == .min)
        #expect(try TimeText.nanoseconds("-90s", nowNs: now) == now - 90_000_000_000)
    }

    @Test(arguments: [
        ("9223372036.854775808", TimeTextError.tooLate), ("99999999999999999999999", .tooLate),
        ("2300-01-01T00:00:00Z", .tooLate), ("0000-01-01T00:00:00Z", .tooEarly),
        ("1677-09-21T00:12:43.145224191Z", .tooEarly), ("-999999999999d", .tooEarly),
        ("-9999999999999999999999s", .tooEarly), ("", .unreadable), (" 1", .unreadable), ("1 ", .unreadable),
        ("1e9", .unreadable), ("1.0000000001", .unreadable), ("-1", .unreadable), ("+1", .unreadable),
        ("2023-11-14T22:13:20", .unreadable),
    ])
    func refuses(text: String, error: TimeTextError) {
        #expect(throws: error) { try TimeText.nanoseconds(text, nowNs: now) }
    }
}
