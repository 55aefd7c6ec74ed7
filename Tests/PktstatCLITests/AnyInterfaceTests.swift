import Foundation
import TestSupport
import Testing

/// `-i any` captures as Linux cooked v2, whose header names the interface and the direction; the
/// rows carry both (`interface`, `direction`), and other link types leave them empty.
@Suite("sniff -i any", .serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct AnyInterfaceLiveTests {
    @Test func anyIsSLL2AndRowsNameLoopback() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("any.pcap")
        let port = Int.random(in: 20000...29999)
        let p = try Spawned(
            TestPaths.binary,
            [
                "sniff", "-i", "any", "-c", "10", "-w", file.path, "--print", "--format", "csv",
                "udp", "dst", "port", "\(port)",
            ])
        #expect(waitListening(p))
        try sendLoopbackUDP(count: 10, port: port, size: 16)
        let r = p.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("listening on any, link-type LINUX_SLL2 (Linux cooked v2)"))
        #expect(r.stdoutLines.first?.hasSuffix(",interface,direction") == true)
        let rows = csvRows(r.stdout)
        #expect(rows.count == 10)
        let named = rows.allSatisfy { $0["interface"] == "lo" && ($0["direction"] == "in" || $0["direction"] == "out") }
        #expect(named, "\(r.stdout)")
        #expect(rows.allSatisfy { $0["protocol"] == "UDP" && $0["dport"] == "\(port)" })
        // The -w file is SLL2 too, and tcpdump sees the same interface.
        let tcpdump = try requireTool("tcpdump")
        let t = try run(tcpdump, ["-nr", file.path])
        #expect(t.stderr.contains("link-type LINUX_SLL2"))
        #expect(t.stdoutLines.count == 10)
        #expect(t.stdoutLines.allSatisfy { $0.contains(" lo ") })
    }

    @Test func jsonAndTableCarryTheInterface() throws {
        let port = Int.random(in: 7500...9999)
        for format in ["json", "table"] {
            let arguments = ["sniff", "-i", "any", "-c", "3", "--format", format, "udp", "dst", "port", "\(port)"]
            let p = try Spawned(TestPaths.binary, arguments)
            #expect(waitListening(p))
            try sendLoopbackUDP(count: 3, port: port, size: 16)
            let r = p.finish(timeout: 20)
            #expect(r.status == 0, "\(r.stderr)")
            if format == "json" {
                #expect(r.stdoutLines.count == 3)
                for line in r.stdoutLines {
                    let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    #expect(obj["interface"] as? String == "lo")
                    #expect(["in", "out"].contains(obj["direction"] as? String))
                }
            } else {
                let header = try #require(r.stdoutLines.first)
                let iface = try #require(header.range(of: "IFACE")).lowerBound.utf16Offset(in: header)
                #expect(r.stdoutLines.count == 4)
                for line in r.stdoutLines.dropFirst() {
                    #expect(line.dropFirst(iface).hasPrefix("lo "), "\(line)")
                }
            }
        }
    }
}

