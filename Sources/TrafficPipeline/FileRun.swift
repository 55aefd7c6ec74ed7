public import PacketRecords

/// The one file run every file command composes: the stop signals trapped (Ctrl-C keeps what was
/// read), the source streamed into the consumer, and the rule for errors: an input that cannot be
/// opened throws at once, before any output; damage after readable packets is handed back, so the
/// command writes what was read and then reports it.
public enum FileRun {
    /// Streams `source`; `consume` returns false to stop early (a failed write it keeps for itself). Returns the error that ended the
    /// read after the input opened, if any.
    public static func read(
        _ source: FileSource, opened: (FileSource.Opened) throws -> Void = { _ in },
        _ consume: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws -> (any Error)? {
        let stop = StopFlag()
        let trap = SignalTrap(stop: stop)
        defer { withExtendedLifetime(trap) {} }
        var isOpen = false
        do {
            try source.stream(
                stop: stop,
                opened: { file in
                    isOpen = true
                    try opened(file)
                }
            ) { batch in consume(batch) && !stop.isRequested }
        } catch {
            if !isOpen { throw error }
            return error
        }
        return nil
    }
}
