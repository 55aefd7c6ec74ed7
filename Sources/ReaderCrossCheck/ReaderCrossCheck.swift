import PacketCapture
import PacketFile
public import PacketRecords

/// Reads one capture file with pktstat's own reader and with libpcap, the reference, and says
/// whether they agree: the same records, and both succeeding or both failing. Used by the
/// differential tests and by the fuzz target (which aborts on a disagreement, so libFuzzer keeps
/// the input). Not part of `pktstat` itself.
public enum ReaderCrossCheck {
    /// What one reader made of a file.
    public struct Reading: Equatable, Sendable {
        public var records: [PacketRecord]
        public var failed: Bool
    }

    /// Stops collecting after this many records (a fuzz input is small; a test file too).
    public static let recordLimit = 1_000_000

    public static func ours(_ path: String) -> Reading {
        var records: [PacketRecord] = []
        do {
            let reader = try CaptureFileReader(path: path)
            try reader.read { batch in
                records += batch
                return records.count < recordLimit
            }
            return Reading(records: records, failed: false)
        } catch {
            return Reading(records: records, failed: true)
        }
    }

    public static func libpcap(_ path: String, filter: String? = nil) -> Reading {
        var records: [PacketRecord] = []
        do {
            let capture = try PcapCapture.openFile(path)
            if let filter { try capture.setFilter(filter) }
            let end = try capture.run(stop: StopFlag(), batchSize: 37) { batch in
                records += batch
                return records.count < recordLimit
            }
            return Reading(records: records, failed: end != .endOfFile && records.count < recordLimit)
        } catch {
            return Reading(records: records, failed: true)
        }
    }

    /// Nil when the readers agree on `path`, else a one-line description of the difference.
    /// A gzip or zstd file is out of scope: libpcap does not decompress (the decompression is
    /// checked against the gzip and zstd tools in the PacketFile tests).
    public static func disagreement(_ path: String) -> String? {
        if CaptureFileReader.compression(ofFile: path) != nil { return nil }
        let reference = libpcap(path)
        let ours = ours(path)
        guard ours.failed == reference.failed else {
            return "ours \(ours.failed ? "failed" : "succeeded") after \(ours.records.count) records, "
                + "libpcap \(reference.failed ? "failed" : "succeeded") after \(reference.records.count)"
        }
        if ours.records == reference.records { return nil }
        if isLibpcapBinaryResolutionOverflow(path, ours.records, reference.records) { return nil }
        guard ours.records.count == reference.records.count else {
            return "ours \(ours.records.count) records, libpcap \(reference.records.count)"
        }
        let i = zip(ours.records, reference.records).enumerated().first { $0.element.0 != $0.element.1 }!.offset
        return "record \(i): ours \(ours.records[i]), libpcap \(reference.records[i])"
    }

    /// libpcap 1.10 converts a pcapng timestamp whose if_tsresol is a power of two finer than
    /// nanoseconds as `frac * 10^9 / 2^k` in 64 bits, which overflows for k above 34: the seconds
    /// are right, the fraction is not. pktstat computes it exactly (tshark agrees). Only that
    /// difference is excused: a pcapng file, every other field equal, the same seconds.
    static func isLibpcapBinaryResolutionOverflow(_ path: String, _ ours: [PacketRecord], _ libpcap: [PacketRecord])
        -> Bool
    {
        guard ours.count == libpcap.count, isPcapng(path) else { return false }
        func second(_ ns: Int64) -> Int64 { ns >= 0 ? ns / 1_000_000_000 : (ns + 1) / 1_000_000_000 - 1 }
        return zip(ours, libpcap).allSatisfy { a, b in
            var sameButTime = a
            sameButTime.timestampNs = b.timestampNs
            return sameButTime == b && second(a.timestampNs) == second(b.timestampNs)
        }
    }

    private static func isPcapng(_ path: String) -> Bool {
        guard let reader = try? CaptureFileReader(path: path) else { return false }
        return reader.formatName == "pcapng"
    }
}
