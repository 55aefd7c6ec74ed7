import Foundation
import TestSupport
import Testing

/// Three conversations: 192.0.2.1:40000 -> 192.0.2.2:53 and its answer, 192.0.2.3 -> 192.0.2.2:53,
/// and an ARP-less "other" frame; 5 packets over 3 seconds.
private func conversations() throws -> URL {
    let file = TestPaths.temporaryDirectory().appendingPathComponent("flows.pcap")
    var b = PcapBuilder()
    let t0: UInt32 = 1_700_000_000
    let a: [UInt8] = [192, 0, 2, 1]
    let s: [UInt8] = [192, 0, 2, 2]
    let c: [UInt8] = [192, 0, 2, 3]
    b.add(seconds: t0, fraction: 0, bytes: PcapBuilder.udpFrame(src: a, dst: s, sport: 40000, dport: 53, payload: 16))
    b.add(
        seconds: t0, fraction: 500, bytes: PcapBuilder.udpFrame(src: s, dst: a, sport: 53, dport: 40000, payload: 100))
    b.add(
        seconds: t0 + 1, fraction: 0, bytes: PcapBuilder.udpFrame(src: c, dst: s, sport: 1234, dport: 53, payload: 1000)
    )
    b.add(seconds: t0 + 2, fraction: 0, bytes: [UInt8](repeating: 0, count: 60))
    b.add(
        seconds: t0 + 3, fraction: 0, bytes: PcapBuilder.udpFrame(src: a, dst: s, sport: 40000, dport: 53, payload: 16))
    try b.write(to: file)
    return file
}

@Suite("flows")
struct FlowsTests {
    @Test func csvRowsInFirstPacketOrder() throws {
        let r = try pktstat(["flows", try conversations().path, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout)
        #expect(
            r.stdoutLines.first
                == "first,last,protocol,src,sport,dst,dport,packets,bytes,src_packets,src_bytes,dst_packets,dst_bytes,"
                + "src_name,dst_name,server_name")
        #expect(rows.count == 3)
        #expect(rows[0]["src"] == "192.0.2.1" && rows[0]["sport"] == "40000" && rows[0]["dport"] == "53")
        #expect(rows[0]["packets"] == "3" && rows[0]["src_packets"] == "2" && rows[0]["dst_bytes"] == "142")
        #expect(rows[0]["first"] == "1700000000.000000000" && rows[0]["last"] == "1700000003.000000000")
        #expect(rows[2]["protocol"] == "other" && rows[2]["src"] == "" && rows[2]["sport"] == "")
    }

    @Test func sortTopAndAggregates() throws {
        let file = try conversations().path
        let top = csvRows(try pktstat(["flows", file, "--format", "csv", "--sort", "bytes", "--top", "1"]).stdout)
        #expect(top.count == 1 && top[0]["src"] == "192.0.2.3" && top[0]["bytes"] == "1042")
        let hosts = csvRows(try pktstat(["flows", file, "--format", "csv", "--by", "host"]).stdout)
        #expect(hosts.map { $0["host"] } == ["192.0.2.2", "192.0.2.3", "192.0.2.1"])
        #expect(hosts[0]["received_bytes"] == "1158" && hosts[0]["sent_bytes"] == "142" && hosts[0]["flows"] == "2")
        let ports = csvRows(try pktstat(["flows", file, "--format", "csv", "--by", "port"]).stdout)
        #expect(ports.map { $0["port"] } == ["53", ""] && ports[0]["flows"] == "2" && ports[0]["packets"] == "4")
        let protocols = csvRows(
            try pktstat(["flows", file, "--format", "csv", "--by", "protocol", "--sort", "packets"]).stdout)
        #expect(protocols.map { $0["protocol"] } == ["UDP", "other"])
    }

