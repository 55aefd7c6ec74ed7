import Glibc

/// The closed intervals `analyze` keeps until the capture is read (the CSV header and the table's
/// columns name every protocol seen, so no row can be printed before the end), in bounded memory.
/// Only intervals that hold something are kept (`SeriesSession`); empty ones are re-made as rows.
///
/// Up to `memoryLimit` intervals stay in memory; when that fills, they are appended, in order, to
/// an unlinked temporary file (`$TMPDIR`, else /tmp) and read back one chunk at a time when
/// printed, as `sort` does with its runs. So memory stays flat however many intervals a capture
/// spans (a 1 ms series over hours, or a hostile file whose packets are spread over millions of
/// intervals). If the temporary file cannot be made or written (a full disk), the intervals stay
/// in memory instead and `spillProblem` says why: the output is complete either way.
///
/// `IntervalStats` is a plain value of integers (no references), so its bytes are written and
/// read back as they are, within this one process.
public final class IntervalStore {
    /// The default `memoryLimit`: 16,384 intervals of 472 bytes, 7.7 MB.
    public static let defaultMemoryLimit = 16_384
    /// Intervals held in memory before they go to the temporary file.
    public let memoryLimit: Int
    private var memory: [IntervalStats] = []
    private var fd: Int32 = -1
    private var spilling = true
    /// Intervals in the temporary file.
    public private(set) var spilledCount = 0
    /// Why the temporary file could not be used, if it could not (the intervals then stay in
    /// memory): a warning for the caller to show.
    public private(set) var spillProblem: String?
    /// The last index appended: intervals must come in increasing index order.
    public private(set) var lastIndex: Int64 = .min

    /// - Parameters:
    ///   - memoryLimit: intervals kept in memory before they are written to the temporary file.
    ///   - directory: where the temporary file goes (default `$TMPDIR`, else /tmp).
    public init(memoryLimit: Int = IntervalStore.defaultMemoryLimit, directory: String? = nil) {
        precondition(_isPOD(IntervalStats.self), "IntervalStats must stay a plain value to be spilled as bytes")
        self.memoryLimit = max(1, memoryLimit)
        self.directory = directory ?? Self.temporaryDirectory()
    }

    private let directory: String

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Intervals kept, in memory and in the file.
    public var count: Int { spilledCount + memory.count }

    /// Intervals in memory now.
    public var inMemoryCount: Int { memory.count }

    /// Keeps `s`, whose index must be above every index appended before.
    public func append(_ s: IntervalStats) {
        precondition(s.index > lastIndex, "intervals must be appended in increasing index order")
        lastIndex = s.index
        memory.append(s)
        if memory.count >= memoryLimit && spilling { spill() }
    }

    /// Hands out every interval in the order appended; it can be called again. Throws
    /// `AnalysisError.intervalFileUnreadable` when the temporary file cannot be read back (it was
    /// written by this process a moment ago, so only on an I/O error), or what `body` throws.
    public func forEach(_ body: (IntervalStats) throws -> Void) throws {
        if spilledCount > 0 { try readBack(body) }
        for s in memory { try body(s) }
    }

    private func spill() {
        if fd < 0 {
            let dir = directory
            var template = Array("\(dir)/pktstat-intervals-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard made >= 0 else {
                giveUp("cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))")
                return
            }
            fd = made
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        let size = MemoryLayout<IntervalStats>.stride
        let start = off_t(spilledCount * size)
        let ok = memory.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = pwrite(fd, raw.baseAddress! + offset, raw.count - offset, start + off_t(offset))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        guard ok else {
            giveUp("cannot write a temporary file: \(String(cString: strerror(errno)))")
            return
        }
        spilledCount += memory.count
        memory.removeAll(keepingCapacity: true)
    }

    private func giveUp(_ problem: String) {
        spilling = false
        spillProblem = problem
    }

    private func readBack(_ body: (IntervalStats) throws -> Void) throws {
        let chunk = 4096
        var buffer = [IntervalStats](repeating: IntervalStats(index: 0, startNs: 0, intervalNs: 1), count: chunk)
        var done = 0
        while done < spilledCount {
            let n = min(chunk, spilledCount - done)
            try read(from: done, count: n, into: &buffer)
            for i in 0..<n { try body(buffer[i]) }
            done += n
        }
    }

    /// Reads intervals `first ..< first + count` of the file into the start of `buffer`.
    fileprivate func read(from first: Int, count n: Int, into buffer: inout [IntervalStats]) throws {
        let size = MemoryLayout<IntervalStats>.stride
        let ok = buffer.withUnsafeMutableBytes { raw -> Bool in
            var offset = 0
            let want = n * size
            while offset < want {
                let got = pread(fd, raw.baseAddress! + offset, want - offset, off_t(first * size + offset))
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { return false }
                offset += got
            }
            return true
        }
        guard ok else { throw AnalysisError.intervalFileUnreadable(errno: errno) }
    }

    /// Interval `i` of those in memory.
    fileprivate func inMemory(_ i: Int) -> IntervalStats { memory[i] }

    /// For a store that is complete (a run of late intervals): writes what is in memory to the
    /// temporary file and lets the memory go. If the file cannot be used, they stay in memory.
    public func finishRun() {
        guard spilling, !memory.isEmpty else { return }
        spill()
        if memory.isEmpty { memory = [] }
    }

    /// Reads the intervals back in order, `chunk` at a time: one of several sorted runs being merged.
    public func makeCursor(chunk: Int = 256) -> Cursor { Cursor(self, chunk: chunk) }

    /// A reading position in a store (see `makeCursor`).
    public final class Cursor {
        private let store: IntervalStore
        private var position = 0
        private var buffer: [IntervalStats]
        private var bufferStart = 0
        private var bufferCount = 0

        fileprivate init(_ store: IntervalStore, chunk: Int) {
            self.store = store
            buffer = [IntervalStats](
                repeating: IntervalStats(index: 0, startNs: 0, intervalNs: 1),
                count: store.spilledCount > 0 ? max(1, chunk) : 0)
        }

        /// The next interval, nil at the end. Throws `AnalysisError.intervalFileUnreadable`.
        public func next() throws -> IntervalStats? {
            defer { position += 1 }
            if position >= store.spilledCount {
                let i = position - store.spilledCount
                return i < store.inMemoryCount ? store.inMemory(i) : nil
            }
            if position >= bufferStart + bufferCount {
                bufferStart = position
                bufferCount = min(buffer.count, store.spilledCount - position)
                try store.read(from: bufferStart, count: bufferCount, into: &buffer)
            }
            return buffer[position - bufferStart]
        }
    }

    private static func temporaryDirectory() -> String {
        if let t = getenv("TMPDIR"), t.pointee != 0 { return String(cString: t) }
        return "/tmp"
    }
}
