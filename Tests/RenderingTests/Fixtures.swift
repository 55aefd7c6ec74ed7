import Foundation
import PacketRecords
import PacketWire
import Rendering
import TestSupport
import TrafficAnalysis

let sec: Int64 = 1_000_000_000
let t0: Int64 = 1_700_000_000 * sec

func rec(_ t: Int64, _ len: UInt32, _ label: ProtocolLabel = .tcp) -> PacketRecord {
    PacketRecord(timestampNs: t, length: len, captured: min(len, 96), label: label)
}

/// A deterministic pseudo-random sequence (xorshift64*), so synthetic captures are reproducible.
struct XorShift {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}

/// `count` packets spread over `seconds`, a TCP/UDP/ICMP/ARP mix with realistic sizes.
func syntheticRecords(count: Int, seconds: Int64, seed: UInt64 = 42) -> [PacketRecord] {
    var rng = XorShift(state: seed)
    var out: [PacketRecord] = []
    out.reserveCapacity(count)
    let span = seconds * sec
    for i in 0..<count {
        let t = t0 + Int64(i) * span / Int64(count)
        let p = rng.below(100)
        let r: PacketRecord
        switch p {
        case 0..<40: r = rec(t, rng.below(2) == 0 ? 66 : 1514, .tcp)
        case 40..<60: r = rec(t, UInt32(54 + rng.below(1460)), .tcp)
        case 60..<90: r = rec(t, UInt32(60 + rng.below(1340)), .udp)
        case 90..<95: r = rec(t, 98, .icmp)
        default: r = rec(t, 60, .arp)
        }
        out.append(r)
    }
    return out
}

/// Runs records through the analyzer and the chart buffer as the CLI will: batches, taking closed
/// intervals after each.
func analyze(
    _ records: [PacketRecord], intervalNs: Int64 = sec, batch: Int = 4096, line: ChartBuffer.LineSource = .intervals
) -> (SeriesAnalyzer, ChartBuffer, [IntervalStats]) {
    var analyzer = SeriesAnalyzer(intervalNs: intervalNs)
    var chart = ChartBuffer(line: line)
    var series: [IntervalStats] = []
    records.withUnsafeBufferPointer { all in
        var start = 0
        while start < all.count {
            let end = min(all.count, start + batch)
            let slice = UnsafeBufferPointer(rebasing: all[start..<end])
            analyzer.add(slice)
            chart.add(slice)
            analyzer.takeClosed { s in
                chart.add(interval: s)
                series.append(s)
            }
            start = end
        }
    }
    analyzer.finish { s in
        chart.add(interval: s)
        series.append(s)
    }
    return (analyzer, chart, series)
}

/// Writes bytes to a fresh temporary file and returns its path.
func writeTemporary(_ bytes: [UInt8], name: String) throws -> URL {
    let dir = TestPaths.temporaryDirectory()
    let url = dir.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
