public import PacketRecords
public import PacketWire

/// The bounded data behind a chart: packet sizes over time and bytes per interval, reduced so that
/// memory and output size do not grow with the number of packets.
///
/// Time is cut into `columns` columns of equal width. The width starts at 1 ns and doubles (merging
/// neighbouring columns) whenever the data outgrows the grid, so at the end the data spans between
/// half and all of the columns: at least 1,024 columns for the default 2,048, finer than the
/// pixels of any chart. Each column keeps, per protocol, the smallest and largest wire length, the
/// packet count, and a 256-row bitmap of which lengths occurred (rows are `rowBytes` wide and also
/// double when a longer packet arrives). From that, `pointMarks` gives what a scatter of every
/// packet would paint, one mark per run of painted rows, so the chart looks like the full scatter
/// without holding the packets. The bytes line is `LineBins`: at most 8,192 round bins of bytes
/// (from the intervals, or binned from the packets for `--interval auto`), coarsened by whole
/// multiples as the span grows; `line()` draws at most about 1,000 of them.
///
/// Small captures stay exact: the first `exactLimit` packets are also kept as they are, and used
/// as long as there are no more than that. A histogram of wire lengths (65,537 counters) gives the
/// size axis its percentile and the count of packets above it.
///
/// Memory bound (default 2,048 columns): per protocol present, 2,048 × 44 bytes (about 90 KB); the
/// line 8,192 × 8 bytes (64 KB); the length histogram 512 KB; plus `exactLimit` × 32 bytes (128 KB
/// for the default 4,096). At most about 2.3 MB with all 17 protocols present, whatever the capture
/// size or span.
public struct ChartBuffer: Sendable {
    public static let rows = 256
    static let words = rows / 64

    /// Columns of the time grid.
    public let columns: Int
    /// Packets (and intervals) kept exactly while there are no more than this.
    public let exactLimit: Int

    /// Start of column 0 and width of a column, in nanoseconds.
    public private(set) var originNs: Int64?
    public private(set) var columnNs: UInt64 = 1
    /// Width of a length row in bytes.
    public private(set) var rowBytes: UInt64 = 1

    /// Packets seen, their time span, and the largest wire length.
    public private(set) var packets: UInt64 = 0
    public private(set) var firstNs: Int64 = .max
    public private(set) var lastNs: Int64 = .min
    public private(set) var maxLength: UInt32 = 0
    public private(set) var protocols = ProtocolSet()
    public private(set) var protocolPackets = ProtocolCounters()

    /// Intervals seen, their length, span, and the largest byte count of one interval.
    public private(set) var intervals: UInt64 = 0
    public private(set) var intervalNs: Int64 = 0
    public private(set) var seriesStartNs: Int64 = .max
    public private(set) var seriesEndNs: Int64 = .min
    public private(set) var maxIntervalBytes: UInt64 = 0

    struct Cells: Sendable {
        var bits: [UInt64]
        var minLength: [UInt32]
        var maxLength: [UInt32]
        var count: [UInt32]
        init(columns: Int) {
            bits = Array(repeating: 0, count: columns * ChartBuffer.words)
            minLength = Array(repeating: .max, count: columns)
            maxLength = Array(repeating: 0, count: columns)
            count = Array(repeating: 0, count: columns)
        }
    }

    struct ExactPoint: Sendable {
        var timeNs: Int64
        var length: UInt32
        var label: ProtocolLabel
    }

    private var cells: [Cells?]
    /// Columns 0 ..< used hold data.
    private var used = 0
    private var exactPoints: [ExactPoint]? = []
    /// Bytes over time: from the intervals (`.intervals`) or binned from the packets (`.auto`).
    public private(set) var lineBins: LineBins
    public let lineSource: LineSource
    /// Anchor of the interval indices (start of interval 0), from the first interval added.
    public private(set) var intervalAnchorNs: Int64?
    /// Packets per wire length, the last slot for 65,536 bytes and more (for the size axis).
    private var lengthCounts: [UInt64] = []
    static let lengthSlots = 65_537

    /// Where the bytes line comes from.
    public enum LineSource: Sendable {
        /// The closed intervals handed to `add(interval:)` (a fixed `--interval`).
        case intervals
        /// The packets, binned in round intervals picked at the end (`--interval auto`).
        case auto
    }

    public init(columns: Int = 2048, exactLimit: Int = 4096, line: LineSource = .intervals) {
        self.columns = max(2, columns + columns % 2)
        self.exactLimit = max(0, exactLimit)
        cells = Array(repeating: nil, count: ProtocolCounters.capacity)
        lineSource = line
        lineBins = LineBins(chain: line == .auto ? LineBins.nanosecondChain : LineBins.countChain)
    }

