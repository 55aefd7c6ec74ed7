import PacketRecords
import PacketWire
import TestSupport
import Testing
import TrafficAnalysis

private let ms: Int64 = 1_000_000

/// A small scan: a few hosts talking (TCP, UDP, ICMP, IPv6, ARP) and, among them, SYNs from
/// random spoofed sources (a flow and a host each); times jitter back and forth a little.
private func scanRecords(_ n: Int, seed: UInt64) -> [PacketRecord] {
    var rng = SplitMix(state: seed)
    var out: [PacketRecord] = []
    for i in 0..<n {
        var d = Decoded()
        let t = Int64(i) * ms + Int64.random(in: -3...3, using: &rng) * ms
        var length = UInt32.random(in: 60...1500, using: &rng)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<4:  // the scan
            d.label = .tcp
            d.ipVersion = 4
            d.src = IPAddress(v4: UInt32.random(in: 0...UInt32.max, using: &rng))
            d.dst = IPAddress(v4: 0xC000_0201)
            d.hasPorts = true
            d.srcPort = UInt16.random(in: 1024...65535, using: &rng)
            d.dstPort = UInt16.random(in: 1...1024, using: &rng)
            length = 60
        case 4..<8:  // conversations among 6 hosts, both ways
            let a = UInt32.random(in: 1...6, using: &rng)
            let b = UInt32.random(in: 1...6, using: &rng)
            d.label = Bool.random(using: &rng) ? .tcp : .udp
            d.ipVersion = 4
            d.src = IPAddress(v4: 0x0A00_0000 + a)
            d.dst = IPAddress(v4: 0x0A00_0000 + b)
            d.hasPorts = true
            d.srcPort = [80, 443, 53, 40000][Int.random(in: 0..<4, using: &rng)]
            d.dstPort = [80, 443, 53, 40001][Int.random(in: 0..<4, using: &rng)]
        case 8:
            d.label = Bool.random(using: &rng) ? .icmp : .icmpv6
            d.ipVersion = d.label == .icmp ? 4 : 6
            d.src = IPAddress(hi: d.ipVersion == 6 ? 0x2001_0DB8 << 32 : 0, lo: UInt64.random(in: 1...3, using: &rng))
            d.dst = IPAddress(hi: d.ipVersion == 6 ? 0x2001_0DB8 << 32 : 0, lo: UInt64.random(in: 1...3, using: &rng))
        default:
            d.label = .arp
        }
        out.append(PacketRecord(timestampNs: t, length: length, captured: length, decoded: d))
    }
    return out
}

/// What `flows` printed when it kept every flow: the old command's arithmetic, on all the flows
/// (those that left, in the order they left, then the table's).
private func expected(
    retired: [Flow], table: FlowTable, grouping: FlowGrouping?, sort: FlowSort?, top: Int?, bounded: Bool,
    inRetireOrder: Bool
) -> [FlowReportRow] {
    let all = retired + Array(table)
    switch grouping {
    case .host:
        return FlowViews.sorted(
            FlowViews.hosts(all), by: sort, top: top, packets: \.packets, bytes: \.bytes, first: \.first
        ).map { .host($0) }
    case .port, .byProtocol:
        return FlowViews.sorted(
            FlowViews.groups(all, byPort: grouping == .port), by: sort, top: top, packets: \.packets,
            bytes: \.bytes, first: \.first
        ).map { .group($0) }
    case nil:
        if bounded && sort == nil && inRetireOrder {
            let rest = FlowViews.order(table, by: .first, top: nil).map { table[$0] }
            return (retired + rest).prefix(top ?? .max).map { .flow($0) }
        }
        let order = bounded ? (sort ?? .first) : sort
        return FlowViews.order(all, by: order, top: top).map { .flow(all[$0]) }
    }
}

private struct Run {
    var rows: [FlowReportRow]
    var expected: [FlowReportRow]
    var retired: [Flow]
}

