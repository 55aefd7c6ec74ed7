import Foundation
import TestSupport
import Testing

/// What capinfos says about a file, line by line (`Name = vrcv0`, `Number of packets:   20`).
func capinfos(_ path: String) throws -> String {
    let tool = try requireTool("capinfos")
    let r = try run(tool, [path])
    #expect(r.status == 0, "capinfos \(path): \(r.stderr)")
    return r.stdout
}

/// Each packet's interface name and UDP destination port, as tshark reads them.
func tsharkInterfaces(_ path: String) throws -> [(interface: String, port: String)] {
    let tool = try requireTool("tshark")
    let r = try run(tool, ["-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "udp.dstport"])
    #expect(r.status == 0, "tshark -r \(path): \(r.stderr)")
    return r.stdoutLines.map { line in
        let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        return (cells.first ?? "", cells.count > 1 ? cells[1] : "")
    }
}

/// `sniff -w x.pcapng`, live across veth pairs in namespaces the tests create, read back by
/// capinfos, tshark, tcpdump (libpcap) and pktstat.
@Suite("pcapng output", .serialized, .enabled(if: TestPaths.isRoot, "live capture needs root"))
struct PcapngOutputTests {
    @Test func oneInterface() throws {
        let pair = try VethPair(tag: "ng-one")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("one.pcapng").path
        let port = 40_011
        let p = try sniffIn(pair.receiver, ["-i", pair.receiverInterface, "-c", "20", "-w", path, "udp port \(port)"])
        #expect(waitListening(p))
        let sender = try sequencedSender(pair, port: port, count: 20, gapMs: 5)
        let r = p.finish(timeout: 20)
        _ = sender.finish(timeout: 5)
        #expect(r.status == 0, "\(r.stderr)")
        let info = try capinfos(path)
        for line in [
            "File type:           Wireshark/... - pcapng", "Number of packets:   20", "Capture application: pktstat",
            "Number of interfaces in file: 1", "Name = \(pair.receiverInterface)", "Time precision = nanoseconds (9)",
            "Filter string = udp port \(port)", "Number of stat entries = 1", "Capture oper-sys:    Linux",
        ] {
            #expect(info.contains(line), "capinfos lacks '\(line)':\n\(info)")
        }
        #expect(try tsharkInterfaces(path).map(\.port) == Array(repeating: "\(port)", count: 20))
        let t = try tcpdumpRead(path)
        #expect(t.status == 0 && t.packets == 20, "\(t.stderr)")
        let ours = try pktstat(["sniff", "-r", path, "--format", "csv"])
        #expect(ours.status == 0 && csvRows(ours.stdout).count == 20, "\(ours.stderr)")
        #expect(sequences(try PcapFixture(contentsOf: path)) == Array(0..<20))
    }

    /// `-i any`: one interface block per real interface the packets were seen on (from the SLL2
    /// header's interface index), and each packet points at its own.
    @Test func anyGivesOneInterfaceBlockPerInterface() throws {
        let pair = try VethPair(tag: "ng-any")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("any.pcapng").path
        let (wire, local) = (40_012, 40_013)
        let p = try sniffIn(pair.sender, ["-i", "any", "--duration", "2.5", "-w", path, "udp"])
        #expect(waitListening(p))
        let sender = try sequencedSender(pair, port: wire, count: 10, gapMs: 5)
        _ = sender.finish(timeout: 10)
        let py =
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            + "for i in range(10): s.sendto(bytes(8), ('127.0.0.1', \(local)))"
        let (exe, args) = VethPair.exec(in: pair.sender, ["python3", "-c", py])
        #expect(try run(exe, args, timeout: 10).status == 0)
        let r = p.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let info = try capinfos(path)
        #expect(info.contains("Number of interfaces in file: 2"), "\(info)")
        #expect(info.contains("Name = lo") && info.contains("Name = \(pair.senderInterface)"), "\(info)")
        #expect(info.contains("Linux cooked-mode capture v2"), "\(info)")
        let packets = try tsharkInterfaces(path)
        #expect(packets.filter { $0.port == "\(wire)" }.count == 10)
        #expect(packets.filter { $0.port == "\(wire)" }.allSatisfy { $0.interface == pair.senderInterface })
        #expect(packets.filter { $0.port == "\(local)" }.count >= 10)
        #expect(packets.filter { $0.port == "\(local)" }.allSatisfy { $0.interface == "lo" }, "\(packets)")
        let t = try tcpdumpRead(path)
        #expect(t.status == 0 && t.packets == packets.count, "\(t.stderr)")
        let ours = try pktstat(["sniff", "-r", path, "--format", "csv"])
        #expect(ours.status == 0 && csvRows(ours.stdout).count == packets.count, "\(ours.stderr)")
    }

    /// No packet at all: still a file every reader opens (libpcap needs an interface block).
    @Test(arguments: ["vrcv0", "any"])
    func anEmptyCaptureIsAFileEveryReaderOpens(_ interface: String) throws {
        let pair = try VethPair(tag: "ng-empty-\(interface)")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("empty.pcapng").path
        let p = try sniffIn(pair.receiver, ["-i", interface, "--duration", "0.5", "-w", path, "udp port 9"])
        let r = p.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let info = try capinfos(path)
        #expect(info.contains("Number of packets:   0"), "\(info)")
        #expect(info.contains("Number of interfaces in file: 1") && info.contains("Name = \(interface)"), "\(info)")
        #expect(info.contains("Time precision = nanoseconds (9)"), "\(info)")
        #expect(try tsharkInterfaces(path).isEmpty)
        let t = try tcpdumpRead(path)
        #expect(t.status == 0 && t.packets == 0, "\(t.stderr)")
        #expect(try pktstat(["sniff", "-r", path, "-q"]).status == 0)
    }

    /// `kill -9` in the middle of traffic leaves whole blocks: every reader reads the file to its end.
    @Test func kill9LeavesWholeBlocks() throws {
        let pair = try VethPair(tag: "ng-kill")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("killed.pcapng").path
        let port = 40_014
        let p = try sniffIn(pair.receiver, ["-i", pair.receiverInterface, "-w", path, "udp port \(port)"])
        #expect(waitListening(p))
        let sender = try sequencedSender(pair, port: port, count: 3000, size: 700, gapMs: 0.5)
        p.waitFor(timeout: 10) { _ in fileSize(path) > 200_000 }
        p.signal(SIGKILL)
        _ = p.finish(timeout: 10)
        _ = sender.finish(timeout: 10)
        let fixture = try PcapFixture(contentsOf: path)
        #expect(fixture.error == nil && fixture.packets.count > 100, "\(String(describing: fixture.error))")
        let t = try tcpdumpRead(path)
        #expect(t.status == 0 && t.packets == fixture.packets.count, "\(t.stderr)")
        let exact = try run(try requireTool("capinfos"), ["-M", "-c", path])
        #expect(exact.stdout.contains("Number of packets:   \(fixture.packets.count)\n"), "\(exact.stdout)")
    }

    /// `--pcapng` with a name that does not say so, rotated by time: every file is pcapng.
    @Test func pcapngFlagWithRotation() throws {
        let pair = try VethPair(tag: "ng-rot")
        defer { pair.destroy() }
        let dir = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = try sniffIn(
            pair.receiver,
            [
                "-i", pair.receiverInterface, "--pcapng", "--rotate-seconds", "1", "--duration", "2.2",
                "-w", dir.appendingPathComponent("ng").path, "udp port 9",
            ])
        let r = p.finish(timeout: 20)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count >= 3 && names.first == "ng", "\(names)")
        for name in names {
            let fixture = try PcapFixture(contentsOf: dir.appendingPathComponent(name).path)
            #expect(fixture.format == .pcapng && fixture.nanosecond && fixture.error == nil, "\(name)")
        }
    }
}
