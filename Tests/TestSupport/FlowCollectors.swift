public import Foundation

/// A UDP port on 127.0.0.1 that was free a moment ago (bound to 0, read back, closed).
public func freeUDPPort() -> Int {
    let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(s) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    a.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
    _ = withUnsafeMutablePointer(to: &a) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
    }
    return Int(UInt16(bigEndian: a.sin_port))
}

/// A python3 that runs `sys.argv[1:]` with no signal blocked: the test runner blocks SIGTERM and
/// others in its threads, and a child inherits the mask, so a collector would never hear the
/// SIGTERM that tells it to write its file. Returns the path of the wrapper (arguments: the
/// program and its arguments).
public func unblockingSignals() throws -> String {
    let python = try requireTool("python3")
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pktstat-test-unblock-signals")
    let script = """
        #!\(python)
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execv(sys.argv[1], sys.argv[1:])
        """
    if (try? String(contentsOf: url, encoding: .utf8)) != script {
        let tmp = url.appendingPathExtension("\(getpid())")
        try script.write(to: tmp, atomically: false, encoding: .utf8)
        chmod(tmp.path, 0o755)
        rename(tmp.path, url.path)
    }
    return url.path
}

/// One direction of traffic between two endpoints, as a collector stores it.
public struct DirectedKey: Hashable, Sendable, CustomStringConvertible {
    public var src: String
    public var sport: Int
    public var dst: String
    public var dport: Int
    public init(src: String, sport: Int, dst: String, dport: Int) {
        self.src = src
        self.sport = sport
        self.dst = dst
        self.dport = dport
    }
    public var description: String { "\(src):\(sport) > \(dst):\(dport)" }
}

/// What a collector holds for a directed key, summed over its records.
public struct DirectedTotals: Equatable, Sendable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Milliseconds since the epoch.
    public var firstMs: Int64 = .max
    public var lastMs: Int64 = .min
    public var records = 0
    public init() {}

    public mutating func add(packets: UInt64, bytes: UInt64, firstMs: Int64, lastMs: Int64) {
        self.packets += packets
        self.bytes += bytes
        self.firstMs = min(self.firstMs, firstMs)
        self.lastMs = max(self.lastMs, lastMs)
        records += 1
    }
}

