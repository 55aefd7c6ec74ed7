extension FlowLimits {
    /// Why `--max-flows` and `--flow-timeout`, as given (nil: not given), cannot bound a flow
    /// table; nil when they can.
    public static func problem(idleTimeoutNs: Int64?, maxFlows: Int?) -> String? {
        if let maxFlows, maxFlows <= 0 { return "--max-flows must be a positive number (got \(maxFlows))" }
        if let idleTimeoutNs, idleTimeoutNs <= 0 { return "--flow-timeout must be longer than 0" }
        return nil
    }
}
