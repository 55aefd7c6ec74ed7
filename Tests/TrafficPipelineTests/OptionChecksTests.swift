import Testing
import TrafficPipeline

/// The checks `sniff`, `top`, `serve` and `analyze` make of their options, in the options' words.
@Suite struct OptionChecksTests {
    @Test func liveSettings() {
        var s = LiveSettings()
        #expect(s.problem == nil)
        s.snapLength = -1
        #expect(s.problem == "-s/--snaplen must be a positive number of bytes, or 0 for the default")
        s.snapLength = 0
        for kib: Int32 in [0, 2_097_152] {
            s.bufferKiB = kib
            #expect(s.problem == "--buffer-size is in KiB and must be between 1 and 2097151")
        }
        s.bufferKiB = 2_097_151
        #expect(s.problem == nil)
    }

    @Test func topSettings() {
        var s = TopSettings()
        #expect(s.problem == nil)
        s.top = 0
        #expect(s.problem == "--top must be a positive number of rows (got 0)")
        s.intervalNs = 9_999_999
        #expect(s.problem == "--interval must be at least 10ms")
    }

    @Test func analyzeFormats() {
        #expect(SeriesReportFormat.allCases.filter(\.isChart) == [.svg, .gnuplot, .png])
        #expect(SeriesReportFormat.allCases.map { $0.text == nil } == [false, false, false, true, true, true])
    }
}
