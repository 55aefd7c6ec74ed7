import Testing

@testable import NetInfo

/// rtnetlink messages built byte by byte (host order, as the kernel sends them).
struct NetlinkFixture {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v) { bytes += $0 } }
    mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }

    mutating func attr(_ type: UInt16, _ data: [UInt8]) {
        u16(UInt16(4 + data.count))
        u16(type)
        bytes += data
        pad()
    }

    static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v) { Array($0) } }

    /// RTM_NEWROUTE for 192.0.2.0/24, table 254 (via RTA_TABLE), protocol static, metric 10,
    /// multipath: weight 1 via 192.0.2.1 on ifindex 1, weight 3 via 198.51.100.1 on ifindex 1 (onlink).
    static func multipathRoute() -> [UInt8] {
        var m = NetlinkFixture()
        // rtmsg
        m.u8(2)
        m.u8(24)
        m.u8(0)
        m.u8(0)
        m.u8(254)
        m.u8(4)
        m.u8(0)
        m.u8(1)
        m.u32(0)
        m.attr(15, le32(254))
        m.attr(1, [192, 0, 2, 0])
        m.attr(6, le32(10))
        var hops = NetlinkFixture()
        hops.u16(16)
        hops.u8(0)
        hops.u8(0)
        hops.u32(1)
        hops.attr(5, [192, 0, 2, 1])
        hops.u16(16)
        hops.u8(4)
        hops.u8(2)
        hops.u32(1)
        hops.attr(5, [198, 51, 100, 1])
        m.attr(9, hops.bytes)
        var msg = NetlinkFixture()
        msg.u32(UInt32(16 + m.bytes.count))
        msg.u16(24)
        msg.u16(2)
        msg.u32(7)
        msg.u32(0)
        msg.bytes += m.bytes
        return msg.bytes
    }
}

@Suite struct NetlinkParseTests {
    func parseAll(_ bytes: [UInt8]) throws -> [Route] {
        let b = NetlinkBytes(bytes: bytes)
        return try Netlink.messages(in: b).compactMap { m in
            try NetlinkRoutes.parse(b, m.payload, interfaceName: { $0 == 1 ? "lo" : nil })
        }
    }

    @Test func multipathWithWeights() throws {
        let routes = try parseAll(NetlinkFixture.multipathRoute())
        #expect(routes.count == 1)
        let r = try #require(routes.first)
        #expect(r.destinationText == "192.0.2.0/24")
        #expect(r.table == .main)
        #expect(r.protocol == .static)
        #expect(r.metric == 10)
        #expect(r.type == .unicast)
        #expect(r.gateway == nil)
        #expect(r.nextHops.count == 2)
        #expect(
            r.nextHops[0]
                == NextHop(gateway: IPAddress("192.0.2.1"), device: "lo", deviceIndex: 1, weight: 1, flags: []))
        #expect(
            r.nextHops[1]
                == NextHop(gateway: IPAddress("198.51.100.1"), device: "lo", deviceIndex: 1, weight: 3, flags: .onlink))
        #expect(r.nextHops[1].flags.names == ["onlink"])
    }

    /// Every prefix of the message either throws or parses: never a trap, never a wrong route.
    @Test func truncationSweep() throws {
        let full = NetlinkFixture.multipathRoute()
        for n in 0..<full.count {
            var cut = Array(full[0..<n])
            if cut.count >= 4 {  // claim the cut length so the message splitter accepts it
                withUnsafeBytes(of: UInt32(n)) { for i in 0..<4 { cut[i] = $0[i] } }
            }
            if let routes = try? parseAll(cut), let r = routes.first {
                // A cut can only drop trailing attributes; what parsed is right.
                #expect(r.destination == IPAddress("192.0.2.0") || r.destination == IPAddress("0.0.0.0"))
            }
        }
    }

    @Test func lengthPastTheEndThrows() {
        var bytes = NetlinkFixture.multipathRoute()
        withUnsafeBytes(of: UInt32(bytes.count + 4)) { for i in 0..<4 { bytes[i] = $0[i] } }
        #expect(throws: NetlinkBytes.Short.self) { try Netlink.messages(in: NetlinkBytes(bytes: bytes)) }
    }

    @Test func addressWithPeerAndWithBroadcast() throws {
        // ifaddrmsg AF_INET /32 flags 0 scope 0 index 7; IFA_ADDRESS = peer, IFA_LOCAL = local.
        var p = NetlinkFixture()
        p.u8(2)
        p.u8(32)
        p.u8(0)
        p.u8(0)
        p.u32(7)
        p.attr(1, [192, 0, 2, 2])
        p.attr(2, [192, 0, 2, 1])
        p.attr(3, Array("v2".utf8) + [0])
        let b = NetlinkBytes(bytes: p.bytes)
        let a = try #require(try NetlinkAddresses.parse(b, 0..<p.bytes.count))
        #expect(a.local == IPAddress("192.0.2.1"))
        #expect(a.peer == IPAddress("192.0.2.2"))
        #expect(a.broadcast == nil)
        #expect(a.label == "v2")
        #expect(a.flagNames(family: .inet) == ["dynamic"])

        var q = NetlinkFixture()
        q.u8(2)
        q.u8(24)
        q.u8(0x01)
        q.u8(0)
        q.u32(3)
        q.attr(1, [192, 0, 2, 10])
        q.attr(2, [192, 0, 2, 10])
        q.attr(4, [192, 0, 2, 255])
        q.attr(8, NetlinkFixture.le32(0x81))
        let c = try #require(try NetlinkAddresses.parse(NetlinkBytes(bytes: q.bytes), 0..<q.bytes.count))
        #expect(c.peer == nil)
        #expect(c.broadcast == IPAddress("192.0.2.255"))
        #expect(c.flagNames(family: .inet) == ["secondary"])
    }

    @Test func dumpRequestLayout() {
        let req = Netlink.dumpRequest(type: Netlink.getRoute, family: 10, familyHeaderSize: 12, sequence: 9)
        #expect(req.count == 28)
        #expect(req[16] == 10)
        let b = NetlinkBytes(bytes: req)
        #expect((try? b.u32(0)) == 28)
        #expect((try? b.u16(4)) == 26)
        #expect((try? b.u16(6)) == 0x301)
        #expect((try? b.u32(8)) == 9)
    }
}

