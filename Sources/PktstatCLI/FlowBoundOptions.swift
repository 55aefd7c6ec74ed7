import ArgumentParser
import TrafficAnalysis

/// `--flow-timeout` and `--max-flows`: what bounds a flow table's memory, for `flows`, `top` and
/// `serve`. Each command has its own defaults (`flows`: none, every flow kept to the end; `top`:
/// 60 s and 1,000,000 flows; `serve`: 5 minutes and 100,000 flows).
struct FlowBoundOptions: ParsableArguments {
    @Option(
        name: .customLong("flow-timeout"),
        help: ArgumentHelp(
            "End a flow idle longer than this, in capture time (e.g. 60, 5m). Default: flows never, top 60s, serve 5m.",
            valueName: "time"))
    var flowTimeout: TimeSpan?

    @Option(
        name: .customLong("max-flows"),
        help: ArgumentHelp(
            "Keep at most this many flows, evicting the least recently seen. Default: flows no limit, top 1000000, "
                + "serve 100000.",
            valueName: "n"))
    var maxFlows: Int?

    func validate() throws {
        if let problem = FlowLimits.problem(idleTimeoutNs: flowTimeout?.nanoseconds, maxFlows: maxFlows) {
            throw ValidationError(problem)
        }
    }

    /// Whether either bound was given.
    var given: Bool { flowTimeout != nil || maxFlows != nil }

    /// The limits, a command's defaults filling what was not given (nil timeout: never).
    func limits(defaultTimeoutNs: Int64?, defaultMax: Int) -> FlowLimits {
        FlowLimits(idleTimeoutNs: flowTimeout?.nanoseconds ?? defaultTimeoutNs, maxFlows: maxFlows ?? defaultMax)
    }
}
