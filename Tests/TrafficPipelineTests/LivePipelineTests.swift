import Foundation
import PacketCapture
import PacketRecords
import PacketWire
import TestSupport
import Testing
import TrafficAnalysis
import TrafficPipeline

/// The live pipeline on a real loopback capture (root): the consumer sees every packet the filter
/// passes, in order, with ticks in between; the count limit ends the run; a consumer error stops
/// the capture, the outcome is still handed over, and the error comes back; a silent link still
/// ticks and ends at the duration limit.
@Suite(.serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct LivePipelineTests {
    struct Stop: Error {}

    /// Starts sending `count` UDP datagrams to `port` once the capture is running (its first tick).
    final class Sender {
        let count: Int
        let port: Int
        var process: Spawned?
        init(count: Int, port: Int) {
            self.count = count
            self.port = port
        }
        func startOnce() throws {
            guard process == nil else { return }
            let py = """
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for i in range(\(count)):
                    s.sendto(bytes(40 + i), ('127.0.0.1', \(port)))
                """
            process = try Spawned("/usr/bin/env", ["python3", "-c", py])
        }
    }

    func open(port: Int) throws -> LivePipeline {
        var options = LiveOptions(interface: "lo")
        options.immediate = true
        let pipeline = try LivePipeline.open(options)
        try pipeline.setFilter("udp dst port \(port)")
        return pipeline
    }

    @Test func everyPacketInOrderUntilTheCount() throws {
        let port = Int.random(in: 20000...29999)
        let sender = Sender(count: 25, port: port)
        var lengths: [UInt32] = []
        var ticks = 0
        let outcome = try LivePipeline.run(
            try open(port: port), limits: RunLimits(count: 25, durationNs: 20_000_000_000), stop: StopFlag(),
            tickNs: 10_000_000
        ) { event in
            switch event {
            case .batch(let batch): lengths += batch.map(\.length)
            case .tick(let now, let settled, let drops):
                ticks += 1
                #expect(settled < now)
                #expect(drops == .zero)
                try sender.startOnce()
            }
        }
        _ = sender.process?.finish()
        // 14 Ethernet + 20 IPv4 + 8 UDP bytes before each payload of 40 + i bytes.
        #expect(lengths == (0..<25).map { UInt32(82 + $0) })
        #expect(outcome.captured == 25)
        #expect(outcome.drops.ring == 0)
        #expect(outcome.captureError == nil)
        #expect(outcome.statusLines.first == "25 packets captured")
        #expect(ticks >= 1)
    }

    @Test func consumerErrorStopsTheCaptureAndComesBack() throws {
        let port = Int.random(in: 20000...29999)
        let sender = Sender(count: 200, port: port)
        var handed: LivePipeline.Outcome?
        var batches = 0
        let clock = Stopwatch()
        #expect(throws: Stop.self) {
            _ = try LivePipeline.run(
                try open(port: port), limits: RunLimits(durationNs: 20_000_000_000), stop: StopFlag(),
                tickNs: 10_000_000, ended: { handed = $0 }
            ) { event in
                switch event {
                case .batch:
                    batches += 1
                    throw Stop()
                case .tick: try sender.startOnce()
                }
            }
        }
        _ = sender.process?.finish()
        #expect(batches == 1)
        #expect(handed != nil)
        // The error, not the 20 s limit, ended the run: measured 0.32 s (debug build, 2-core machine);
        // the bound, half the limit, is over ten times that.
        #expect(clock.seconds < 10, "\(clock.seconds) s")
    }

    @Test func silentLinkTicksAndEndsAtTheDuration() throws {
        var ticks = 0
        let clock = Stopwatch()
        let outcome = try LivePipeline.run(
            try open(port: 9), limits: RunLimits(durationNs: 600_000_000), stop: StopFlag(), tickNs: 50_000_000
        ) { event in
            if case .tick = event { ticks += 1 }
        }
        let elapsed = clock.seconds
        #expect(outcome.captured == 0)
        // The 600 ms limit really waited (a lower bound: a slow machine cannot make it false), and
        // ended the run: measured 0.75 s (debug build, 2-core machine); 10 s is over ten times that.
        #expect(elapsed >= 0.55, "\(elapsed) s")
        #expect(elapsed < 10, "\(elapsed) s")
        #expect(ticks >= 3)
    }
}
