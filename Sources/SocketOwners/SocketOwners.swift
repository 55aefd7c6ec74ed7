import CNetLinux
import Glibc
public import PacketWire
public import TrafficAnalysis

/// What attribution did so far.
public struct SocketOwnersCounters: Sendable, Equatable {
    /// Flow ends handed over to be looked up.
    public var requested: UInt64 = 0
    /// Flow ends found owned by one process (or one name).
    public var attributed: UInt64 = 0
    /// Flow ends owned by processes with different names or units, or found in several
    /// namespaces: left empty.
    public var ambiguous: UInt64 = 0
    /// Flow ends not handed over because the queue was full (a flood of new flows).
    public var overflowed: UInt64 = 0
    /// Full scans of /proc.
    public var fullScans: UInt64 = 0
    /// Rounds answered with sock_diag dumps (many ends due at once) instead of exact lookups.
    public var dumps: UInt64 = 0
    /// Network namespaces queried.
    public var namespaces: Int = 0
    public init() {}

    /// The closing line of a run.
    public var summaryLine: String {
        "\(attributed) of \(requested) flow ends attributed to processes (\(ambiguous) ambiguous, \(overflowed) not looked up: queue full; \(dumps) dump rounds, \(fullScans) full scans of /proc)"
    }
}

/// How attribution runs.
public struct SocketOwnersSettings: Sendable {
    /// At most one full scan of /proc per this many nanoseconds (misses wait for the next).
    public var minFullScanNs: Int64 = 200_000_000
    /// A flow end that no socket owns is looked up again after these delays (ms) after its first
    /// lookup, then given up: the server end of a TCP connection exists only once accepted.
    public var retryDelaysMs: [Int64] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000]
    /// More due lookups than this at once: one dump per namespace instead of exact lookups.
    public var dumpThreshold = 64
    /// Flow ends handed over and not yet taken by the worker, at most.
    public var maxQueued = 16_384
    /// Flow ends the worker retries at once, at most (a flood of new flows to remote hosts):
    /// beyond it, new ends get their first lookup only.
    public var maxPending = 65_536
    /// Answers kept, at most; one not asked for in `keepNs` leaves.
    public var maxAnswers = 262_144
    public var keepNs: Int64 = 300_000_000_000

    public init() {}
}

/// Finds the local process at each end of a flow, as `ss -p` does: sock_diag (NETLINK_SOCK_DIAG)
/// finds the socket by its addresses and ports (an exact lookup for a new flow, dumps when many
/// are due), `/proc/PID/fd` maps the socket's inode to the processes holding it, `/proc/PID/comm`
/// and `/proc/PID/cgroup` name them. Every network namespace that a process lives in is asked
/// (a netlink socket opened inside it by the worker thread, after setns). Everything runs on
/// one worker thread of its own: the caller only hands over new flows (`flowStarted`, a lock and
/// an append) and reads the answers (`withOwners`). An end that cannot be found, or that several
/// different processes own, stays empty.
public final class SocketOwners: @unchecked Sendable {
    private let settings: SocketOwnersSettings
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Signalled when the worker has answered a round (for `settle`).
    private let answered = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Shared, under `mutex`.
    private var queue: [SocketEnd] = []
    private var answers: [SocketEnd: Answer] = [:]
    private var stopping = false
    private var ready = false
    /// The worker holds requests it has taken but not yet answered.
    private var busy = false
    /// Ends the worker still retries that were first asked about moments ago.
    private var young = 0
    private var shared = SocketOwnersCounters()
    private var thread = pthread_t()
    private var started = false

    struct Answer {
        var owner: ProcessOwner
        var touchedNs: Int64
    }

    /// Starts the worker and waits for its first scan of /proc and of the namespaces (so that,
    /// started before privileges are dropped, it holds a socket in each namespace there is).
    public init(_ settings: SocketOwnersSettings = SocketOwnersSettings()) {
        self.settings = settings
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_cond_init(answered, &attributes)
        pthread_condattr_destroy(&attributes)
        let worker = Worker(settings: settings)
        let box = Unmanaged.passRetained(WorkerStart(owners: self, worker: worker)).toOpaque()
        var id = pthread_t()
        if pthread_create(
            &id, nil,
            {
                Unmanaged<WorkerStart>.fromOpaque($0!).takeRetainedValue().run()
                return nil
            }, box)
            == 0
        {
            thread = id
            started = true
            pthread_mutex_lock(mutex)
            while !ready { pthread_cond_wait(cond, mutex) }
            pthread_mutex_unlock(mutex)
        } else {
            Unmanaged<WorkerStart>.fromOpaque(box).release()
        }
    }

