import Testing
import TrafficPipeline

/// `--since`/`--until` as the commands check them: read against the real-time clock, and a window
/// that holds no time refused with one message.
@Suite struct TimeWindowCheckTests {
    @Test func emptyWindowIsAProblem() {
        #expect(TimeWindow().problem == nil)
        #expect(TimeWindow(sinceNs: 5).problem == nil)
        #expect(TimeWindow(sinceNs: 5, untilNs: 6).problem == nil)
        let message = "--until must be later than --since (the window keeps since <= time < until)"
        #expect(TimeWindow(sinceNs: 5, untilNs: 5).problem == message)
        #expect(TimeWindow(sinceNs: 6, untilNs: 5).problem == message)
    }

    @Test func boundsReadNow() throws {
        #expect(try TimeBound.parse("1700000000.5") == 1_700_000_000_500_000_000)
        let before = LivePipeline.realtimeNow()
        let hourAgo = try TimeBound.parse("-1h")
        let after = LivePipeline.realtimeNow()
        #expect(hourAgo >= before - 3_600_000_000_000 && hourAgo <= after - 3_600_000_000_000)
        #expect(throws: TimeBoundError.self) { try TimeBound.parse("yesterday-ish") }
    }
}
