import Glibc
public import Rendering
public import TrafficAnalysis

/// A problem with the IPFIX options or the collector, in the words of the options.
public struct IPFIXError: Error, Equatable, Sendable, HintedError {
    public var description: String
    public var hint: String?

    public init(_ description: String, hint: String?) {
        self.description = description
        self.hint = hint
    }
}

/// Where IPFIX goes: a collector's host and port, over UDP or TCP.
public struct IPFIXDestination: Sendable, Equatable, CustomStringConvertible {
    public enum Transport: String, Sendable { case udp, tcp }
    public var transport: Transport
    public var host: String
    public var port: UInt16

    /// Parses `HOST:PORT`, `[IPV6]:PORT`, `udp://HOST:PORT` or `tcp://HOST:PORT`.
    public init(parsing text: String) throws(IPFIXError) {
        var rest = Substring(text)
        transport = .udp
        if rest.hasPrefix("tcp://") {
            transport = .tcp
            rest = rest.dropFirst(6)
        } else if rest.hasPrefix("udp://") {
            rest = rest.dropFirst(6)
        } else if rest.contains("://") {
            throw Self.bad(text, why: "only udp:// and tcp:// are known")
        }
        let hostPart: Substring
        let portPart: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                throw Self.bad(text, why: "an IPv6 address in brackets must be followed by :PORT")
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            portPart = rest[rest.index(close, offsetBy: 2)...]
        } else {
            guard let colon = rest.lastIndex(of: ":"), !rest[..<colon].contains(":") else {
                throw Self.bad(text, why: "no :PORT (put IPv6 addresses in brackets: [::1]:4739)")
            }
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw Self.bad(text, why: "no host") }
        guard let port = UInt16(portPart), port > 0 else {
            throw Self.bad(text, why: "the port must be a number from 1 to 65535")
        }
        host = String(hostPart)
        self.port = port
    }

    static func bad(_ text: String, why: String) -> IPFIXError {
        IPFIXError(
            "--ipfix '\(text)' is not a collector address (\(why))",
            hint: "give HOST:PORT (UDP), [IPV6]:PORT or tcp://HOST:PORT, e.g. --ipfix 127.0.0.1:4739")
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return transport == .tcp ? "tcp://\(h):\(port)" : "\(h):\(port)"
    }
}

/// The IPFIX options every command that exports shares.
public struct IPFIXOptions: Sendable, Equatable {
    public var destination: String
    public var mtu: Int
    public var observationDomain: UInt32
    public var biflow: Bool
    /// Records per second at most (0: as fast as the socket takes them).
    public var rate: Int
    /// Seconds between template resends over UDP.
    public var templateIntervalSeconds: Int

    public static let defaultMTU = 1400
    public static let defaultTemplateInterval = 60

    public init(
        destination: String, mtu: Int = defaultMTU, observationDomain: UInt32 = 0, biflow: Bool = false,
        rate: Int = 0, templateIntervalSeconds: Int = defaultTemplateInterval
    ) {
        self.destination = destination
        self.mtu = mtu
        self.observationDomain = observationDomain
        self.biflow = biflow
        self.rate = rate
        self.templateIntervalSeconds = templateIntervalSeconds
    }

    /// The parsed destination, after checking every option: the first problem, thrown.
    public func checked() throws(IPFIXError) -> IPFIXDestination {
        let destination = try IPFIXDestination(parsing: destination)
        let range = IPFIXEncoder.minimumMessageLength...IPFIXEncoder.maximumMessageLength
        guard range.contains(mtu) else {
            throw IPFIXError(
                "--ipfix-mtu \(mtu) is out of range",
                hint:
                    "give a message size from \(range.lowerBound) to \(range.upperBound) bytes (default \(Self.defaultMTU))"
            )
        }
        guard rate >= 0 else {
            throw IPFIXError("--ipfix-rate \(rate) is negative", hint: "give records per second, or 0 for no limit")
        }
        guard templateIntervalSeconds > 0 else {
            throw IPFIXError(
                "--ipfix-template-interval \(templateIntervalSeconds) must be positive",
                hint: "give seconds between template resends (default \(Self.defaultTemplateInterval))")
        }
        return destination
    }
}

/// What an exporter did.
public struct IPFIXCounters: Sendable, Equatable {
    /// Data records in messages the socket accepted.
    public var recordsSent: UInt64 = 0
    public var messagesSent: UInt64 = 0
    /// Data records that could not be sent (send errors, no TCP connection, a full queue).
    public var recordsDropped: UInt64 = 0
    /// Failed sends and connection attempts.
    public var sendErrors: UInt64 = 0
    /// TCP: connection attempts after the first (after a failed attempt or a lost connection).
    public var reconnects: UInt64 = 0
    public init() {}
}