/// nfdump's `nfcapd` listening on 127.0.0.1 at a free port, writing into its own temporary
/// folder; `stop()` ends it (SIGTERM: it writes its file) and `records()` reads what it stored
/// with `nfdump`.
public final class NfcapdCollector: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let process: Spawned
    private let nfdump: String

    /// `namespace`: run it inside that network namespace (its own 127.0.0.1).
    public init(bufferBytes: Int = 8 << 20, namespace: String? = nil) throws {
        let nfcapd = try requireTool("nfcapd", package: "nfdump")
        nfdump = try requireTool("nfdump", package: "nfdump")
        directory = TestPaths.temporaryDirectory()
        port = freeUDPPort()
        let command = [
            try unblockingSignals(), nfcapd, "-w", directory.path, "-b", "127.0.0.1", "-p", String(port), "-t", "3600",
            "-B", String(bufferBytes),
        ]
        let inNamespace = namespace.map { "ip netns exec \($0) " } ?? ""
        if let namespace {
            let (exe, args) = VethPair.exec(in: namespace, command)
            process = try Spawned(exe, args)
        } else {
            process = try Spawned(command[0], Array(command.dropFirst()))
        }
        // Ready when its socket is bound.
        let ready = process.waitFor(timeout: 10) { _ in
            ((try? shell("\(inNamespace)ss -Hlun 'sport = :\(self.port)'").stdout) ?? "").contains(":\(self.port)")
        }
        if !ready {
            throw NSError(
                domain: "nfcapd", code: 1,
                userInfo: [NSLocalizedDescriptionKey: "nfcapd did not start: \(process.stderr)"])
        }
    }

    /// Ends nfcapd (it flushes its file) and returns its stderr.
    @discardableResult
    public func stop() -> String {
        process.signal(SIGTERM)
        return process.finish(timeout: 20).stderr
    }

    deinit {
        if process.process.isRunning { _ = stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The stored records, summed per directed key (addresses, ports). ICMP records (nfdump shows
    /// port 0 and the type.code as the destination port) are summed under port 0 unless
    /// `icmpTypeCodes`: the flows of pktstat's CSV have no ICMP types.
    public func totals(icmpTypeCodes: Bool = false) throws -> [DirectedKey: DirectedTotals] {
        var out: [DirectedKey: DirectedTotals] = [:]
        for r in try records() {
            var key = r.key
            if r.isICMP && !icmpTypeCodes { key.dport = 0 }
            out[key, default: DirectedTotals()].add(
                packets: r.packets, bytes: r.bytes, firstMs: r.firstMs, lastMs: r.lastMs)
        }
        return out
    }

    /// Every stored record: its directed key (ICMP: the type.code as `dport`, `type * 256 + code`),
    /// packets, bytes, first and last (ms), whether it is ICMP or ICMPv6.
    public func records() throws -> [(
        key: DirectedKey, packets: UInt64, bytes: UInt64, firstMs: Int64, lastMs: Int64, isICMP: Bool
    )] {
        // %tsr: the start as seconds.milliseconds since the epoch; %td the duration in seconds
        // with milliseconds (nfdump 1.7.1's %ter prints the start's milliseconds, so it is not used).
        let r = try run(
            nfdump, ["-q", "-N", "-6", "-R", directory.path, "-o", "fmt:%tsr|%td|%sa|%sp|%da|%dp|%pkt|%byt|%pr"],
            timeout: 120, environment: ["TZ": "UTC"])
        guard r.status == 0 else {
            throw NSError(domain: "nfdump", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr])
        }
        return r.stdout.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard f.count == 9, let packets = UInt64(f[6]), let bytes = UInt64(f[7]) else { return nil }
            let first = Self.milliseconds(f[0])
            let proto = f[8].uppercased()
            return (
                DirectedKey(src: f[2], sport: Self.port(f[3]), dst: f[4], dport: Self.port(f[5])), packets, bytes,
                first, first + Self.milliseconds(f[1]), ["ICMP", "ICMP6", "IPV6-ICMP", "1", "58"].contains(proto)
            )
        }
    }

    /// The number of records nfdump reads back.
    public func recordCount() throws -> Int {
        let r = try run(nfdump, ["-q", "-N", "-R", directory.path, "-o", "fmt:%pkt"], timeout: 300)
        return r.stdout.split(separator: "\n").count
    }

    static func port(_ s: String) -> Int {
        if let p = Int(s) { return p }
        // ICMP: type.code
        let parts = s.split(separator: ".")
        return parts.count == 2 ? (Int(parts[0]) ?? 0) * 256 + (Int(parts[1]) ?? 0) : -1
    }

    /// "1700000000.123" -> 1700000000123.
    public static func milliseconds(_ s: String) -> Int64 {
        let parts = s.split(separator: ".")
        let seconds = Int64(parts.first ?? "") ?? 0
        var fraction = parts.count > 1 ? String(parts[1]) : "0"
        while fraction.count < 3 { fraction += "0" }
        return seconds * 1000 + (Int64(fraction.prefix(3)) ?? 0)
    }
}

