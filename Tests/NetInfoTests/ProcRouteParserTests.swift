import NetInfo
import Testing

/// /proc/net/route and /proc/net/ipv6_route parsers on fixture text.
@Suite struct ProcRouteParserTests {
    // Captured from a namespace (x86_64, little endian); header and spacing as the kernel prints them.
    static let ipv4Fixture = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       
        v0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                               
        v1\t00000000\t016433C6\t0003\t0\t0\t200\t00000000\t0\t0\t0                                                                               
        v0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                                 
        v2\t820200C0\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                                 
        *\tC80200C0\t00000000\t0205\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                                  
        *\t000012C6\t00000000\t0001\t0\t0\t0\t0000FEFF\t0\t0\t0                                                                                  
        *\t806433C6\t00000000\t0201\t0\t0\t5\t80FFFFFF\t0\t0\t0                                                                                  

        """

    @Test func ipv4Normal() {
        let p = ProcRouteParser.parseIPv4(Self.ipv4Fixture)
        #expect(p.problems.isEmpty)
        #expect(p.routes.count == 7)
        let d = p.routes[0]
        #expect(d.destinationText == "default")
        #expect(d.gateway == IPAddress("192.0.2.1"))
        #expect(d.device == "v0")
        #expect(d.metric == 100)
        #expect(d.table == .main)
        #expect(d.type == .unicast)
        #expect(d.source == .proc)
        #expect(p.routes[1].gateway == IPAddress("198.51.100.1"))
        #expect(p.routes[1].metric == 200)
        let connected = p.routes[2]
        #expect(connected.destinationText == "192.0.2.0/24")
        #expect(connected.gateway == nil)
        #expect(connected.metric == nil)  // IPv4 metric 0: as netlink, absent
        #expect(p.routes[3].destinationText == "192.0.2.130")  // host route: no /32
        #expect(p.routes[3].prefixLength == 32)
        #expect(p.routes[4].type == .reject)  // prohibit: /proc only says RTF_REJECT
        #expect(p.routes[4].device == nil)
        #expect(p.routes[5].type == .blackhole)  // no device, no RTF_REJECT
        #expect(p.routes[5].destinationText == "198.18.0.0/15")
        #expect(p.routes[6].type == .reject)
        #expect(p.routes[6].destinationText == "198.51.100.128/25")
        #expect(p.routes[6].metric == 5)
    }

    @Test func ipv4Empty() {
        #expect(ProcRouteParser.parseIPv4("").routes.isEmpty)
        #expect(ProcRouteParser.parseIPv4("").problems.isEmpty)
        let headerOnly = ProcRouteParser.parseIPv4(
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n")
        #expect(headerOnly.routes.isEmpty)
        #expect(headerOnly.problems.isEmpty)
    }

    /// A malformed line is reported and skipped; it never becomes 0.0.0.0.
    @Test(arguments: [
        "eth0\tZZ0000C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",  // not hex
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0",  // too few columns
        "eth0\t0200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",  // 6 digits
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0",  // mask with holes
        "eth0\t000200C0\t00000000\t0001\t0\t0\tx\t00FFFFFF\t0\t0\t0",  // bad metric
        "eth0\t00000000\t00000000\t0003\t0\t0\t0\t00000000\t0\t0\t0",  // RTF_GATEWAY with gateway 0.0.0.0
        "eth0\t+0200C0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",  // a sign UInt32(radix:) would take
    ])
    func ipv4Malformed(line: String) {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" + line
            + "\nv0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        let p = ProcRouteParser.parseIPv4(text, path: "fixture")
        #expect(p.problems.count == 1)
        #expect(p.problems.first?.line == 2)
        #expect(p.problems.first?.path == "fixture")
        #expect(p.routes.count == 1)
        #expect(p.routes[0].destinationText == "192.0.2.0/24")
        #expect(!p.routes.contains { $0.destination == IPAddress("0.0.0.0") })
    }

    static let ipv6Fixture = """
        20010db8abc000000000000000000000 2c 00000000000000000000000000000000 00 20010db8000200000000000000000001 00000400 00000001 00000000 00000003       v1
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
        20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000001       v0
        20010db800cc00000000000000000000 30 00000000000000000000000000000000 00 20010db8000100000000000000000002 00000400 00000001 00000000 00000003       v0
        20010db800cc00000000000000000000 30 00000000000000000000000000000000 00 20010db8000200000000000000000002 00000400 00000001 00000000 00000003       v1
        20010db8ab8000000000000000000000 29 00000000000000000000000000000000 00 20010db8000200000000000000000001 00000400 00000002 00000000 00000003       v1
        20010db8dea800000000000000000000 2d 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00200200       lo
        20010db8000000000000000000000000 21 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00000001       v1
        00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000100000000000000000001 00000400 00000001 00000000 00000003       v0
        20010db8000100000000000000000010 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       v0
        ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001       v0
        fe800000000000000000000000000000 40 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000000 00000000 01000003       v0

