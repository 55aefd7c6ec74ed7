import CPcap
import Glibc

/// The `-w` output as a series of files (see `WritePlan`): one file, or a new one at every
/// wall-clock multiple of `rotateSeconds` and before a record that would take a file past
/// `rotateBytes`, keeping at most `maxFiles`. Every file is closed whole (the pcapng ones with
/// their statistics block) before the next one opens; closed files go to the compression worker.
///
/// A packet goes to the file of the time slot its timestamp falls in when that slot is still open:
/// a packet past the slot's end starts the next file. On a silent link the capture loop calls
/// `tick` on each wake-up, and the slot is closed once the clock is `graceNs` past its end (the
/// kernel hands packets over up to its timeout late), so files rotate without packets too.
final class RotatingWriter {
    /// What each new file needs from the capture.
    enum Layout {
        case pcap(header: [UInt8], snapLength: Int)
        case pcapng(PcapngFileWriter.Interfaces)
    }

    let plan: WritePlan
    private let layout: Layout
    private var namer: FileNamer
    private var current: (any RecordFileWriter)?
    /// The end of the open file's time slot (epoch ns), with `rotateSeconds`.
    private var slotEndNs: Int64 = .max
    /// Closed files this run wrote and still keeps, oldest first (names after compression).
    private var kept: [String] = []
    private let worker: CompressionWorker?
    private let endStats: () -> EndStats
    private let graceNs: Int64
    private var failure: CaptureError?

    init(
        plan: WritePlan, layout: Layout, graceNs: Int64 = 250_000_000, endStats: @escaping () -> EndStats
    ) throws(CaptureError) {
        self.plan = plan
        self.layout = layout
        self.graceNs = graceNs
        self.endStats = endStats
        namer = FileNamer(
            pattern: plan.path, ring: plan.rotates ? plan.maxFiles : nil, wraps: plan.compression == nil)
        worker = plan.compression.map { CompressionWorker($0) }
        try open(slotContaining: Self.realtimeNow())
    }

    /// The open file's name.
    var currentPath: String? { current?.path }

    func append(_ h: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>?, timestampNs: Int64) {
        guard failure == nil else { return }
        if timestampNs >= slotEndNs {
            rotate(slotContaining: timestampNs)
        } else if let limit = plan.rotateBytes, let file = current, file.packets > 0,
            file.size + Int64(file.appendSize(h, data) + file.trailerSize) > limit
        {
            rotate(slotContaining: slotEndNs == .max ? Self.realtimeNow() : slotEndNs - 1)
        }
        current?.append(h, data, timestampNs: timestampNs)
    }

    /// Live captures, on every wake-up: closes a time slot that ended `graceNs` ago.
    func tick(nowNs: Int64) {
        guard failure == nil, slotEndNs != .max, nowNs - graceNs >= slotEndNs else { return }
        rotate(slotContaining: nowNs - graceNs)
    }

    func flush() throws(CaptureError) {
        if let failure { throw failure }
        try current?.flush()
    }

    /// Closes the last file, waits for its compression; the first failure, if any, is thrown.
    func finish() throws(CaptureError) {
        if let file = current {
            current = nil
            do throws(CaptureError) { try close(file) } catch { failure = failure ?? error }
        }
        if let problem = worker?.wait() { failure = failure ?? problem }
        if let failure { throw failure }
    }

    private func rotate(slotContaining ns: Int64) {
        guard let file = current else { return }
        current = nil
        do throws(CaptureError) {
            try close(file)
            try open(slotContaining: ns)
        } catch {
            failure = error
        }
    }

    private func close(_ file: any RecordFileWriter) throws(CaptureError) {
        try file.finish(endStats())
        guard plan.rotates else { return }
        if let worker {
            worker.compress(file.path)
            kept.append(file.path + worker.compression.suffix)
        } else {
            kept.append(file.path)
        }
    }

    private func open(slotContaining ns: Int64) throws(CaptureError) {
        var epochSeconds = ns.floorDiv(1_000_000_000)
        if let period = plan.rotateSeconds {
            epochSeconds -= epochSeconds.floorMod(period)
            slotEndNs = (epochSeconds + period) * 1_000_000_000
        }
        let path = plan.rotates ? namer.next(epochSeconds: epochSeconds) : plan.path
        if let max = plan.maxFiles {
            while kept.count > max - 1 { delete(kept.removeFirst()) }
        }
        switch layout {
        case .pcap(let header, let snap):
            current = try PcapFileWriter(path: path, header: header, snapLength: snap)
        case .pcapng(let interfaces):
            current = try PcapngFileWriter(path: path, application: plan.application, interfaces: interfaces)
        }
    }

    private func delete(_ path: String) {
        if let worker {
            worker.remove(String(path.dropLast(worker.compression.suffix.count)))
        } else {
            _ = unlink(path)
        }
    }

    static func realtimeNow() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
}

extension Int64 {
    fileprivate func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
    fileprivate func floorMod(_ d: Int64) -> Int64 { self - floorDiv(d) * d }
}
