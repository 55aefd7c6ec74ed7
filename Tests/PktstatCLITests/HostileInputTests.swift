import Foundation
import TestSupport
import Testing

/// Inputs written to hurt: each must give rows for what is readable, a one-line error for the
/// rest, exit 0 or 1, no trap, no hang, and bounded memory.
@Suite("hostile inputs")
struct HostileInputTests {
    static func ether(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, UInt8(type >> 8), UInt8(type & 0xFF)] + payload
    }

    static func ipv6(next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF), next, 64]
            + [UInt8](repeating: 0x20, count: 16) + [UInt8](repeating: 0x21, count: 16) + payload
    }

    /// Name, file bytes, expected exit status, expected label of the first row (nil: no rows).
    static let pcapCases: [(String, Data, Int32, String?)] = {
        var out: [(String, Data, Int32, String?)] = []
        func one(_ name: String, _ frame: [UInt8], orig: UInt32? = nil, link: UInt32 = 1, label: String?) {
            var b = PcapBuilder(linkType: link)
            b.add(seconds: 1_700_000_000, fraction: 0, bytes: frame, originalLength: orig)
            out.append((name, b.data, 0, label))
        }
        one("ihl-0", ether(0x0800, [0x40, 0, 0, 20, 0, 0, 0, 0, 64, 17]), label: "UDP")
        one(
            "ihl-15-short", ether(0x0800, [0x4F, 0, 0, 60, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 80]),
            label: "TCP")
        var chain: [UInt8] = []
        for _ in 0..<300 { chain += [60, 0, 1, 4, 0, 0, 0, 0] }  // 300 destination-options headers
        chain += [0, 53, 0, 53, 0, 8, 0, 0]
        chain[8 * 299] = 17
        one("ipv6-300-extension-headers", ether(0x86DD, ipv6(next: 60, chain)), label: "UDP")
        one("ipv6-extension-past-end", ether(0x86DD, ipv6(next: 0, [6, 255, 0, 0, 0, 0, 0, 0])), label: "TCP")
        one("ipv6-extension-chain-past-end", ether(0x86DD, ipv6(next: 0, [43, 255, 0, 0, 0, 0, 0, 0])), label: "IPv6")
        var tags: [UInt8] = []
        for _ in 0..<400 { tags += [0, 1, 0x81, 0x00] }
        tags += [0, 1, 0x08, 0x06]
        one(
            "400-vlan-tags",
            [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00] + tags + [UInt8](repeating: 0, count: 28), label: "ARP")
        one("zero-length-frame", [], orig: 0, label: "other")
        one("captured-longer-than-wire", PcapBuilder.udpFrame(), orig: 20, label: "UDP")
        one("unknown-link-type", [1, 2, 3, 4], link: 4000, label: "other")
        one("huge-link-type", [1, 2, 3, 4], link: 0x0FFF_FFFF, label: "other")
        // A record header claiming 0xFFFFFFF0 bytes after one good record.
        var huge = PcapBuilder()
        huge.add(seconds: 1_700_000_000, fraction: 0, bytes: PcapBuilder.udpFrame())
        huge.put32(1_700_000_001)
        huge.put32(0)
        huge.put32(0xFFFF_FFF0)
        huge.put32(0xFFFF_FFF0)
        huge.put16(0)
        out.append(("record-length-0xFFFFFFF0", huge.data, 1, "UDP"))
        var snap0 = PcapBuilder(snapLength: 0)
        snap0.add(seconds: 1_700_000_000, fraction: 0, bytes: PcapBuilder.udpFrame())
        out.append(("snaplen-0", snap0.data, 0, "UDP"))
        return out
    }()

    static func pcapng(_ blocks: [[UInt8]]) -> Data { Data(blocks.flatMap { $0 }) }
    static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static let shb: [UInt8] =
        le32(0x0A0D_0D0A) + le32(28) + le32(0x1A2B_3C4D) + [1, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 8) + le32(28)
    static let idb: [UInt8] = le32(1) + le32(20) + [1, 0, 0, 0] + le32(65535) + le32(20)

    static let pcapngCases: [(String, Data, Int32)] = [
        ("pcapng-block-length-3", pcapng([shb, idb, le32(6) + le32(3) + [0, 0, 0, 0]]), 1),
        ("pcapng-truncated-section-header", Data(shb.prefix(17)), 1),
        (
            "pcapng-epb-claims-2GB",
            pcapng([shb, idb, le32(6) + le32(0x8000_0000) + [UInt8](repeating: 0, count: 20)]), 1
        ),
    ]

    @Test(arguments: pcapCases.map { $0.0 })
    func hostilePcapThroughSniffAndAnalyze(_ name: String) throws {
        let (_, data, status, label) = Self.pcapCases.first { $0.0 == name }!
        let file = TestPaths.temporaryDirectory().appendingPathComponent(name + ".pcap")
        try data.write(to: file)
        let r = try pktstat(["sniff", "-r", file.path, "--format", "csv"], timeout: 20)
        #expect(r.noCrash, "\(r.stderr)")
        #expect(r.status == status, "\(r.stderr)")
        if status != 0 { #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1) }
        let rows = csvRows(r.stdout)
        #expect(rows.first?["protocol"] == label)
        let a = try pktstat(["analyze", file.path, "--format", "csv"], timeout: 20)
        #expect(a.noCrash)
        #expect(a.status == status)
        // The connection walk and tracker, with and without checksum verification.
        for extra in [[], ["--verify-checksums"]] {
            let z = try pktstat(["flows", "--format", "zeek", file.path] + extra, timeout: 20)
            #expect(z.noCrash, "\(z.stderr)")
            #expect(z.status == status, "\(z.stderr)")
        }
    }

    @Test(arguments: pcapngCases.map { $0.0 })
    func hostilePcapng(_ name: String) throws {
        let (_, data, status) = Self.pcapngCases.first { $0.0 == name }!
        let file = TestPaths.temporaryDirectory().appendingPathComponent(name + ".pcapng")
        try data.write(to: file)
        for args in [["sniff", "-r", file.path, "--format", "csv"], ["analyze", file.path]] {
            let r = try pktstat(args, timeout: 20)
            #expect(r.noCrash, "\(r.stderr)")
            #expect(r.status == status)
            #expect(r.stderr.contains("error:"))
        }
    }

    @Test func devNullAndEmptyFoldersAndCutGzip() throws {
        let dir = TestPaths.temporaryDirectory()
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let gz = dir.appendingPathComponent("capture.pcap.gz")
        try Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]).write(to: gz)
        for (path, message) in [("/dev/null", "empty"), (empty.path, "no capture files"), (gz.path, "cut short")] {
            for args in [["sniff", "-r", path], ["analyze", path]] {
                let r = try pktstat(args, timeout: 20)
                #expect(r.noCrash)
                #expect(r.status == 1, "\(args)")
                #expect(r.stderr.lowercased().contains(message), "\(args): \(r.stderr)")
            }
        }
    }

    /// DNS and TLS payloads written to hurt the name parsers: compression pointer loops, counts and
    /// lengths past the end, ClientHellos that announce 16 KiB and never complete (4,000 of them,
    /// so the pending ones must be dropped), and more answers than the name table holds. `flows`
    /// reads them all, names what is sound, and its memory stays bounded.
    @Test func hostileNamePayloads() throws {
        typealias P = NamePackets
        let time = try requireTool("time")
        let client: [UInt8] = [10, 0, 0, 1]
        let resolver: [UInt8] = [10, 0, 0, 53]
        var b = PcapBuilder()
        var i: UInt32 = 0
        func add(_ frame: [UInt8]) {
            b.add(seconds: 1_700_000_000 + i / 1000, fraction: (i % 1000) * 1000, bytes: frame)
            i += 1
        }
        let header = P.be16(1) + P.be16(0x8180) + P.be16(1) + P.be16(1) + P.be16(0) + P.be16(0)
        // A question that points at itself; two names that point at each other; a label past the end.
        add(
            P.udp(
                resolver, client, 53, 40000, header + P.pointer(12) + [0, 1, 0, 1] + P.a(P.pointer(12), [1, 1, 1, 1])))
        add(
            P.udp(
                resolver, client, 53, 40000, header + P.pointer(14) + P.pointer(12) + P.a(P.pointer(12), [1, 1, 1, 2])))
        add(P.udp(resolver, client, 53, 40000, header + [63, 0x61, 0x62]))
        // 65,535 answers announced, rdlength past the end, a UDP length past the end.
        add(P.udp(resolver, client, 53, 40000, P.dns(question: "a.example", answers: [], answerCount: 65535)))
        var long = P.dns(question: "b.example", answers: [P.a(P.pointer(12), [1, 1, 1, 3])])
        long[long.count - 5] = 0xFF
        add(P.udp(resolver, client, 53, 40000, long))
        var udp = P.udp(resolver, client, 53, 40000, P.dns(question: "c.example", answers: []))
        udp[38] = 0xFF
        add(udp)
        // DNS over TCP whose length prefix says more than the segment holds.
        add(P.tcp(resolver, client, 53, 40001, seq: 1, P.be16(0xFFFF) + P.dns(question: "d.example", answers: [])))
        // 4,000 ClientHellos announcing 16 KiB, each only its first 60 bytes (the server name
        // comes later): each waits for a rest that never comes.
        let hello = P.clientHello(serverName: "never.example", padding: 16_000)
        for n in 0..<4_000 {
            add(P.tcp(client, [10, 1, UInt8(n >> 8), UInt8(n & 0xFF)], 50000, 443, seq: 1, Array(hello.prefix(60))))
        }
        // 20 responses of 4,000 answers each: 80,000 addresses, more than the name table holds.
        for r in 0..<20 {
            let answers = (0..<4_000).map { k in
                P.a(P.pointer(12), [100, UInt8(r), UInt8(k >> 8), UInt8(k & 0xFF)])
            }
            add(P.udp(resolver, client, 53, 40002, P.dns(question: "many\(r).example", answers: answers)))
        }
        // A flow to a surviving address, and one to an evicted one.
        add(P.tcp(client, [100, 19, 0, 1], 50001, 80, seq: 1, flags: 0x02))
        add(P.tcp(client, [100, 0, 0, 1], 50002, 80, seq: 1, flags: 0x02))
        let file = TestPaths.temporaryDirectory().appendingPathComponent("hostile-names.pcap")
        try b.write(to: file)
        let r = try run(
            time, ["-f", "maxrss_kb=%M", TestPaths.binary, "flows", file.path, "--format", "csv"], timeout: 30)
        #expect(r.noCrash, "\(r.stderr)")
        #expect(r.status == 0, "\(r.stderr)")
        let rows = csvRows(r.stdout)
        #expect(rows.count > 4_000)
        #expect(rows.first { $0["dst"] == "100.19.0.1" }?["dst_name"] == "many19.example")
        #expect(rows.first { $0["dst"] == "100.0.0.1" }?["dst_name"] == "")
        #expect(rows.allSatisfy { $0["server_name"] == "" })
        #expect(!rows.contains { ["1.1.1.1", "1.1.1.2", "1.1.1.3"].contains($0["dst"] ?? "") })
        #expect(r.stderr.contains("name table full"), "\(r.stderr)")
        let kb =
            r.stderr.split(separator: "\n").compactMap { $0.hasPrefix("maxrss_kb=") ? Int($0.dropFirst(10)) : nil }
            .first ?? .max
        #expect(kb < 128 * 1024, "peak RSS \(kb) KiB")
    }

    @Test func hugeClaimedLengthsDoNotAllocate() throws {
        let time = try requireTool("time")
        // 2,000 records each claiming 0x7FFFFFF0 bytes of which 16 are present.
        var b = PcapBuilder(snapLength: 0x7FFF_FFFF)
        for i in 0..<2000 {
            b.put32(1_700_000_000 + UInt32(i))
            b.put32(0)
            b.put32(16)
            b.put32(0x7FFF_FFF0)
            b.append(bytes: [UInt8](repeating: 0, count: 16))
        }
        b.put32(1)
        b.put32(0)
        b.put32(0x7FFF_FFF0)
        b.put32(0x7FFF_FFF0)
        let file = TestPaths.temporaryDirectory().appendingPathComponent("claims.pcap")
        try b.write(to: file)
        let r = try run(
            time, ["-f", "maxrss_kb=%M", TestPaths.binary, "sniff", "-r", file.path, "--format", "csv"],
            timeout: 30)
        #expect(r.noCrash)
        #expect(r.status == 1)
        #expect(csvRows(r.stdout).count == 2000)
        let kb =
            r.stderr.split(separator: "\n").compactMap { $0.hasPrefix("maxrss_kb=") ? Int($0.dropFirst(10)) : nil }
            .first ?? .max
        #expect(kb < 64 * 1024, "peak RSS \(kb) KiB")
    }
}
