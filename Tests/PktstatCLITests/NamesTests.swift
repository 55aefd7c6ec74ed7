import Foundation
import TestSupport
import Testing

/// The addresses and names of the capture `namedCapture` builds.
private enum Net {
    static let client: [UInt8] = [10, 0, 0, 1]
    static let resolver: [UInt8] = [10, 0, 0, 53]
    static let web: [UInt8] = [93, 184, 216, 34]
    static let web6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x34]
    static let client6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [0x01]
    static let first: [UInt8] = [198, 51, 100, 7]
    static let second: [UInt8] = [198, 51, 100, 8]
    static let late: [UInt8] = [203, 0, 113, 9]
    static let printer: [UInt8] = [10, 0, 0, 77]
    static let overTCP: [UInt8] = [192, 0, 2, 80]
}

/// A capture with every case of the rules, one packet per millisecond in this order:
/// - a response for www.example.com through a CNAME chain (A and AAAA at the chain's end), then
///   a TCP flow to its IPv4 address whose ClientHello (SNI api.example.com) comes in two
///   segments, and a TCP flow to its IPv6 address;
/// - shop.example.org at 198.51.100.7, a flow there; shop.example.org moves to 198.51.100.8, a
///   flow there; a second flow to 198.51.100.7 (still shop.example.org: nothing renamed it);
/// - a flow to 203.0.113.9 that starts before the response naming it (late.example.com) and goes
///   on after it (stays unnamed), then a new flow there (named);
/// - an mDNS announcement without a question (printer.local), a flow to it;
/// - a DNS response over TCP (length-prefixed, tcp.example.com), a flow to its address;
/// - a query (not a response) that carries an A record, which names nothing;
/// - a ClientHello without a server name.
private func namedCapture() throws -> URL {
    typealias P = NamePackets
    var frames: [[UInt8]] = []
    let q = P.dnsName("www.example.com")
    let chain = P.dns(
        question: "www.example.com",
        answers: [
            P.cname(P.pointer(12), "edge.cdn.example.net"),
            // The A and AAAA owners point at the CNAME target (offset 12 + name 17 + 4 + RR header 12).
            P.a(P.pointer(UInt16(12 + q.count + 4 + 12)), Net.web),
            P.aaaa(P.pointer(UInt16(12 + q.count + 4 + 12)), Net.web6),
        ])
    frames.append(P.udp(Net.resolver, Net.client, 53, 40000, chain))
    frames.append(P.tcp(Net.client, Net.web, 50000, 443, seq: 999, flags: 0x02))
    let hello = P.clientHello(serverName: "api.example.com", padding: 300)
    frames.append(P.tcp(Net.client, Net.web, 50000, 443, seq: 1000, Array(hello[0..<100])))
    frames.append(P.tcp(Net.client, Net.web, 50000, 443, seq: 1100, Array(hello[100...])))
    frames.append(P.tcp(Net.client6, Net.web6, 50001, 443, seq: 1, flags: 0x02))

    frames.append(
        P.udp(
            Net.resolver, Net.client, 53, 40001,
            P.dns(
                question: "shop.example.org",
                answers: [
                    P.a(P.pointer(12), Net.first)
                ])))
    frames.append(P.tcp(Net.client, Net.first, 50002, 80, seq: 1, flags: 0x02))
    frames.append(
        P.udp(
            Net.resolver, Net.client, 53, 40002,
            P.dns(
                question: "shop.example.org",
                answers: [
                    P.a(P.pointer(12), Net.second)
                ])))
    frames.append(P.tcp(Net.client, Net.second, 50003, 80, seq: 1, flags: 0x02))
    frames.append(P.tcp(Net.client, Net.first, 50004, 80, seq: 1, flags: 0x02))

    frames.append(P.tcp(Net.client, Net.late, 50005, 443, seq: 1, flags: 0x02))
    frames.append(
        P.udp(
            Net.resolver, Net.client, 53, 40003,
            P.dns(
                question: "late.example.com",
                answers: [
                    P.a(P.pointer(12), Net.late)
                ])))
    frames.append(P.tcp(Net.client, Net.late, 50005, 443, seq: 2, flags: 0x10))
    frames.append(P.tcp(Net.client, Net.late, 50006, 443, seq: 1, flags: 0x02))

    frames.append(
        P.udp(
            Net.printer, [224, 0, 0, 251], 5353, 5353,
            P.dns(
                question: nil,
                answers: [
                    P.a(P.dnsName("printer.local"), Net.printer)
                ])))
    frames.append(P.udp(Net.client, Net.printer, 40010, 631, [1, 2, 3, 4]))

    let tcpDNS = P.dns(question: "tcp.example.com", answers: [P.a(P.pointer(12), Net.overTCP)])
    frames.append(P.tcp(Net.resolver, Net.client, 53, 40020, seq: 1, P.be16(UInt16(tcpDNS.count)) + tcpDNS))
    frames.append(P.tcp(Net.client, Net.overTCP, 50007, 22, seq: 1, flags: 0x02))

    frames.append(
        P.udp(
            Net.client, Net.resolver, 40030, 53,
            P.dns(
                question: "query.example",
                answers: [
                    P.a(P.pointer(12), [192, 0, 2, 99])
                ], response: false)))
    frames.append(P.tcp(Net.client, [192, 0, 2, 99], 50008, 443, seq: 1, P.clientHello(serverName: nil)))

    var b = PcapBuilder()
    for (i, f) in frames.enumerated() { b.add(seconds: 1_700_000_000, fraction: UInt32(i * 1000), bytes: f) }
    let file = TestPaths.temporaryDirectory().appendingPathComponent("names.pcap")
    try b.write(to: file)
    return file
}

