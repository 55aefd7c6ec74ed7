public import History

/// `pktstat history --format svg`: a bar chart of the history's rows as `vnstati` draws its daily
/// and monthly charts: one bar per bucket (day, month, hour or 5 minutes) from the first to the
/// last bucket with traffic (silent buckets keep their slot, empty), each bar the bucket's bytes
/// stacked by name (interface, protocol, host, port or process), a byte axis with units, the
/// span in the title. Hand-written like `SVGChart`, with its elements, ticks and escaping.
///
/// The names that get a colour are the `palette.count` largest over the span; the others are
/// drawn with `other` (grey), so a bar's height is always its bucket's whole total. Each bar is a
/// `<g class="bar" data-start="EPOCH" data-bytes="N">` whose `<rect>`s carry a `<title>` (name and
/// bytes), so the document can be read back as well as looked at.
public enum HistoryChart {
    static let palette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    ]
    static let otherColor = "#bab0ac"
    public static let width = 960
    public static let height = 480

    /// Appends the SVG document for `rows` (as `HistoryQuery.run` returns them) to `out`.
    public static func write(
        _ rows: [HistoryQuery.Row], dimension: HistoryDimension, resolution: HistoryResolution,
        into out: inout [UInt8]
    ) {
        // Buckets: every slot from the first to the last bucket with rows (bounded: a file from
        // elsewhere could hold absurd starts; then only the buckets with rows get a slot).
        var totals: [Int64: UInt64] = [:]
        var byName: [String: UInt64] = [:]
        for r in rows {
            totals[r.start, default: 0] += r.counts.bytes
            byName[r.name, default: 0] += r.counts.bytes
        }
        let withRows = totals.keys.sorted()
        var slots: [Int64] = []
        if let first = withRows.first, let last = withRows.last {
            var t = first
            while t <= last && slots.count <= 2000 {
                slots.append(t)
                t = resolution.next(t)
            }
            if slots.count > 2000 { slots = withRows }
        }
        let named = byName.filter { $0.key != "other" }.sorted {
            $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
        }
        .prefix(palette.count).map(\.key)
        var color: [String: String] = [:]
        for (i, n) in named.enumerated() { color[n] = palette[i] }

        let w = Double(width)
        let h = Double(height)
        let left = 80.0
        let right = w - 190
        let top = 70.0
        let bottom = h - 40
        header(title(slots, dimension, resolution), into: &out)
        guard !slots.isEmpty else {
            SVGChart.rect(left, top, right - left, bottom - top, into: &out)
            SVGChart.text(
                (left + right) / 2, (top + bottom) / 2, "No traffic in the history for this span", anchor: "middle",
                extra: " font-size=\"18\"", into: &out)
            out.append(ascii: "</svg>\n")
            return
        }
        let maxTotal = Double(totals.values.max() ?? 0)
        let (_, niceTop) = Ticks.nice(0, max(1, maxTotal), count: 5)
        let ys = LinearScale(domain: (0, niceTop), range: (bottom, top))
        let ticks = Ticks.ticks(0, niceTop, count: 5)
        let slot = (right - left) / Double(slots.count)
        let barWidth = max(0.5, slot * 0.8)

        out.append(ascii: "<g class=\"g\">\n")
        for t in ticks { SVGChart.line(left, ys(t.value), right, ys(t.value), into: &out) }
        out.append(ascii: "</g>\n")
        SVGChart.rect(left, top, right - left, bottom - top, into: &out)
        out.append(ascii: "<g class=\"t\">\n")
        for t in ticks { SVGChart.text(left - 6, ys(t.value) + 4, t.siLabel + "B", anchor: "end", into: &out) }
        SVGChart.vtext(18, (top + bottom) / 2, "bytes per \(unitWord(resolution))", into: &out)
        let every = max(1, Int((Double(slots.count) / max(1, (right - left) / 70)).rounded(.up)))
        for (i, s) in slots.enumerated() where i % every == 0 {
            SVGChart.text(
                left + slot * (Double(i) + 0.5), bottom + 16, label(s, resolution), anchor: "middle", into: &out)
        }
        out.append(ascii: "</g>\n")

        // The bars: each bucket's rows stacked, the largest names over the span at the bottom.
        var rowsAt: [Int64: [HistoryQuery.Row]] = [:]
        for r in rows { rowsAt[r.start, default: []].append(r) }
        for (i, s) in slots.enumerated() {
            guard let bucket = rowsAt[s], let total = totals[s] else { continue }
            var parts: [(name: String, bytes: UInt64)] = named.compactMap { n in
                let b = bucket.filter { $0.name == n }.reduce(UInt64(0)) { $0 + $1.counts.bytes }
                return b > 0 ? (n, b) : nil
            }
            let rest = bucket.filter { color[$0.name] == nil }.reduce(UInt64(0)) { $0 + $1.counts.bytes }
            if rest > 0 { parts.append(("other", rest)) }
            out.append(ascii: "<g class=\"bar\" data-start=\"")
            out.append(decimal: s)
            out.append(ascii: "\" data-bytes=\"")
            out.append(decimal: total)
            out.append(ascii: "\">\n")
            var below = 0.0
            let x = left + slot * Double(i) + (slot - barWidth) / 2
            for p in parts {
                let y0 = ys(below)
                below += Double(p.bytes)
                let y1 = ys(below)
                out.append(ascii: "<rect x=\"")
                out.appendFixed(x, decimals: 2)
                out.append(ascii: "\" y=\"")
                out.appendFixed(y1, decimals: 3)
                out.append(ascii: "\" width=\"")
                out.appendFixed(barWidth, decimals: 2)
                out.append(ascii: "\" height=\"")
                out.appendFixed(y0 - y1, decimals: 3)
                out.append(ascii: "\" fill=\"")
                out.appendUTF8(color[p.name] ?? otherColor)
                out.append(ascii: "\"><title>")
                ChartText.appendXML("\(HistoryWriter.label(s, resolution)) \(p.name): \(p.bytes) bytes", into: &out)
                out.append(ascii: "</title></rect>\n")
            }
            out.append(ascii: "</g>\n")
        }

        // The legend: the coloured names, then other.
        var y = top + 8
        let legendNames = named + (named.count < byName.count ? ["other"] : [])
        for n in legendNames {
            out.append(ascii: "<rect x=\"")
            out.appendFixed(right + 14, decimals: 1)
            out.append(ascii: "\" y=\"")
            out.appendFixed(y - 5, decimals: 1)
            out.append(ascii: "\" width=\"10\" height=\"10\" fill=\"")
            out.appendUTF8(color[n] ?? otherColor)
            out.append(ascii: "\"/>\n")
            let shown = n.count > 24 ? String(n.prefix(23)) + "…" : n
            SVGChart.text(right + 30, y + 4, shown, anchor: "start", into: &out)
            y += 18
        }
        out.append(ascii: "</svg>\n")
    }

    static func header(_ title: String, into out: inout [UInt8]) {
        out.append(ascii: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        out.append(ascii: "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 ")
        out.append(decimal: UInt64(width))
        out.append(UInt8(ascii: " "))
        out.append(decimal: UInt64(height))
        out.append(ascii: "\" width=\"")
        out.append(decimal: UInt64(width))
        out.append(ascii: "\" height=\"")
        out.append(decimal: UInt64(height))
        out.append(ascii: "\" role=\"img\" aria-labelledby=\"title\"")
        out.append(ascii: " font-family=\"sans-serif\" font-size=\"11\">\n")
        out.append(ascii: "<title id=\"title\">")
        ChartText.appendXML(title, into: &out)
        out.append(ascii: "</title>\n")
        out.append(ascii: "<style>.g{stroke:#e4e4e4;stroke-width:1}.a{stroke:#444;stroke-width:1;fill:none}")
        out.append(ascii: ".t{fill:#333}</style>\n")
        out.append(ascii: "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n")
        SVGChart.text(
            Double(width) / 2, 30, title, anchor: "middle", extra: " font-size=\"16\" font-weight=\"bold\"", into: &out)
    }

    /// `Traffic by protocol per day, 2026-10-01 to 2026-11-09 (UTC)`.
    static func title(_ slots: [Int64], _ d: HistoryDimension, _ r: HistoryResolution) -> String {
        let head = "Traffic by \(d.rawValue) per \(unitWord(r))"
        guard let first = slots.first, let last = slots.last else { return head }
        let from = HistoryWriter.label(first, r)
        let to = HistoryWriter.label(last, r)
        return head + (from == to ? ", \(from)" : ", \(from) to \(to)") + " (UTC)"
    }

    static func unitWord(_ r: HistoryResolution) -> String {
        switch r {
        case .fiveMinutes: "5 minutes"
        case .hour: "hour"
        case .day: "day"
        case .month: "month"
        }
    }

    /// An axis label: `12-07` for a day, `2026-12` for a month, `12-07 14:00` finer.
    static func label(_ start: Int64, _ r: HistoryResolution) -> String {
        let full = HistoryWriter.label(start, r)
        switch r {
        case .month: return full
        case .day: return String(full.dropFirst(5))
        case .fiveMinutes, .hour: return String(full.dropFirst(5))
        }
    }
}
