/// Elapsed time on a monotonic clock (a change of the wall clock does not move it), in seconds.
///
/// Tests on the shared 2-core machine assert no absolute durations: a duration is compared with a
/// yardstick measured in the same test, or bounded at ten times or more what was measured (the
/// comment beside the bound says what), or only bounded below (a slow machine cannot make a lower
/// bound false: it checks that a timer really waited).
public struct Stopwatch: Sendable {
    private let start = ContinuousClock.now

    public init() {}

    public var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
