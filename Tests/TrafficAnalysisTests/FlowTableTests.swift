import PacketRecords
import PacketWire
import Testing
import TrafficAnalysis

private let sec: Int64 = 1_000_000_000

private func packet(
    _ t: Int64, _ label: ProtocolLabel = .tcp, src: UInt32? = 0x0A00_0001, dst: UInt32 = 0x0A00_0002,
    ports: (UInt16, UInt16)? = (40000, 80), length: UInt32 = 100
) -> PacketRecord {
    var d = Decoded()
    d.label = label
    if let src {
        d.ipVersion = 4
        d.src = IPAddress(v4: src)
        d.dst = IPAddress(v4: dst)
    }
    if let ports {
        d.hasPorts = true
        d.srcPort = ports.0
        d.dstPort = ports.1
    }
    return PacketRecord(timestampNs: t, length: length, captured: length, decoded: d)
}

/// A reference model: a plain dictionary keyed by the printed endpoints.
private struct ModelFlow: Equatable {
    var src: String
    var packets: UInt64 = 0
    var bytes: UInt64 = 0
    var srcPackets: UInt64 = 0
    var last: Int64 = .min
}

@Suite struct FlowTableTests {
    /// A batch added in parts (`serve --history` cuts it where a minute ends) with its name events
    /// gives the flows, and the names on them, that the whole batch gives, wherever it is cut.
    @Test func batchAddedInPartsWithNamesEqualsTheWholeBatch() {
        // 40 packets over 8 flows (flow k: dst 10.0.1.k, from packet 5k on); DNS answers name
        // 10.0.1.k on packet 5k - 2 (before its flow begins), ClientHellos name the flows of
        // packets 6, 17 and 30.
        var records: [PacketRecord] = []
        for i in 0..<40 {
            let k = UInt32(i / 5)
            records.append(packet(Int64(i) * sec, dst: 0x0A00_0100 + k, ports: (UInt16(40000 + k), 443)))
        }
        // In packet order, as the sniffer hands them over.
        let events = NameEvents()
        var planned: [(index: Int, k: Int?)] =
            (0..<8).map { (max(0, 5 * $0 - 2), $0) } + [(6, nil), (17, nil), (30, nil)]
        planned.sort { $0.index < $1.index }
        for (index, k) in planned {
            if let k {
                events.append(kind: .address, version: 4, address: IPAddress(v4: 0x0A00_0100 + UInt32(k)), index: index)
                {
                    $0.storeBytes(of: UInt8(ascii: "a") + UInt8(k), as: UInt8.self)
                    return 1
                }
            } else {
                events.append(kind: .serverName, version: 4, address: .zero, index: index) {
                    $0.storeBytes(of: UInt8(ascii: "s"), as: UInt8.self)
                    return 1
                }
            }
        }
        func flows(cuts: [Int]) -> [(Flow, String, String)] {
            let t = FlowTable()
            let names = NameTable()
            t.names = names
            records.withUnsafeBufferPointer { b in
                let bounds = [0] + cuts + [b.count]
                for j in 0..<(bounds.count - 1) { t.add(b, events: events, range: bounds[j]..<bounds[j + 1]) }
            }
            return t.map { f in
                (f, f.dstName == 0 ? "" : names.string(f.dstName), f.serverName == 0 ? "" : names.string(f.serverName))
            }
        }
        let whole = flows(cuts: [])
        #expect(whole.filter { !$0.1.isEmpty }.count >= 4 && whole.filter { $0.2 == "s" }.count == 3)
        for cuts in [[1], [6], [7], [17, 18], [5, 6, 7, 29, 30, 31], Array(1..<40)] {
            let parts = flows(cuts: cuts)
            #expect(parts.map(\.0) == whole.map(\.0) && parts.map(\.1) == whole.map(\.1), "cut at \(cuts)")
            #expect(parts.map(\.2) == whole.map(\.2), "cut at \(cuts)")
        }
    }

