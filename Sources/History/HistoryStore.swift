import CSQLite
import Glibc

/// Packets and bytes.
public struct HistoryCounts: Sendable, Equatable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0

    public init(packets: UInt64 = 0, bytes: UInt64 = 0) {
        self.packets = packets
        self.bytes = bytes
    }

    public mutating func add(bytes b: UInt64) {
        packets &+= 1
        bytes &+= b
    }

    public mutating func add(_ o: HistoryCounts) {
        packets &+= o.packets
        bytes &+= o.bytes
    }
}

/// What a history is kept by: totals by interface and by protocol, and the top talkers by host, by
/// port and by process.
public enum HistoryDimension: String, Sendable, CaseIterable {
    case interface, `protocol`, host, port, process

    /// Whether only the top names are kept (the rest folded into `other`).
    public var isTalkers: Bool { self == .host || self == .port || self == .process }
}

/// The rows' resolutions, finest first, and how long each is kept (vnstat's defaults: 5-minute
/// rows for 2 days, hourly for 30 days, daily for 2 years, monthly for 10 years).
public enum HistoryResolution: String, Sendable, CaseIterable {
    case fiveMinutes = "5m"
    case hour, day, month

    /// The start (epoch seconds, UTC) of the bucket holding `t`.
    public func bucket(_ t: Int64) -> Int64 {
        switch self {
        case .fiveMinutes: return floorDiv(t, 300) * 300
        case .hour: return floorDiv(t, 3600) * 3600
        case .day: return floorDiv(t, 86400) * 86400
        case .month:
            let (y, m, _) = CivilDate.fromDays(floorDiv(t, 86400))
            return CivilDate.days(year: y, month: m, day: 1) * 86400
        }
    }

    /// The bucket after the one starting at `start`.
    public func next(_ start: Int64) -> Int64 {
        switch self {
        case .fiveMinutes: return start + 300
        case .hour: return start + 3600
        case .day: return start + 86400
        case .month:
            let (y, m, _) = CivilDate.fromDays(floorDiv(start, 86400))
            return CivilDate.days(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1, day: 1) * 86400
        }
    }

