import CSQLite

/// What SQLite said went wrong, with the file it was about.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var path: String

    public var description: String { "\(path): \(message) (SQLite error \(code & 0xFF))" }

    /// The database file is not one (SQLITE_NOTADB) or is damaged (SQLITE_CORRUPT).
    public var isNotADatabase: Bool { code & 0xFF == SQLITE_NOTADB || code & 0xFF == SQLITE_CORRUPT }
    /// The disk or the file system is full (SQLITE_FULL).
    public var isFull: Bool { code & 0xFF == SQLITE_FULL }
    /// The file or its folder cannot be written (SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM).
    public var isNotWritable: Bool {
        let c = code & 0xFF
        return c == SQLITE_READONLY || c == SQLITE_CANTOPEN || c == SQLITE_PERM
    }
}

/// A thin owner of one `sqlite3` connection (Debian's libsqlite3): statements prepared, bound,
/// stepped and finalized, errors as `SQLiteError`. What the history needs and no more: a dozen
/// statements, transactions, WAL. (GRDB.swift, the maintained alternative in the package mirror,
/// adds 83 s of CPU to each of CI's three builds for features this store does not use.)
final class SQLiteDatabase {
    let path: String
    private var handle: OpaquePointer?

    init(path: String, readOnly: Bool) throws(SQLiteError) {
        self.path = path
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        if rc != SQLITE_OK {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(handle)
            handle = nil
            throw SQLiteError(code: rc, message: message, path: path)
        }
        sqlite3_extended_result_codes(handle, 1)
        // A reader and the writer share the file (WAL): wait for each other, briefly.
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close_v2(handle) }

    func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), path: path)
    }

    /// Runs SQL without results (one or more statements).
    func execute(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw error(rc) }
    }

    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        return SQLiteStatement(stmt, database: self)
    }

    /// One integer from a query (`PRAGMA user_version`, a count), nil for no row.
    func integer(_ sql: String) throws(SQLiteError) -> Int64? {
        let s = try prepare(sql)
        return try s.step() ? s.int64(0) : nil
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`: the write lock at once), committed when
    /// it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement; reset before each use by `bind`.
final class SQLiteStatement {
    private let stmt: OpaquePointer
    private let database: SQLiteDatabase

    init(_ stmt: OpaquePointer, database: SQLiteDatabase) {
        self.stmt = stmt
        self.database = database
    }

    deinit { sqlite3_finalize(stmt) }

    /// Resets the statement and binds its parameters (1-based, in order).
    @discardableResult
    func bind(_ values: SQLiteValue...) throws(SQLiteError) -> SQLiteStatement {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
        for (i, v) in values.enumerated() {
            let rc: Int32
            switch v {
            case .int(let n): rc = sqlite3_bind_int64(stmt, Int32(i + 1), n)
            case .text(let s): rc = sqlite3_bind_text(stmt, Int32(i + 1), s, -1, SQLiteStatement.transient)
            case .null: rc = sqlite3_bind_null(stmt, Int32(i + 1))
            }
            if rc != SQLITE_OK { throw database.error(rc) }
        }
        return self
    }

    /// Steps once: true when a row is ready, false when done.
    func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.error(rc)
    }

    /// Runs the statement to its end (an INSERT, an UPDATE).
    func run() throws(SQLiteError) {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, column) else { return "" }
        return String(cString: p)
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound text.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

enum SQLiteValue {
    case int(Int64)
    case text(String)
    case null
}