    /// A table without details counts what a table with them counts, with the details (IP-layer
    /// bytes, ICMP types) zero; a table with them keeps each flow's details with it when idle
    /// flows leave and the last flow moves into their place.
    @Test func detailsAreKeptOnlyWhenAskedAndMoveWithTheirFlow() {
        let limits = FlowLimits(idleTimeoutNs: 5 * sec)
        let withDetails = FlowTable(limits: limits, keepsRetired: true)
        let without = FlowTable(limits: limits, keepsRetired: true, keepsDetails: false)
        // Flow k (dport 1000 + k) sends k + 1 packets of IP length 60 + k around second 2k, so
        // the early flows go idle and leave while later ones are in the table.
        for k in 0..<12 {
            for j in 0...k {
                var r = packet(Int64(2 * k) * sec + Int64(j), ports: (40000, UInt16(1000 + k)), length: 200)
                r.decoded.ipLengthField = UInt16(60 + k)
                withDetails.add(r)
                without.add(r)
            }
        }
        let kept = withDetails.retired + Array(withDetails)
        let bare = without.retired + Array(without)
        #expect(withDetails.counters.expired > 0 && withDetails.retired.count == without.retired.count)
        #expect(kept.count == 12 && bare.count == 12)
        for (f, g) in zip(kept, bare) {
            let k = UInt64(f.key.bPort) - 1000
            #expect(f.srcPackets == k + 1 && f.srcBytes == 200 * (k + 1))
            #expect(f.srcIPBytes == (60 + k) * (k + 1), "flow \(k)")
            #expect(g.key == f.key && g.srcPackets == f.srcPackets && g.srcBytes == f.srcBytes)
            #expect(g.first == f.first && g.last == f.last && g.end == f.end)
            #expect(g.srcIPBytes == 0 && g.dstIPBytes == 0)
        }
    }

    @Test func bothDirectionsAreOneFlowOrientedByTheFirstPacket() {
        let t = FlowTable()
        // The server speaks first.
        t.add(packet(5 * sec, src: 0x0A00_0002, dst: 0x0A00_0001, ports: (80, 40000), length: 60))
        t.add(packet(3 * sec, length: 100))  // earlier timestamp, later in the file
        t.add(packet(9 * sec, src: 0x0A00_0002, dst: 0x0A00_0001, ports: (80, 40000), length: 1500))
        #expect(t.count == 1)
        let f = t[0]
        #expect(f.src.address == IPAddress(v4: 0x0A00_0002) && f.src.port == 80)
        #expect(f.dst.address == IPAddress(v4: 0x0A00_0001) && f.dst.port == 40000)
        #expect(f.first == 3 * sec && f.last == 9 * sec)
        #expect(f.srcPackets == 2 && f.srcBytes == 1560 && f.dstPackets == 1 && f.dstBytes == 100)
        #expect(f.packets == 3 && f.bytes == 1660)
    }

    @Test func labelPortsAndAddresslessPacketsSeparateFlows() {
        let t = FlowTable()
        t.add(packet(1, .tcp))
        t.add(packet(2, .udp))  // same endpoints, other label
        t.add(packet(3, .tcp, ports: nil))  // a non-first fragment: no ports
        t.add(packet(4, .tcp, ports: (0, 0)))  // ports 0 and 0 are not "no ports"
        t.add(packet(5, .arp, src: nil, ports: nil))
        t.add(packet(6, .arp, src: nil, ports: nil))
        t.add(packet(7, .icmp, ports: nil))
        t.add(packet(8, .icmp, src: 0x0A00_0002, dst: 0x0A00_0001, ports: nil))  // the reply
        #expect(t.count == 6)
        #expect(t.map(\.key.label) == [.tcp, .udp, .tcp, .tcp, .arp, .icmp])
        #expect(t[4].packets == 2 && t[4].key.ipVersion == 0)
        #expect(t[5].srcPackets == 1 && t[5].dstPackets == 1)
    }

    @Test func equalEndpointsCountAsSource() {
        let t = FlowTable()
        t.add(packet(1, src: 0x7F00_0001, dst: 0x7F00_0001, ports: (5000, 5000)))
        t.add(packet(2, src: 0x7F00_0001, dst: 0x7F00_0001, ports: (5000, 5000)))
        #expect(t.count == 1 && t[0].srcPackets == 2 && t[0].dstPackets == 0)
    }

    @Test func ipv4AndIPv6WithTheSameBitsAreDifferentFlows() {
        let t = FlowTable()
        t.add(packet(1))
        var r = packet(2)
        r.decoded.ipVersion = 6
        t.add(r)
        #expect(t.count == 2)
    }