    /// How long rows are kept (seconds), by default.
    public var defaultRetention: Int64 {
        switch self {
        case .fiveMinutes: 2 * 86400
        case .hour: 30 * 86400
        case .day: 730 * 86400
        case .month: 3653 * 86400
        }
    }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// Days since 1970-01-01 and civil dates (Howard Hinnant's algorithms), UTC.
public enum CivilDate {
    public static func days(year y0: Int64, month m: Int64, day d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for epoch seconds.
    public static func rfc3339(seconds t: Int64) -> String {
        let days = floorDiv(t, 86400)
        let (y, m, d) = fromDays(days)
        let s = t - days * 86400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
    }

    public static func fromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// One minute of traffic, as the writer hands it to the store: counts by name in each dimension.
public struct HistoryMinute: Sendable {
    /// Epoch seconds of the minute's start (a multiple of 60).
    public var start: Int64
    public var counts: [HistoryDimension: [String: HistoryCounts]] = [:]

    public init(start: Int64) { self.start = start }

    public var isEmpty: Bool { counts.values.allSatisfy(\.isEmpty) }

    public mutating func add(_ d: HistoryDimension, _ name: String, bytes: UInt64) {
        counts[d, default: [:]][name, default: HistoryCounts()].add(bytes: bytes)
    }

    public mutating func add(_ d: HistoryDimension, _ name: String, _ c: HistoryCounts) {
        counts[d, default: [:]][name, default: HistoryCounts()].add(c)
    }
}

/// Why a history file cannot be used, in words for the error line.
public enum HistoryError: Error, Sendable, CustomStringConvertible {
    case notAHistory(path: String)
    case newerSchema(path: String, version: Int64)
    case locked(path: String)
    case missing(path: String)
    case sqlite(SQLiteError)

    public var description: String {
        switch self {
        case .notAHistory(let p): "\(p) is not a pktstat history"
        case .newerSchema(let p, let v):
            "\(p) has history schema \(v), newer than this pktstat's \(HistoryStore.schemaVersion)"
        case .locked(let p): "\(p) is being written by another pktstat"
        case .missing(let p): "\(p) does not exist"
        case .sqlite(let e):
            if e.isNotADatabase {
                "\(e.path) is damaged or not a database"
            } else if e.isFull {
                "\(e.path): the disk is full"
            } else if e.isNotWritable {
                "\(e.path) cannot be written"
            } else {
                e.description
            }
        }
    }

    public var hint: String? {
        switch self {
        case .notAHistory: "give --db a file that pktstat history or serve --history wrote, or a new path"
        case .newerSchema: "use the pktstat that wrote it, or a new --db file"
        case .locked: "stop the other writer (serve --history, history import), or use another --db file"
        case .missing: "import a capture first: pktstat history import FILE --db PATH"
        case .sqlite(let e):
            if e.isNotADatabase {
                "check it with sqlite3 PATH 'PRAGMA integrity_check'; pktstat does not change a damaged file"
            } else if e.isFull {
                "free space on its file system; the last minute was not written, the file is whole"
            } else {
                "check the path and its folder's permissions"
            }
        }
    }
}

/// The history file: SQLite in WAL mode, one transaction per minute, rollups and retention done
/// by the writer (never by a reader). Schema (version 1, `PRAGMA user_version`; `application_id`
/// marks the file as pktstat's):
///
///     traffic(resolution, start, dimension, name, packets, bytes)   primary key: the first four
///     imports(fingerprint, path, packets, first, last, imported)    files imported
///     minutes(start)                                                 minutes written (2 days)
///
/// Each minute is added to the 5-minute, hourly, daily and monthly rows at once. Talker
/// dimensions (host, port, process) keep the minute's top `topTalkers` names per dimension and
/// fold the rest into `other`; a bucket is cut back to its top names again when it closes, and the
/// open daily and monthly buckets every hour, so the file grows by a bounded number of rows per
/// bucket whatever the traffic.
public final class HistoryStore {
    public static let schemaVersion: Int64 = 1
    static let applicationID: Int32 = 0x706B_7468  // "pkth"

    public let path: String
    public let topTalkers: Int
    public var retention: [HistoryResolution: Int64] = Dictionary(
        uniqueKeysWithValues: HistoryResolution.allCases.map { ($0, $0.defaultRetention) })
    let db: SQLiteDatabase
    private var lockFD: Int32 = -1
    private var openBuckets: [HistoryResolution: Int64] = [:]
    private var lastCompaction: Int64 = .min
    private var upsert: SQLiteStatement?

    /// Opens `path` to write (created when missing; the writer's lock taken: a second writer is
    /// refused) or to read (must exist).
    public init(path: String, writable: Bool, topTalkers: Int = 20) throws(HistoryError) {
        self.path = path
        self.topTalkers = max(1, topTalkers)
        if !writable && access(path, F_OK) != 0 { throw .missing(path: path) }
        if writable {
            lockFD = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if lockFD < 0 {
                throw .sqlite(SQLiteError(code: SQLITE_CANTOPEN, message: "cannot create its lock file", path: path))
            }
            if flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
                close(lockFD)
                throw .locked(path: path)
            }
        }
        do throws(SQLiteError) {
            db = try SQLiteDatabase(path: path, readOnly: !writable)
        } catch {
            if lockFD >= 0 { close(lockFD) }
            throw error.historyError(path)
        }
        do throws(HistoryError) {
            try checkSchema(writable: writable)
        } catch {
            if lockFD >= 0 { close(lockFD) }
            throw error
        }
    }

    deinit { if lockFD >= 0 { close(lockFD) } }

    private func checkSchema(writable: Bool) throws(HistoryError) {
        let (app, version, tables) = try sql { () throws(SQLiteError) in
            (
                try db.integer("PRAGMA application_id") ?? 0, try db.integer("PRAGMA user_version") ?? 0,
                try db.integer("SELECT count(*) FROM sqlite_master") ?? 0
            )
        }
        if app == 0 && version == 0 && tables == 0 {
            guard writable else { throw .notAHistory(path: path) }
            try sql { () throws(SQLiteError) in
                try db.execute("PRAGMA journal_mode = WAL")
                try db.transaction { () throws(SQLiteError) in try migrate(from: 0) }
                try db.execute("PRAGMA synchronous = NORMAL")
            }
            return
        }
        guard app == Int64(HistoryStore.applicationID) else { throw .notAHistory(path: path) }
        if version > HistoryStore.schemaVersion { throw .newerSchema(path: path, version: version) }
        try sql { () throws(SQLiteError) in
            if writable {
                try db.execute("PRAGMA journal_mode = WAL")
                if version < HistoryStore.schemaVersion {
                    try db.transaction { () throws(SQLiteError) in try migrate(from: version) }
                }
            }
            try db.execute("PRAGMA synchronous = NORMAL")
        }
    }

    /// Runs SQLite calls, their errors in history words.
    func sql<T>(_ body: () throws(SQLiteError) -> T) throws(HistoryError) -> T {
        do throws(SQLiteError) { return try body() } catch { throw error.historyError(path) }
    }

    /// The migrations, from each version to the next, in one transaction with the version bump.
    private func migrate(from version: Int64) throws(SQLiteError) {
        if version < 1 {
            try db.execute(
                """
                CREATE TABLE traffic(resolution TEXT NOT NULL, start INTEGER NOT NULL, dimension TEXT NOT NULL,
                  name TEXT NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,
                  PRIMARY KEY (resolution, start, dimension, name)) WITHOUT ROWID;
                CREATE TABLE imports(fingerprint TEXT PRIMARY KEY, path TEXT NOT NULL, packets INTEGER NOT NULL,
                  first INTEGER, last INTEGER, imported INTEGER NOT NULL);
                CREATE TABLE minutes(start INTEGER PRIMARY KEY);
                PRAGMA application_id = \(HistoryStore.applicationID);
                """)
        }
        try db.execute("PRAGMA user_version = \(HistoryStore.schemaVersion)")
    }

    // MARK: - Writing

    /// Adds one minute in one transaction (every resolution, then retention and compaction).
    public func add(_ minute: HistoryMinute) throws(HistoryError) {
        do throws(SQLiteError) {
            try db.transaction { () throws(SQLiteError) in
                let up = try upsertStatement()
                for r in HistoryResolution.allCases {
                    let start = r.bucket(minute.start)
                    for (dimension, names) in minute.counts {
                        for (name, c) in keptNames(names, dimension) {
                            try up.bind(
                                .text(r.rawValue), .int(start), .text(dimension.rawValue), .text(name),
                                .int(Int64(c.packets)), .int(Int64(c.bytes))
                            ).run()
                        }
                    }
                }
                try db.prepare("INSERT OR IGNORE INTO minutes(start) VALUES (?)").bind(.int(minute.start)).run()
                // Retention moves only when a bucket closes: at most every 5 minutes.
                if try closeBuckets(at: minute.start) { try applyRetention(newest: minute.start) }
            }
        } catch {
            throw error.historyError(path)
        }
    }

    /// Cuts every open bucket back to its top names (end of an import, a writer's stop).
    public func finish() throws(HistoryError) {
        do throws(SQLiteError) {
            try db.transaction { () throws(SQLiteError) in
                for (r, start) in openBuckets { try compact(r, start) }
            }
            openBuckets = [:]
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        } catch {
            throw error.historyError(path)
        }
    }

    private func upsertStatement() throws(SQLiteError) -> SQLiteStatement {
        if let upsert { return upsert }
        let s = try db.prepare(
            """
            INSERT INTO traffic(resolution, start, dimension, name, packets, bytes) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(resolution, start, dimension, name)
            DO UPDATE SET packets = packets + excluded.packets, bytes = bytes + excluded.bytes
            """)
        upsert = s
        return s
    }

    /// The names of a minute that are stored: all of them for totals; for talkers the top
    /// `topTalkers` by bytes and the rest summed as `other`.
    func keptNames(_ names: [String: HistoryCounts], _ d: HistoryDimension) -> [(String, HistoryCounts)] {
        guard d.isTalkers, names.count > topTalkers else { return names.map { ($0.key, $0.value) } }
        let sorted = names.sorted {
            $0.value.bytes != $1.value.bytes ? $0.value.bytes > $1.value.bytes : $0.key < $1.key
        }
        var kept = sorted.prefix(topTalkers).map { ($0.key, $0.value) }
        var other = HistoryCounts()
        for (_, c) in sorted.dropFirst(topTalkers) { other.add(c) }
        kept.append(("other", other))
        return kept
    }

    /// Compacts the buckets `minute` closed; true when any closed (or none was open).
    @discardableResult
    private func closeBuckets(at minute: Int64) throws(SQLiteError) -> Bool {
        var closed = false
        for r in HistoryResolution.allCases {
            let start = r.bucket(minute)
            if let open = openBuckets[r] {
                if open != start {
                    try compact(r, open)
                    closed = true
                }
            } else {
                closed = true
            }
            openBuckets[r] = start
        }
        // The open daily and monthly buckets gather up to topTalkers names a minute: cut them
        // back every hour of traffic.
        if minute >= lastCompaction + 3600 || minute < lastCompaction {
            lastCompaction = minute
            for r in [HistoryResolution.day, .month] { try compact(r, r.bucket(minute)) }
        }
        return closed
    }

    /// Keeps a bucket's top `topTalkers` names per talker dimension; the rest go into `other`.
    func compact(_ r: HistoryResolution, _ start: Int64) throws(SQLiteError) {
        for d in HistoryDimension.allCases where d.isTalkers {
            let rows = try db.prepare(
                """
                SELECT name, packets, bytes FROM traffic WHERE resolution = ? AND dimension = ? AND start = ?
                  AND name <> 'other' ORDER BY bytes DESC, name LIMIT -1 OFFSET ?
                """
            ).bind(.text(r.rawValue), .text(d.rawValue), .int(start), .int(Int64(topTalkers)))
            var folded = HistoryCounts()
            var names: [String] = []
            while try rows.step() {
                names.append(rows.text(0))
                folded.add(HistoryCounts(packets: UInt64(rows.int64(1)), bytes: UInt64(rows.int64(2))))
            }
            guard !names.isEmpty else { continue }
            let delete = try db.prepare(
                "DELETE FROM traffic WHERE resolution = ? AND dimension = ? AND start = ? AND name = ?")
            for n in names { try delete.bind(.text(r.rawValue), .text(d.rawValue), .int(start), .text(n)).run() }
            try upsertStatement().bind(
                .text(r.rawValue), .int(start), .text(d.rawValue), .text("other"), .int(Int64(folded.packets)),
                .int(Int64(folded.bytes))
            ).run()
        }
    }

    private func applyRetention(newest: Int64) throws(SQLiteError) {
        let delete = try db.prepare("DELETE FROM traffic WHERE resolution = ? AND start < ?")
        for r in HistoryResolution.allCases {
            let keep = retention[r] ?? r.defaultRetention
            try delete.bind(.text(r.rawValue), .int(r.bucket(newest - keep))).run()
        }
        try db.prepare("DELETE FROM minutes WHERE start < ?").bind(
            .int(newest - (retention[.fiveMinutes] ?? HistoryResolution.fiveMinutes.defaultRetention))
        ).run()
    }

    // MARK: - Imports

    /// When a file with this fingerprint was imported (epoch seconds), or nil.
    public func importedAt(fingerprint: String) throws(HistoryError) -> Int64? {
        do throws(SQLiteError) {
            let s = try db.prepare("SELECT imported FROM imports WHERE fingerprint = ?").bind(.text(fingerprint))
            return try s.step() ? s.int64(0) : nil
        } catch {
            throw error.historyError(path)
        }
    }

    public func recordImport(fingerprint: String, path file: String, packets: UInt64, first: Int64?, last: Int64?)
        throws(HistoryError)
    {
        do throws(SQLiteError) {
            try db.prepare("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?)").bind(
                .text(fingerprint), .text(file), .int(Int64(packets)), first.map { .int($0) } ?? .null,
                last.map { .int($0) } ?? .null, .int(Int64(time(nil)))
            ).run()
        } catch {
            throw error.historyError(path)
        }
    }

    // MARK: - Reading

    /// One stored row.
    public struct Row: Sendable, Equatable {
        public var start: Int64
        public var name: String
        public var counts: HistoryCounts
    }

    /// The rows of one resolution and dimension with `since <= start < until`, by start, most
    /// bytes first.
    public func rows(_ r: HistoryResolution, _ d: HistoryDimension, since: Int64, until: Int64) throws(HistoryError)
        -> [Row]
    {
        do throws(SQLiteError) {
            let s = try db.prepare(
                """
                SELECT start, name, packets, bytes FROM traffic WHERE resolution = ? AND dimension = ?
                  AND start >= ? AND start < ? ORDER BY start, bytes DESC, name
                """
            ).bind(.text(r.rawValue), .text(d.rawValue), .int(since), .int(until))
            var out: [Row] = []
            while try s.step() {
                out.append(
                    Row(
                        start: s.int64(0), name: s.text(1),
                        counts: HistoryCounts(packets: UInt64(s.int64(2)), bytes: UInt64(s.int64(3)))))
            }
            return out
        } catch {
            throw error.historyError(path)
        }
    }

    /// The minutes written with `since <= start < until` (kept as long as the 5-minute rows).
    public func minutes(since: Int64, until: Int64) throws(HistoryError) -> [Int64] {
        do throws(SQLiteError) {
            let s = try db.prepare("SELECT start FROM minutes WHERE start >= ? AND start < ? ORDER BY start").bind(
                .int(since), .int(until))
            var out: [Int64] = []
            while try s.step() { out.append(s.int64(0)) }
            return out
        } catch {
            throw error.historyError(path)
        }
    }

    /// The oldest and newest bucket starts of a resolution, or nil when it has no rows.
    public func span(_ r: HistoryResolution) throws(HistoryError) -> (Int64, Int64)? {
        do throws(SQLiteError) {
            let s = try db.prepare("SELECT min(start), max(start), count(*) FROM traffic WHERE resolution = ?").bind(
                .text(r.rawValue))
            guard try s.step(), s.int64(2) > 0 else { return nil }
            return (s.int64(0), s.int64(1))
        } catch {
            throw error.historyError(path)
        }
    }
}

extension SQLiteError {
    func historyError(_ path: String) -> HistoryError {
        // A file that is not SQLite at all reads as "not a database": not a history either.
        if isNotADatabase && message.contains("not a database") { return .notAHistory(path: path) }
        return .sqlite(self)
    }
}
