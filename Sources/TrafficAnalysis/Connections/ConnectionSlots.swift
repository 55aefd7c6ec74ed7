/// The tracker's connections by slot, in chunks of `chunkSize` that never move: growing adds a
/// chunk (no copy of the connections, so no moment with two tables in memory, which doubling had:
/// a peak of twice the open connections), and a slot's address stays valid while it is in use.
/// A value with the chunk directory's address: copies share the storage, which `ConnectionTracker`
/// owns and frees (`release`).
struct ConnectionSlots {
    static let chunkShift = 10
    static let chunkSize = 1 << chunkShift

    private var directory: UnsafeMutablePointer<UnsafeMutablePointer<Connection>>
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
        directory[i >> ConnectionSlots.chunkShift] + (i & (ConnectionSlots.chunkSize - 1))
    }

    /// Adds a chunk of storage (uninitialised).
    mutating func addChunk() {
        if chunks == directoryCapacity {
            let bigger = UnsafeMutablePointer<UnsafeMutablePointer<Connection>>.allocate(
                capacity: directoryCapacity * 2)
            bigger.moveInitialize(from: directory, count: chunks)
            directory.deallocate()
            directory = bigger
            directoryCapacity *= 2
        }
        (directory + chunks).initialize(to: .allocate(capacity: ConnectionSlots.chunkSize))
        chunks += 1
    }

    /// Frees the storage; slots `0..<used` hold connections.
    func release(used: Int) {
        for c in 0..<chunks {
            let first = c << ConnectionSlots.chunkShift
            let n = min(ConnectionSlots.chunkSize, max(0, used - first))
            directory[c].deinitialize(count: n)
            directory[c].deallocate()
        }
        directory.deallocate()
    }
}