    deinit {
        stop()
        pthread_cond_destroy(cond)
        pthread_cond_destroy(answered)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        answered.deallocate()
        mutex.deallocate()
    }

    /// Ends the worker (idempotent).
    public func stop() {
        pthread_mutex_lock(mutex)
        let wasStarted = started
        started = false
        stopping = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        if wasStarted { pthread_join(thread, nil) }
    }

    /// A new flow: its TCP or UDP ends are looked up at once (on the worker). Other protocols
    /// have no sockets to find. Cheap: a lock and an append.
    public func flowStarted(_ f: Flow) {
        guard f.key.hasPorts, f.key.label == .tcp || f.key.label == .udp, f.key.ipVersion != 0 else { return }
        let ends = Self.ends(f)
        pthread_mutex_lock(mutex)
        for e in [ends.src, ends.dst] {
            // A flow that starts again may be another connection: its old answer goes.
            answers.removeValue(forKey: e)
            if queue.count < settings.maxQueued {
                queue.append(e)
                shared.requested &+= 1
            } else {
                shared.overflowed &+= 1
            }
        }
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    /// The socket ends of a flow: its src end (local = src) and its dst end.
    public static func ends(_ f: Flow) -> (src: SocketEnd, dst: SocketEnd) {
        let proto: UInt8 = f.key.label == .tcp ? 6 : 17
        let v = f.key.ipVersion
        let s = f.src
        let d = f.dst
        return (
            SocketEnd(
                proto: proto, version: v, local: s.address, localPort: s.port, remote: d.address, remotePort: d.port),
            SocketEnd(
                proto: proto, version: v, local: d.address, localPort: d.port, remote: s.address, remotePort: s.port)
        )
    }

    /// Waits (at most `timeoutNs`) until every flow handed over so far has had its first lookup
    /// and the ends still being retried were first asked about longer ago than the first few
    /// retries: called before an interval's rows are read, so that a flow that started just
    /// before the interval ended is not shown without its processes for want of a millisecond.
    public func settle(timeoutNs: Int64 = 30_000_000) {
        let deadline = Self.monotonicNow() + timeoutNs
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while (!queue.isEmpty || busy || young > 0) && started && !stopping {
            if Self.monotonicNow() >= deadline { break }
            var t = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            _ = pthread_cond_timedwait(answered, mutex, &t)
        }
    }

    /// Reads the answers under the lock (once per interval, for every row).
    public func withOwners<R>(_ body: (OwnerLookup) throws -> R) rethrows -> R {
        let now = Self.monotonicNow()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(OwnerLookup(owners: self, nowNs: now))
    }

    /// The answers as one interval sees them.
    /// Valid only inside the `withOwners` call that hands it over.
    public struct OwnerLookup {
        fileprivate unowned(unsafe) let owners: SocketOwners
        fileprivate let nowNs: Int64

        fileprivate init(owners: SocketOwners, nowNs: Int64) {
            self.owners = owners
            self.nowNs = nowNs
        }

        /// The owner of one socket end, if known.
        public func owner(_ end: SocketEnd) -> ProcessOwner? {
            guard var a = owners.answers[end] else { return nil }
            if nowNs - a.touchedNs > 1_000_000_000 {
                a.touchedNs = nowNs
                owners.answers[end] = a
            }
            return a.owner
        }

        /// The owners of a flow's src and dst ends.
        public func owners(of f: Flow) -> (src: ProcessOwner?, dst: ProcessOwner?) {
            guard f.key.hasPorts, f.key.label == .tcp || f.key.label == .udp else { return (nil, nil) }
            let e = SocketOwners.ends(f)
            return (owner(e.src), owner(e.dst))
        }
    }

    public var counters: SocketOwnersCounters {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return shared
    }

    static func monotonicNow() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }

    // MARK: worker side

