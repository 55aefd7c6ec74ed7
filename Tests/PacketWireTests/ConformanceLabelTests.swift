import Foundation
import PacketWire
import TestSupport
import Testing

/// The decoder alone (no libpcap, no CLI) against the shared conformance references: for every
/// readable capture whose packets the test-only reader sees exactly as the reference lists them,
/// the decoder's label equals the reference's (`?` cells are not compared). Skipped when the corpus
/// is not beside the package.
@Suite struct ConformanceLabelTests {
    static let files = CaptureFile.conformance.filter {
        FileManager.default.fileExists(atPath: $0.path + ".ref.csv")
            && !rejected.contains(String($0.name.dropFirst("conformance/".count)))
    }

    /// Captures listed in EXPECT_ERROR (compared by `check`, not here).
    static let rejected: Set<String> = {
        let path = CaptureFile.conformanceDirectory + "/EXPECT_ERROR"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap {
                $0.split(separator: "\t").first.map(String.init)
            })
    }()

    @Test("Decoder labels equal the conformance references", arguments: files)
    func labels(_ file: CaptureFile) throws {
        let text = try String(contentsOfFile: file.path + ".ref.csv", encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let header = lines.removeFirst()
        let protocolColumn = try #require(header.firstIndex(of: "protocol"))
        let lengthColumn = try #require(header.firstIndex(of: "length"))
        let fixture = try PcapFixture(contentsOf: file.path)
        // The reader must see the packets the reference lists; if not, the file is not compared
        // here (the format test lives with the readers), but say so.
        guard fixture.packets.count == lines.count,
            zip(fixture.packets, lines).allSatisfy({ String($0.origLen) == $1[lengthColumn] })
        else {
            Issue.record(
                "\(file.name): the test reader sees \(fixture.packets.count) packets, the reference \(lines.count)")
            return
        }
        var mismatches: [String] = []
        for (index, (packet, row)) in zip(fixture.packets, lines).enumerated() where row[protocolColumn] != "?" {
            var bytes = packet.bytes
            // libpcap cuts records longer than the snap length to it.
            if fixture.format == .pcap, fixture.snapLength > 0, bytes.count > fixture.snapLength {
                bytes = Array(bytes.prefix(fixture.snapLength))
            }
            let label = decode(bytes, LinkType(packet.linkType)).label.name
            if label != row[protocolColumn], mismatches.count < 10 {
                mismatches.append("packet \(index + 1): \(label), reference \(row[protocolColumn])")
            }
        }
        #expect(mismatches.isEmpty, "\(file.name): \(mismatches.joined(separator: "; "))")
    }
}
