import Foundation
import TestSupport
import Testing

/// What pktstat's own `flows --format csv` says, per direction: packets, and the flow's first and
/// last time in milliseconds (every record of a flow carries the flow's times).
private func csvTotals(_ csv: String) -> [DirectedKey: DirectedTotals] {
    var out: [DirectedKey: DirectedTotals] = [:]
    for line in csv.split(separator: "\n").dropFirst() {
        let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard c.count >= 13, !c[3].isEmpty else { continue }
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

    /// The same into pmacct's nfacctd (print plugin), for every tenth capture with a flows
    /// reference (11 of them: nfacctd takes 2-3 s to start and write its file at exit, so the
    /// whole corpus would take minutes for little more than the nfcapd test covers).
    @Test(.enabled(if: TestPaths.conformanceCaptures != nil, "the conformance corpus is not next to the package"))
    func conformanceCapturesIntoNfacctd() throws {
        let tshark = try requireTool("tshark")
        _ = try requireTool("nfacctd", package: "pmacct")
        let captures = Self.capturesWithFlows.enumerated().filter { $0.offset % 10 == 0 }.map(\.element)
        #expect(captures.count >= 10)
        var directions = 0
        for capture in captures {
            let name = capture.lastPathComponent
            let csv = try pktstat(["flows", capture.path, "--format", "csv"])
            let expected = csvTotals(csv.stdout)
            let bytes = try referenceIPBytes(capture: capture, tshark: tshark)
            let collector = try NfacctdCollector()
            let sent = try pktstat(["flows", capture.path, "--format", "csv", "--ipfix", "127.0.0.1:\(collector.port)"])
            #expect(sent.status == 0, "\(name): \(sent.stderr)")
            usleep(150_000)
            collector.stop()
            let got = try collector.totals()
            #expect(Set(got.keys) == Set(expected.keys), "\(name): the same directions")
            for (key, want) in expected {
                guard let have = got[key] else { continue }
                #expect(have.packets == want.packets, "\(name) \(key): packets")
                // pmacct takes a start time of 0 (captures without timestamps) as none.
                if want.firstMs != 0 {
                    #expect(have.firstMs == want.firstMs && have.lastMs == want.lastMs, "\(name) \(key): first/last")
                }
                if let bytes { #expect(have.bytes == bytes[key], "\(name) \(key): IP-layer bytes") }
            }
            directions += expected.count
        }
        #expect(directions >= 10)
    }

    /// Over TCP to a collector that starts a second after pktstat: pktstat reconnects (backoff
    /// from 0.5 s), sends the templates first, then every record; the listener (Python, reading
    /// the stream as RFC 7011 frames it) counts the data records by the templates' lengths.
    @Test(.enabled(if: TestPaths.conformanceCaptures != nil, "the conformance corpus is not next to the package"))
    func tcpReconnectsAndDeliversEveryRecord() throws {
        let python = try requireTool("python3")
        let capture = try #require(TestPaths.conformanceCaptures).appendingPathComponent("pcpp_650HttpResponses.pcap")
        let port = freeUDPPort()
        let listener = """
            import socket, struct, sys, time
            time.sleep(1.0)
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('127.0.0.1', \(port))); s.listen(1); s.settimeout(15)
            c, _ = s.accept(); c.settimeout(15)
            data = b''
            while True:
                b = c.recv(65536)
                if not b: break
                data += b
            lengths, records, first, i = {}, 0, None, 0
            while i + 16 <= len(data):
                version, length = struct.unpack('!HH', data[i:i+4])
                assert version == 10 and length >= 16, (version, length)
                j = i + 16
                while j < i + length:
                    sid, slen = struct.unpack('!HH', data[j:j+4])
                    if first is None: first = sid
                    if sid == 2:
                        k = j + 4
                        while k < j + slen:
                            tid, count = struct.unpack('!HH', data[k:k+4]); k += 4; total = 0
                            for _ in range(count):
                                eid, elen = struct.unpack('!HH', data[k:k+4]); k += 8 if eid & 0x8000 else 4; total += elen
                            lengths[tid] = total
                    elif sid >= 256:
                        records += (slen - 4) // lengths[sid]
                    j += slen
                i += length
            assert i == len(data), 'a partial message'
            print(first, records)
            """
        let collector = try Spawned(python, ["-c", listener])
        let r = try pktstat(
            ["flows", capture.path, "--format", "csv", "--ipfix", "tcp://127.0.0.1:\(port)"], timeout: 30)
        let got = collector.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(got.status == 0, "\(got.stderr)")
        #expect(r.stderr.contains(" 0 dropped"), "\(r.stderr)")
        // As many records as pktstat's flows have directions with packets (rows with addresses).
        let directions = csvTotals(r.stdout).count
        #expect(directions > 100)
        #expect(r.stderr.contains("ipfix: \(directions) records"), "\(r.stderr)")
        #expect(
            got.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2 \(directions)",
            "templates first, every record")
    }

    /// ICMP and ICMPv6 records carry `icmpTypeCodeIPv4`/`IPv6`: nfdump shows type.code in the
    /// destination port column, as softflowd's records show it. What each direction's records
    /// carry is the type and code of the first ICMP packet of that direction, as tshark reads them
    /// (echo request 8.0 and reply, unreachable 3.1, ICMPv6 echo 128.0/129.0 and node information
    /// 139.0).
    @Test(.enabled(if: TestPaths.conformanceCaptures != nil, "the conformance corpus is not next to the package"))
    func icmpRecordsCarryTypeAndCode() throws {
        let tshark = try requireTool("tshark")
        _ = try requireTool("nfcapd", package: "nfdump")
        let dir = try #require(TestPaths.conformanceCaptures)
        var kinds = Set<Int>()
        for name in [
            "tcpdump_dhcp-rfc4388.pcap", "pcpp_IcmpV6_EchoMessages.pcap", "tcpdump_icmpv6_nodeinfo_queryipv6.pcap",
        ] {
            let capture = dir.appendingPathComponent(name)
            let t = try run(
                tshark,
                [
                    "-r", capture.path, "-Y", "icmp or icmpv6", "-T", "fields", "-E", "occurrence=f", "-e", "ip.src",
                    "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "icmp.type", "-e", "icmp.code", "-e",
                    "icmpv6.type", "-e", "icmpv6.code",
                ], timeout: 60)
            var firstTypeCode: [String: Int] = [:]
            var expected: [DirectedKey: UInt64] = [:]
            for line in t.stdout.split(separator: "\n") {
                let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard f.count == 8 else { continue }
                let v6 = !f[2].isEmpty
                let (src, dst) = v6 ? (f[2], f[3]) : (f[0], f[1])
                guard let type = Int(v6 ? f[6] : f[4]), let code = Int(v6 ? f[7] : f[5]) else { continue }
                let typeCode = firstTypeCode[src + ">" + dst] ?? type * 256 + code
                firstTypeCode[src + ">" + dst] = typeCode
                expected[DirectedKey(src: src, sport: 0, dst: dst, dport: typeCode), default: 0] += 1
            }
            #expect(!expected.isEmpty, "\(name): tshark found ICMP")
            let collector = try NfcapdCollector()
            let sent = try pktstat(["flows", capture.path, "--format", "csv", "--ipfix", "127.0.0.1:\(collector.port)"])
            #expect(sent.status == 0, "\(name): \(sent.stderr)")
            usleep(150_000)
            collector.stop()
            var got: [DirectedKey: UInt64] = [:]
            for r in try collector.records() where r.isICMP { got[r.key, default: 0] += r.packets }
            #expect(got == expected, "\(name)")
            kinds.formUnion(got.keys.map(\.dport))
        }
        // Echo request, unreachable, ICMPv6 echo request and reply, node information query.
        let wanted: Set<Int> = [2048, 769, 32768, 33024, 35584]
        #expect(kinds.isSuperset(of: wanted), "\(kinds)")
    }

    /// `--biflow` (RFC 5103) into nfcapd, which reads the reverse elements (enterprise 29305) as
    /// out packets and out bytes: one record per flow whose forward and reverse counts are the
    /// flow's `src_packets` and `dst_packets`, and the IP-layer bytes of each side's packets. Every
    /// fourth capture with a flows reference (26).
    @Test(.enabled(if: TestPaths.conformanceCaptures != nil, "the conformance corpus is not next to the package"))
    func biflowRecordsIntoNfcapd() throws {
        let tshark = try requireTool("tshark")
        let nfdump = try requireTool("nfdump", package: "nfdump")
        let captures = Self.capturesWithFlows.enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        #expect(captures.count >= 25)
        var flows = 0
        var withReverse = 0
        for capture in captures {
            let name = capture.lastPathComponent
            let csv = try pktstat(["flows", capture.path, "--format", "csv"])
            let bytes = try referenceIPBytes(capture: capture, tshark: tshark)
            // Per flow, in its orientation: forward and reverse packets and IP-layer bytes.
            var expected: [DirectedKey: [UInt64]] = [:]
            for line in csv.stdout.split(separator: "\n").dropFirst() {
                let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard c.count >= 13, !c[3].isEmpty, let sp = UInt64(c[9]), let dp = UInt64(c[11]) else { continue }
                let key = DirectedKey(src: c[3], sport: Int(c[4]) ?? 0, dst: c[5], dport: Int(c[6]) ?? 0)
                let back = DirectedKey(src: key.dst, sport: key.dport, dst: key.src, dport: key.sport)
                let b: [UInt64] = bytes.map { [$0[key] ?? 0, $0[back] ?? 0] } ?? [0, 0]
                let e = expected[key] ?? [0, 0, 0, 0]
                expected[key] = [e[0] + sp, e[1] + dp, e[2] + (sp > 0 ? b[0] : 0), e[3] + (dp > 0 ? b[1] : 0)]
            }
            let collector = try NfcapdCollector()
            let sent = try pktstat([
                "flows", capture.path, "--format", "csv", "--biflow", "--ipfix", "127.0.0.1:\(collector.port)",
            ])
            #expect(sent.status == 0, "\(name): \(sent.stderr)")
            usleep(150_000)
            collector.stop()
            let r = try run(
                nfdump,
                [
                    "-q", "-N", "-6", "-R", collector.directory.path, "-o",
                    "fmt:%sa|%sp|%da|%dp|%pkt|%byt|%opkt|%obyt|%pr",
                ],
                timeout: 60)
            var got: [DirectedKey: [UInt64]] = [:]
            var records = 0
            for line in r.stdout.split(separator: "\n") {
                let f = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                guard f.count == 9, let p = UInt64(f[4]), let b = UInt64(f[5]), let op = UInt64(f[6]),
                    let ob = UInt64(f[7])
                else { continue }
                records += 1
                // ICMP: nfdump's type.code in the port column; the CSV has no ports.
                let icmp = ["ICMP", "ICMP6", "1", "58"].contains(f[8].uppercased())
                let key = DirectedKey(
                    src: f[0], sport: icmp ? 0 : Int(f[1]) ?? -1, dst: f[2], dport: icmp ? 0 : Int(f[3]) ?? -1)
                let e = got[key] ?? [0, 0, 0, 0]
                got[key] = [e[0] + p, e[1] + op, e[2] + b, e[3] + ob]
            }
            #expect(sent.stderr.contains("ipfix: \(records) records"), "\(name): one record per flow")
            #expect(Set(got.keys) == Set(expected.keys), "\(name): the same flows")
            for (key, want) in expected {
                guard let have = got[key] else { continue }
                #expect(have[0] == want[0] && have[1] == want[1], "\(name) \(key): packets \(have) \(want)")
                if bytes != nil { #expect(have[2] == want[2] && have[3] == want[3], "\(name) \(key): bytes") }
                if want[1] > 0 { withReverse += 1 }
            }
            flows += expected.count
        }
        #expect(flows > 300 && withReverse >= 20, "\(flows) flows, \(withReverse) with a reverse direction")
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

/// `flows -i` on a veth pair in namespaces the test makes, exporting to nfcapd in the receiver's
/// namespace: known UDP (70 datagrams of 100 bytes, 100 ms apart: 7 s, so the 3 s active timeout
/// cuts it into slices) and a TCP connection still sending when SIGTERM arrives (its open flow
/// must be flushed into the collector).
@Suite(.serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct IPFIXLiveTests {
    @Test func liveFlowsAreSlicedAndFlushedIntoNfcapd() throws {
        _ = try requireTool("nfcapd", package: "nfdump")
        let python = try requireTool("python3")
        let net = try VethPair(tag: "ipfix")
        defer { net.destroy() }
        let collector = try NfcapdCollector(namespace: net.receiver)
        let (exe, args) = VethPair.exec(
            in: net.receiver,
            [
                TestPaths.binary, "flows", "-i", net.receiverInterface, "--active-timeout", "3s", "--flow-timeout",
                "2s",
                "--ipfix", "127.0.0.1:\(collector.port)", "udp", "or", "tcp",
            ])
        let p = try Spawned(exe, args)
        #expect(p.waitFor(timeout: 15) { $0.stderr.contains("listening on") })
        // A TCP server in the receiver's namespace, and a client that sends 200 bytes every 100 ms
        // for up to 12 s (it is still sending when pktstat is stopped).
        let server = """
            import socket
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('\(net.receiverAddress)', 7100)); s.listen(1); s.settimeout(20)
            c, _ = s.accept(); c.settimeout(20)
            while c.recv(65536): pass
            """
        let (sExe, sArgs) = VethPair.exec(in: net.receiver, [python, "-c", server])
        let serverProcess = try Spawned(sExe, sArgs)
        usleep(300_000)
        let client = """
            import socket, time
            c = socket.create_connection(('\(net.receiverAddress)', 7100), timeout=10)
            for i in range(120):
                c.sendall(bytes(200)); time.sleep(0.1)
            """
        let (cExe, cArgs) = VethPair.exec(in: net.sender, [python, "-c", client])
        let clientProcess = try Spawned(cExe, cArgs)
        try net.sendUDP(count: 70, port: 7000, size: 100, gapMs: 100)
        // `ip netns exec` forwards no signals: signal pktstat itself.
        let pid = try shell("pgrep -f 'flows -i \(net.receiverInterface) --active-timeout' | head -1").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!pid.isEmpty)
        _ = try shell("kill -TERM \(pid)")
        let r = p.finish(timeout: 20)
        clientProcess.signal(SIGKILL)
        serverProcess.signal(SIGKILL)
        _ = clientProcess.finish(timeout: 5)
        _ = serverProcess.finish(timeout: 5)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains(" 0 dropped, 0 send errors"), "\(r.stderr)")
        usleep(200_000)
        collector.stop()
        let got = try collector.totals()
        // UDP: every datagram and byte (20 + 8 + 100 per packet), in slices of at most 3 s.
        let udp = DirectedKey(src: net.senderAddress, sport: -1, dst: net.receiverAddress, dport: 7000)
        let udpRecords = got.filter { $0.key.src == udp.src && $0.key.dst == udp.dst && $0.key.dport == 7000 }
        #expect(udpRecords.values.reduce(0) { $0 + $1.packets } == 70)
        #expect(udpRecords.values.reduce(0) { $0 + $1.bytes } == 70 * 128)
        let slices = try collector.records().filter { $0.key.dport == 7000 }
        #expect(slices.count >= 2, "7 s of UDP in 3 s slices")
        #expect(slices.allSatisfy { $0.lastMs - $0.firstMs <= 3000 }, "\(slices.map { $0.lastMs - $0.firstMs })")
        // TCP: what pktstat wrote (its CSV rows, the flushed open flow included) is what nfcapd got.
        let written = csvTotals(r.stdout)
        let tcp = DirectedKey(src: net.senderAddress, sport: 0, dst: net.receiverAddress, dport: 7100)
        let wroteTCP = written.filter { $0.key.src == tcp.src && $0.key.dport == 7100 }.values.reduce(0) {
            $0 + $1.packets
        }
        let gotTCP = got.filter { $0.key.src == tcp.src && $0.key.dport == 7100 }.values.reduce(0) { $0 + $1.packets }
        #expect(wroteTCP > 20 && gotTCP == wroteTCP, "TCP packets: wrote \(wroteTCP), collector \(gotTCP)")
        #expect(r.stderr.contains("ipfix: ") && r.stderr.contains("the rest open at the end"), "\(r.stderr)")
    }
}
