import Foundation
import TestSupport
import Testing

/// What pktstat's own `flows --format csv` says, per direction: packets, and the flow's first and
/// last time in milliseconds (every record of a flow carries the flow's times).
private func csvTotals(_ csv: String) -> [DirectedKey: DirectedTotals] {
    var out: [DirectedKey: DirectedTotals] = [:]
    for line in csv.split(separator: "\n").dropFirst() {
        let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard c.count == 13, !c[3].isEmpty else { continue }
        let sport = Int(c[4]) ?? 0
        let dport = Int(c[6]) ?? 0
        let first = NfcapdCollector.milliseconds(c[0])
        let last = NfcapdCollector.milliseconds(c[1])
        let forward = DirectedKey(src: c[3], sport: sport, dst: c[5], dport: dport)
        let reverse = DirectedKey(src: c[5], sport: dport, dst: c[3], dport: sport)
        if let p = UInt64(c[9]), p > 0 {
            out[forward, default: DirectedTotals()].add(packets: p, bytes: 0, firstMs: first, lastMs: last)
        }
        if let p = UInt64(c[11]), p > 0 {
            out[reverse, default: DirectedTotals()].add(packets: p, bytes: 0, firstMs: first, lastMs: last)
        }
    }
    return out
}

/// The IP-layer bytes per direction, from the reference rows (`NAME.ref.csv`: tshark's reading of
/// each packet's addresses and ports) and tshark's own IP length fields of the same packets: the
/// outermost IPv4 total length, or IPv6 payload length plus its 40-byte header (at most the frame
/// length; the frame length when the field is 0).
/// nil for the captures whose link type tshark 4.0 does not know (the corpus README names them):
/// their bytes are not compared, their packets and times are.
private func referenceIPBytes(capture: URL, tshark: String) throws -> [DirectedKey: UInt64]? {
    let ref = try String(contentsOf: URL(fileURLWithPath: capture.path + ".ref.csv"), encoding: .utf8)
    let rows = ref.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    let t = try run(
        tshark,
        [
            "-r", capture.path, "-T", "fields", "-E", "occurrence=f", "-e", "frame.len", "-e", "ip.len", "-e",
            "ipv6.plen",
        ],
        timeout: 60)
    let fields = t.stdout.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }.filter { $0.count == 3 }
    if fields.isEmpty && t.stderr.contains("unknown or unsupported") { return nil }
    #expect(fields.count == rows.count, "\(capture.lastPathComponent): tshark and the reference rows agree in number")
    var out: [DirectedKey: UInt64] = [:]
    for (row, f) in zip(rows, fields) {
        guard row.count == 8, !row[4].isEmpty, row[4] != "?" else { continue }
        let frame = UInt64(f[0]) ?? 0
        let v6 = row[4].contains(":")
        let field = UInt64((v6 ? f[2] : f[1]).split(separator: ",").first ?? "") ?? 0
        let ip = field == 0 ? frame : min(v6 ? field + 40 : field, frame)
        let key = DirectedKey(
            src: String(row[4]), sport: Int(row[6]) ?? 0, dst: String(row[5]), dport: Int(row[7]) ?? 0)
        out[key, default: 0] += ip
    }
    return out
}

@Suite(.serialized) struct IPFIXTests {
    static var capturesWithFlows: [URL] {
        guard let dir = TestPaths.conformanceCaptures,
            let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".flows.csv") }.sorted().map {
            dir.appendingPathComponent(String($0.dropLast(".flows.csv".count)))
        }
    }

    /// Every conformance capture with a flows reference, exported to a running nfcapd: what nfdump
    /// reads back, summed per direction, has pktstat's packets and first/last (to the
    /// millisecond) and the IP-layer bytes of the same packets.
    @Test(.enabled(if: TestPaths.conformanceCaptures != nil, "the conformance corpus is not next to the package"))
    func conformanceCapturesIntoNfcapd() async throws {
        let tshark = try requireTool("tshark")
        _ = try requireTool("nfcapd", package: "nfdump")
        _ = try requireTool("ss", package: "iproute2")
        let captures = Self.capturesWithFlows
        #expect(captures.count >= 100)
        var compared = 0
        var directions = 0
        // Four at a time: each waits on tshark and a collector more than on the CPU.
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            var next = 0
            func add() {
                guard next < captures.count else { return }
                let capture = captures[next]
                next += 1
                group.addTask { try Self.compareWithNfcapd(capture, tshark: tshark) }
            }
            for _ in 0..<4 { add() }
            while let (c, d) = try await group.next() {
                compared += c
                directions += d
                add()
            }
        }
        #expect(compared == captures.count)
        #expect(directions > 300)
    }

    static func compareWithNfcapd(_ capture: URL, tshark: String) throws -> (Int, Int) {
        let name = capture.lastPathComponent
        let csv = try pktstat(["flows", capture.path, "--format", "csv"])
        let expected = csvTotals(csv.stdout)
        let bytes = try referenceIPBytes(capture: capture, tshark: tshark)
        let collector = try NfcapdCollector()
        let sent = try pktstat([
            "flows", capture.path, "--format", "csv", "--ipfix", "127.0.0.1:\(collector.port)", "--observation-domain",
            "7",
        ])
        #expect(sent.status == 0, "\(name): \(sent.stderr)")
        #expect(sent.stdout == csv.stdout, "\(name): --ipfix leaves the rows as they were")
        // Give nfcapd a moment to read its socket before it is told to stop.
        usleep(150_000)
        collector.stop()
        let got = try collector.totals()
        #expect(Set(got.keys) == Set(expected.keys), "\(name): the same directions")
        for (key, want) in expected {
            guard let have = got[key] else { continue }
            #expect(have.packets == want.packets, "\(name) \(key): packets")
            #expect(have.firstMs == want.firstMs && have.lastMs == want.lastMs, "\(name) \(key): first/last")
            if let bytes { #expect(have.bytes == bytes[key], "\(name) \(key): IP-layer bytes") }
        }
        #expect(sent.stderr.contains("\(got.values.reduce(0) { $0 + $1.records }) records"), "\(name): \(sent.stderr)")
        return (1, expected.count)
    }

    @Test func badOptionsAreOneLine() throws {
        for (args, says) in [
            (["--ipfix", "nowhere"], "not a collector address"),
            (["--ipfix", "127.0.0.1:0"], "port"),
            (["--ipfix", "127.0.0.1:99999"], "port"),
            (["--ipfix", "sctp://127.0.0.1:4739"], "udp:// and tcp://"),
            (["--ipfix", "127.0.0.1:4739", "--ipfix-mtu", "100"], "--ipfix-mtu 100"),
            (["--biflow"], "need --ipfix"),
        ] {
            // Usage errors: one line, then the usage hint, status 64.
            let r = try pktstat(
                ["flows", TestPaths.captures.appendingPathComponent("linktypes-ethernet.pcap").path] + args)
            #expect(r.status == 64 && r.noCrash, "\(args)")
            #expect(
                r.stderr.hasPrefix("Error: ") && r.stderr.split(separator: "\n")[0].contains(says),
                "\(args): \(r.stderr)")
        }
        // A collector that does not resolve: pktstat's own one-line error, status 1.
        let r = try pktstat([
            "flows", TestPaths.captures.appendingPathComponent("linktypes-ethernet.pcap").path, "--ipfix",
            "no-such-host.invalid:4739",
        ])
        #expect(r.status == 1 && r.stdout.isEmpty)
        #expect(
            r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("error: cannot resolve"), "\(r.stderr)")
    }
}
