import Glibc

/// Elements in the order `precedes` gives (a strict total order), in bounded memory, as `sort`
/// does it: up to `memoryLimit` elements are kept in memory; when that fills they are sorted and
/// written as a run to an unlinked temporary file (`$TMPDIR`, else /tmp), and `forEach` merges the
/// runs (k-way, a heap of cursors each reading `chunk` elements at a time). More than `fanIn` runs
/// are first merged `fanIn` at a time into longer runs at the end of the file, so memory stays
/// `memoryLimit + fanIn × chunk` elements however many there are.
///
/// Elements must be plain values (no references): their bytes are written and read back as they
/// are, within this one process. If the temporary file cannot be made or written (a full disk),
/// the elements stay in memory instead and `spillProblem` says why: the order is right either way.
public final class ExternalSorter<Element> {
    /// The default `memoryLimit`: 16,384 elements (1.5 MB of flows).
    public static var defaultMemoryLimit: Int { 16_384 }
    public let memoryLimit: Int
    public let fanIn: Int
    public let chunk: Int
    /// Elements appended.
    public private(set) var count = 0
    /// Why the temporary file could not be used, if it could not.
    public var spillProblem: String? { file.problem }
    /// Runs in the temporary file.
    public var runCount: Int { runs.count }

    private let precedes: (Element, Element) -> Bool
    private var memory: [Element] = []
    private var runs: [Range<Int>] = []
    private let file: SpillFile<Element>
    private var finished = false

    public init(
        memoryLimit: Int = ExternalSorter.defaultMemoryLimit, fanIn: Int = 64, chunk: Int = 256,
        directory: String? = nil, precedes: @escaping (Element, Element) -> Bool
    ) {
        self.memoryLimit = max(1, memoryLimit)
        self.fanIn = max(2, fanIn)
        self.chunk = max(1, chunk)
        self.precedes = precedes
        file = SpillFile(directory: directory, name: "pktstat-sort")
    }

    /// Adds `e`; only before the first `forEach`.
    public func append(_ e: Element) {
        precondition(!finished, "append after forEach")
        memory.append(e)
        count += 1
        if memory.count >= memoryLimit { spillMemory() }
    }

    /// Adds elements already in order as one run of their own, straight to the temporary file.
    public func appendRun(_ sorted: [Element]) {
        precondition(!finished, "append after forEach")
        count += sorted.count
        guard !sorted.isEmpty else { return }
        if !file.failed, let range = sorted.withUnsafeBufferPointer({ file.append($0) }) {
            runs.append(range)
        } else {
            memory += sorted
        }
    }

    /// Hands out every element in order; it can be called again. Throws
    /// `FlowReportError.spillFileUnreadable` when the temporary file cannot be read back, or what
    /// `body` throws.
    public func forEach(_ body: (Element) throws -> Void) throws {
        if !finished {
            finished = true
            if !runs.isEmpty && !memory.isEmpty { spillMemory() }
            memory.sort(by: precedes)
            try mergeDown()
        }
        if runs.isEmpty {
            for e in memory { try body(e) }
            return
        }
        try merge(runs, memory, body)
    }

    private func spillMemory() {
        guard !file.failed else { return }
        memory.sort(by: precedes)
        guard let range = memory.withUnsafeBufferPointer({ file.append($0) }) else { return }
        runs.append(range)
        memory.removeAll(keepingCapacity: true)
    }

    /// Merges runs `fanIn` at a time into new runs until at most `fanIn` are left.
    private func mergeDown() throws {
        while runs.count > fanIn {
            let group = Array(runs.prefix(fanIn))
            var out: [Element] = []
            out.reserveCapacity(chunk)
            var merged: Range<Int>?
            func flush() -> Bool {
                guard let r = out.withUnsafeBufferPointer({ file.append($0) }) else { return false }
                merged = merged.map { $0.lowerBound..<r.upperBound } ?? r
                out.removeAll(keepingCapacity: true)
                return true
            }
            do {
                try merge(group, []) { e in
                    out.append(e)
                    if out.count >= chunk, !flush() { throw SpillWriteFailed() }
                }
                if !out.isEmpty, !flush() { throw SpillWriteFailed() }
            } catch is SpillWriteFailed {
                return  // a full disk: merge every run at once instead
            }
            runs.removeFirst(fanIn)
            if let merged { runs.append(merged) }
        }
    }