@Suite struct GatewaySelectionTests {
    func r(_ gw: String, _ dev: String, metric: UInt32?, table: RouteTable = .main, type: RouteType = .unicast) -> Route
    {
        let a = IPAddress(gw)!
        return Route(
            family: a.family, destination: .unspecified(a.family), prefixLength: 0, gateway: a, device: dev,
            table: table,
            type: type, metric: metric, source: .netlink)
    }

    @Test func lowestMetricOfMainWins() {
        let g = Gateways.select(from: [
            r("198.51.100.254", "v1", metric: nil, table: RouteTable(id: 100)),
            r("198.51.100.1", "v1", metric: 200), r("192.0.2.1", "v0", metric: 100),
        ])
        #expect(g.defaults[.inet]?.gateway == IPAddress("192.0.2.1"))
        #expect(g.defaults[.inet]?.reason.contains("lowest metric (100) of 2") == true)
        #expect(g.defaults[.inet]?.reason.contains("1 default route of other tables not used") == true)
        #expect(g.defaults[.inet6] == nil)
        #expect(g.reasons[.inet6] == "no default route in the main table")
        #expect(g.defaultRoutes.count == 3)
    }

    @Test func tieGoesToTheFirst() {
        let g = Gateways.select(from: [r("192.0.2.1", "v0", metric: 5), r("192.0.2.2", "v0", metric: 5)])
        #expect(g.defaults[.inet]?.gateway == IPAddress("192.0.2.1"))
        #expect(g.defaults[.inet]?.reason.hasPrefix("first of 2") == true)
    }

    @Test func unreachableWithLowerMetricMeansNoGateway() {
        let g = Gateways.select(from: [
            r("192.0.2.1", "v0", metric: 100), r("0.0.0.0", "lo", metric: 10, type: .unreachable),
        ])
        #expect(g.defaults[.inet] == nil)
        #expect(g.reasons[.inet]?.contains("is unreachable") == true)
    }

    @Test func otherTableOnly() {
        let g = Gateways.select(from: [r("2001:db8::1", "v0", metric: 1024, table: RouteTable(id: 7))])
        #expect(g.defaults[.inet6] == nil)
        #expect(g.reasons[.inet6] == "no default route in the main table; 1 default route of other tables not used")
    }
}

/// Formatting moved to Rendering (`Tests/RenderingTests/NetInfoFormatterTests.swift`); addresses print here.
@Suite struct AddressTextTests {
    @Test func addressesPrintLikeInetNtop() {
        #expect(IPAddress("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPv6Address.netmask(prefixLength: 41).description == "ffff:ffff:ff80::")
        #expect(IPv6Address.netmask(prefixLength: 41).prefixLengthOfMask == 41)
        #expect(IPv4Address("255.255.255.192")?.prefixLengthOfMask == 26)
        #expect(IPv4Address("255.0.255.0")?.prefixLengthOfMask == nil)
        #expect(IPv4Address("192.0.2.256") == nil)
        #expect(IPAddress("fe80::1%eth0") == nil)
        #expect(HardwareAddress(bytes: [0x0a, 0, 0xff]).description == "0a:00:ff")
    }
}