/// Sends flows to an IPFIX collector: records from `IPFIXEncoder`, messages over a connected UDP
/// socket (a 16 MB send buffer, templates resent on a timer, an optional record rate) or TCP
/// (non-blocking, a bounded queue, reconnecting with backoff from 0.5 s to 30 s; the templates go
/// first on every connection). Never blocks the caller for long: over TCP what does not fit in
/// the queue is dropped and counted; over UDP a send waits only for the local socket buffer.
public final class IPFIXExporter {
    public let destination: IPFIXDestination
    public let options: IPFIXOptions
    public private(set) var counters = IPFIXCounters()
    private var encoder: IPFIXEncoder
    private var fd: Int32 = -1
    private var address: [UInt8] = []
    private var family: Int32 = AF_INET
    private var lastTemplateNs: Int64 = .min
    // TCP
    private var connecting = false
    private var connected = false
    private var queue: [UInt8] = []
    private var queueRecords: [(end: Int, records: UInt64)] = []
    private var queueSent = 0
    /// The end of the messages wholly sent and counted (the queue's live part starts there).
    private var queueDone = 0
    private var retryAtNs: Int64 = 0
    private var backoffNs: Int64 = 500_000_000
    private static let queueLimit = 8 << 20
    // Pacing
    private var paceStartNs: Int64 = 0
    private var pacedRecords: UInt64 = 0

    /// Checks the options, resolves the collector and opens the socket (for TCP the first
    /// connection attempt starts; it is retried if it fails).
    public init(options: IPFIXOptions) throws(IPFIXError) {
        self.options = options
        destination = try options.checked()
        encoder = IPFIXEncoder(
            observationDomain: options.observationDomain, maximumLength: options.mtu, biflow: options.biflow)
        try resolve()
        if destination.transport == .udp {
            try openUDP()
        } else {
            startConnect(now: Self.nowNs())
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func wallSeconds() -> UInt32 { UInt32(truncatingIfNeeded: time(nil)) }

    private func resolve() throws(IPFIXError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = destination.transport == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(destination.host, String(destination.port), &hints, &result)
        guard rc == 0, let first = result else {
            let why = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            throw IPFIXError(
                "cannot resolve the IPFIX collector '\(destination.host)': \(why)",
                hint: "give an address or a name this host resolves")
        }
        defer { freeaddrinfo(result) }
        family = first.pointee.ai_family
        let raw = UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen))
        address = Array(raw)
    }