        """

    @Test func ipv6Normal() {
        let p = ProcRouteParser.parseIPv6(Self.ipv6Fixture)
        #expect(p.problems.isEmpty)
        // The null entry (::/0 reject metric ffffffff on lo) and the RTF_CACHE clone are skipped.
        #expect(p.routes.count == 10)
        let r0 = p.routes[0]
        #expect(r0.destinationText == "2001:db8:abc0::/44")
        #expect(r0.gateway == IPAddress("2001:db8:2::1"))
        #expect(r0.metric == 1024)
        #expect(r0.table == nil)  // /proc/net/ipv6_route does not say
        #expect(p.routes[1].destinationText == "2001:db8:1::/64")
        #expect(p.routes[1].gateway == nil)
        #expect(p.routes[1].metric == 256)
        // A multipath route is one line per next hop.
        #expect(p.routes[2].destinationText == "2001:db8:cc::/48")
        #expect(p.routes[3].destinationText == "2001:db8:cc::/48")
        #expect(p.routes[3].device == "v1")
        #expect(p.routes[5].type == .reject)
        #expect(p.routes[7].destinationText == "default")
        #expect(p.routes[8].type == .local)
        #expect(p.routes[8].destinationText == "2001:db8:1::10")
        #expect(p.routes[9].destinationText == "ff00::/8")
    }

    /// Prefix lengths that are not multiples of 4 (hex 29 = 41, 2d = 45, 21 = 33).
    @Test func ipv6OddPrefixes() {
        let p = ProcRouteParser.parseIPv6(Self.ipv6Fixture)
        #expect(p.routes[4].destinationText == "2001:db8:ab80::/41")
        #expect(p.routes[4].prefixLength == 41)
        #expect(p.routes[5].destinationText == "2001:db8:dea8::/45")
        #expect(p.routes[6].destinationText == "2001:db8::/33")
    }

    @Test func ipv6Empty() {
        let p = ProcRouteParser.parseIPv6("")
        #expect(p.routes.isEmpty)
        #expect(p.problems.isEmpty)
        #expect(ProcRouteParser.parseIPv6("\n\n").problems.isEmpty)
    }

    @Test(arguments: [
        // no device
        "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000001",
        // 31 digits
        "20010db800010000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000001 v0",
        // /129
        "20010db8000100000000000000000000 81 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000001 v0",
        // bits past /32
        "20010db8000100000000000000000000 20 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000001 v0",
        // short metric
        "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 0000010 00000004 00000000 00000001 v0",
        // not hex
        "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 000000000000000000000000000000g0 00000100 00000004 00000000 00000001 v0",
        // gateway flag, gateway ::
        "20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000004 00000000 00000003 v0",
    ])
    func ipv6Malformed(line: String) {
        let good =
            "20010db8000200000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001       v1"
        let p = ProcRouteParser.parseIPv6(good + "\n" + line + "\n", path: "fixture6")
        #expect(p.problems.count == 1)
        #expect(p.problems.first?.line == 2)
        #expect(p.routes.count == 1)
        #expect(p.routes[0].destinationText == "2001:db8:2::/64")
        #expect(!p.routes.contains { $0.destination == IPAddress("::") && $0.prefixLength != 0 })
    }

    @Test func tableSelectionForUnknownTable() {
        let p = ProcRouteParser.parseIPv6(Self.ipv6Fixture)
        let main = p.routes.filter { TableSelection.table(.main).contains($0) }
        let local = p.routes.filter { TableSelection.table(.local).contains($0) }
        #expect(main.count == 8)
        #expect(local.map(\.destinationText) == ["2001:db8:1::10", "ff00::/8"])
    }
}
