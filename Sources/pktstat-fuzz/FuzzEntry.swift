// Fuzz target over the capture-file reader, the packet decoder, the connection walk and tracker, and
// the name parsers (DNS answers, TLS ClientHellos, the name sniffer and table),
// differential against libpcap for the reader:
// an input that crashes, or that our reader and libpcap read differently (other records, or one
// fails and the other does not; see ReaderCrossCheck), aborts, so libFuzzer keeps it.
//
// Built by scripts/fuzz with `-sanitize=fuzzer -DFUZZING`: libFuzzer supplies `main` and calls
// `LLVMFuzzerTestOneInput` with each input. Built normally (as `swift build` does), it is a
// replayer: `pktstat-fuzz FILE...` runs each file through the same code, which is how the
// regression captures are checked without libFuzzer.
import Glibc
import PacketFile
import PacketRecords
import PacketWire
import ReaderCrossCheck
import TrafficAnalysis

/// One input: as a capture file through our reader (every record decoded), and as a bare packet
/// through the decoder under every link type it knows.
func exercise(_ data: UnsafeRawBufferPointer) {
    let path = scratchPath
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if fd >= 0 {
        var offset = 0
        while offset < data.count {
            let n = write(fd, data.baseAddress! + offset, data.count - offset)
            if n <= 0 { break }
            offset += n
        }
        close(fd)
        if let difference = ReaderCrossCheck.disagreement(path) {
            let line = Array("pktstat-fuzz: our reader and libpcap disagree: \(difference)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            abort()
        }
        // A capture file's packets through the connection walk with fragments and tunnels, so that
        // mutations of real tunnelled and fragmented captures reach the tunnel steps.
        if let reader = try? CaptureFileReader(path: path, readAhead: false) {
            let linkType = reader.linkType
            _ = try? reader.readPackets { packet in
                decapsulators[0].process(
                    packet.bytes, length: Int(packet.length), linkType: linkType, timestampNs: packet.timestampNs
                ) { blackHole($0.origPackets) }
                return true
            }
            decapsulators[0].finish { blackHole($0.origBytes) }
        }
        // The capture's packets through the name sniffer into a flow table with a small name
        // table: the bounds must hold whatever the packets say.
        if let reader = try? CaptureFileReader(path: path, readAhead: false) {
            let table = FlowTable()
            table.names = names
            _ = try? reader.read(sniffer: sniffer) { batch in
                table.add(batch, events: sniffer.events)
                return true
            }
            if names.counters.entries > names.capacity || sniffer.pendingHellos > NameSniffer.maxPending {
                let line = Array(
                    "pktstat-fuzz: the name table or the pending ClientHellos grew past their bound\n".utf8)
                _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                abort()
            }
        }
    }
    let bytes = Bytes(data)
    for link: Int32 in [0, 1, 12, 101, 108, 113, 228, 229, 276, 147] {
        blackHole(UInt64(Decoder.decode(bytes, linkType: LinkType(link)).label.rawValue))
        // The connection walk and the tracker (twice: a packet meets its own connection).
        for verify in [false, true] {
            let p = ConnDecoder.decode(bytes, length: data.count, linkType: LinkType(link), verifyChecksums: verify)
            for n: Int64 in 0..<2 { connections.process(p, timestampNs: n * 1000) { blackHole($0.origPackets) } }
        }
        // The whole walk through fragments and tunnels (twice, so that a fragment meets its
        // group).
        for walker in decapsulators {
            for n: Int64 in 0..<2 {
                walker.process(bytes, length: data.count, linkType: LinkType(link), timestampNs: n * 1000) {
                    blackHole($0.origPackets &+ UInt64($0.tunnelParents))
                }
            }
        }
    }
    // Every UDP tunnel step on the input as a UDP payload, and the input as a reassembled
    // datagram.
    for port in tunnelPorts {
        for depth in [0, ConnTunnels.maxDepth] {
            let outcome = ConnTunnels.udp(
                bytes, payload: 0, captured: bytes.count, end: bytes.count, wireEnd: bytes.count, respPort: port,
                violated: 0, depth: depth, lastType: .none)
            if case .inner(let payload) = outcome {
                var cursor = 0
                if payload.layer == .ieee80211 {
                    while let sub = ConnTunnels.ieee80211Subframe(bytes, frame: payload, cursor: &cursor) {
                        blackHole(UInt64(ConnDecoder.decodeInner(bytes, sub, verifyChecksums: true).ipTotalLength))
                    }
                } else {
                    blackHole(UInt64(ConnDecoder.decodeInner(bytes, payload, verifyChecksums: true).ipTotalLength))
                }
            }
        }
    }
    blackHole(UInt64(ConnDecoder.decodeReassembled(bytes, verifyChecksums: true).ipTotalLength))
    // The input as a DNS message and as the start of a TLS record.
    blackHole(
        UInt64(
            DNSMessage.answers(bytes, from: 0, to: bytes.count, name: nameScratch) { n, _, _ in blackHole(UInt64(n)) }))
    if case .serverName(_, let count) = TLSClientHello.parse(bytes, from: 0, to: bytes.count) {
        blackHole(UInt64(count))
    }
    connections.finish { blackHole($0.origBytes) }
    for walker in decapsulators { walker.finish { blackHole($0.origBytes) } }
}

/// The tracker the fuzz inputs run through, emptied after each input.
nonisolated(unsafe) let connections = ConnectionTracker(settings: ConnectionSettings())

/// The walk through fragments and tunnels, checksums unverified and verified; a small fragment
/// table, so that inputs reach its bounds.
nonisolated(unsafe) let decapsulators: [ConnectionDecapsulator] = [false, true].map { verify in
    var settings = ConnectionSettings()
    settings.verifyChecksums = verify
    return ConnectionDecapsulator(
        tracker: ConnectionTracker(settings: settings),
        reassembler: FragmentReassembler(capacity: 4, maxBytes: 1 << 18, maxRanges: 8))
}

/// The name parsers' state, kept across inputs (as a long capture would) and bounded.
nonisolated(unsafe) let names = NameTable(capacity: 64, maxNames: 32, maxNameBytes: 4_096)
nonisolated(unsafe) let sniffer = NameSniffer()
nonisolated(unsafe) let nameScratch = UnsafeMutableRawBufferPointer.allocate(
    byteCount: DNSMessage.maxNameLength, alignment: 8)

/// The UDP ports with a tunnel analyzer, and one without (protocol detection).
let tunnelPorts: [UInt16] = [
    ConnTunnels.vxlanPort, ConnTunnels.genevePort, ConnTunnels.teredoPort, ConnTunnels.ayiyaPort,
    ConnTunnels.gtpUserPort, ConnTunnels.gtpControlPort, ConnTunnels.greOverUDPPort, 9,
]

nonisolated(unsafe) var sink: UInt64 = 0
@inline(never) func blackHole(_ v: UInt64) { sink &+= v }

let scratchPath: String = {
    let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(dir)/pktstat-fuzz-\(getpid()).pcap"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

#if FUZZING
    // SwiftPM links an executable's entry point as `<target>_main`; hand control to libFuzzer's driver.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    @_cdecl("pktstat_fuzz_main")
    public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOne(data, size) }
    }
#else
    @main
    struct Replay {
        static func main() {
            var failures = 0
            for path in CommandLine.arguments.dropFirst() {
                guard let f = fopen(path, "rb") else {
                    print("pktstat-fuzz: cannot read \(path)")
                    failures += 1
                    continue
                }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = fread(&chunk, 1, chunk.count, f)
                    if n <= 0 { break }
                    bytes.append(contentsOf: chunk[0..<n])
                }
                fclose(f)
                bytes.withUnsafeBytes { exercise($0) }
            }
            unlink(scratchPath)
            print("replayed \(CommandLine.arguments.count - 1) inputs")
            exit(failures == 0 ? 0 : 1)
        }
    }
#endif