    /// K-way merge of `sources` (runs in the file) and `tail` (sorted, in memory).
    private func merge(_ sources: [Range<Int>], _ tail: [Element], _ body: (Element) throws -> Void) throws {
        var cursors: [Cursor] = []
        defer { for c in cursors { c.release() } }
        // heads[i]: the current element of source i (the cursors, then the tail).
        var heads: [Element] = []
        for r in sources {
            let c = Cursor(range: r, chunk: chunk)
            cursors.append(c)
            if let e = try c.next(file) { heads.append(e) } else { cursors.removeLast().release() }
        }
        let tailSource = cursors.count
        var tailPosition = 1
        if let t = tail.first { heads.append(t) }
        var heap = Array(heads.indices)
        func before(_ a: Int, _ b: Int) -> Bool { precedes(heads[a], heads[b]) }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var best = i
                if l < heap.count && before(heap[l], heap[best]) { best = l }
                if r < heap.count && before(heap[r], heap[best]) { best = r }
                if best == i { return }
                heap.swapAt(i, best)
                i = best
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        while let s = heap.first {
            try body(heads[s])
            let next: Element?
            if s == tailSource {
                next = tailPosition < tail.count ? tail[tailPosition] : nil
                tailPosition += 1
            } else {
                next = try cursors[s].next(file)
            }
            if let next {
                heads[s] = next
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            siftDown(0)
        }
    }

    /// A reading position in one run, `chunk` elements read at a time.
    private final class Cursor {
        private var position: Int
        private let end: Int
        private let buffer: UnsafeMutableBufferPointer<Element>
        private var bufferStart = 0
        private var bufferCount = 0

        init(range: Range<Int>, chunk: Int) {
            position = range.lowerBound
            end = range.upperBound
            buffer = .allocate(capacity: min(chunk, max(1, range.count)))
        }

        func release() { buffer.deallocate() }

        func next(_ file: SpillFile<Element>) throws -> Element? {
            guard position < end else { return nil }
            if position >= bufferStart + bufferCount {
                bufferStart = position
                bufferCount = min(buffer.count, end - position)
                try file.read(from: position, count: bufferCount, into: buffer)
            }
            defer { position += 1 }
            return buffer[position - bufferStart]
        }
    }
}

/// A write to the temporary file failed (inside a merge).
private struct SpillWriteFailed: Error {}

/// An unlinked temporary file of plain values, appended and read back by position.
final class SpillFile<Element> {
    private let directory: String
    private let name: String
    private var fd: Int32 = -1
    /// Elements written.
    private(set) var count = 0
    private(set) var problem: String?
    var failed: Bool { problem != nil }

    init(directory: String?, name: String) {
        precondition(_isPOD(Element.self), "only plain values can be spilled as bytes")
        self.directory = directory ?? Self.temporaryDirectory()
        self.name = name
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends `elements`; their positions, or nil (and `problem` set) if the file cannot be written.
    func append(_ elements: UnsafeBufferPointer<Element>) -> Range<Int>? {
        guard !failed else { return nil }
        if fd < 0 {
            var template = Array("\(directory)/\(name)-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard made >= 0 else {
                problem = "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))"
                return nil
            }
            fd = made
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        let size = MemoryLayout<Element>.stride
        let start = off_t(count * size)
        let raw = UnsafeRawBufferPointer(elements)
        var offset = 0
        while offset < raw.count {
            let n = pwrite(fd, raw.baseAddress! + offset, raw.count - offset, start + off_t(offset))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                problem = "cannot write a temporary file: \(String(cString: strerror(errno)))"
                return nil
            }
            offset += n
        }
        defer { count += elements.count }
        return count..<count + elements.count
    }

    /// Reads elements `first ..< first + n` into the start of `buffer`.
    func read(from first: Int, count n: Int, into buffer: UnsafeMutableBufferPointer<Element>) throws {
        let size = MemoryLayout<Element>.stride
        let raw = UnsafeMutableRawBufferPointer(buffer)
        var offset = 0
        let want = n * size
        while offset < want {
            let got = pread(fd, raw.baseAddress! + offset, want - offset, off_t(first * size + offset))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw FlowReportError.spillFileUnreadable(errno: got == 0 ? EIO : errno) }
            offset += got
        }
    }

    static func temporaryDirectory() -> String {
        if let t = getenv("TMPDIR"), t.pointee != 0 { return String(cString: t) }
        return "/tmp"
    }
}
