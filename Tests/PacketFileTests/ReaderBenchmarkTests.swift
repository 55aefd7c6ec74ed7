import Foundation
import Glibc
import PacketFile
import PacketRecords
import PacketWire
import Testing

/// Opt-in throughput measurement of the reader alone (no output, no analysis):
///
///     PKTSTAT_BENCH_FILE=work/full-1M.pcap swift test -c release --filter ReaderBenchmark
///
/// Skipped when PKTSTAT_BENCH_FILE is unset. Prints packets/s and MB/s for each of
/// PKTSTAT_BENCH_ROUNDS runs (default 5), with the wall and CPU time of each.
@Suite struct ReaderBenchmarkTests {
    static let file = ProcessInfo.processInfo.environment["PKTSTAT_BENCH_FILE"]

    @Test(.enabled(if: file != nil, "set PKTSTAT_BENCH_FILE to a capture to measure"))
    func readerThroughput() throws {
        let path = try #require(Self.file)
        let rounds = Int(ProcessInfo.processInfo.environment["PKTSTAT_BENCH_ROUNDS"] ?? "") ?? 5
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        for round in 1...rounds {
            var start = timespec()
            var cpuStart = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpuStart)
            let reader = try CaptureFileReader(path: path)
            var wire: UInt64 = 0
            var labels = [UInt64](repeating: 0, count: 32)
            let packets = try reader.read { batch in
                for record in batch {
                    wire &+= UInt64(record.length)
                    labels[Int(record.label.rawValue) & 31] &+= 1
                }
                return true
            }
            var end = timespec()
            var cpuEnd = timespec()
            clock_gettime(CLOCK_MONOTONIC, &end)
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpuEnd)
            let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
            let cpu = Double(cpuEnd.tv_sec - cpuStart.tv_sec) + Double(cpuEnd.tv_nsec - cpuStart.tv_nsec) / 1e9
            print(
                "readbench \(reader.formatName) round \(round): \(packets) packets in \(String(format: "%.3f", seconds)) s (cpu \(String(format: "%.3f", cpu)) s),"
                    + " \(String(format: "%.2f", Double(packets) / seconds / 1e6)) Mpkt/s,"
                    + " \(String(format: "%.0f", Double(bytes) / seconds / 1e6)) MB/s, wire bytes \(wire), tcp \(labels[Int(ProtocolLabel.tcp.rawValue)])"
            )
        }
    }
}
