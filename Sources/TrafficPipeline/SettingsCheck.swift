import OutputSinks

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

extension SniffOutput {
    /// Why `sniff` cannot run with these options, in their words; nil when it can. `reading`: -r
    /// was given; `interface`: -i was; `windowed`: --since or --until was.
    public static func problem(
        count: Int64?, quiet: Bool, print: Bool, autoInterval: Bool, plot: String?, reading: Bool, interface: Bool,
        windowed: Bool
    ) -> String? {
        if let count, count <= 0 { return "-c/--count must be a positive number of packets (got \(count))" }
        if quiet && print { return "--quiet and --print contradict each other; pick one" }
        if autoInterval && plot == nil {
            return "--interval auto is the --plot chart's default; give rows a time, e.g. --interval 1"
        }
        if let plot, ChartOutput.kind(of: plot) == nil { return "--plot \(plot): name a .svg, .gp or .png file" }
        if reading && interface { return "use either -r FILE or -i INTERFACE, not both" }
        if !reading && windowed { return "--since and --until apply to files: add -r FILE" }
        return nil
    }
}
