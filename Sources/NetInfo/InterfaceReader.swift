import CNetLinux
import Glibc
import SystemPackage

/// One getifaddrs entry, copied out before `freeifaddrs`.
struct IfaddrsEntry: Sendable {
    var name: String
    var flags: UInt32
    var family: Int32
    /// Address bytes in network order (4 or 16), or the link-layer address for AF_PACKET.
    var address: [UInt8]?
    var netmask: [UInt8]?
    /// The `ifa_ifu` union, read as what the flags say it is: the peer on IFF_POINTOPOINT links,
    /// the broadcast address on IFF_BROADCAST links; nil on links with neither.
    var peer: [UInt8]?
    var broadcast: [UInt8]?
    /// AF_PACKET only.
    var ifindex: Int?
    var stats: InterfaceCounters?
}

/// Reads the interface list: getifaddrs for names, flags, MACs, addresses (and 32-bit counters),
/// /sys/class/net for operstate, MTU and 64-bit counters, and an rtnetlink `RTM_GETADDR` dump for
/// what getifaddrs cannot tell (address scope and flags such as `secondary`, and broadcast vs peer
/// on a link that is not point-to-point).
public enum InterfaceReader {
    /// - Parameter useNetlink: false to use getifaddrs and /sys only. When true and netlink fails,
    ///   the getifaddrs values are kept (scope then follows from the address kind, flags are nil).
    public static func read(useNetlink: Bool = true) throws(NetInfoError) -> [Interface] {
        let entries = try copyIfaddrs()
        var interfaces = assemble(entries)
        for i in interfaces.indices {
            readSys(&interfaces[i])
        }
        if useNetlink, let addrs = try? NetlinkAddresses.dump() {
            for i in interfaces.indices {
                apply(addrs, to: &interfaces[i])
            }
        }
        return interfaces
    }

    /// One interface by name; throws `.noSuchInterface` when there is none.
    public static func read(name: String, useNetlink: Bool = true) throws(NetInfoError) -> Interface {
        guard let found = try read(useNetlink: useNetlink).first(where: { $0.name == name }) else {
            throw .noSuchInterface(name)
        }
        return found
    }

    // MARK: getifaddrs