    fileprivate func workerReady(namespaces: Int, fullScans: UInt64) {
        pthread_mutex_lock(mutex)
        ready = true
        shared.namespaces = namespaces
        shared.fullScans = fullScans
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until requests come, `untilNs` passes or the run stops; returns the requests (nil:
    /// stop).
    fileprivate func take(untilNs: Int64?) -> [SocketEnd]? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while queue.isEmpty && !stopping {
            let deadline = untilNs ?? (Self.monotonicNow() + 1_000_000_000)
            if Self.monotonicNow() >= deadline { break }
            var t = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            _ = pthread_cond_timedwait(cond, mutex, &t)
            if untilNs == nil { break }
        }
        if stopping { return nil }
        let taken = queue
        queue.removeAll(keepingCapacity: true)
        busy = true
        return taken
    }

    fileprivate func publish(
        _ found: [(SocketEnd, ProcessOwner)], ambiguous: Int, young: Int, counters w: WorkerCounters
    ) {
        let now = Self.monotonicNow()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        busy = false
        self.young = young
        pthread_cond_broadcast(answered)
        for (end, owner) in found where answers.count < settings.maxAnswers || answers[end] != nil {
            answers[end] = Answer(owner: owner, touchedNs: now)
        }
        shared.attributed &+= UInt64(found.count)
        shared.ambiguous &+= UInt64(ambiguous)
        shared.fullScans = w.fullScans
        shared.dumps = w.dumps
        shared.namespaces = w.namespaces
    }

    fileprivate func prune(nowNs: Int64) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let cutoff = nowNs - settings.keepNs
        answers = answers.filter { $0.value.touchedNs >= cutoff }
    }
}

private final class WorkerStart {
    let owners: SocketOwners
    let worker: Worker
    init(owners: SocketOwners, worker: Worker) {
        self.owners = owners
        self.worker = worker
    }
    func run() { worker.run(owners) }
}

struct WorkerCounters {
    var fullScans: UInt64 = 0
    var dumps: UInt64 = 0
    var namespaces = 0
}

/// The worker thread's own state: no lock, nobody else touches it.
private final class Worker {
    let settings: SocketOwnersSettings
    var counters = WorkerCounters()
    /// sock_diag sockets by network namespace (inode of /proc/PID/ns/net).
    var spaces: [UInt64: SockDiag] = [:]
    var ownSpace: UInt64 = 0
    var ownSpaceFD: Int32 = -1
    /// Socket inode → the pids holding it.
    var holders: [UInt32: [Int32]] = [:]
    /// Pids seen by the last scans.
    var known: Set<Int32> = []
    /// Pids that held a looked-up socket lately (scanned first on a miss), with when.
    var hot: [Int32: Int64] = [:]
    var info: [Int32: (name: String, unit: String, readNs: Int64)] = [:]
    var lastFullScanNs: Int64 = .min
    var pending: [SocketEnd: Pending] = [:]
    var lastPruneNs: Int64 = 0

    struct Pending {
        var attempt: Int
        var dueNs: Int64
    }

    init(settings: SocketOwnersSettings) { self.settings = settings }

    func run(_ owners: SocketOwners) {
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
        ownSpaceFD = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        var st = stat()
        if ownSpaceFD >= 0, fstat(ownSpaceFD, &st) == 0 { ownSpace = UInt64(st.st_ino) }
        if let s = SockDiag() { spaces[ownSpace] = s }
        fullScan(now: SocketOwners.monotonicNow())
        owners.workerReady(namespaces: spaces.count, fullScans: counters.fullScans)
        while true {
            let nextDue = pending.values.map(\.dueNs).min()
            guard let requests = owners.take(untilNs: nextDue) else { break }
            let now = SocketOwners.monotonicNow()
            for e in requests {
                // Full: first lookup only (the attempt count says it is the last).
                let attempt = pending.count < settings.maxPending ? 0 : settings.retryDelaysMs.count
                pending[e] = Pending(attempt: attempt, dueNs: now)
            }
            let due = pending.filter { $0.value.dueNs <= now }.map(\.key)
            if due.isEmpty {
                owners.publish([], ambiguous: 0, young: youngCount, counters: counters)
            } else {
                resolve(due, now: now, owners)
            }
            if now - lastPruneNs > 10_000_000_000 {
                lastPruneNs = now
                owners.prune(nowNs: now)
                hot = hot.filter { now - $0.value < 60_000_000_000 }
                // Incremental scans only add (the sockets of busy processes come and go): a full
                // scan once a minute forgets closed sockets and ended pids, so memory stays flat.
                if now - lastFullScanNs > 60_000_000_000 { fullScan(now: now) }
            }
        }
        spaces.removeAll()
        if ownSpaceFD >= 0 { close(ownSpaceFD) }
    }

    enum Outcome {
        case owner(ProcessOwner)
        case ambiguous
        case notFound
    }

