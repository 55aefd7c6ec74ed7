import ArgumentParser
import Rendering

/// `--title`, `--y-max`, `--log`: how a chart looks, for `analyze` (svg, gnuplot, png) and
/// `sniff --plot`.
struct ChartLookOptions: ParsableArguments {
    @Option(help: "Chart title (analyze --format svg/gnuplot/png, sniff --plot).")
    var title: String = "Packet size over time"

    @Option(
        name: .customLong("y-max"),
        help: ArgumentHelp(
            "Top of the chart's packet size axis in bytes; longer packets are marked on its top edge.",
            valueName: "bytes"))
    var yMax: UInt32?

    @Flag(help: "A logarithmic packet size axis on the chart.")
    var log = false

    /// The chart options; `originNs` nil: the axis starts at the first packet (`--interval auto`).
    func options(originNs: Int64?) -> ChartOptions {
        ChartOptions(title: title, originNs: originNs, yMax: yMax, logScale: log)
    }
}
