import ArgumentParser
import SocketOwners
import TrafficPipeline

/// `--no-processes`, shared by `top` and `serve`: attribution of flows to local processes.
struct ProcessOptions: ParsableArguments {
    @Flag(
        name: .customLong("no-processes"),
        help: "Do not look up the local process, unit or container at each end of a flow (root sees them all).")
    var noProcesses = false

    /// Attribution, started before the capture opens (and so before `-Z` drops privileges); nil
    /// with --no-processes. An answer is kept while its flow can still be in the table (asked for
    /// within the flow idle timeout, plus 10 s), so memory follows the flow table's.
    func start(_ live: inout LiveSettings, flowIdleNs: Int64?) -> SocketOwners? {
        guard !noProcesses else { return nil }
        // Packets within 5 ms, so that a short connection is looked up while it is open.
        live.deliveryTimeoutMs = 5
        var settings = SocketOwnersSettings()
        if let flowIdleNs { settings.keepNs = max(10_000_000_000, flowIdleNs + 10_000_000_000) }
        return SocketOwners(settings)
    }
}