/// pmacct's `nfacctd` with its print plugin (CSV, appended at exit), on 127.0.0.1 at a free port
/// in its own temporary folder; `stop()` ends it (SIGINT: it writes its cache) and `totals()` reads
/// the CSV.
public final class NfacctdCollector: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let process: Spawned

    public init() throws {
        let nfacctd = try requireTool("nfacctd", package: "pmacct")
        directory = TestPaths.temporaryDirectory()
        port = freeUDPPort()
        let config = """
            daemonize: false
            nfacctd_ip: 127.0.0.1
            nfacctd_port: \(port)
            plugins: print
            aggregate: src_host, dst_host, src_port, dst_port, proto, timestamp_start, timestamp_end
            print_output: csv
            print_output_file: \(directory.path)/out.csv
            print_output_file_append: true
            print_refresh_time: 3600
            nfacctd_time_new: false
            """
        let configFile = directory.appendingPathComponent("nfacctd.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        process = try Spawned(
            try unblockingSignals(), [nfacctd, "-f", configFile.path],
            environment: ["TZ": "UTC", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        let ready = process.waitFor(timeout: 10) { _ in
            ((try? shell("ss -Hlun 'sport = :\(self.port)'").stdout) ?? "").contains(":\(self.port)")
        }
        if !ready {
            throw NSError(
                domain: "nfacctd", code: 1,
                userInfo: [NSLocalizedDescriptionKey: "nfacctd did not start: \(process.stderr)"])
        }
    }

    @discardableResult
    public func stop() -> String {
        process.signal(SIGINT)
        let r = process.finish(timeout: 20)
        // The print plugin is a child process that writes the file as it exits.
        let csv = directory.appendingPathComponent("out.csv")
        for _ in 0..<20 where !FileManager.default.fileExists(atPath: csv.path) { usleep(50_000) }
        usleep(200_000)
        return r.stderr
    }

    deinit {
        if process.process.isRunning { _ = stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The records, summed per directed key (no file: no records).
    public func totals() throws -> [DirectedKey: DirectedTotals] {
        let file = directory.appendingPathComponent("out.csv")
        guard FileManager.default.fileExists(atPath: file.path) else { return [:] }
        let text = try String(contentsOf: file, encoding: .utf8)
        var out: [DirectedKey: DirectedTotals] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 9, let packets = UInt64(f[7]), let bytes = UInt64(f[8]) else { continue }
            // ICMP under port 0, as pktstat's CSV has them (nfacctd may put the type and code in a port).
            let icmp = ["icmp", "ipv6-icmp", "icmp6", "1", "58"].contains(f[4].lowercased())
            let key = DirectedKey(
                src: f[0], sport: icmp ? 0 : Int(f[2]) ?? 0, dst: f[1], dport: icmp ? 0 : Int(f[3]) ?? 0)
            out[key, default: DirectedTotals()].add(
                packets: packets, bytes: bytes, firstMs: Self.milliseconds(f[5]), lastMs: Self.milliseconds(f[6]))
        }
        return out
    }

    /// "2014-10-19 19:16:56.346000" (UTC) -> milliseconds since the epoch.
    static func milliseconds(_ s: String) -> Int64 {
        let parts = s.split(separator: " ")
        guard parts.count == 2 else { return 0 }
        let d = parts[0].split(separator: "-").compactMap { Int32($0) }
        let t = parts[1].split(separator: ":")
        guard d.count == 3, t.count == 3 else { return 0 }
        var tmv = tm()
        tmv.tm_year = d[0] - 1900
        tmv.tm_mon = d[1] - 1
        tmv.tm_mday = d[2]
        tmv.tm_hour = Int32(t[0]) ?? 0
        tmv.tm_min = Int32(t[1]) ?? 0
        let seconds = Double(t[2]) ?? 0
        tmv.tm_sec = Int32(seconds)
        let whole = Int64(timegm(&tmv))
        let fraction = t[2].split(separator: ".")
        let ms =
            fraction.count == 2
            ? Int64(String(fraction[1].prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0 : 0
        return whole * 1000 + ms
    }
}

/// A UDP listener on 127.0.0.1 at a free port that keeps every datagram it receives and, once
/// none came for `quietSeconds` (after the first) or after 30 s, writes them as a pcap (raw IPv4
/// link type, IPv4 and UDP headers made up around each payload) for tshark to decode.
public final class UDPCaptureSink: @unchecked Sendable {
    public let port: Int
    public let pcap: URL
    private let process: Spawned

    public init(quietSeconds: Double = 1.0) throws {
        let python = try requireTool("python3")
        port = freeUDPPort()
        pcap = TestPaths.temporaryDirectory().appendingPathComponent("export.pcap")
        let script = """
            import socket, struct, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind(('127.0.0.1', \(port)))
            print('ready', flush=True)
            got, deadline = [], time.time() + 30
            s.settimeout(30)
            while time.time() < deadline:
                try:
                    data, peer = s.recvfrom(65535)
                except socket.timeout:
                    break
                got.append((time.time(), data, peer[1]))
                s.settimeout(\(quietSeconds))
            with open('\(pcap.path)', 'wb') as f:
                f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
                for t, data, sport in got:
                    udp = struct.pack('!HHHH', sport, \(port), 8 + len(data), 0) + data
                    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                                     socket.inet_aton('127.0.0.1'), socket.inet_aton('127.0.0.1')) + udp
                    f.write(struct.pack('<IIII', int(t), int((t % 1) * 1e6), len(ip), len(ip)) + ip)
            print(len(got), flush=True)
            """
        process = try Spawned(python, ["-c", script])
        guard process.waitFor(timeout: 10, { $0.stdout.contains("ready") }) else {
            throw NSError(
                domain: "UDPCaptureSink", code: 1,
                userInfo: [NSLocalizedDescriptionKey: "the listener did not start: \(process.stderr)"])
        }
    }

    /// Waits for the listener to write its file; the number of datagrams it kept.
    public func finish() -> Int {
        let r = process.finish(timeout: 40)
        return Int(r.stdout.split(separator: "\n").last ?? "") ?? -1
    }

    deinit {
        if process.process.isRunning { process.signal(SIGKILL) }
        try? FileManager.default.removeItem(at: pcap.deletingLastPathComponent())
    }
}
