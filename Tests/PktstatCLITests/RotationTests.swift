import Foundation
import TestSupport
import Testing

/// UDP datagrams with a 4-byte sequence number as payload (then zeros to `size` bytes), from the
/// sender namespace to the receiver, one every `gapMs` ms; bounded by `count` and 20 s.
func sequencedSender(_ pair: VethPair, port: Int, count: Int, size: Int = 64, gapMs: Double) throws -> Spawned {
    let py = """
        import socket, struct, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = time.time()
        for i in range(\(count)):
            s.sendto(struct.pack('!I', i) + bytes(\(max(size, 4) - 4)), ('\(pair.receiverAddress)', \(port)))
            if \(gapMs) > 0: time.sleep(\(gapMs / 1000))
            if time.time() - t > 20: break
        """
    let (exe, args) = VethPair.exec(in: pair.sender, ["python3", "-c", py])
    return try Spawned(exe, args)
}

/// pktstat sniff inside a namespace.
func sniffIn(_ ns: String, _ arguments: [String]) throws -> Spawned {
    let (exe, args) = VethPair.exec(in: ns, [TestPaths.binary, "sniff"] + arguments)
    return try Spawned(exe, args)
}

/// The sequence numbers of the test's datagrams in a capture of Ethernet frames (veth).
func sequences(_ fixture: PcapFixture) -> [UInt32] {
    fixture.packets.compactMap { p in
        guard p.bytes.count >= 46 else { return nil }
        return p.bytes[42..<46].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
}

/// `sniff -w` with rotation, live across a veth pair in namespaces the tests create: time slots on
/// the clock (with and without packets), sizes, rings, compression, and the stop path for every file.
@Suite("rotation", .serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct RotationTests {
    /// 7 s of traffic with 2-second slots and a ring of 3: exactly 3 files, named by their slot's
    /// start (a whole, even second), each holding the packets of its slot and no other, and
    /// together every packet of those slots (the sequence numbers run without a gap).
    @Test func timeSlotsOnTheClockInARingOfThree() throws {
        let pair = try VethPair(tag: "rot-time")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = 40_001
        let p = try sniffIn(
            pair.receiver,
            [
                "-i", pair.receiverInterface, "--duration", "7", "-w", dir.appendingPathComponent("slot-%s.pcap").path,
                "--rotate-seconds", "2", "--rotate-files", "3", "udp", "port", "\(port)",
            ])
        #expect(waitListening(p))
        let sender = try sequencedSender(pair, port: port, count: 400, gapMs: 20)
        let r = p.finish(timeout: 20)
        _ = sender.finish(timeout: 1)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count == 3, "\(names)")
        let starts = names.compactMap { Int64($0.dropFirst(5).dropLast(5)) }
        #expect(starts.count == 3 && starts.allSatisfy { $0 % 2 == 0 }, "\(names)")
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 == 2 }, "slots not consecutive: \(starts)")
        var all: [UInt32] = []
        for (name, start) in zip(names, starts) {
            let path = dir.appendingPathComponent(name).path
            let fixture = try PcapFixture(contentsOf: path)
            #expect(fixture.error == nil)
            #expect(try tcpdumpRead(path).status == 0)
            #expect(try pktstat(["sniff", "-r", path, "-q"]).status == 0)
            let times = fixture.packets.compactMap(\.timestampNanoseconds)
            #expect(!times.isEmpty, "\(name) is empty")
            let lo = UInt64(start) * 1_000_000_000
            #expect(times.allSatisfy { $0 >= lo && $0 < lo + 2_000_000_000 }, "\(name) holds packets of another slot")
            if start != starts.last {
                // A full slot: it starts and ends with the traffic (a packet every 20 ms).
                #expect(times.first! - lo < 500_000_000 && lo + 2_000_000_000 - times.last! < 500_000_000, "\(name)")
            }
            all += sequences(fixture)
        }
        #expect(all.count > 150)
        #expect(zip(all, all.dropFirst()).allSatisfy { $1 == $0 + 1 }, "a packet is missing between files")
    }

    /// Silence still rotates (tcpdump's -G does not: its issues #514 and #577): one empty, complete
    /// file per 1-second slot, `-G` spelled as tcpdump spells it.
    @Test func silenceStillRotates() throws {
        let pair = try VethPair(tag: "rot-idle")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try sniffIn(
            pair.receiver,
            [
                "-i", pair.receiverInterface, "--duration", "3.5", "-G", "1",
                "-w", dir.appendingPathComponent("idle-%s.pcap").path, "udp", "port", "9",
            ])
        let r = p.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let starts = names.compactMap { Int64($0.dropFirst(5).dropLast(5)) }
        #expect(starts.count >= 4, "\(names)")
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 == 1 }, "\(starts)")
        for name in names {
            let t = try tcpdumpRead(dir.appendingPathComponent(name).path)
            #expect(t.status == 0 && t.packets == 0, "\(name): \(t.stderr)")
        }
    }

    /// `--rotate-size 1M`: every file within one record of 1 MiB, none over it (pcapng: its closing
    /// statistics block included); stopped by two SIGINTs, the last file is complete too, and the
    /// files hold every packet captured, in order.
    @Test(arguments: ["part.pcap", "part.pcapng"])
    func sizeRotationStaysWithinARecordOfTheSize(_ name: String) throws {
        let pair = try VethPair(tag: "rot-size-\(name.count)")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = 40_002
        let p = try sniffIn(
            pair.receiver,
            [
                "-i", pair.receiverInterface, "-w", dir.appendingPathComponent(name).path, "--rotate-size", "1M",
                "udp", "port", "\(port)",
            ])
        #expect(waitListening(p))
        let sender = try sequencedSender(pair, port: port, count: 3000, size: 1400, gapMs: 0.2)
        _ = sender.finish(timeout: 30)
        // Stop once every datagram is in the files (polled, bounded), twice, as an impatient user.
        p.waitFor(timeout: 10) { _ in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            let fixtures = files.compactMap { try? PcapFixture(contentsOf: dir.appendingPathComponent($0).path) }
            return fixtures.reduce(0) { $0 + $1.packets.count } >= 3000
        }
        p.signal(SIGINT)
        p.signal(SIGINT)
        let r = p.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .sorted { ($0.count, $0) < ($1.count, $1) }
        #expect(names.first == name && names.count >= 4, "\(names)")
        let record = name.hasSuffix("ng") ? 32 + 1444 + 72 : 16 + 1442
        var all: [UInt32] = []
        for (i, file) in names.enumerated() {
            let path = dir.appendingPathComponent(file).path
            let size = fileSize(path)
            #expect(size <= 1 << 20, "\(file): \(size) bytes")
            if i < names.count - 1 { #expect(size > (1 << 20) - record, "\(file): \(size) bytes") }
            let t = try tcpdumpRead(path)
            #expect(t.status == 0 && !t.stderr.contains("truncated"), "\(file): \(t.stderr)")
            let ours = try pktstat(["sniff", "-r", path, "-q"])
            #expect(ours.status == 0, "\(ours.stderr)")
            if name.hasSuffix("ng") { #expect(try capinfos(path).contains("Number of stat entries = 1")) }
            all += sequences(try PcapFixture(contentsOf: path))
        }
        #expect(all == Array(0..<3000), "packets lost or reordered between files")
        #expect(StatusLines(r.stderr).captured == all.count)
    }

    /// tcpdump's -C (millions of bytes) and -W (a ring), with --compress gzip: exactly 3 files,
    /// each compressed once closed (the last one too, before pktstat exits), each at most 10^6 bytes.
    @Test func tcpdumpSizeRingCompressed() throws {
        let gzip = try requireTool("gzip")
        let pair = try VethPair(tag: "rot-ring")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = 40_003
        let p = try sniffIn(
            pair.receiver,
            [
                "-i", pair.receiverInterface, "-w", dir.appendingPathComponent("ring").path, "-C", "1", "-W", "3",
                "--compress", "gzip", "--duration", "4", "udp", "port", "\(port)",
            ])
        #expect(waitListening(p))
        let sender = try sequencedSender(pair, port: port, count: 4000, size: 1400, gapMs: 0.2)
        let r = p.finish(timeout: 30)
        _ = sender.finish(timeout: 5)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count == 3 && names.allSatisfy { $0.hasPrefix("ring") && $0.hasSuffix(".gz") }, "\(names)")
        for name in names {
            let plain = dir.appendingPathComponent(name).path + ".pcap"
            let z = try run(gzip, ["-dc", dir.appendingPathComponent(name).path])
            #expect(z.status == 0)
            try z.stdoutData.write(to: URL(fileURLWithPath: plain))
            #expect(fileSize(plain) <= 1_000_000)
            let t = try tcpdumpRead(plain)
            #expect(t.status == 0 && t.packets > 0, "\(name): \(t.stderr)")
            unlink(plain)
        }
    }
}

/// The -w options that only make sense together are refused with the fix, as usage errors (64).
@Suite("rotation options")
struct RotationOptionTests {
    @Test(arguments: [
        (["--rotate-seconds", "5"], "apply to -w FILE"),
        (["-w", "-", "--rotate-size", "1M"], "cannot be rotated or compressed"),
        (["-w", "x", "-W", "3"], "add --rotate-seconds or --rotate-size"),
        (["-w", "x", "--rotate-size", "1Q"], "--rotate-size"),
        (["-w", "x", "-C", "1", "--rotate-size", "1M"], "not both"),
        (["-w", "x", "--compress", "bzip2"], "'gzip' and 'zstd'"),
        (["-r", "x.pcap", "-w", "y", "--rotate-size", "1M"], "for live captures"),
    ])
    func refused(_ arguments: [String], _ message: String) throws {
        let r = try pktstat(["sniff"] + arguments)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }
}