    static func copyIfaddrs() throws(NetInfoError) -> [IfaddrsEntry] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { throw .getifaddrs(Errno(rawValue: errno)) }
        defer { freeifaddrs(head) }
        var out: [IfaddrsEntry] = []
        var cursor = head
        while let p = cursor {
            let ifa = p.pointee
            cursor = ifa.ifa_next
            guard let namePtr = ifa.ifa_name else { continue }
            let flags = ifa.ifa_flags
            var e = IfaddrsEntry(name: String(cString: namePtr), flags: flags, family: Int32(AF_UNSPEC))
            if let sa = ifa.ifa_addr {
                e.family = Int32(sa.pointee.sa_family)
                e.address = addressBytes(sa)
                if e.family == Int32(AF_PACKET) {
                    sa.withMemoryRebound(to: sockaddr_ll.self, capacity: 1) { ll in
                        e.ifindex = Int(ll.pointee.sll_ifindex)
                    }
                    if let data = ifa.ifa_data {
                        let s = data.assumingMemoryBound(to: rtnl_link_stats.self).pointee
                        e.stats = InterfaceCounters(
                            rxBytes: UInt64(s.rx_bytes), rxPackets: UInt64(s.rx_packets),
                            rxErrors: UInt64(s.rx_errors), rxDropped: UInt64(s.rx_dropped),
                            txBytes: UInt64(s.tx_bytes), txPackets: UInt64(s.tx_packets),
                            txErrors: UInt64(s.tx_errors), txDropped: UInt64(s.tx_dropped))
                    }
                }
            }
            if let nm = ifa.ifa_netmask { e.netmask = addressBytes(nm) }
            // ifa_ifu is a union: which member it is depends on the link's flags. For AF_PACKET
            // entries glibc always puts the link-layer broadcast address (IFLA_BROADCAST) there.
            if e.family == Int32(AF_PACKET) {
                if let b = ifa.ifa_ifu.ifu_broadaddr { e.broadcast = addressBytes(b) }
            } else if flags & UInt32(IFF_POINTOPOINT) != 0 {
                if let d = ifa.ifa_ifu.ifu_dstaddr { e.peer = addressBytes(d) }
            } else if flags & UInt32(IFF_BROADCAST) != 0 {
                if let b = ifa.ifa_ifu.ifu_broadaddr { e.broadcast = addressBytes(b) }
            }
            out.append(e)
        }
        return out
    }

    /// The address inside a sockaddr: 4 bytes (AF_INET), 16 (AF_INET6), or the hardware address
    /// (AF_PACKET, `sll_halen` bytes). nil for other families.
    static func addressBytes(_ sa: UnsafeMutablePointer<sockaddr>) -> [UInt8]? {
        switch Int32(sa.pointee.sa_family) {
        case Int32(AF_INET):
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }
            }
        case Int32(AF_INET6):
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
            }
        case Int32(AF_PACKET):
            return sa.withMemoryRebound(to: sockaddr_ll.self, capacity: 1) { ll in
                let n = min(Int(ll.pointee.sll_halen), 8)
                return withUnsafeBytes(of: ll.pointee.sll_addr) { Array($0.prefix(n)) }
            }
        default:
            return nil
        }
    }

    /// Groups entries into interfaces, in ifindex order. IPv4 entries carry the address label
    /// (`eth0:1`) as their name; labels always start with the interface name and a colon.
    static func assemble(_ entries: [IfaddrsEntry]) -> [Interface] {
        var order: [String] = []
        var byName: [String: Interface] = [:]
        func touch(_ name: String) {
            if byName[name] == nil {
                byName[name] = Interface(name: name)
                order.append(name)
            }
        }
        for e in entries {
            let base = e.name.split(separator: ":", maxSplits: 1).first.map(String.init) ?? e.name
            touch(base)
            switch e.family {
            case Int32(AF_PACKET):
                byName[base]!.flags = InterfaceFlags(rawValue: e.flags)
                byName[base]!.index = e.ifindex
                if let a = e.address, !a.isEmpty { byName[base]!.hardwareAddress = HardwareAddress(bytes: a) }
                if let b = e.broadcast, !b.isEmpty { byName[base]!.hardwareBroadcast = HardwareAddress(bytes: b) }
                byName[base]!.counters = e.stats
            case Int32(AF_INET):
                guard let a = e.address.flatMap({ IPv4Address(bytes: $0) }) else { continue }
                if byName[base]!.flags.isEmpty { byName[base]!.flags = InterfaceFlags(rawValue: e.flags) }
                let prefix = e.netmask.flatMap { IPv4Address(bytes: $0)?.prefixLengthOfMask } ?? 32
                var entry = IPv4AddressEntry(address: a, prefixLength: prefix, scope: .implied(by: .v4(a)))
                // getifaddrs puts the address itself in the union when no broadcast/peer is configured.
                if let p = e.peer.flatMap({ IPv4Address(bytes: $0) }), p != a { entry.peer = p }
                if let b = e.broadcast.flatMap({ IPv4Address(bytes: $0) }), b != a, !b.isUnspecified {
                    entry.broadcast = b
                }
                if e.name != base { entry.label = e.name }
                byName[base]!.ipv4.append(entry)
            case Int32(AF_INET6):
                guard let a = e.address.flatMap({ IPv6Address(bytes: $0) }) else { continue }
                let prefix = e.netmask.flatMap { IPv6Address(bytes: $0)?.prefixLengthOfMask } ?? 128
                var entry = IPv6AddressEntry(address: a, prefixLength: prefix, scope: .implied(by: .v6(a)))
                if let p = e.peer.flatMap({ IPv6Address(bytes: $0) }), p != a, !p.isUnspecified { entry.peer = p }
                byName[base]!.ipv6.append(entry)
            default:
                continue
            }
        }
        return order.compactMap { byName[$0] }.enumerated().sorted { l, r in
            switch (l.element.index, r.element.index) {
            case (let a?, let b?): return a < b
            case (nil, nil): return l.offset < r.offset
            case (nil, _): return false
            case (_, nil): return true
            }
        }.map(\.element)
    }

    // MARK: /sys/class/net

    static func readSys(_ iface: inout Interface) {
        let dir = "/sys/class/net/\(iface.name)"
        if let s = SysFiles.attribute(dir + "/operstate"), !s.isEmpty { iface.operState = s.uppercased() }
        if let s = SysFiles.attribute(dir + "/mtu"), let n = Int(s) { iface.mtu = n }
        if iface.index == nil, let s = SysFiles.attribute(dir + "/ifindex"), let n = Int(s) { iface.index = n }
        func stat(_ name: String) -> UInt64? { SysFiles.attribute(dir + "/statistics/" + name).flatMap { UInt64($0) } }
        if let rb = stat("rx_bytes"), let rp = stat("rx_packets"), let re = stat("rx_errors"),
            let rd = stat("rx_dropped"), let tb = stat("tx_bytes"), let tp = stat("tx_packets"),
            let te = stat("tx_errors"), let td = stat("tx_dropped")
        {
            iface.counters = InterfaceCounters(
                rxBytes: rb, rxPackets: rp, rxErrors: re, rxDropped: rd, txBytes: tb, txPackets: tp, txErrors: te,
                txDropped: td)
        }
    }

    // MARK: netlink refinement

    static func apply(_ addrs: [NetlinkAddress], to iface: inout Interface) {
        guard let index = iface.index else { return }
        let mine = addrs.filter { $0.index == index }
        for i in iface.ipv4.indices {
            let e = iface.ipv4[i]
            guard let n = mine.first(where: { $0.local == .v4(e.address) && $0.prefixLength == e.prefixLength })
            else { continue }
            iface.ipv4[i].scope = n.scope
            iface.ipv4[i].flags = n.flagNames(family: .inet)
            if case .v4(let p)? = n.peer { iface.ipv4[i].peer = p } else { iface.ipv4[i].peer = nil }
            if case .v4(let b)? = n.broadcast { iface.ipv4[i].broadcast = b } else { iface.ipv4[i].broadcast = nil }
        }
        for i in iface.ipv6.indices {
            let e = iface.ipv6[i]
            guard let n = mine.first(where: { $0.local == .v6(e.address) && $0.prefixLength == e.prefixLength })
            else { continue }
            iface.ipv6[i].scope = n.scope
            iface.ipv6[i].flags = n.flagNames(family: .inet6)
            if case .v6(let p)? = n.peer { iface.ipv6[i].peer = p } else { iface.ipv6[i].peer = nil }
        }
    }
}