/// The answer to a route lookup (RTM_GETROUTE without NLM_F_DUMP), and the request that asks it.
@Suite struct RouteLookupParseTests {
    /// What the kernel answers for `ip route get 192.0.2.10` when 192.0.2.10 is ours: a cached
    /// (RTM_F_CLONED) local route with RTCF_LOCAL in the high bits of rtm_flags, uid and cacheinfo.
    static func cachedLocalAnswer() -> [UInt8] {
        var m = NetlinkFixture()
        m.u8(2)
        m.u8(32)
        m.u8(0)
        m.u8(0)
        m.u8(254)
        m.u8(0)
        m.u8(0)
        m.u8(2)
        m.u32(0x8000_0200)
        m.attr(15, NetlinkFixture.le32(254))
        m.attr(1, [192, 0, 2, 10])
        m.attr(4, NetlinkFixture.le32(1))
        m.attr(7, [192, 0, 2, 10])
        m.attr(25, NetlinkFixture.le32(1000))
        m.attr(12, [UInt8](repeating: 0, count: 32))
        var msg = NetlinkFixture()
        msg.u32(UInt32(16 + m.bytes.count))
        msg.u16(24)
        msg.u16(0)
        msg.u32(3)
        msg.u32(0)
        msg.bytes += m.bytes
        return msg.bytes
    }

    func parse(_ bytes: [UInt8]) throws -> NetlinkRoutes.RouteMessage? {
        let b = NetlinkBytes(bytes: bytes)
        guard let m = try Netlink.messages(in: b).first else { return nil }
        return try NetlinkRoutes.parseMessage(b, m.payload, interfaceName: { $0 == 1 ? "lo" : nil })
    }

    @Test func cachedAnswerKeepsCacheBitsOutOfRouteFlags() throws {
        let m = try #require(try parse(Self.cachedLocalAnswer()))
        let l = NetlinkRouteLookup.lookup(from: m)
        #expect(l.isCached)
        #expect(l.cacheFlags == .local && l.cacheFlags.names == ["local"])
        #expect(l.route.flags.isEmpty && l.route.flags.names == [])  // 0x8000_0000 is RTCF_LOCAL, no route flag
        #expect(l.route.type == .local && l.route.destinationText == "192.0.2.10" && l.route.device == "lo")
        #expect(l.route.preferredSource == IPAddress("192.0.2.10") && l.route.table == .main)
        #expect(l.uid == 1000 && l.source == nil)
        // A dump skips clones: this answer is not a route of the table.
        let b = NetlinkBytes(bytes: Self.cachedLocalAnswer())
        #expect(try NetlinkRoutes.parse(b, 16..<b.bytes.count, interfaceName: { _ in "lo" }) == nil)
    }

    /// RTCF_MULTICAST (0x2000_0000) is RTM_F_OFFLOAD_FAILED's value: only the route flags of a dump
    /// mean offload failed.
    @Test func offloadFailedIsTheKernelsBit() {
        #expect(RouteFlags(rawValue: 0x2000_0000).names == ["rt_offload_failed"])
        #expect(RouteFlags(rawValue: 0x2_0000).names == [])
        #expect(RouteCacheFlags(rawValue: 0x3000_0000).names == ["multicast", "broadcast"])
    }

    @Test func truncationSweep() throws {
        let full = Self.cachedLocalAnswer()
        for n in 0..<full.count {
            var cut = Array(full[0..<n])
            if cut.count >= 4 { withUnsafeBytes(of: UInt32(n)) { for i in 0..<4 { cut[i] = $0[i] } } }
            if let m = try? parse(cut) {
                #expect(m.route.destination == IPAddress("192.0.2.10") || m.route.destination == IPAddress("0.0.0.0"))
            }
        }
    }

    @Test func requestLayout() throws {
        let q = RouteQuery(
            destination: IPAddress("2001:db8::1")!, source: IPAddress("2001:db8::2")!, outputInterface: "lo")
        let req = NetlinkRouteLookup.request(q, outputIndex: 7, sequence: 5)
        let b = NetlinkBytes(bytes: req)
        #expect(req.count == 16 + 12 + 20 + 20 + 8)
        #expect(try b.u32(0) == UInt32(req.count))
        #expect(try b.u16(4) == 26)  // RTM_GETROUTE
        #expect(try b.u16(6) == 1)  // NLM_F_REQUEST, no dump
        #expect(try b.u32(8) == 5)
        #expect(Array(req[16..<19]) == [10, 128, 128])  // AF_INET6, dst_len, src_len
        let attrs = try Netlink.attributes(in: b, 28..<req.count)
        #expect(attrs.map(\.type) == [1, 2, 4])  // RTA_DST, RTA_SRC, RTA_OIF
        #expect(Array(req[attrs[0].data]) == IPAddress("2001:db8::1")!.bytes)
        #expect(Array(req[attrs[1].data]) == IPAddress("2001:db8::2")!.bytes)
        #expect(try b.u32(attrs[2].data.lowerBound) == 7)

        let v4 = NetlinkRouteLookup.request(
            RouteQuery(destination: IPAddress("192.0.2.1")!), outputIndex: nil, sequence: 1)
        #expect(v4.count == 16 + 12 + 8 && Array(v4[16..<19]) == [2, 32, 0] && Array(v4[32..<36]) == [192, 0, 2, 1])
    }
}