    /// Whether the exact points are still available (no more than `exactLimit` packets).
    public var isExact: Bool { exactPoints != nil }

    // MARK: adding

    /// Adds one packet.
    public mutating func add(_ r: PacketRecord) {
        let t = r.timestampNs
        let len = r.length
        let label = r.decoded.label
        packets &+= 1
        if t < firstNs { firstNs = t }
        if t > lastNs { lastNs = t }
        if len > maxLength { maxLength = len }
        protocols.insert(label)
        protocolPackets.add(1, at: Int(label.rawValue))
        if lengthCounts.isEmpty { lengthCounts = Array(repeating: 0, count: Self.lengthSlots) }
        lengthCounts[Int(min(len, UInt32(Self.lengthSlots - 1)))] &+= 1
        if lineSource == .auto { lineBins.add(unit: t, bytes: UInt64(len)) }
        if exactPoints != nil {
            if packets <= UInt64(exactLimit) {
                exactPoints!.append(ExactPoint(timeNs: t, length: len, label: label))
            } else {
                exactPoints = nil
            }
        }
        let c = column(for: t)
        while UInt64(len) / rowBytes >= UInt64(Self.rows) { doubleRows() }
        let row = Int(UInt64(len) / rowBytes)
        let slot = Int(label.rawValue)
        if cells[slot] == nil { cells[slot] = Cells(columns: columns) }
        cells[slot]!.bits[c * Self.words + row >> 6] |= 1 &<< UInt64(row & 63)
        if len < cells[slot]!.minLength[c] { cells[slot]!.minLength[c] = len }
        if len > cells[slot]!.maxLength[c] { cells[slot]!.maxLength[c] = len }
        cells[slot]!.count[c] &+= 1
    }

    /// Adds every record of a batch.
    public mutating func add(_ batch: UnsafeBufferPointer<PacketRecord>) {
        for r in batch { add(r) }
    }

    /// Adds every record of an array.
    public mutating func add(contentsOf records: [PacketRecord]) {
        records.withUnsafeBufferPointer { add($0) }
    }

    /// Adds one closed interval (for the bytes line of `.intervals`). Intervals may be skipped: an
    /// index never added counts as zero bytes, so only intervals that hold packets need adding.
    public mutating func add(interval s: IntervalStats) {
        intervals &+= 1
        intervalNs = s.intervalNs
        if s.startNs < seriesStartNs { seriesStartNs = s.startNs }
        if s.endNs > seriesEndNs { seriesEndNs = s.endNs }
        if s.bytes > maxIntervalBytes { maxIntervalBytes = s.bytes }
        if intervalAnchorNs == nil {
            intervalAnchorNs = s.startNs &- s.index &* s.intervalNs
        }
        if lineSource == .intervals { lineBins.add(unit: s.index, bytes: s.bytes) }
    }

    /// Packets longer than `length` bytes (exact below 65,536).
    public func packets(longerThan length: UInt32) -> UInt64 {
        guard !lengthCounts.isEmpty, Int(length) + 1 < Self.lengthSlots else { return 0 }
        return lengthCounts[(Int(length) + 1)...].reduce(0, &+)
    }

    /// The smallest length that at least `fraction` of the packets do not exceed.
    public func length(atFraction fraction: Double) -> UInt32 {
        guard packets > 0, !lengthCounts.isEmpty else { return 0 }
        let need = UInt64((Double(packets) * min(max(fraction, 0), 1)).rounded(.up))
        var seen: UInt64 = 0
        for (len, n) in lengthCounts.enumerated() where n > 0 {
            seen &+= n
            if seen >= need { return len == Self.lengthSlots - 1 ? maxLength : UInt32(len) }
        }
        return maxLength
    }

    // MARK: the grid

    /// The column of `t`, growing or shifting the grid so that it covers `t`.
    private mutating func column(for t: Int64) -> Int {
        guard let o = originNs else {
            originNs = t
            used = 1
            return 0
        }
        if t < o { shiftBack(toCover: t) }
        let d = UInt64(bitPattern: t &- originNs!)
        while d / columnNs >= UInt64(columns), columnNs <= UInt64.max / 4 { doubleColumns() }
        let c = Int(min(d / columnNs, UInt64(columns - 1)))
        if c + 1 > used { used = c + 1 }
        return c
    }

