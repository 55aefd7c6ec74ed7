import Rendering
import TrafficAnalysis

/// Writes the chart of a session to FILE by its extension: .svg (our SVG), .gp (a gnuplot
/// script) or .png (gnuplot draws it). Shared by `analyze -o` and `sniff --plot`.
enum ChartOutput {
    enum Kind: String, CaseIterable {
        case svg, gp, png
    }

    static func kind(of path: String) -> Kind? {
        guard let dot = path.lastIndex(of: ".") else { return nil }
        return Kind(rawValue: path[path.index(after: dot)...].lowercased())
    }

    static func write(_ session: SeriesSession, to path: String, title: String, commandLine: String) throws {
        let options = ChartOptions(title: title, originNs: session.analyzer.anchorNs)
        switch kind(of: path) {
        case .svg:
            let out = try ByteOutput.file(path)
            out.buffer = SVGChart.render(session.chart, summary: session.analyzer.summary, options: options)
            try out.commit()
        case .gp:
            let out = try ByteOutput.file(path)
            out.buffer = GnuplotScript.script(
                session.chart, summary: session.analyzer.summary, chartOptions: options,
                options: GnuplotOptions(terminal: .svg, output: nil, commandLine: commandLine))
            try out.commit()
        case .png:
            let script = GnuplotScript.script(
                session.chart, summary: session.analyzer.summary, chartOptions: options,
                options: GnuplotOptions(terminal: Gnuplot.pngTerminal(), output: path, commandLine: commandLine))
            try Gnuplot.run(script: script, output: path)
        case nil:
            throw OutputError.writeFailed(name: path, errno: 0)
        }
    }
}
