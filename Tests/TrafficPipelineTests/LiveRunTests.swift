import Foundation
import OutputSinks
import PacketCapture
import PacketRecords
import TestSupport
import Testing
import TrafficAnalysis
import TrafficPipeline

/// The one live run that sniff, top and serve compose, on a real loopback capture (root): the
/// order of its reports, the consumer's calls, the stopper, and which error wins.
@Suite(.serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct LiveRunTests {
    /// A consumer that records its calls, sends traffic once started, and fails as told.
    final class Recorder: LiveConsumer {
        enum Failure { case none, closedPipe, writeFailed, other }
        struct Other: Error {}
        let port: Int
        let failAfterPackets: Int
        let failure: Failure
        let stopAfterPackets: Int?
        var calls: [String] = []
        var packets = 0
        var ticks = 0
        var start: LiveStart?

        init(port: Int, failAfterPackets: Int = .max, failure: Failure = .none, stopAfterPackets: Int? = nil) {
            self.port = port
            self.failAfterPackets = failAfterPackets
            self.failure = failure
            self.stopAfterPackets = stopAfterPackets
        }

        func start(_ capture: LiveStart) throws {
            calls.append("start")
            start = capture
            try sendLoopbackUDP(count: 20, port: port, gapMs: 1)
        }

        func add(_ batch: UnsafeBufferPointer<PacketRecord>) throws {
            if calls.last != "add" { calls.append("add") }
            packets += batch.count
            if let n = stopAfterPackets, packets >= n { start?.stop() }
            guard packets >= failAfterPackets else { return }
            switch failure {
            case .none: break
            case .closedPipe: throw OutputError.closedPipe
            case .writeFailed: throw OutputError.writeFailed(name: "<test>", errno: EIO)
            case .other: throw Other()
            }
        }

        func tick(nowNs: Int64, settledNs: Int64, drops: DropCounters) throws {
            ticks += 1
            #expect(settledNs < nowNs)
        }

        func finish(drops: DropCounters) throws { calls.append("finish") }

        var closingLines: [String] { ["closing: \(packets) packets"] }
    }

    func settings(port: Int) -> LiveSettings {
        var s = LiveSettings()
        s.interface = "lo"
        s.filter = "udp dst port \(port)"
        s.immediate = true
        s.relinquishTo = "root"
        return s
    }

    /// Listening line first, then the consumer sees start, packets, finish; the status lines and
    /// the consumer's closing lines come after, and `after` runs last.
    @Test func reportsInOrderAndRunsAfterLast() throws {
        let port = Int.random(in: 7500...9999)
        var lines: [String] = []
        let report = { (line: String) in lines.append(line) }
        let capture = try LiveRun.open(settings(port: port), report: report)
        #expect(lines.count == 1 && lines[0].hasPrefix("listening on lo, link-type EN10MB"))
        let recorder = Recorder(port: port)
        var afterRan = false
        let outcome = try capture.run(
            limits: RunLimits(count: 20, durationNs: 20_000_000_000), tickNs: 10_000_000, consumer: recorder,
            report: report
        ) {
            afterRan = true
            lines.append("after")
        }
        #expect(outcome.captured == 20 && recorder.packets == 20)
        #expect(recorder.calls == ["start", "add", "finish"])
        #expect(recorder.start?.interface == "lo" && recorder.start?.linkTypeName == "EN10MB")
        #expect(afterRan)
        #expect(lines[1] == "20 packets captured")
        #expect(lines.contains("0 packets dropped by ring"))
        #expect(lines.suffix(2) == ["closing: 20 packets", "after"])
    }

    /// The consumer's stopper (top's `q`) ends the run early, as a signal does.
    @Test func theStopperEndsTheRun() throws {
        let port = Int.random(in: 10000...12499)
        let capture = try LiveRun.open(settings(port: port), report: { _ in })
        let recorder = Recorder(port: port, stopAfterPackets: 1)
        let outcome = try capture.run(
            limits: RunLimits(durationNs: 60_000_000_000), tickNs: 10_000_000, consumer: recorder, report: { _ in })
        #expect(outcome.captured >= 1 && outcome.captured < 20 || recorder.packets >= 1)
        #expect(recorder.calls.last == "finish")
    }

    /// A failed write wins and is thrown after the status lines; `after` does not run.
    @Test func aFailedWriteIsThrownAfterTheStatusLines() throws {
        let port = Int.random(in: 12500...14999)
        var lines: [String] = []
        let capture = try LiveRun.open(settings(port: port), report: { lines.append($0) })
        let recorder = Recorder(port: port, failAfterPackets: 1, failure: .writeFailed)
        var afterRan = false
        var thrown: (any Error)?
        do {
            try capture.run(
                limits: RunLimits(durationNs: 20_000_000_000), tickNs: 10_000_000, consumer: recorder,
                report: { lines.append($0) }
            ) { afterRan = true }
        } catch { thrown = error }
        #expect(thrown is OutputError)
        #expect(!afterRan)
        #expect(recorder.calls.last == "finish", "the consumer finishes (top restores its terminal)")
        #expect(lines.contains { $0.hasSuffix("packets captured") } && lines.last?.hasPrefix("closing:") == true)
    }

    /// A closed output pipe ends the run quietly: no error, the status lines, `after` still runs.
    @Test func aClosedPipeEndsQuietly() throws {
        let port = Int.random(in: 15000...17499)
        var lines: [String] = []
        let capture = try LiveRun.open(settings(port: port), report: { lines.append($0) })
        let recorder = Recorder(port: port, failAfterPackets: 1, failure: .closedPipe)
        var afterRan = false
        try capture.run(
            limits: RunLimits(durationNs: 20_000_000_000), tickNs: 10_000_000, consumer: recorder,
            report: { lines.append($0) }
        ) { afterRan = true }
        #expect(afterRan)
        #expect(lines.contains { $0.hasSuffix("packets captured") })
    }

    /// Any other consumer error comes back as it is, after the status lines.
    @Test func anotherConsumerErrorComesBack() throws {
        let port = Int.random(in: 17500...19999)
        var lines: [String] = []
        let capture = try LiveRun.open(settings(port: port), report: { lines.append($0) })
        let recorder = Recorder(port: port, failAfterPackets: 1, failure: .other)
        var thrown: (any Error)?
        do {
            try capture.run(
                limits: RunLimits(durationNs: 20_000_000_000), tickNs: 10_000_000, consumer: recorder,
                report: { lines.append($0) })
        } catch { thrown = error }
        #expect(thrown is Recorder.Other)
        #expect(lines.contains { $0.hasSuffix("packets dropped by ring") })
    }

    /// A device that does not exist fails in `open`, before any report but the error.
    @Test func aMissingDeviceFailsToOpen() throws {
        var s = LiveSettings()
        s.interface = "pktstat-no-such-if"
        var lines: [String] = []
        #expect(throws: CaptureError.self) { _ = try LiveRun.open(s, report: { lines.append($0) }) }
        #expect(lines.isEmpty)
    }
}

/// The file run: an input that cannot be opened throws before any batch; a damaged file hands
/// every readable packet over, then returns the error instead of throwing it.
struct FileRunTests {
    @Test func unopenableInputThrows() throws {
        var batches = 0
        #expect(throws: (any Error).self) {
            _ = try FileRun.read(FileSource(paths: ["/nonexistent/pktstat-test.pcap"], limits: RunLimits())) { _ in
                batches += 1
                return true
            }
        }
        #expect(batches == 0)
    }

    @Test func damageAfterPacketsIsReturnedAfterThem() throws {
        let path = TestPaths.packageRoot.appendingPathComponent("captures/truncated-file.pcap").path
        var packets = 0
        var openedLink: String?
        let error = try FileRun.read(
            FileSource(paths: [path], limits: RunLimits()), opened: { openedLink = $0.linkTypeName }
        ) { batch in
            packets += batch.count
            return true
        }
        #expect(error != nil, "the truncated record is reported")
        #expect(packets > 0, "the readable packets came first")
        #expect(openedLink == "EN10MB")
    }

    @Test func theConsumerStopsTheRead() throws {
        let path = TestPaths.packageRoot.appendingPathComponent("captures/loopback-mixed.pcap").path
        var batches = 0
        let error = try FileRun.read(FileSource(paths: [path], limits: RunLimits())) { _ in
            batches += 1
            return false
        }
        #expect(error == nil && batches == 1)
    }
}