@Suite("interface and direction columns on files")
struct LinkColumnsFileTests {
    private func rows(_ path: String) throws -> [[String: String]] {
        let r = try pktstat(["sniff", "-r", path, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutLines.first == "timestamp,length,captured,protocol,src,dst,sport,dport,interface,direction")
        return csvRows(r.stdout)
    }

    @Test func sll2FilesGiveTheIndexAndTheDirection() throws {
        let corpus = try #require(TestPaths.conformanceCaptures)
        // tcpdump -e says "In ifindex 20" for the first, "Out ifindex 20" for the second.
        let incoming = try rows(corpus.appendingPathComponent("pcpp_sll2.pcap").path)
        #expect(!incoming.isEmpty)
        #expect(incoming.first?["interface"] == "20")
        #expect(incoming.first?["direction"] == "in")
        let outgoing = try rows(corpus.appendingPathComponent("pcpp_Sll2Packet.pcap").path)
        #expect(outgoing.first?["interface"] == "20")
        #expect(outgoing.first?["direction"] == "out")
        // Every row agrees with tcpdump's reading of the same file.
        let tcpdump = try requireTool("tcpdump")
        let t = try run(tcpdump, ["-enr", corpus.appendingPathComponent("pcpp_sll2.pcap").path])
        let tcpdumpDirections = t.stdoutLines.map { $0.contains(" In ") ? "in" : $0.contains(" Out ") ? "out" : "" }
        #expect(incoming.map { $0["direction"] ?? "" } == tcpdumpDirections)
        let sll2 = corpus.appendingPathComponent("pcpp_sll2.pcap").path
        let json = try pktstat(["sniff", "-r", sll2, "--format", "json"])
        #expect(json.stdoutLines.first?.hasSuffix(",\"interface\":\"20\",\"direction\":\"in\"}") == true)
    }

    @Test func sllGivesTheDirectionOnlyAndEthernetNeither() throws {
        let sll = try rows(TestPaths.captures.appendingPathComponent("linktypes-sll.pcap").path)
        #expect(!sll.isEmpty)
        #expect(sll.allSatisfy { $0["interface"] == "" && $0["direction"] != "" })
        let ethernet = try rows(TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path)
        #expect(!ethernet.isEmpty)
        #expect(ethernet.allSatisfy { $0["interface"] == "" && $0["direction"] == "" })
        let mixed = TestPaths.captures.appendingPathComponent("loopback-mixed.pcap").path
        let json = try pktstat(["sniff", "-r", mixed, "--format", "json"])
        #expect(json.stdoutLines.first?.hasSuffix(",\"interface\":null,\"direction\":null}") == true)
    }

    /// The widest addresses (full IPv6, with ports) keep every column of the table in line.
    @Test func wideIPv6AddressesKeepTheTableAligned() throws {
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("wide.pcap")
        var b = PcapBuilder()
        let wide: [UInt8] = [
            0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23,
        ]
        let linkLocal: [UInt8] = [0xfe, 0x80] + Array(repeating: 0, count: 13) + [1]
        let widest = udp6Frame(src: wide, dst: wide.reversed(), sport: 65535, dport: 65534)
        b.add(seconds: 1_700_000_000, fraction: 0, bytes: widest)
        b.add(seconds: 1_700_000_000, fraction: 1, bytes: PcapBuilder.udpFrame(sport: 1, dport: 2))
        b.add(seconds: 1_700_000_000, fraction: 2, bytes: udp6Frame(src: linkLocal, dst: wide, sport: 5, dport: 443))
        try b.write(to: file)
        let r = try pktstat(["sniff", "-r", file.path, "--format", "table"])
        #expect(r.status == 0)
        let lines = r.stdoutLines
        #expect(lines.count == 4)
        let header = try #require(lines.first)
        // An Ethernet capture: no IFACE and DIR columns in the table.
        #expect(!header.contains("IFACE") && !header.contains("DIR"))
        let starts = ["PROTO", "SOURCE", "SPORT", "DESTINATION", "DPORT", "LENGTH"].map {
            header.range(of: $0)!.lowerBound.utf16Offset(in: header)
        }
        for line in lines.dropFirst() {
            let chars = Array(line.utf8)
            for s in starts {
                let space = UInt8(ascii: " ")
                #expect(s < chars.count && chars[s] != space && chars[s - 1] == space, "column \(s) in '\(line)'")
            }
        }
        #expect(lines[1].contains("2001:db8:abcd:ef12:3456:789a:bcde:f123"))
        #expect(lines[1].contains(" 65535 "))
    }

    private func udp6Frame(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16) -> [UInt8] {
        var f: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xDD]
        f += [0x60, 0, 0, 0, 0, 16, 17, 64] + src + dst
        f += [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), 0, 16, 0, 0]
        f += Array(repeating: 0, count: 8)
        return f
    }
}
