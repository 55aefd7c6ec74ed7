import Foundation
import PacketCapture
import PacketRecords
import PacketWire
import TestSupport
import Testing
import TrafficPipeline

/// `FileSource` on real pcap files: our reader and libpcap (used for filters) give the same
/// records, the count limit cuts exactly, `stop` ends the stream, an unopenable input never calls
/// `opened`, and damage comes after every readable record.
@Suite struct FileSourceTests {
    func capture(_ count: Int) throws -> URL {
        let url = TestPaths.temporaryDirectory().appendingPathComponent("udp-\(count).pcap")
        try PcapBuilder.udpCapture(count: count).write(to: url)
        return url
    }

    func records(_ source: FileSource, stop: StopFlag = StopFlag()) throws -> (opened: Int, records: [PacketRecord]) {
        var opened = 0
        var out: [PacketRecord] = []
        try source.stream(stop: stop, opened: { _ in opened += 1 }) { batch in
            out.append(contentsOf: batch)
            return true
        }
        return (opened, out)
    }

    @Test func ownReaderAndLibpcapAgree() throws {
        let file = try capture(1500)
        let own = try records(FileSource(path: file.path))
        // A filter that keeps everything sends the file through libpcap instead.
        let viaLibpcap = try records(FileSource(path: file.path, filter: "udp"))
        #expect(own.opened == 1 && viaLibpcap.opened == 1)
        #expect(own.records.count == 1500)
        #expect(own.records == viaLibpcap.records)
        #expect(own.records.allSatisfy { $0.label == .udp })
    }

    @Test(arguments: [1, 511, 512, 513, 1000, 1499, 1500, 5000])
    func countLimitCutsExactly(_ count: UInt64) throws {
        let file = try capture(1500)
        let all = try records(FileSource(path: file.path)).records
        for filter in [nil, "udp"] {
            let got = try records(FileSource(path: file.path, filter: filter, limits: RunLimits(count: count))).records
            #expect(got == Array(all.prefix(Int(count))), "filter \(filter ?? "none")")
        }
    }

    @Test func stopEndsTheStream() throws {
        let file = try capture(3000)
        let stop = StopFlag()
        var seen = 0
        try FileSource(path: file.path).stream(stop: stop, opened: { _ in }) { batch in
            seen += batch.count
            stop.request()
            return true
        }
        #expect(seen > 0 && seen < 3000)
    }

    @Test func missingFileThrowsBeforeOpened() throws {
        var opened = false
        #expect(throws: (any Error).self) {
            try FileSource(path: "/nonexistent/x.pcap").stream(stop: StopFlag(), opened: { _ in opened = true }) { _ in
                true
            }
        }
        #expect(!opened)
    }

    @Test func damageComesAfterTheReadableRecords() throws {
        let file = try capture(10)
        var data = try Data(contentsOf: file)
        data.removeLast(5)  // cut the last record
        try data.write(to: file)
        var got: [PacketRecord] = []
        var opened = false
        #expect(throws: (any Error).self) {
            try FileSource(path: file.path).stream(stop: StopFlag(), opened: { _ in opened = true }) { batch in
                got.append(contentsOf: batch)
                return true
            }
        }
        #expect(opened)
        #expect(got.count == 9)
    }
}
