import Foundation
import PacketWire
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Decodes every prefix (0...caplen bytes) of every packet in `captures/` and in the shared
/// conformance corpus (skipped when it is absent). Nothing may trap, and what a prefix gives must
/// agree with rule 5 ("label by what was captured"):
///
/// - prefix 0 stops `.truncated` for every link type the decoder knows; unknown link types are
///   `other`/`.unsupported` whatever was captured;
/// - a prefix's label is the full packet's label or a coarser one (`other`, then `IPv4` or
///   `IPv6`), and labels never get coarser as the prefix grows: captured fields do not change;
/// - a prefix that does not yet give the full packet's label stopped `.truncated`;
/// - addresses and ports a prefix reports are the full packet's.
///
/// Short prefixes are copied to the end of a page followed by an inaccessible guard page, so a
/// read even one byte past the prefix crashes the test instead of reading the rest of the packet.
@Suite struct TruncationSweepTests {
    static let files = CaptureFile.own + CaptureFile.conformance

    @Test("Every prefix of every packet", arguments: files)
    func everyPrefix(_ file: CaptureFile) throws {
        let fixture: PcapFixture
        do {
            fixture = try PcapFixture(contentsOf: file.path)
        } catch {
            // Only files known to be unreadable may have no packets to sweep.
            #expect(Self.unreadable.contains(file.name), "\(file.name) cannot be read: \(error)")
            return
        }
        #expect(!fixture.packets.isEmpty || Self.empty.contains(file.name), "\(file.name) has no packets")
        let guarded = GuardedMemory(bytes: Self.guardedPrefixLimit)
        var failures: [String] = []
        var swept = 0
        var expected = 0
        for (index, packet) in fixture.packets.enumerated() {
            expected += packet.bytes.count + 1
            swept += Self.sweep(packet, guarded: guarded) { message in
                if failures.count < 20 { failures.append("packet \(index + 1): \(message)") }
            }
        }
        #expect(failures.isEmpty, "\(file.name): \(failures.joined(separator: "\n"))")
        #expect(swept == expected, "\(file.name): decoded \(swept) prefixes of \(expected)")
    }