private func run(
    _ records: [PacketRecord], limits: FlowLimits?, grouping: FlowGrouping?, sort: FlowSort?, top: Int?,
    inRetireOrder: Bool, memoryLimit: Int
) throws -> Run {
    let table = FlowTable(limits: limits ?? FlowLimits(maxFlows: .max), keepsRetired: limits != nil)
    let report = FlowReport(
        grouping: grouping, sort: sort, top: top, bounded: limits != nil, inRetireOrder: inRetireOrder,
        memoryLimit: memoryLimit)
    var retired: [Flow] = []
    var rows: [FlowReportRow] = []
    var start = 0
    while start < records.count {
        let end = min(records.count, start + 37)
        records[start..<end].withUnsafeBufferPointer { table.add($0) }
        retired += table.retired
        report.take(from: table) { rows.append(.flow($0)) }
        #expect(table.retired.isEmpty)
        // Written as they leave, in the order they leave, up to top.
        if report.streams { #expect(rows == retired.prefix(top ?? .max).map { .flow($0) }) }
        start = end
    }
    let want = expected(
        retired: retired, table: table, grouping: grouping, sort: sort, top: top, bounded: limits != nil,
        inRetireOrder: inRetireOrder)
    try report.finish(table)
    var written = rows
    try report.forEachRow { written.append($0) }
    var again: [FlowReportRow] = []
    try report.forEachRow { again.append($0) }
    #expect(written.dropFirst(rows.count).elementsEqual(again))
    #expect(report.spillProblem == nil)
    return Run(rows: written, expected: want, retired: retired)
}

@Suite struct FlowReportTests {
    static let records = scanRecords(3000, seed: 42)
    static let sorts: [FlowSort?] = [nil, .bytes, .packets, .first]
    /// Heap (1, 3), sorter with a cut (9: more than the memory limit), more than there are.
    static let tops: [Int?] = [nil, 1, 3, 9, 100_000]

    /// Every mode, bounded by count and by time, with 8 rows in memory: spilled runs, several merge
    /// passes, heaps, aggregates spilled and merged. The rows equal the unbounded arithmetic.
    @Test(arguments: [FlowGrouping?.none, .host, .port, .byProtocol])
    func everyModeEqualsTheUnboundedAnswer(_ grouping: FlowGrouping?) throws {
        let limits: [FlowLimits?] = [nil, FlowLimits(maxFlows: 50), FlowLimits(idleTimeoutNs: 40 * ms, maxFlows: .max)]
        for l in limits {
            for sort in Self.sorts {
                for top in Self.tops {
                    for inRetireOrder in [true, false] {
                        for memoryLimit in [8, FlowReport.defaultMemoryLimit] {
                            let r = try run(
                                Self.records, limits: l, grouping: grouping, sort: sort, top: top,
                                inRetireOrder: inRetireOrder, memoryLimit: memoryLimit)
                            #expect(
                                r.rows == r.expected,
                                "\(String(describing: l)) \(String(describing: sort)) top \(String(describing: top))"
                            )
                            if l != nil { #expect(r.retired.count > 1000) }
                        }
                    }
                }
            }
        }
    }

    /// Without --sort, CSV rows go out as flows leave, then the table's by first timestamp; top
    /// counts across both.
    @Test func streamingWritesFlowsAsTheyLeaveAndStopsAtTop() throws {
        let r = try run(
            Self.records, limits: FlowLimits(maxFlows: 20), grouping: nil, sort: nil, top: 5, inRetireOrder: true,
            memoryLimit: 8)
        #expect(r.rows.count == 5 && r.rows == r.expected)
        let table = FlowTable(limits: FlowLimits(maxFlows: 20), keepsRetired: true)
        let report = FlowReport(grouping: nil, sort: nil, top: nil, bounded: true, inRetireOrder: true)
        #expect(report.streams)
        Self.records.prefix(100).withUnsafeBufferPointer { table.add($0) }
        let left = table.retired
        var written: [Flow] = []
        report.take(from: table) { written.append($0) }
        #expect(written == left && !left.isEmpty && report.retiredCount == left.count)
        // A table ordered by first: the streaming report is not used for it.
        #expect(!FlowReport(grouping: nil, sort: nil, top: nil, bounded: true, inRetireOrder: false).streams)
        #expect(!FlowReport(grouping: nil, sort: .bytes, top: nil, bounded: true, inRetireOrder: true).streams)
        #expect(!FlowReport(grouping: .host, sort: nil, top: nil, bounded: true, inRetireOrder: true).streams)
    }

    /// Ties: equal bytes keep the order flows came in (left first, in the order they left).
    @Test func tiesKeepTheOrderFlowsCameIn() throws {
        var records: [PacketRecord] = []
        for i in 0..<40 {
            var d = Decoded()
            d.label = .udp
            d.ipVersion = 4
            d.src = IPAddress(v4: 0x0A00_0000 + UInt32(i))
            d.dst = IPAddress(v4: 0x0A00_FFFF)
            d.hasPorts = true
            d.srcPort = 1000
            d.dstPort = 53
            records.append(PacketRecord(timestampNs: Int64(40 - i) * ms, length: 100, captured: 100, decoded: d))
        }
        for top in [nil, 3, 39, 41] as [Int?] {
            for grouping in [nil, FlowGrouping.host, .port] {
                let r = try run(
                    records, limits: FlowLimits(maxFlows: 7), grouping: grouping, sort: .bytes, top: top,
                    inRetireOrder: true, memoryLimit: 4)
                #expect(r.rows == r.expected)
            }
        }
        let r = try run(
            records, limits: FlowLimits(maxFlows: 7), grouping: nil, sort: .bytes, top: 3, inRetireOrder: true,
            memoryLimit: 4)
        #expect(r.rows == r.retired.prefix(3).map { .flow($0) })  // the first three evicted
    }

    /// Nothing ever leaves an unbounded table: the rows come from the table itself.
    @Test func unboundedRowsComeFromTheTable() throws {
        let r = try run(
            Self.records, limits: nil, grouping: nil, sort: nil, top: nil, inRetireOrder: true, memoryLimit: 8)
        #expect(r.retired.isEmpty && r.rows == r.expected)
    }
}
