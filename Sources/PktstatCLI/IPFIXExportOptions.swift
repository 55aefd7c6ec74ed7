import ArgumentParser
import TrafficPipeline

/// `--ipfix` and its companions: flows sent to an IPFIX collector, for `flows` and `serve`
/// (`flows` adds `--ipfix-rate`: serve never waits).
struct IPFIXExportOptions: ParsableArguments {
    @Option(
        name: .customLong("ipfix"),
        help: ArgumentHelp(
            "Send the flows as IPFIX to a collector: HOST:PORT or [IPV6]:PORT (UDP), or tcp://HOST:PORT.",
            valueName: "collector"))
    var destination: String?

    @Option(
        name: .customLong("ipfix-mtu"),
        help: ArgumentHelp("Largest IPFIX message in bytes (default 1400).", valueName: "bytes"))
    var mtu: Int = IPFIXOptions.defaultMTU

    @Option(
        name: .customLong("observation-domain"),
        help: ArgumentHelp("IPFIX observation domain id of this exporter (default 0).", valueName: "id"))
    var observationDomain: UInt32 = 0

    @Flag(name: .customLong("biflow"), help: "Send one RFC 5103 bidirectional record per flow, not one per direction.")
    var biflow = false

    @Option(
        name: .customLong("ipfix-template-interval"),
        help: ArgumentHelp("Seconds between template resends over UDP (default 60).", valueName: "seconds"))
    var templateInterval: Int = IPFIXOptions.defaultTemplateInterval

    /// The options, or nil without --ipfix; `rate`: records per second at most (`flows --ipfix-rate`).
    func options(rate: Int = 0) -> IPFIXOptions? {
        destination.map {
            IPFIXOptions(
                destination: $0, mtu: mtu, observationDomain: observationDomain, biflow: biflow, rate: rate,
                templateIntervalSeconds: templateInterval)
        }
    }

    var options: IPFIXOptions? { options() }

    func validate() throws {
        if let options {
            do { _ = try options.checked() } catch {
                throw ValidationError(error.description + "; " + (error.hint ?? ""))
            }
        } else if biflow || mtu != IPFIXOptions.defaultMTU || observationDomain != 0
            || templateInterval != IPFIXOptions.defaultTemplateInterval
        {
            throw ValidationError(
                "--biflow, --ipfix-mtu, --observation-domain and --ipfix-template-interval need --ipfix HOST:PORT")
        }
    }
}
