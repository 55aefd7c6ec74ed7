import PacketCapture
import PacketFile
import PacketRecords

/// The k-way merge behind `MergedFileSource`: a binary heap of file cursors by next timestamp, a
/// limit on open files (least recently used suspended first), and the time window.
struct Merge {
    /// Records each file holds: 512 for up to 256 files, less beyond (at least 8), so that the
    /// pending records stay under about 128 Ki records (~10 MiB) whatever the number of files.
    let batch: Int
    let window: TimeWindow
    let maxOpen: Int
    private var heap: [FileCursor] = []
    private var open: [FileCursor] = []
    private var clock: UInt64 = 0

    init(fileCount: Int, window: TimeWindow, maxOpen: Int) {
        batch = max(8, min(512, 131_072 / max(1, fileCount)))
        self.window = window
        self.maxOpen = maxOpen
    }

    /// Takes a newly opened file: its first records, unless the window leaves it out entirely
    /// (its first packet at or after `until`, or, for pcap, its last one before `since`).
    mutating func add(_ cursor: FileCursor) throws(CaptureFileError) {
        opened(cursor)
        let hasRecords: Bool
        do throws(CaptureFileError) { hasRecords = try cursor.refill() } catch {
            close(cursor)
            throw error
        }
        guard hasRecords else { return close(cursor) }
        if let until = window.untilNs, cursor.timestamp >= until { return close(cursor) }
        if let since = window.sinceNs, cursor.timestamp < since, let last = cursor.reader.lastTimestampFromTail(),
            last < since, last >= cursor.timestamp
        {
            return close(cursor)
        }
        push(cursor)
    }

    /// Streams the merged records in batches.
    mutating func run(
        limits: RunLimits, stop: StopFlag, failed: (String, CaptureFileError) -> Void,
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        let capacity = CaptureFileReader.batchCapacity
        let out = UnsafeMutablePointer<PacketRecord>.allocate(capacity: capacity)
        defer { out.deallocate() }
        var filled = 0
        var remaining = limits.count ?? .max
        func flush() -> Bool {
            defer { filled = 0 }
            guard filled > 0 else { return true }
            if stop.isRequested { return false }
            return body(UnsafeBufferPointer(start: out, count: filled))
        }
        while let top = heap.first, remaining > 0 {
            // Take the top file's records while they come before every other file's next one.
            let rival = heap.count > 1 ? (heap.count > 2 && heap[2].precedes(heap[1]) ? heap[2] : heap[1]) : nil
            while top.head < top.count && remaining > 0 {
                if let rival, !top.precedes(rival) { break }
                let record = top.pending[top.head]
                top.head += 1
                guard window.contains(record.timestampNs) else { continue }
                out[filled] = record
                filled += 1
                remaining -= 1
                if filled == capacity && !flush() { return }
            }
            if top.head < top.count {
                siftDown(0)
                continue
            }
            do throws(CaptureFileError) {
                opened(top)
                if try top.refill() {
                    siftDown(0)
                    continue
                }
            } catch {
                failed(top.path, error)
            }
            removeTop()
            close(top)
        }
        _ = flush()
    }

    /// Marks `cursor` as in use, suspending the least recently used open file beyond `maxOpen`.
    private mutating func opened(_ cursor: FileCursor) {
        clock += 1
        cursor.lastUse = clock
        if !open.contains(where: { $0 === cursor }) { open.append(cursor) }
        guard open.count > maxOpen else { return }
        var oldest = 0
        for i in open.indices where open[i].lastUse < open[oldest].lastUse { oldest = i }
        let victim = open.remove(at: oldest)
        victim.reader.suspend()
        victim.isOpen = false
    }

    private mutating func close(_ cursor: FileCursor) {
        cursor.reader.suspend()
        open.removeAll { $0 === cursor }
    }

    // MARK: heap

    private mutating func push(_ cursor: FileCursor) {
        heap.append(cursor)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].precedes(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func removeTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let left = 2 * i + 1
            let right = left + 1
            var smallest = i
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