    /// Files the fixture reader must refuse: the conformance corpus's EXPECT_ERROR list, and our
    /// own damaged captures.
    static let unreadable: Set<String> = {
        var names: Set<String> = ["corrupt-header.pcap", "truncated-file.pcap"]
        let list = CaptureFile.conformanceDirectory + "/EXPECT_ERROR"
        if let text = try? String(contentsOfFile: list, encoding: .utf8) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                if let name = line.split(separator: "\t").first { names.insert("conformance/" + name) }
            }
        }
        return names
    }()

    /// Files that give the fixture reader no packet: conformance captures whose tshark reference
    /// has no row, and our regression file whose second section header comes before its interface
    /// (the fixture reader stops there; the real readers are compared in `ReaderCrossCheck`).
    static let empty: Set<String> = {
        var names: Set<String> = ["regress-pcapng-shb-before-idb.pcapng"]
        for file in CaptureFile.conformance {
            let rows = (try? String(contentsOfFile: file.path + ".ref.csv", encoding: .utf8)) ?? ""
            if rows.split(separator: "\n").count == 1 { names.insert(file.name) }
        }
        return names.union(unreadable)
    }()

    /// Prefixes up to this length are decoded in guarded memory; longer ones in place.
    static let guardedPrefixLimit = 1024

    /// Decodes every prefix of `packet`; returns how many prefixes were decoded.
    @discardableResult
    static func sweep(_ packet: PcapFixture.Packet, guarded: GuardedMemory, fail: (String) -> Void) -> Int {
        let link = LinkType(packet.linkType)
        let bytes = packet.bytes
        let known = knownLinkTypes.contains(link)

        func decodePrefix(_ n: Int) -> Decoded {
            if n <= guardedPrefixLimit {
                return guarded.withTail(bytes[0..<n]) { Decoder.decode($0, linkType: link) }
            }
            return bytes.withUnsafeBytes { Decoder.decode(Bytes(base: $0.baseAddress, count: n), linkType: link) }
        }

        let full = decodePrefix(bytes.count)
        var highestRank = 0
        var coarse: ProtocolLabel?
        var decoded = 0
        for n in 0...bytes.count {
            let d = n == bytes.count ? full : decodePrefix(n)
            decoded += 1
            let at = "prefix \(n)/\(bytes.count) (full: \(full.label.name))"
            if !known {
                if d.label != .other || d.stop != .unsupported {
                    fail("\(at): unknown link type gave \(d.label.name) \(d.stop)")
                }
                continue
            }
            if n == 0 && d.stop != .truncated { fail("\(at): prefix 0 stopped \(d.stop)") }
            // Rank: 0 other, 1 a coarser network label, 2 the full packet's label.
            let rank: Int
            if d.label == full.label {
                rank = 2
            } else if d.label == .other {
                rank = 0
            } else if d.label == .ipv4 || d.label == .ipv6 {
                // A coarser network label only on the way to a label an IP header gives.
                if full.label == .other || full.label == .arp {
                    fail("\(at): label \(d.label.name) for a packet whose full label is \(full.label.name)")
                }
                rank = 1
                if let coarse, coarse != d.label {
                    fail("\(at): both \(coarse.name) and \(d.label.name) before the full label")
                }
                coarse = d.label
            } else {
                fail("\(at): label \(d.label.name) is neither the full label nor a coarser one")
                continue
            }
            if rank < highestRank { fail("\(at): label \(d.label.name) is coarser than a shorter prefix's") }
            highestRank = max(highestRank, rank)
            if d.label != full.label && d.stop != .truncated {
                fail("\(at): label \(d.label.name) short of the full label but stop \(d.stop)")
            }
            if d.ipVersion != 0 && (d.ipVersion != full.ipVersion || d.src != full.src || d.dst != full.dst) {
                fail("\(at): addresses differ from the full packet's")
            }
            if d.hasPorts && (!full.hasPorts || d.srcPort != full.srcPort || d.dstPort != full.dstPort) {
                fail("\(at): ports \(d.srcPort)>\(d.dstPort) differ from the full packet's")
            }
        }
        // The same bytes decode the same wherever they lie in memory.
        let inPlace = bytes.withUnsafeBytes { Decoder.decode(Bytes($0), linkType: link) }
        if inPlace != full { fail("decoding in place differs from decoding in guarded memory") }
        return decoded
    }

    /// Hand-built packets of every link type and label, swept the same way.
    static let handBuilt: [(String, LinkType, [UInt8])] = {
        let v4 = Build.ipv4(6, Build.tcp(40000, 80))
        let v6 = Build.ipv6(17, Build.udp(5353, 53))
        let chain = Build.ipv6(
            0,
            Build.options(43) + Build.routing(60) + Build.options(44)
                + Build.fragment(132, offsetUnits: 0, more: true) + Build.sctp(5000, 5001))
        var list: [(String, LinkType, [UInt8])] = [
            ("ethernet IPv4 TCP", .ethernet, Build.ether(0x0800, v4)),
            ("ethernet IPv6 UDP", .ethernet, Build.ether(0x86DD, v6)),
            ("ethernet IPv6 extension chain SCTP", .ethernet, Build.ether(0x86DD, chain)),
            ("ethernet QinQ ARP", .ethernet, Build.ether(0x0806, Build.arp(), tags: [(0x88A8, 1), (0x8100, 2)])),
            ("ethernet 0x9100", .ethernet, Build.ether(0x0800, v4, tags: [(0x9100, 1)])),
            ("ethernet 802.3", .ethernet, Build.llc8023(Build.filler(40))),
            ("ethernet IPv6 in IPv4", .ethernet, Build.ether(0x0800, Build.ipv4(41, v6))),
            (
                "ethernet IPv4 later fragment", .ethernet,
                Build.ether(0x0800, Build.ipv4(17, Build.filler(30), fragment: 185))
            ),
            (
                "ethernet IPv6 later fragment", .ethernet,
                Build.ether(
                    0x86DD, Build.ipv6(44, Build.fragment(17, offsetUnits: 185, more: false) + Build.filler(30)))
            ),
            ("SLL IPv6", .linuxSLL, Build.sll(0x86DD, v6)),
            ("SLL VLAN IPv4", .linuxSLL, Build.sll(0x8100, Build.vlanTag(5, inner: 0x0800) + v4)),
            ("SLL netlink", .linuxSLL, Build.sll(0x0800, v4, hatype: Build.arphrdNetlink)),
            ("SLL2 IPv4", .linuxSLL2, Build.sll2(0x0800, v4)),
            ("SLL2 netlink", .linuxSLL2, Build.sll2(0, Build.filler(32), hatype: Build.arphrdNetlink)),
            ("RAW IPv4", .raw, v4), ("RAW IPv6", .raw, v6), ("DLT_RAW IPv6", .rawDLT, chain),
            ("IPV4", .ipv4, v4), ("IPV6", .ipv6, chain),
            ("NULL LE IPv4", .null, Build.nullFamily(2, bigEndian: false) + v4),
            ("NULL BE IPv6", .null, Build.nullFamily(30, bigEndian: true) + v6),
            ("NULL family 7", .null, Build.nullFamily(7, bigEndian: false) + v4),
            ("LOOP IPv6", .loop, Build.nullFamily(28, bigEndian: true) + chain),
            ("PPP", LinkType(9), [0xFF, 0x03, 0x00, 0x21] + v4),
        ]
        for (number, _) in DecoderTests.named {
            list.append(
                (
                    "ethernet IPv4 protocol \(number)", .ethernet,
                    Build.ether(0x0800, Build.ipv4(number, Build.filler(24)))
                ))
            list.append(
                (
                    "ethernet IPv6 next header \(number)", .ethernet,
                    Build.ether(0x86DD, Build.ipv6(number, Build.filler(24)))
                ))
        }
        return list
    }()

    @Test func everyPrefixOfHandBuiltPackets() {
        let guarded = GuardedMemory(bytes: Self.guardedPrefixLimit)
        for (name, link, bytes) in Self.handBuilt {
            let packet = PcapFixture.Packet(
                linkType: link.rawValue, bytes: bytes, origLen: bytes.count, timestampNanoseconds: 0)
            var failures: [String] = []
            Self.sweep(packet, guarded: guarded) { if failures.count < 10 { failures.append($0) } }
            #expect(failures.isEmpty, "\(name): \(failures.joined(separator: "\n"))")
        }
    }

    @Test("The guard page catches a read one byte past the prefix")
    func guardPageIsThere() async {
        await #expect(processExitsWith: .failure) {
            let guarded = GuardedMemory(bytes: 64)
            let bytes: [UInt8] = [1, 2, 3, 4]
            let value = guarded.withTailPointer(bytes[...]) { start, count in
                // Deliberately unchecked: one byte past the end.
                start.load(fromByteOffset: count, as: UInt8.self)
            }
            print(value)
        }
    }
}

/// Memory whose last usable byte is followed by a page that cannot be read.
final class GuardedMemory {
    private let base: UnsafeMutableRawPointer
    private let usable: Int
    private let total: Int

    init(bytes: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = max(1, (bytes + page - 1) / page)
        usable = pages * page
        total = usable + page
        let mapped = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            fatalError("mmap failed: \(errno)")
        }
        precondition(mprotect(mapped + usable, page, PROT_NONE) == 0, "mprotect failed: \(errno)")
        base = mapped
    }

    deinit { munmap(base, total) }

    /// Copies `bytes` so that they end right before the guard page and hands `body` a view of them.
    func withTail<R>(_ bytes: ArraySlice<UInt8>, _ body: (Bytes) -> R) -> R {
        withTailPointer(bytes) { start, count in body(Bytes(base: start, count: count)) }
    }

    func withTailPointer<R>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafeRawPointer, Int) -> R) -> R {
        precondition(bytes.count <= usable)
        let start = base + (usable - bytes.count)
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress { start.copyMemory(from: from, byteCount: source.count) }
        }
        return body(UnsafeRawPointer(start), bytes.count)
    }
}