    private func connectSocket(_ s: Int32) -> Int32 {
        address.withUnsafeBytes { raw in
            connect(s, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }

    private func openUDP() throws(IPFIXError) {
        let s = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else {
            throw IPFIXError(
                "cannot open a UDP socket for IPFIX: \(String(cString: strerror(errno)))",
                hint: "check the system limits")
        }
        // A large send buffer: bursts of messages wait here rather than fail. SO_SNDBUFFORCE
        // (root, or CAP_NET_ADMIN) passes net.core.wmem_max; otherwise SO_SNDBUF up to it.
        var size: Int32 = 16 << 20
        if setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard connectSocket(s) == 0 else {
            let why = String(cString: strerror(errno))
            close(s)
            throw IPFIXError("cannot address the IPFIX collector \(destination): \(why)", hint: "check the address")
        }
        fd = s
    }

    private func startConnect(now: Int64) {
        if fd >= 0 { close(fd) }
        connected = false
        let s = socket(
            family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        fd = s
        guard s >= 0 else {
            failConnection(now: now)
            return
        }
        var one: Int32 = 1
        _ = setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if connectSocket(s) == 0 {
            connectionUp()
        } else if errno == EINPROGRESS {
            connecting = true
        } else {
            failConnection(now: now)
        }
    }

    private func connectionUp() {
        connecting = false
        connected = true
        backoffNs = 500_000_000
        // A new stream: the templates first, ahead of whatever is queued (a partly sent message
        // of the old connection is dropped).
        if queueSent > 0 { dropQueuedHead() }
        let t = encoder.templateMessage(exportTime: Self.wallSeconds())
        queue.insert(contentsOf: t, at: 0)
        queueRecords = queueRecords.map { ($0.end + t.count, $0.records) }
        queueRecords.insert((t.count, 0), at: 0)
    }

    private func dropQueuedHead() {
        // Drop whole messages up to and including the one partly sent.
        var cut = queueDone
        while let first = queueRecords.first, cut < queueSent {
            cut = first.end
            counters.recordsDropped &+= first.records
            queueRecords.removeFirst()
        }
        queue.removeFirst(cut)
        queueRecords = queueRecords.map { ($0.end - cut, $0.records) }
        queueSent = 0
        queueDone = 0
    }

    private func failConnection(now: Int64) {
        counters.sendErrors &+= 1
        if fd >= 0 { close(fd) }
        fd = -1
        connecting = false
        connected = false
        retryAtNs = now &+ backoffNs
        backoffNs = Swift.min(backoffNs * 2, 30_000_000_000)
    }

    /// Exports a flow that ended (one record per direction, or one biflow record).
    public func export(_ flow: Flow, reason: IPFIXEncoder.EndReason, ingressInterface: UInt32 = 0) {
        let now = Self.wallSeconds()
        IPFIXEncoder.records(of: flow, biflow: options.biflow, reason: reason, ingressInterface: ingressInterface) {
            record in
            encoder.append(record, exportTime: now) { outbox.append(($0, $1)) }
        }
        sendOutbox()
    }

    private var outbox: [(message: [UInt8], records: Int)] = []

    private func sendOutbox() {
        guard !outbox.isEmpty else { return }
        for m in outbox { send(m.message, records: UInt64(m.records)) }
        outbox.removeAll(keepingCapacity: true)
    }

    /// The end reason of a flow that left a table, or (`open`) that was still open at the end.
    public static func reason(_ flow: Flow) -> IPFIXEncoder.EndReason {
        switch flow.end {
        case .open: .forcedEnd
        case .idle: .idleTimeout
        case .active: .activeTimeout
        case .evicted: .lackOfResources
        }
    }

    /// Sends what is pending: the message being filled, the TCP queue as far as it goes now.
    public func flush() {
        encoder.flush { outbox.append(($0, $1)) }
        sendOutbox()
        if destination.transport == .tcp { pump(now: Self.nowNs()) }
    }

    /// The end: flushes, and over TCP waits up to `drainSeconds` for the queue to go out.
    public func finish(drainSeconds: Double = 5) {
        flush()
        guard destination.transport == .tcp else { return }
        let deadline = Self.nowNs() &+ Int64(drainSeconds * 1e9)
        while !queue.isEmpty && Self.nowNs() < deadline {
            pump(now: Self.nowNs())
            if queue.isEmpty { break }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if fd >= 0 { _ = poll(&p, 1, 50) } else { usleep(50_000) }
        }
        for m in queueRecords { counters.recordsDropped &+= m.records }
        queue.removeAll()
        queueRecords.removeAll()
        queueSent = 0
        queueDone = 0
    }

    /// A line for the status and the end of a run.
    public var summary: String {
        let c = counters
        let reconnects = destination.transport == .tcp ? ", \(c.reconnects) reconnects" : ""
        return
            "ipfix: \(c.recordsSent) records in \(c.messagesSent) messages sent to \(destination), \(c.recordsDropped) dropped, \(c.sendErrors) send errors"
            + reconnects
    }

    private func send(_ message: [UInt8], records: UInt64) {
        let now = Self.nowNs()
        if destination.transport == .udp {
            if lastTemplateNs == .min
                || now &- lastTemplateNs >= Int64(options.templateIntervalSeconds) * 1_000_000_000
            {
                lastTemplateNs = now
                let t = encoder.templateMessage(exportTime: Self.wallSeconds())
                _ = t.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            }
            pace(records, now: now)
            let n = message.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if n == message.count {
                counters.recordsSent &+= records
                counters.messagesSent &+= 1
            } else {
                counters.sendErrors &+= 1
                counters.recordsDropped &+= records
            }
            return
        }
        if queue.count - queueDone + message.count > Self.queueLimit {
            counters.recordsDropped &+= records
        } else {
            queue += message
            queueRecords.append((queue.count, records))
        }
        pump(now: now)
    }

    /// Waits as long as `--ipfix-rate` asks before `records` more go out.
    private func pace(_ records: UInt64, now: Int64) {
        guard options.rate > 0 else { return }
        if pacedRecords == 0 { paceStartNs = now }
        pacedRecords &+= records
        let dueNs = paceStartNs &+ Int64(Double(pacedRecords) / Double(options.rate) * 1e9)
        if dueNs > now {
            var ts = timespec(tv_sec: Int((dueNs - now) / 1_000_000_000), tv_nsec: Int((dueNs - now) % 1_000_000_000))
            nanosleep(&ts, nil)
        }
    }

    /// TCP: connects when due, writes what the socket takes without waiting.
    private func pump(now: Int64) {
        if fd < 0 && !connecting {
            if now >= retryAtNs {
                counters.reconnects &+= 1
                startConnect(now: now)
            }
            if fd < 0 { return }
        }
        if connecting {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&p, 1, 0) > 0 else { return }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                failConnection(now: now)
                return
            }
            connectionUp()
        }
        while connected && queueSent < queue.count {
            let n = queue.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + queueSent, $0.count - queueSent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                queueSent += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                break
            } else {
                dropQueuedHead()
                failConnection(now: now)
                return
            }
        }
        // Count and drop the messages wholly written.
        var cut = queueDone
        var done = 0
        for m in queueRecords {
            if m.end > queueSent { break }
            cut = m.end
            done += 1
            if m.records > 0 {
                counters.recordsSent &+= m.records
                counters.messagesSent &+= 1
            }
        }
        if done > 0 {
            queueRecords.removeFirst(done)
            queueDone = cut
        }
        // Compact when everything went, or when a megabyte of sent messages leads the queue.
        if queueSent == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueRecords.removeAll(keepingCapacity: true)
            queueSent = 0
            queueDone = 0
        } else if queueDone >= 1 << 20 {
            let d = queueDone
            queue.removeFirst(d)
            queueSent -= d
            queueDone = 0
            queueRecords = queueRecords.map { ($0.end - d, $0.records) }
        }
    }
}
