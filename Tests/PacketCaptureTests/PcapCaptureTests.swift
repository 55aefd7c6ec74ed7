import Foundation
import PacketCapture
import PacketFile
import PacketRecords
import PacketWire
import Testing
import TestSupport

/// Every record libpcap gives for a file, and whether it ended with an error.
private func readWithLibpcap(_ path: String, filter: String? = nil) -> (records: [PacketRecord], failed: Bool) {
    var records: [PacketRecord] = []
    do {
        let capture = try PcapCapture.openFile(path)
        if let filter { try capture.setFilter(filter) }
        let end = try capture.run(stop: StopFlag(), batchSize: 37) { batch in
            records += batch
            return true
        }
        return (records, end != .endOfFile)
    } catch {
        return (records, true)
    }
}

/// Every record pktstat's own reader gives for a file, and whether it ended with an error.
private func readWithOurReader(_ path: String) -> (records: [PacketRecord], failed: Bool) {
    var records: [PacketRecord] = []
    do {
        let reader = try CaptureFileReader(path: path)
        try reader.read { batch in
            records += batch
            return true
        }
        return (records, false)
    } catch {
        return (records, true)
    }
}

private func captureFiles() -> [String] {
    var paths: [String] = []
    for dir in [TestPaths.captures, TestPaths.conformanceCaptures].compactMap({ $0 }) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        for name in names.sorted()
        where !name.hasSuffix(".csv") && !name.hasSuffix(".md") && name != "EXPECT_ERROR" && !name.hasPrefix(".") {
            paths.append(dir.appendingPathComponent(name).path)
        }
    }
    return paths
}

/// libpcap is the reference for file reading: pktstat's own reader (used by `analyze` and by
/// `sniff --read` without a filter) must give the same records and fail on the same files.
@Suite struct LibpcapReferenceTests {
    @Test func ourReaderGivesWhatLibpcapGivesOnEveryCapture() {
        let files = captureFiles()
        #expect(files.count >= 20)
        var compared = 0
        var failing = 0
        for path in files {
            let reference = readWithLibpcap(path)
            let ours = readWithOurReader(path)
            #expect(ours.failed == reference.failed, "\(path): error \(ours.failed) vs libpcap \(reference.failed)")
            #expect(ours.records.count == reference.records.count, "\(path): \(ours.records.count) records vs libpcap \(reference.records.count)")
            if let i = zip(ours.records, reference.records).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("\(path): record \(i) differs: \(ours.records[i]) vs libpcap \(reference.records[i])")
            }
            compared += reference.records.count
            if reference.failed { failing += 1 }
        }
        #expect(compared > 100)
        #expect(failing > 0)  // damaged files are among them, and fail the same way
    }

    @Test func aFilterKeepsWhatItMatchesAndWritingCopiesItExactly() throws {
        let source = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path
        let all = readWithLibpcap(source)
        let udp = readWithLibpcap(source, filter: "udp")
        #expect(!all.failed && !udp.failed)
        #expect(udp.records == all.records.filter { $0.label == .udp })
        #expect(!udp.records.isEmpty && udp.records.count < all.records.count)

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("pktstat-write-\(getpid()).pcap").path
        defer { unlink(out) }
        let capture = try PcapCapture.openFile(source)
        try capture.setFilter("udp")
        try capture.startWriting(to: out)
        _ = try capture.run(stop: StopFlag()) { _ in true }
        try capture.finishWriting()
        let copy = readWithOurReader(out)
        #expect(!copy.failed)
        #expect(copy.records == udp.records)
    }

    @Test func aBadFilterCarriesLibpcapsText() throws {
        let capture = try PcapCapture.openFile(TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path)
        #expect {
            try capture.setFilter("port 99999")
        } throws: { error in
            guard case CaptureError.badFilter(let expression, let detail) = error else { return false }
            return expression == "port 99999" && detail.contains("99999")
        }
    }

    @Test func aMissingFileIsNamed() {
        #expect {
            _ = try PcapCapture.openFile("/nonexistent/pktstat-test.pcap")
        } throws: { error in
            guard case CaptureError.cannotOpenFile(let path, _) = error else { return false }
            return path == "/nonexistent/pktstat-test.pcap"
        }
    }

    @Test func theCountLimitStopsAFileRead() throws {
        let capture = try PcapCapture.openFile(TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path)
        var n = 0
        let end = try capture.run(limits: RunLimits(count: 3), stop: StopFlag()) { batch in
            n += batch.count
            return true
        }
        #expect(end == .count)
        #expect(n == 3)
    }
}

/// Live capture through libpcap in this process, on loopback (root only).
@Suite(.serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct LiveCaptureTests {
    private func openLoopback(_ filter: String) throws -> PcapCapture {
        var options = LiveOptions(interface: "lo")
        options.snapLength = 128
        options.promiscuous = false
        options.timeoutMs = 50
        let capture = try PcapCapture.openLive(options)
        try capture.setFilter(filter)
        return capture
    }

    @Test func loopbackDatagramsBecomeRecords() throws {
        let port = Int.random(in: 30000...39999)
        let capture = try openLoopback("udp and dst port \(port)")
        #expect(capture.isLive)
        #expect(capture.linkType.rawValue == 1)  // lo is Ethernet-framed
        let sender = Thread { try? sendLoopbackUDP(count: 10, port: port, size: 16, gapMs: 5) }
        sender.start()
        var records: [PacketRecord] = []
        let end = try capture.run(limits: RunLimits(count: 10, durationNs: 15_000_000_000), stop: StopFlag()) { batch in
            records += batch
            return true
        }
        #expect(end == .count)
        #expect(records.count == 10)
        for r in records {
            #expect(r.label == .udp)
            #expect(r.length == 58 && r.captured == 58)  // 14 Ethernet + 20 IPv4 + 8 UDP + 16
            #expect(r.decoded.ipVersion == 4)
            #expect(r.decoded.src == IPAddress(v4: 0x7F00_0001))
            #expect(r.decoded.hasPorts && r.decoded.dstPort == UInt16(port))
        }
        // Nanosecond timestamps from the live clock, in order.
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        #expect(records.allSatisfy { abs($0.timestampNs - now) < 60_000_000_000 })
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.timestampNs <= $1.timestampNs })
        let stats = try #require(capture.stats())
        #expect(stats.received >= 10)
        #expect(stats.droppedByKernel == 0)
    }

    @Test func theStopFlagEndsASilentCapture() throws {
        let capture = try openLoopback("udp and src port 1 and dst port 1")
        let stop = StopFlag()
        let raiser = Thread {
            usleep(300_000)
            stop.request(signal: SIGINT)
        }
        raiser.start()
        let started = Date()
        let end = try capture.run(limits: RunLimits(durationNs: 20_000_000_000), stop: stop) { _ in true }
        #expect(end == .stopped)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func theIdleTimeoutFiresOnASilentCapture() throws {
        let capture = try openLoopback("udp and src port 1 and dst port 1")
        let started = Date()
        let end = try capture.run(limits: RunLimits(durationNs: 20_000_000_000, idleTimeoutNs: 400_000_000), stop: StopFlag()) { _ in true }
        #expect(end == .idle)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.35 && elapsed < 5)
    }

    @Test func anUnknownInterfaceIsNamed() {
        #expect {
            _ = try PcapCapture.openLive(LiveOptions(interface: "nosuch0"))
        } throws: { error in
            guard case CaptureError.noSuchInterface(let name, _) = error else { return false }
            return name == "nosuch0"
        }
    }
}
