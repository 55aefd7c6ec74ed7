import Foundation
import TestSupport
import Testing

/// The fuzz target's replayer runs every sample capture (and any `captures/regress-*` file, the
/// inputs that once crashed it) through the file reader and the decoder without trapping.
@Suite("fuzz replay")
struct FuzzReplayTests {
    @Test func sampleAndRegressionCapturesReplay() throws {
        let replayer = URL(fileURLWithPath: TestPaths.binary).deletingLastPathComponent().appendingPathComponent(
            "pktstat-fuzz"
        ).path
        try #require(FileManager.default.isExecutableFile(atPath: replayer), "build pktstat-fuzz first (swift build)")
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.captures.path)
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }
            .map { TestPaths.captures.appendingPathComponent($0).path }
        #expect(files.count >= 10)
        let r = try run(replayer, files, timeout: 60)
        #expect(r.status == 0)
        #expect(r.noCrash)
        #expect(r.stdout.contains("replayed \(files.count) inputs"))
    }
}
