import Foundation
import PacketCapture
import PacketRecords
import PacketWire
import TestSupport
import Testing

/// The capture thread owns the handle (moved in), reads `pcap_stats` itself, and closes the
/// handle before anyone could use the interrupter on a closed one. Real libpcap on loopback.
@Suite(.serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct CaptureThreadTests {
    private func open(_ interface: String, filter: String) throws -> LiveCapture {
        var options = LiveOptions(interface: interface)
        options.snapLength = 128
        options.promiscuous = false
        options.timeoutMs = 50
        let capture = try LiveCapture.open(options)
        try capture.setFilter(filter)
        return capture
    }

    @Test func theThreadRunsTheCaptureThenClosesTheHandle() throws {
        let port = Int.random(in: 12500...14999)
        let capture = try open("lo", filter: "udp and dst port \(port)")
        let ring = RecordRing(capacity: 1024)
        let stop = StopFlag()
        let limits = RunLimits(durationNs: 20_000_000_000)
        let started = CaptureThread(capture: capture, ring: ring, limits: limits, stop: stop)
        let job = try #require(started)
        #expect(job.interrupter.isArmed)
        try sendLoopbackUDP(count: 12, port: port, size: 16, gapMs: 2)
        var records: [PacketRecord] = []
        let deadline = Date().addingTimeInterval(10)
        while records.count < 12 && Date() < deadline { _ = ring.drain(timeoutMs: 50) { records += $0 } }
        // The published counters come from the capture thread while it runs (about every 100 ms).
        let published = Date().addingTimeInterval(5)
        while job.outcome.stats == nil && Date() < published { usleep(10_000) }
        #expect(job.outcome.stats != nil)
        stop.request(signal: SIGINT)
        job.interrupter.breakLoop()
        while ring.drain(timeoutMs: 50, { records += $0 }) {}
        let outcome = job.wait()
        #expect(outcome.finished)
        #expect(outcome.end == .stopped)
        #expect(outcome.error == nil)
        #expect(outcome.captured == 12)
        #expect(records.count == 12)
        #expect(records.allSatisfy { $0.decoded.dstPort == UInt16(port) })
        let stats = try #require(outcome.stats)
        #expect(stats.received >= 12)
        // The handle is closed: the interrupter is disarmed, and using it is harmless.
        #expect(!job.interrupter.isArmed)
        for _ in 0..<3 { job.interrupter.breakLoop() }
    }

    @Test func aLimitEndsTheThreadAndTheRingCloses() throws {
        let capture = try open("lo", filter: "udp and src port 1 and dst port 1")
        let ring = RecordRing(capacity: 16)
        let limits = RunLimits(durationNs: 300_000_000)
        let thread = CaptureThread(capture: capture, ring: ring, limits: limits, stop: StopFlag())
        let job = try #require(thread)
        let clock = Stopwatch()
        var drains = 0
        while ring.drain(timeoutMs: 50, { _ in }) && drains < 400 { drains += 1 }
        let outcome = job.wait()
        #expect(outcome.end == .duration)
        #expect(outcome.finished && !job.interrupter.isArmed)
        // The ring closed by itself (the loop did not run out of its 400 drains).
        #expect(drains < 400)
        // Measured 0.38 s for the 300 ms limit (debug build, 2-core machine): 5 s is over ten times that.
        #expect(clock.seconds < 5, "\(clock.seconds) s")
    }

    @Test func anyCapturesAsLinuxCookedV2WithInterfaceAndDirection() throws {
        let port = Int.random(in: 15000...17499)
        let capture = try open("any", filter: "udp and dst port \(port)")
        let link = capture.linkType
        let linkName = capture.linkTypeName
        #expect(link == .linuxSLL2)
        #expect(linkName == "LINUX_SLL2")
        let sender = Thread { try? sendLoopbackUDP(count: 5, port: port, size: 16, gapMs: 5) }
        sender.start()
        var records: [PacketRecord] = []
        let end = try capture.run(limits: RunLimits(count: 5, durationNs: 15_000_000_000), stop: StopFlag()) { batch in
            records += batch
            return true
        }
        #expect(end == .count)
        #expect(records.count == 5)
        let lo = try #require(CaptureDevice.indexNames().first { $0.value == "lo" }?.key)
        #expect(records.allSatisfy { $0.decoded.ifIndex == lo && $0.decoded.direction != .unknown })
        #expect(records.allSatisfy { $0.label == .udp && $0.decoded.dstPort == UInt16(port) })
    }
}

/// `-w` writes the bytes libpcap's `pcap_dump` writes (tcpdump is the reference), in whole
/// records, and a failed write leaves the file cut back to its last whole record.
@Suite struct PcapFileWriterTests {
    @Test(arguments: ["nanosecond.pcap", "loopback-mixed.pcap", "linktypes-sll2.pcap", "linktypes-raw.pcap"])
    func theFileIsWhatTcpdumpWrites(_ name: String) throws {
        let tcpdump = try requireTool("tcpdump")
        let source = TestPaths.captures.appendingPathComponent(name).path
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ours = dir.appendingPathComponent("ours.pcap").path
        let reference = dir.appendingPathComponent("tcpdump.pcap").path
        let capture = try PcapCapture.openFile(source)
        try capture.startWriting(to: ours)
        _ = try capture.run(stop: StopFlag()) { _ in true }
        try capture.finishWriting()
        let r = try run(tcpdump, ["--time-stamp-precision", "nano", "-r", source, "-w", reference])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: ours))
        let b = try Data(contentsOf: URL(fileURLWithPath: reference))
        #expect(a.count > 24)
        #expect(a == b, "\(name): \(a.count) bytes, tcpdump \(b.count)")
    }

    @Test func aFailedWriteLeavesWholeRecords() throws {
        let tcpdump = try requireTool("tcpdump")
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("big.pcap")
        try PcapBuilder.udpCapture(count: 20_000).write(to: source)
        let out = dir.appendingPathComponent("cut.pcap").path
        // A 100 KiB file size limit (SIGXFSZ ignored): write(2) writes part of a flush, then EFBIG.
        let script = "trap '' XFSZ; ulimit -f 100; exec '\(TestPaths.binary)' sniff -r '\(source.path)' -w '\(out)'"
        let r = try shell(script)
        #expect(r.status == 1)
        #expect(r.noCrash)
        #expect(r.stderr.contains("cannot write \(out): File too large"), "\(r.stderr)")
        let size = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        #expect(size > 24 && size < 100 * 1024)
        #expect((size - 24) % (16 + 58) == 0, "size \(size) is not a whole number of records")
        let t = try run(tcpdump, ["-nr", out])
        #expect(t.status == 0)
        #expect(!t.stderr.contains("truncated"))
        #expect(t.stdoutLines.count == (size - 24) / 74)
    }
}