    func resolve(_ due: [SocketEnd], now: Int64, _ owners: SocketOwners) {
        var scans = ScanBudget()
        var found: [(SocketEnd, ProcessOwner)] = []
        var ambiguous = 0
        let sockets: [SocketEnd: [(UInt64, UInt32)]]
        if due.count > settings.dumpThreshold {
            counters.dumps &+= 1
            sockets = dumpLookup(due)
        } else {
            var s: [SocketEnd: [(UInt64, UInt32)]] = [:]
            for e in due {
                var hits: [(UInt64, UInt32)] = []
                for space in spacesFor(e) {
                    if let d = spaces[space]?.lookup(e) { hits.append((space, d.inode)) }
                }
                s[e] = hits
            }
            sockets = s
        }
        for e in due {
            switch outcome(sockets[e] ?? [], now: now, scans: &scans) {
            case .owner(let o):
                found.append((e, o))
                pending.removeValue(forKey: e)
            case .ambiguous:
                ambiguous += 1
                pending.removeValue(forKey: e)
            case .notFound:
                guard var p = pending[e] else { continue }
                if p.attempt >= settings.retryDelaysMs.count {
                    pending.removeValue(forKey: e)
                } else {
                    p.dueNs = now + settings.retryDelaysMs[p.attempt] * 1_000_000
                    p.attempt += 1
                    pending[e] = p
                }
            }
        }
        owners.publish(found, ambiguous: ambiguous, young: youngCount, counters: counters)
    }

    /// Ends in their first few retries (the server end of a connection being accepted).
    var youngCount: Int { pending.values.count { $0.attempt <= 3 } }

    /// The namespaces to ask about an end: loopback traffic is only ever this namespace's.
    func spacesFor(_ e: SocketEnd) -> [UInt64] {
        e.isLoopback ? [ownSpace] : Array(spaces.keys)
    }

    struct ScanBudget {
        var incremental = false
        var full = false
    }

    /// What the sockets found for an end say: one owner, several, or none (yet).
    func outcome(_ hits: [(UInt64, UInt32)], now: Int64, scans: inout ScanBudget) -> Outcome {
        guard !hits.isEmpty else { return .notFound }
        var result: ProcessOwner?
        for (_, inode) in hits {
            if holders[inode] == nil, !scans.incremental {
                scans.incremental = true
                incrementalScan(now: now)
            }
            if holders[inode] == nil, !scans.full, now - lastFullScanNs >= settings.minFullScanNs {
                scans.full = true
                fullScan(now: now)
            }
            guard let pids = holders[inode] else { return .notFound }
            guard let o = owner(pids, now: now) else { return .ambiguous }
            if let r = result, r != o { return .ambiguous }
            result = o
            for p in pids { hot[p] = now }
        }
        return result.map { .owner($0) } ?? .notFound
    }

    /// One owner for the pids holding a socket: the process, or (several processes of one name
    /// and unit) that name with pid 0; nil when they differ or are gone.
    func owner(_ pids: [Int32], now: Int64) -> ProcessOwner? {
        var result: ProcessOwner?
        for pid in Set(pids) {
            guard let i = processInfo(pid, now: now) else { continue }
            let o = ProcessOwner(pid: pid, name: i.name, unit: i.unit)
            if let r = result {
                guard r.name == o.name, r.unit == o.unit else { return nil }
                result?.pid = 0
            } else {
                result = o
            }
        }
        return result
    }

    func processInfo(_ pid: Int32, now: Int64) -> (name: String, unit: String)? {
        if let i = info[pid], now - i.readNs < 10_000_000_000 { return (i.name, i.unit) }
        guard let name = ProcFiles.comm(pid) else { return nil }
        let unit = ProcFiles.cgroup(pid).map(CgroupUnit.parse) ?? ""
        info[pid] = (name, unit, now)
        return (name, unit)
    }

    /// Scans the fds of the pids that appeared since the last scan and of those that held
    /// looked-up sockets lately.
    func incrementalScan(now: Int64) {
        let all = ProcFiles.pids()
        var scan: [Int32] = []
        for p in all where !known.contains(p) {
            known.insert(p)
            scan.append(p)
        }
        for p in hot.keys where !scan.contains(p) { scan.append(p) }
        for p in scan {
            ProcFiles.socketInodes(p) { inode in
                if !(holders[inode]?.contains(p) ?? false) { holders[inode, default: []].append(p) }
            }
        }
        // A pid seen anew may live in a namespace not asked yet.
        var newSpaces = false
        for p in scan {
            if let ns = ProcFiles.netNamespace(p), spaces[ns] == nil {
                newSpaces = true
                openSpace(ns, pid: p)
            }
        }
        if newSpaces { counters.namespaces = spaces.count }
    }

