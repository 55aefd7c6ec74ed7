import Foundation
import PacketFile
import PacketRecords
import PacketWire
import Testing

/// The shared conformance corpus (real captures from other projects' test suites, with a
/// reference row per packet): every capture read with our reader must give the reference rows,
/// and the captures listed in EXPECT_ERROR must fail the way libpcap 1.10 does.
enum Corpus {
    /// `<package root>/../shared/conformance/captures`.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // PacketFileTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/captures")

    static var available: Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("EXPECT_ERROR").path)
    }

    static var captureNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasSuffix(".csv") && $0 != "EXPECT_ERROR" && !$0.hasPrefix(".") }.sorted()
    }

    struct Expectation {
        var mode: String
        var referenceRows: Int
        var libpcapRows: Int
    }

    static var expectedErrors: [String: Expectation] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("EXPECT_ERROR"), encoding: .utf8)
        else { return [:] }
        var result: [String: Expectation] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 4, let ref = Int(fields[2]), let libpcap = Int(fields[3]) else { continue }
            result[String(fields[0])] = Expectation(mode: String(fields[1]), referenceRows: ref, libpcapRows: libpcap)
        }
        return result
    }

    /// The reference rows: timestamp, length, captured, protocol (`?` = not compared).
    static func referenceRows(_ name: String) -> [[String: String]] {
        let url = directory.appendingPathComponent(name + ".ref.csv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = lines.first?.map(String.init) else { return [] }
        return lines.dropFirst().map { fields in
            var row: [String: String] = [:]
            for (column, value) in zip(header, fields) { row[column] = String(value) }
            return row
        }
    }
}

/// Epoch seconds with exactly 9 fractional digits, as the CSV contract prints them.
func formatTimestamp(_ ns: Int64) -> String {
    var seconds = ns / 1_000_000_000
    var fraction = ns % 1_000_000_000
    if fraction < 0 {
        seconds -= 1
        fraction += 1_000_000_000
    }
    let digits = String(fraction)
    return "\(seconds)." + String(repeating: "0", count: 9 - digits.count) + digits
}

/// The first difference between what we read and the reference rows `0..<count`, or nil.
func firstDifference(_ records: [PacketRecord], _ reference: [[String: String]], count: Int) -> String? {
    for i in 0..<count {
        let r = records[i]
        let ref = reference[i]
        let ours = [
            "timestamp": formatTimestamp(r.timestampNs), "length": String(r.length), "captured": String(r.captured),
            "protocol": r.label.name,
        ]
        for column in ["timestamp", "length", "captured", "protocol"] {
            let expected = ref[column] ?? ""
            if expected != "?" && expected != ours[column] {
                return "row \(i + 1) \(column): expected \(expected), got \(ours[column] ?? "")"
            }
        }
    }
    return nil
}

@Suite(.enabled(if: Corpus.available, "the shared conformance corpus is not next to the package"))
struct ConformanceCorpusTests {
    @Test(arguments: Corpus.captureNames)
    func captureMatchesReference(_ name: String) throws {
        let outcome = readAll(path: Corpus.directory.appendingPathComponent(name).path)
        let reference = Corpus.referenceRows(name)
        if let expectation = Corpus.expectedErrors[name] {
            if let error = outcome.error {
                // Rejected like libpcap 1.10: the same packets first, then an error.
                #expect(outcome.records.count == expectation.libpcapRows, "\(error)")
                #expect(outcome.records.count <= reference.count)
                #expect(!error.description.contains("\n"))
                let n = min(outcome.records.count, reference.count)
                #expect(firstDifference(outcome.records, reference, count: n) == nil)
            } else {
                #expect(expectation.mode == "error-or-full", "\(name) must be rejected")
                #expect(outcome.records.count == reference.count)
                #expect(
                    firstDifference(outcome.records, reference, count: min(outcome.records.count, reference.count))
                        == nil)
            }
        } else {
            #expect(outcome.error == nil, "\(outcome.error.map(String.init(describing:)) ?? "")")
            #expect(outcome.records.count == reference.count)
            let diff = firstDifference(outcome.records, reference, count: min(outcome.records.count, reference.count))
            #expect(diff == nil, "\(diff ?? "")")
        }
    }

    @Test func corpusIsThere() {
        #expect(Corpus.captureNames.count > 100)
        #expect(Corpus.expectedErrors.count >= 11)
    }
}
