import Testing
import TrafficAnalysis

/// `--max-flows` and `--flow-timeout` as given.
@Suite struct FlowLimitsCheckTests {
    @Test func problems() {
        #expect(FlowLimits.problem(idleTimeoutNs: nil, maxFlows: nil) == nil)
        #expect(FlowLimits.problem(idleTimeoutNs: 1, maxFlows: 1) == nil)
        #expect(FlowLimits.problem(idleTimeoutNs: nil, maxFlows: 0) == "--max-flows must be a positive number (got 0)")
        #expect(FlowLimits.problem(idleTimeoutNs: 0, maxFlows: nil) == "--flow-timeout must be longer than 0")
        #expect(FlowLimits.problem(idleTimeoutNs: 0, maxFlows: -2) == "--max-flows must be a positive number (got -2)")
    }
}