@Suite("names")
struct NamesTests {
    /// The rows by "sport-dport" (every flow of the capture has a distinct pair).
    private func rowsByDestination(_ format: String = "csv") throws -> [String: [String: String]] {
        let r = try pktstat(["flows", try namedCapture().path, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        var out: [String: [String: String]] = [:]
        for row in csvRows(r.stdout) { out["\(row["sport"] ?? "")-\(row["dport"] ?? "")"] = row }
        return out
    }

    @Test func flowsNameEndsAndServersByTheRules() throws {
        let rows = try rowsByDestination()
        func names(_ key: String) -> [String] {
            guard let r = rows[key] else { return ["missing \(key)"] }
            return [r["src_name"] ?? "?", r["dst_name"] ?? "?", r["server_name"] ?? "?"]
        }
        // CNAME chain: the question name; ClientHello in two segments: its SNI.
        #expect(names("50000-443") == ["", "www.example.com", "api.example.com"])
        #expect(names("50001-443") == ["", "www.example.com", ""])
        // A name that changes address: both addresses keep it.
        #expect(names("50002-80") == ["", "shop.example.org", ""])
        #expect(names("50003-80") == ["", "shop.example.org", ""])
        #expect(names("50004-80") == ["", "shop.example.org", ""])
        // A response after the flow's first packet is not used for it; a later flow takes it.
        #expect(names("50005-443") == ["", "", ""])
        #expect(names("50006-443") == ["", "late.example.com", ""])
        #expect(rows["50005-443"]?["packets"] == "2")
        // mDNS without a question: the record's owner; DNS over TCP.
        #expect(names("40010-631") == ["", "printer.local", ""])
        #expect(names("50007-22") == ["", "tcp.example.com", ""])
        // A query's records name nothing; a ClientHello without SNI gives no server name.
        #expect(names("50008-443") == ["", "", ""])
        // The resolver's replies: the client was never named.
        #expect(names("53-40000") == ["", "", ""])
    }

    @Test func laterFlowToTheSameAddressTakesTheLateName() throws {
        let rows = try rowsByDestination()
        let late = rows.values.filter { $0["dst"] == "203.0.113.9" }
        #expect(late.count == 2)
        #expect(late.contains { $0["sport"] == "50006" && $0["dst_name"] == "late.example.com" })
        #expect(late.contains { $0["sport"] == "50005" && $0["dst_name"] == "" })
        let shop = rows.values.filter { $0["dst"] == "198.51.100.7" }
        #expect(shop.count == 2 && shop.allSatisfy { $0["dst_name"] == "shop.example.org" })
    }

    @Test func jsonAndTableCarryTheNames() throws {
        let file = try namedCapture().path
        let json = try pktstat(["flows", file, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let objects = json.stdoutLines.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == json.stdoutLines.count)
        let web = objects.first { ($0["dst"] as? String) == "93.184.216.34" }
        #expect(web?["dst_name"] as? String == "www.example.com")
        #expect(web?["server_name"] as? String == "api.example.com")
        #expect(web?["src_name"] is NSNull)
        let table = try pktstat(["flows", file])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdoutLines.first?.hasSuffix("SRC_NAME       DST_NAME          SERVER_NAME") == true)
        #expect(table.stdout.contains("www.example.com   api.example.com"))
    }

    /// The same capture through tshark: the derivation of scripts/names-check agrees with pktstat.
    @Test func tsharkDerivationAgrees() throws {
        try requireTool("tshark")
        let python = try requireTool("python3")
        let script = TestPaths.packageRoot.appendingPathComponent("scripts/names-check").path
        let r = try run(python, [script, "--verbose", TestPaths.binary, try namedCapture().path], timeout: 60)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("0 differ"), "\(r.stdout)")
        #expect(r.stdout.contains("1 captures with names"), "\(r.stdout)")
    }
}
