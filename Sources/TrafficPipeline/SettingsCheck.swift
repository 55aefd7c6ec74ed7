extension LiveSettings {
    /// Why these settings cannot open a capture, in the words of the options; nil when they can.
    public var problem: String? {
        if snapLength < 0 { return "-s/--snaplen must be a positive number of bytes, or 0 for the default" }
        if bufferKiB <= 0 || bufferKiB > 2_097_151 {
            return "--buffer-size is in KiB and must be between 1 and 2097151"
        }
        return nil
    }
}

extension TopSettings {
    /// Why `top` cannot run with these settings, in the words of its options; nil when it can.
    public var problem: String? {
        if intervalNs < 10_000_000 { return "--interval must be at least 10ms" }
        if let top, top <= 0 { return "--top must be a positive number of rows (got \(top))" }
        return nil
    }
}