    @Test func idleFlowsLeaveInCaptureTime() {
        let t = FlowTable(limits: FlowLimits(idleTimeoutNs: 10 * sec), keepsRetired: true)
        t.add(packet(0, ports: (1, 80)))
        t.add(packet(1 * sec, ports: (2, 80)))
        for i in 2...30 { t.add(packet(Int64(i) * sec, ports: (2, 80))) }
        // Flow 1 was last seen at 0 s, idle for 30 s: gone; flow 2 is active.
        #expect(t.count == 1 && t[0].src.port == 2)
        #expect(t.counters.expired == 1 && t.retired.count == 1 && t.retired[0].src.port == 1)
        t.add(packet(31 * sec, ports: (1, 80)))  // the same key again: a new flow
        #expect(t.count == 2 && t[1].first == 31 * sec && t[1].packets == 1)
        #expect(t.counters.packets == 32)
    }

    @Test func fullTableEvictsLeastRecentlySeenAndCounts() {
        let t = FlowTable(limits: FlowLimits(maxFlows: 100), keepsRetired: true)
        // 100 flows; flows 0..<50 are refreshed late, so 50..<100 are the least recently seen.
        for p in 0..<100 { t.add(packet(Int64(p), ports: (UInt16(p), 80))) }
        for p in 0..<50 { t.add(packet(1000 + Int64(p), ports: (UInt16(p), 80))) }
        for p in 100..<120 { t.add(packet(2000 + Int64(p), ports: (UInt16(p), 80))) }
        #expect(t.count == 100)
        #expect(t.counters.evicted == 20 && t.retired.count == 20)
        // Sampling 8 of 100 picks the oldest sampled; refreshed flows are never the oldest of a
        // sample that holds a stale one, and most samples do.
        let evictedRefreshed = t.retired.filter { $0.src.port < 50 }.count
        #expect(evictedRefreshed <= 2, "evicted \(evictedRefreshed) recently seen flows")
        #expect(t.contains { $0.src.port == 119 })
        let kept = t.reduce(UInt64(0)) { $0 + $1.packets }
        let gone = t.retired.reduce(UInt64(0)) { $0 + $1.packets }
        #expect(kept + gone == 170)
    }

    /// Random traffic with churn (timeouts and a small cap) against a dictionary model: every flow
    /// still in the table has exactly the model's counts since it (re)entered.
    @Test(arguments: [UInt64(1), 2, 3])
    func matchesAModelUnderChurn(seed: UInt64) {
        var rng = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ n: UInt64) -> UInt64 {
            rng ^= rng << 13
            rng ^= rng >> 7
            rng ^= rng << 17
            return rng % n
        }
        let t = FlowTable(limits: FlowLimits(idleTimeoutNs: 50, maxFlows: 300), keepsRetired: true)
        var model: [String: ModelFlow] = [:]
        for i in 0..<20_000 {
            let a = UInt32(next(40))
            let b = UInt32(next(40))
            let sp = UInt16(next(12))
            let dp = UInt16(next(12))
            let r = packet(Int64(i), src: a, dst: b, ports: (sp, dp), length: UInt32(40 + next(1000)))
            let lo = (a, sp) < (b, dp) ? "\(a):\(sp)" : "\(b):\(dp)"
            let hi = (a, sp) < (b, dp) ? "\(b):\(dp)" : "\(a):\(sp)"
            t.add(r)
            for f in t.retired { model[key(f)] = nil }
            t.retired.removeAll()
            let k = lo + "-" + hi
            var m = model[k] ?? ModelFlow(src: "\(a):\(sp)")
            m.packets += 1
            m.bytes += UInt64(r.length)
            if m.src == "\(a):\(sp)" { m.srcPackets += 1 }
            m.last = Int64(i)
            model[k] = m
        }
        #expect(t.count == model.count)
        for f in t {
            let m = model[key(f)]
            #expect(m?.packets == f.packets && m?.bytes == f.bytes && m?.srcPackets == f.srcPackets)
            #expect(m?.src == "\(f.src.address.v4):\(f.src.port)" && m?.last == f.last)
        }
        #expect(t.counters.evicted + t.counters.expired > 1000)
    }

    private func key(_ f: Flow) -> String {
        "\(f.key.a.v4):\(f.key.aPort)-\(f.key.b.v4):\(f.key.bPort)"
    }

    @Test func manyFlowsGrowTheIndexAndStayFindable() {
        let t = FlowTable()
        for i in 0..<50_000 { t.add(packet(Int64(i), src: UInt32(i), ports: (UInt16(i & 0xFFFF), 443))) }
        for i in 0..<50_000 {
            t.add(packet(Int64(i), src: 0x0A00_0002, dst: UInt32(i), ports: (443, UInt16(i & 0xFFFF))))
        }
        #expect(t.count == 50_000)
        #expect(t.allSatisfy { $0.srcPackets == 1 && $0.dstPackets == 1 })
    }
}