/// One address from an rtnetlink `RTM_GETADDR` dump.
struct NetlinkAddress: Hashable, Sendable {
    var index: Int
    var prefixLength: Int
    var local: IPAddress
    var peer: IPAddress?
    var broadcast: IPAddress?
    var scope: AddressScope
    var flags: UInt32
    var label: String?

    /// `ip addr` flag names. `dynamic` is printed when the address is not permanent.
    func flagNames(family: AddressFamily) -> [String] {
        var out: [String] = []
        let table: [(UInt32, String)] = [
            (0x01, family == .inet ? "secondary" : "temporary"), (0x02, "nodad"), (0x04, "optimistic"),
            (0x08, "dadfailed"), (0x10, "home"), (0x20, "deprecated"), (0x40, "tentative"),
            (0x100, "mngtmpaddr"), (0x200, "noprefixroute"), (0x400, "autojoin"), (0x800, "stable-privacy"),
        ]
        for (bit, name) in table where flags & bit != 0 { out.append(name) }
        if flags & 0x80 == 0 { out.append("dynamic") }
        return out
    }
}

enum NetlinkAddresses {
    static let ifaddrmsgSize = 8
    static let ifaAddress: UInt16 = 1
    static let ifaLocal: UInt16 = 2
    static let ifaLabel: UInt16 = 3
    static let ifaBroadcast: UInt16 = 4
    static let ifaFlags: UInt16 = 8

    static func dump() throws(NetInfoError) -> [NetlinkAddress] {
        var sock = try NetlinkSocket()
        var out: [NetlinkAddress] = []
        for family in AddressFamily.allCases {
            let replies = try sock.dump(
                name: "RTM_GETADDR", type: Netlink.getAddress, family: UInt8(family.number),
                familyHeaderSize: ifaddrmsgSize)
            for r in replies where r.type == Netlink.newAddress {
                do {
                    if let a = try parse(r.bytes, r.payload) { out.append(a) }
                } catch {
                    let reason = "attribute at byte \(error.offset) runs past its message"
                    throw .netlinkMalformed(request: "RTM_GETADDR", reason: reason)
                }
            }
        }
        return out
    }

    /// struct ifaddrmsg { u8 family, prefixlen, flags, scope; u32 index } + attributes.
    /// IFA_LOCAL is the local address when present; IFA_ADDRESS is then the peer (if it differs).
    static func parse(_ b: NetlinkBytes, _ payload: Range<Int>) throws(NetlinkBytes.Short) -> NetlinkAddress? {
        let p = payload.lowerBound
        guard payload.count >= ifaddrmsgSize else { throw .init(offset: p, needed: ifaddrmsgSize) }
        let af = try b.u8(p)
        guard af == UInt8(AF_INET) || af == UInt8(AF_INET6) else { return nil }
        let prefix = Int(try b.u8(p + 1))
        var flags = UInt32(try b.u8(p + 2))
        let scope = try b.u8(p + 3)
        let index = Int(try b.u32(p + 4))
        var address: IPAddress?
        var local: IPAddress?
        var broadcast: IPAddress?
        var label: String?
        for a in try Netlink.attributes(in: b, (p + ifaddrmsgSize)..<payload.upperBound) {
            switch a.type {
            case ifaAddress: address = Netlink.address(b, a.data, family: af)
            case ifaLocal: local = Netlink.address(b, a.data, family: af)
            case ifaBroadcast: broadcast = Netlink.address(b, a.data, family: af)
            case ifaFlags: if a.data.count >= 4 { flags = try b.u32(a.data.lowerBound) }
            case ifaLabel:
                let s = try b.slice(a.data)
                label = String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
            default: break
            }
        }
        guard let mine = local ?? address else { return nil }
        let peer = (local != nil && address != nil && address != local) ? address : nil
        return NetlinkAddress(
            index: index, prefixLength: prefix, local: mine, peer: peer, broadcast: broadcast,
            scope: AddressScope(rawValue: scope), flags: flags, label: label)
    }
}