    /// Every process's sockets and namespace, anew; namespaces no process lives in any more are
    /// let go (our socket would keep them alive).
    func fullScan(now: Int64) {
        lastFullScanNs = now
        counters.fullScans &+= 1
        var map: [UInt32: [Int32]] = [:]
        let all = ProcFiles.pids()
        var seenSpaces: [UInt64: Int32] = [:]
        for p in all {
            ProcFiles.socketInodes(p) { map[$0, default: []].append(p) }
            if let ns = ProcFiles.netNamespace(p), seenSpaces[ns] == nil { seenSpaces[ns] = p }
        }
        holders = map
        known = Set(all)
        info = info.filter { known.contains($0.key) }
        for (ns, pid) in seenSpaces where spaces[ns] == nil { openSpace(ns, pid: pid) }
        for ns in Array(spaces.keys) where ns != ownSpace && seenSpaces[ns] == nil { spaces.removeValue(forKey: ns) }
        counters.namespaces = spaces.count
    }

    /// Opens a sock_diag socket inside the namespace of `pid` (this thread enters it, opens the
    /// socket, and comes back). Without the privilege to enter, that namespace is not asked.
    func openSpace(_ ns: UInt64, pid: Int32) {
        guard ownSpaceFD >= 0 else { return }
        let fd = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard pktstat_setns_net(fd) == 0 else { return }
        let s = SockDiag()
        if pktstat_setns_net(ownSpaceFD) != 0 {
            // Cannot come back: stop asking anything rather than answer for the wrong namespace.
            spaces.removeAll()
            ownSpaceFD = -1
            return
        }
        if let s { spaces[ns] = s }
    }

    /// Many ends due at once: one dump per namespace, protocol and family, matched here as the
    /// kernel would (TCP: the connection; UDP: connected, then bound to the address, then to any).
    func dumpLookup(_ due: [SocketEnd]) -> [SocketEnd: [(UInt64, UInt32)]] {
        var result: [SocketEnd: [(UInt64, UInt32)]] = [:]
        let protos = Set(due.map(\.proto))
        for (space, diag) in spaces {
            var exact: [SocketEnd: UInt32] = [:]
            var bound: [SocketEnd: UInt32] = [:]
            for proto in protos {
                for family in [UInt8(AF_INET), UInt8(AF_INET6)] {
                    _ = diag.dump(proto: proto, family: family) { s in
                        guard s.inode != 0 else { return }
                        for (addr, version) in Self.forms(s.local, family: s.family) {
                            let (remote, _) =
                                Self.forms(s.remote, family: s.family).first(where: { $0.1 == version })
                                ?? (.zero, version)
                            let e = SocketEnd(
                                proto: proto, version: version, local: addr, localPort: s.localPort, remote: remote,
                                remotePort: s.remotePort)
                            if s.remotePort == 0 && proto == 17 {
                                bound[e] = s.inode
                            } else {
                                exact[e] = s.inode
                            }
                        }
                    }
                }
            }
            for e in due where e.isLoopback ? space == ownSpace : true {
                if let i = exact[e] {
                    result[e, default: []].append((space, i))
                    continue
                }
                guard e.proto == 17 else { continue }
                var b = e
                b.remote = .zero
                b.remotePort = 0
                if let i = bound[b] {
                    result[e, default: []].append((space, i))
                    continue
                }
                b.local = .zero
                if let i = bound[b] { result[e, default: []].append((space, i)) }
            }
        }
        return result
    }

    /// The versions an address of a socket of `family` answers for: a v4 socket's v4 address; a
    /// v6 socket's v6 address, and its v4 one when it is v4-mapped (or `::`, dual stack).
    static func forms(_ a: IPAddress, family: UInt8) -> [(IPAddress, UInt8)] {
        if family == UInt8(AF_INET) { return [(a, 4)] }
        if a.hi == 0 && a.lo >> 32 == 0xFFFF { return [(IPAddress(v4: UInt32(truncatingIfNeeded: a.lo)), 4), (a, 6)] }
        if a == .zero { return [(.zero, 4), (.zero, 6)] }
        return [(a, 6)]
    }
}