    /// Moves the origin back so that `t` is covered, with room to spare so that a run of earlier and
    /// earlier packets costs few shifts.
    private mutating func shiftBack(toCover t: Int64) {
        while true {
            let d = UInt64(bitPattern: originNs! &- t)
            let need = d / columnNs + (d % columnNs == 0 ? 0 : 1)  // columns to prepend
            if need <= UInt64(columns) - UInt64(used) {
                let spare = (UInt64(columns) - UInt64(used) - need)
                let shift = need + min(spare, UInt64(columns / 4))
                let (back, o1) = shift.multipliedReportingOverflow(by: columnNs)
                let (newOrigin, o2) = originNs!.subtractingReportingOverflow(Int64(bitPattern: back))
                if o1 || o2 || back > UInt64(Int64.max) {
                    // Absurd timestamps near Int64.min: fold them into column 0.
                    return
                }
                shiftColumns(by: Int(shift))
                originNs = newOrigin
                return
            }
            if columnNs > UInt64.max / 4 { return }
            doubleColumns()
        }
    }

    private mutating func shiftColumns(by s: Int) {
        guard s > 0 else { return }
        for i in cells.indices where cells[i] != nil {
            cells[i]!.bits.removeLast(s * Self.words)
            cells[i]!.bits.insert(contentsOf: repeatElement(0, count: s * Self.words), at: 0)
            cells[i]!.minLength.removeLast(s)
            cells[i]!.minLength.insert(contentsOf: repeatElement(.max, count: s), at: 0)
            cells[i]!.maxLength.removeLast(s)
            cells[i]!.maxLength.insert(contentsOf: repeatElement(0, count: s), at: 0)
            cells[i]!.count.removeLast(s)
            cells[i]!.count.insert(contentsOf: repeatElement(0, count: s), at: 0)
        }
        used += s
    }

    /// Doubles the column width: column c takes columns 2c and 2c+1.
    private mutating func doubleColumns() {
        let half = columns / 2
        for i in cells.indices where cells[i] != nil {
            var c = cells[i]!
            cells[i] = nil  // keep the arrays uniquely referenced while merging
            for j in 0..<half {
                let a = 2 * j
                let b = 2 * j + 1
                for w in 0..<Self.words {
                    c.bits[j * Self.words + w] = c.bits[a * Self.words + w] | c.bits[b * Self.words + w]
                }
                c.minLength[j] = Swift.min(c.minLength[a], c.minLength[b])
                c.maxLength[j] = Swift.max(c.maxLength[a], c.maxLength[b])
                c.count[j] = c.count[a] &+ c.count[b]
            }
            for j in half..<columns {
                for w in 0..<Self.words { c.bits[j * Self.words + w] = 0 }
                c.minLength[j] = .max
                c.maxLength[j] = 0
                c.count[j] = 0
            }
            cells[i] = c
        }
        columnNs &*= 2
        used = (used + 1) / 2
    }

    /// Doubles the row height: row r takes rows 2r and 2r+1.
    private mutating func doubleRows() {
        for i in cells.indices where cells[i] != nil {
            var c = cells[i]!
            cells[i] = nil
            for col in 0..<columns {
                let base = col * Self.words
                let w0 = c.bits[base]
                let w1 = c.bits[base + 1]
                let w2 = c.bits[base + 2]
                let w3 = c.bits[base + 3]
                c.bits[base] = Self.foldPairs(w0) | Self.foldPairs(w1) << 32
                c.bits[base + 1] = Self.foldPairs(w2) | Self.foldPairs(w3) << 32
                c.bits[base + 2] = 0
                c.bits[base + 3] = 0
            }
            cells[i] = c
        }
        rowBytes &*= 2
    }

    /// Bit i of the result is bit 2i | bit 2i+1 of `w` (32 significant bits).
    static func foldPairs(_ w: UInt64) -> UInt64 {
        var x = (w | (w >> 1)) & 0x5555_5555_5555_5555
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
        return x
    }

    // MARK: reading

    /// A vertical mark of the scatter: packets of `label` around `timeNs` with wire lengths from
    /// `low` to `high` (equal for a single point). `count` is the packets the mark stands for.
    public struct PointMark: Sendable, Equatable {
        public var label: ProtocolLabel
        public var timeNs: Int64
        public var low: UInt32
        public var high: UInt32
        public var count: UInt64
    }

    /// The scatter as marks for a chart `xColumns` wide and `yRows` tall showing
    /// `[fromNs, toNs)` and lengths `0 ... yMax`: exact points for small captures, else, per
    /// column and protocol, one mark per run of rows that a full scatter would paint. If that gives
    /// more than `maxMarks` marks, one mark per column and protocol from the smallest to the
    /// largest length. Marks are grouped by protocol, in `ProtocolLabel` order.
    public func pointMarks(
        fromNs: Int64, toNs: Int64, xColumns: Int, yMax: Double, yRows: Int, maxMarks: Int
    ) -> [PointMark] {
        let yScale = yMax > 0 ? Double(yRows) / yMax : 0
        return pointMarks(fromNs: fromNs, toNs: toNs, xColumns: xColumns, maxMarks: maxMarks) {
            Int((Double($0) * yScale).rounded(.down))
        }
    }