    @Test func filterJSONAndTable() throws {
        let file = try conversations().path
        let filtered = csvRows(try pktstat(["flows", file, "--format", "csv", "--filter", "host 192.0.2.3"]).stdout)
        #expect(filtered.count == 1 && filtered[0]["src"] == "192.0.2.3")
        let json = try pktstat(["flows", file, "--format", "json"]).stdoutLines
        #expect(json.count == 3)
        let last = try JSONSerialization.jsonObject(with: Data(json[2].utf8)) as? [String: Any]
        #expect(last?["src"] is NSNull && last?["protocol"] as? String == "other" && last?["packets"] as? Int == 1)
        let first = try JSONSerialization.jsonObject(with: Data(json[0].utf8)) as? [String: Any]
        #expect(first?["sport"] as? Int == 40000 && first?["first"] as? Double == 1_700_000_000)
        let table = try pktstat(["flows", file]).stdoutLines
        #expect(table.count == 4 && table[0].hasPrefix("FIRST"))
        // Numbers are right-aligned: the last count (DST_BYTES) of every row ends where its title does.
        let end = try #require(table[0].range(of: "DST_BYTES")).upperBound.utf16Offset(in: table[0])
        #expect(
            table.allSatisfy {
                Array($0.utf8).count > end && Array($0.utf8)[end - 1] != 32 && Array($0.utf8)[end] == 32
            })
        #expect(table[3].contains(" - "))
    }

    @Test func idleTimeoutEndsAndRestartsFlows() throws {
        let r = try pktstat(["flows", try conversations().path, "--format", "csv", "--flow-timeout", "1500ms"])
        #expect(r.status == 0)
        let rows = csvRows(r.stdout)
        // 192.0.2.1's flow idles from 0.0005 s to 3 s: it ends, and its last packet starts a new one.
        #expect(rows.count == 4)
        #expect(rows.filter { $0["src"] == "192.0.2.1" }.map { $0["packets"] } == ["2", "1"])
        #expect(r.stderr.contains("flows ended idle"))
        let capped = try pktstat(["flows", try conversations().path, "--format", "csv", "--max-flows", "1"])
        #expect(capped.stderr.contains("3 flows evicted"))
        #expect(csvRows(capped.stdout).reduce(0) { $0 + Int($1["packets"]!)! } == 5)
    }

    /// CSV flow rows with their three name cells (the last ones; names never hold a comma) emptied.
    private func withoutNames(_ csv: String) -> String {
        csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { i, line in
            guard i > 0, !line.isEmpty else { return String(line) }
            return line.split(separator: ",", omittingEmptySubsequences: false).dropLast(3).joined(separator: ",")
                + ",,,"
        }.joined(separator: "\n")
    }

    /// `sniff --format csv | flows -` gives the rows `flows FILE` gives (names aside), for every capture of the
    /// conformance corpus with a flows reference; and a capture on stdin too.
    /// Without the corpus beside the checkout the test is skipped, and says so (it is a checkout,
    /// not a package: scripts/test skips the conformance checks the same way).
    @Test(.enabled(if: TestPaths.conformanceCaptures != nil, "the conformance corpus is not next to the package"))
    func standardInputCSVAndCaptureMatchTheFile() throws {
        let dir = try #require(TestPaths.conformanceCaptures)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".flows.csv") }
        #expect(names.count >= 100)
        let bin = TestPaths.binary
        for name in names.sorted() {
            let capture = dir.appendingPathComponent(String(name.dropLast(".flows.csv".count))).path
            let direct = try pktstat(["flows", capture, "--format", "csv"])
            let piped = try shell(
                "'\(bin)' sniff -r '\(capture)' --format csv 2>/dev/null | '\(bin)' flows - --format csv")
            // sniff's CSV carries no payloads: the same rows, without names.
            #expect(piped.stdout == withoutNames(direct.stdout), "\(name)")
            if name.hasPrefix("tcpdump_") {
                let stdin = try pktstat(["flows", "-", "--format", "csv"], stdin: URL(fileURLWithPath: capture))
                #expect(stdin.stdout == direct.stdout, "\(name) on stdin")
            }
        }
    }

    @Test func badCSVOnStandardInputIsOneLine() throws {
        let r = try shell(
            "printf 'timestamp,length,src,dst\\n1.0,60,10.0.0.1,nonsense\\n' | '\(TestPaths.binary)' flows -")
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("line 2"), "\(r.stderr)")
    }
}
