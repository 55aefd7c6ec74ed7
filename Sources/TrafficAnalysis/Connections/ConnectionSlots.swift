/// The tracker's connections by slot, in chunks of `chunkSize` that never move: growing adds a
/// chunk (no copy of the connections, so no moment with two tables in memory, which doubling had:
/// a peak of twice the open connections), and a slot's address stays valid while it is in use.
/// Each slot starts on a cache line (chunks aligned to 64 bytes, slots a multiple of 64 bytes
/// apart), so the fields a packet uses, which `Connection` keeps at its start, span as few lines
/// as they can. A value with the chunk directory's address: copies share the storage, which
/// `ConnectionTracker` owns and frees (`release`).
struct ConnectionSlots {
    static let chunkShift = 10
    static let chunkSize = 1 << chunkShift
    static let lineSize = 64
    /// The distance between slots: the connection's size rounded up to whole cache lines.
    static let slotStride = (MemoryLayout<Connection>.stride + lineSize - 1) / lineSize * lineSize

    private var directory: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private var directoryCapacity: Int
    private(set) var chunks = 0

    init() {
        directoryCapacity = 64
        directory = .allocate(capacity: directoryCapacity)
    }

    /// Slots `0..<capacity` have storage.
    var capacity: Int { chunks << ConnectionSlots.chunkShift }

    /// The connection in slot `i` (storage must exist: `i < capacity`), read and changed in place.
    subscript(i: Int) -> Connection {
        @inline(__always) unsafeAddress { UnsafePointer(pointer(i)) }
        @inline(__always) nonmutating unsafeMutableAddress { pointer(i) }
    }

    @inline(__always)
    func pointer(_ i: Int) -> UnsafeMutablePointer<Connection> {
        (directory[i >> ConnectionSlots.chunkShift] + (i & (ConnectionSlots.chunkSize - 1)) * ConnectionSlots.slotStride)
            .assumingMemoryBound(to: Connection.self)
    }

    /// Adds a chunk of storage (uninitialised).
    mutating func addChunk() {
        if chunks == directoryCapacity {
            let bigger = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: directoryCapacity * 2)
            bigger.moveInitialize(from: directory, count: chunks)
            directory.deallocate()
            directory = bigger
            directoryCapacity *= 2
        }
        let chunk = UnsafeMutableRawPointer.allocate(
            byteCount: ConnectionSlots.chunkSize * ConnectionSlots.slotStride, alignment: ConnectionSlots.lineSize)
        for i in 0..<ConnectionSlots.chunkSize {
            (chunk + i * ConnectionSlots.slotStride).bindMemory(to: Connection.self, capacity: 1)
        }
        (directory + chunks).initialize(to: chunk)
        chunks += 1
    }

    /// Frees the storage; slots `0..<used` hold connections.
    func release(used: Int) {
        for i in 0..<min(used, capacity) { pointer(i).deinitialize(count: 1) }
        for c in 0..<chunks { directory[c].deallocate() }
        directory.deallocate()
    }
}