    /// The same with any vertical scale: `yRow` gives the chart row (pixel) of a length, and runs
    /// of rows merge when they touch in chart rows.
    public func pointMarks(
        fromNs: Int64, toNs: Int64, xColumns: Int, maxMarks: Int, yRow: (UInt32) -> Int
    ) -> [PointMark] {
        if let exact = exactPoints {
            var marks = exact.map {
                PointMark(label: $0.label, timeNs: $0.timeNs, low: $0.length, high: $0.length, count: 1)
            }
            marks.sort { $0.label.rawValue < $1.label.rawValue }
            return marks
        }
        guard let origin = originNs, used > 0, xColumns > 0 else { return [] }
        let detailed = reduce(origin: origin, fromNs: fromNs, toNs: toNs, xColumns: xColumns, yRow: yRow, runs: true)
        if detailed.count <= maxMarks { return detailed }
        return reduce(origin: origin, fromNs: fromNs, toNs: toNs, xColumns: xColumns, yRow: yRow, runs: false)
    }

    private func reduce(
        origin: Int64, fromNs: Int64, toNs: Int64, xColumns: Int, yRow: (UInt32) -> Int, runs: Bool
    ) -> [PointMark] {
        var marks: [PointMark] = []
        let span = Double(toNs) - Double(fromNs)
        for label in ProtocolLabel.allCases {
            guard let c = cells[Int(label.rawValue)] else { continue }
            var col = 0
            while col < used {
                // The buffer columns that land in one chart column form a group.
                let g = group(col, origin: origin, fromNs: fromNs, span: span, xColumns: xColumns)
                var end = col + 1
                while end < used, group(end, origin: origin, fromNs: fromNs, span: span, xColumns: xColumns) == g {
                    end += 1
                }
                var lo = UInt32.max
                var hi: UInt32 = 0
                var n: UInt64 = 0
                var bits = [UInt64](repeating: 0, count: Self.words)
                for k in col..<end where c.count[k] > 0 {
                    lo = min(lo, c.minLength[k])
                    hi = max(hi, c.maxLength[k])
                    n &+= UInt64(c.count[k])
                    for w in 0..<Self.words { bits[w] |= c.bits[k * Self.words + w] }
                }
                let t = groupTime(g, fromNs: fromNs, span: span, xColumns: xColumns)
                col = end
                guard n > 0 else { continue }
                if !runs {
                    marks.append(PointMark(label: label, timeNs: t, low: lo, high: hi, count: n))
                    continue
                }
                appendRuns(bits, lo: lo, hi: hi, count: n, label: label, timeNs: t, yRow: yRow, into: &marks)
            }
        }
        return marks
    }

    /// One mark per run of painted rows in `bits`, runs merged when they touch in chart rows; the
    /// first carries the packet count.
    private func appendRuns(
        _ bits: [UInt64], lo: UInt32, hi: UInt32, count: UInt64, label: ProtocolLabel, timeNs t: Int64,
        yRow: (UInt32) -> Int, into marks: inout [PointMark]
    ) {
        var runLow: UInt32 = 0
        var runHigh: UInt32 = 0
        var runTop = -2  // chart row of runHigh
        var open = false
        let first = marks.count
        for r in 0..<Self.rows where bits[r >> 6] & (1 &<< UInt64(r & 63)) != 0 {
            let l = max(lo, UInt32(clamping: UInt64(r) * rowBytes))
            let h = min(hi, UInt32(clamping: (UInt64(r) + 1) * rowBytes - 1))
            if open && yRow(l) <= runTop + 1 {
                runHigh = h
                runTop = yRow(h)
                continue
            }
            if open { marks.append(PointMark(label: label, timeNs: t, low: runLow, high: runHigh, count: 0)) }
            runLow = l
            runHigh = h
            runTop = yRow(h)
            open = true
        }
        if open { marks.append(PointMark(label: label, timeNs: t, low: runLow, high: runHigh, count: 0)) }
        if marks.count > first { marks[first].count = count }
    }

    private func group(_ col: Int, origin: Int64, fromNs: Int64, span: Double, xColumns: Int) -> Int {
        guard span > 0 else { return 0 }
        let center = Double(origin) + (Double(col) + 0.5) * Double(columnNs)
        let g = Int(((center - Double(fromNs)) / span * Double(xColumns)).rounded(.down))
        return min(max(g, 0), xColumns - 1)
    }

    private func groupTime(_ g: Int, fromNs: Int64, span: Double, xColumns: Int) -> Int64 {
        guard span > 0 else { return fromNs }
        let t = Double(fromNs) + (Double(g) + 0.5) / Double(xColumns) * span
        return Int64(max(min(t, 9.2e18), -9.2e18))
    }
}
