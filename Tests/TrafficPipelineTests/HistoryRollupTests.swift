import Foundation
import History
import PacketRecords
import TestSupport
import Testing
import TrafficAnalysis
import TrafficPipeline

/// `serve --history`'s roll-up from the flow table against the per-packet recorder `history
/// import` uses: the same packets give the same rows, by interface, protocol, host and port, at
/// every resolution, even with a flow table so small that flows are evicted and expire mid-minute.
@Suite struct HistoryRollupTests {
    /// 6,000 packets over 8 minutes from 2024-01-01T00:00:30Z: 300 conversations (UDP and TCP,
    /// 30 hosts, 10 ports) picked by a fixed pseudo-random sequence, every packet its own size.
    func capture(to url: URL) throws {
        var b = PcapBuilder()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<6000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let c = Int(seed >> 33) % 300
            var frame = PcapBuilder.udpFrame(
                src: [10, 0, 0, UInt8(c % 30 + 1)], dst: [10, 9, 0, UInt8(c % 7 + 1)], sport: UInt16(40000 + c),
                dport: UInt16(50 + c % 10), payload: 20 + i % 700)
            if c % 3 == 0 { frame[23] = 6 }
            // A 45 s silence halfway: the flows of the first half expire idle.
            let ms = 30_000 + i * 70 + (i >= 3000 ? 45_000 : 0)
            b.add(seconds: 1_704_067_200 + UInt32(ms / 1000), fraction: UInt32(ms % 1000 * 1000), bytes: frame)
        }
        try b.write(to: url)
    }

    @Test func rollupEqualsPerPacketRecorder() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("c.pcap")
        try capture(to: file)
        let perPacket = try HistoryStore(
            path: dir.appendingPathComponent("a.sqlite").path, writable: true, topTalkers: 1000)
        let rolled = try HistoryStore(
            path: dir.appendingPathComponent("b.sqlite").path, writable: true, topTalkers: 1000)
        let recorder = HistoryRecorder(store: perPacket, interface: "eth0")
        // 40 flows at most, idle after 20 s: evictions and expiries mid-minute.
        let flows = FlowTable(limits: FlowLimits(idleTimeoutNs: 20_000_000_000, maxFlows: 40))
        let rollup = HistoryRollup(store: rolled, interface: "eth0", flows: flows, owners: nil)
        var failure: HistoryError?
        try FileSource(path: file.path).stream(stop: StopFlag(), opened: { _ in }) { batch in
            do throws(HistoryError) {
                try recorder.add(batch)
                var from = 0
                while let cut = rollup.cut(batch, from: from) {
                    flows.add(UnsafeBufferPointer(rebasing: batch[from..<cut]))
                    try rollup.roll(flows)
                    from = cut
                }
                flows.add(UnsafeBufferPointer(rebasing: batch[from...]))
            } catch {
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
        try recorder.flush()
        try rollup.roll(flows)
        #expect(flows.counters.evicted > 100 && flows.counters.expired > 0, "\(flows.counters)")
        #expect(rollup.minutesWritten == 9 && recorder.minutesWritten == 9)
        for r in HistoryResolution.allCases {
            for d in [HistoryDimension.interface, .protocol, .host, .port] {
                let a = try perPacket.rows(r, d, since: 0, until: .max)
                let b = try rolled.rows(r, d, since: 0, until: .max)
                #expect(!a.isEmpty && a == b, "\(r) by \(d)")
            }
        }
        #expect(try perPacket.minutes(since: 0, until: .max) == rolled.minutes(since: 0, until: .max))
    }
}
