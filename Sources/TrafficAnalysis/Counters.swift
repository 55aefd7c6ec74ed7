public import PacketWire

/// A fixed-size row of `UInt64` counters indexed by `ProtocolLabel.rawValue` (or by a small bucket
/// number). The storage is an inline tuple, so a value holds no reference, copying it is a memcpy,
/// and updating it on the per-packet path neither allocates nor hashes.
public struct ProtocolCounters: Sendable, Equatable {
    /// Slots available. Larger than `ProtocolLabel.allCases.count` (17) so that a new label does not
    /// silently overflow; a test checks the labels fit.
    public static var capacity: Int { 24 }

    @usableFromInline
    var storage:
        (
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    public init() {}

    /// The counter in slot `index` (0 ..< `capacity`). Traps on an index outside the row.
    @inlinable
    public subscript(index: Int) -> UInt64 {
        get {
            precondition(index >= 0 && index < Self.capacity, "counter index out of range")
            return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: index &* 8, as: UInt64.self) }
        }
        set {
            precondition(index >= 0 && index < Self.capacity, "counter index out of range")
            withUnsafeMutableBytes(of: &storage) {
                $0.storeBytes(of: newValue, toByteOffset: index &* 8, as: UInt64.self)
            }
        }
    }

    /// The counter of one protocol label.
    @inlinable
    public subscript(label: ProtocolLabel) -> UInt64 {
        get { self[Int(label.rawValue)] }
        set { self[Int(label.rawValue)] = newValue }
    }

    /// Adds `amount` to slot `index`, wrapping instead of trapping (a counter never reaches 2^64).
    @inlinable
    public mutating func add(_ amount: UInt64, at index: Int) {
        precondition(index >= 0 && index < Self.capacity, "counter index out of range")
        withUnsafeMutableBytes(of: &storage) { raw in
            let old = raw.load(fromByteOffset: index &* 8, as: UInt64.self)
            raw.storeBytes(of: old &+ amount, toByteOffset: index &* 8, as: UInt64.self)
        }
    }

    /// Adds every slot of `other` into this row.
    @inlinable
    public mutating func add(_ other: ProtocolCounters) {
        for i in 0..<Self.capacity { add(other[i], at: i) }
    }

    /// The sum of all slots.
    public var total: UInt64 {
        var s: UInt64 = 0
        for i in 0..<Self.capacity { s &+= self[i] }
        return s
    }

    /// The labels whose slot is not zero.
    public var nonZeroLabels: ProtocolSet {
        var set = ProtocolSet()
        for label in ProtocolLabel.allCases where self[label] != 0 { set.insert(label) }
        return set
    }

    public static func == (a: ProtocolCounters, b: ProtocolCounters) -> Bool {
        for i in 0..<capacity where a[i] != b[i] { return false }
        return true
    }
}

/// A set of protocol labels as a bit mask: which `packets_<P>`/`bytes_<P>` columns a series has.
/// Iterates in `ProtocolLabel` order, which is the column order of every writer.
public struct ProtocolSet: Sendable, Equatable, Hashable, Sequence {
    public var bits: UInt32

    public init() { bits = 0 }
    public init(bits: UInt32) { self.bits = bits }
    public init(_ labels: some Sequence<ProtocolLabel>) {
        bits = 0
        for l in labels { insert(l) }
    }

    /// Every label pktstat knows.
    public static var all: ProtocolSet { ProtocolSet(ProtocolLabel.allCases) }

    @inlinable
    public mutating func insert(_ label: ProtocolLabel) { bits |= 1 &<< UInt32(label.rawValue) }
    @inlinable
    public func contains(_ label: ProtocolLabel) -> Bool { bits & (1 &<< UInt32(label.rawValue)) != 0 }
    public mutating func formUnion(_ other: ProtocolSet) { bits |= other.bits }
    public var isEmpty: Bool { bits == 0 }
    public var count: Int { bits.nonzeroBitCount }

    public func makeIterator() -> IndexingIterator<[ProtocolLabel]> {
        ProtocolLabel.allCases.filter { contains($0) }.makeIterator()
    }
}

/// Packets the capture lost, by where they were lost. Set by the caller (the analyzer never sees a
/// capture handle): `kernel` is libpcap's `ps_drop`, `interface` its `ps_ifdrop`, `ring` the
/// records the capture thread could not hand over (`RecordRing.droppedCount`).
public struct DropCounters: Sendable, Equatable {
    public var kernel: UInt64
    public var interface: UInt64
    public var ring: UInt64

    public init(kernel: UInt64 = 0, interface: UInt64 = 0, ring: UInt64 = 0) {
        self.kernel = kernel
        self.interface = interface
        self.ring = ring
    }

    public static let zero = DropCounters()

    public var total: UInt64 { kernel &+ interface &+ ring }
    public var isZero: Bool { kernel == 0 && interface == 0 && ring == 0 }

    /// `self - earlier`, per counter, clamped at zero (libpcap counters can wrap or reset).
    public func since(_ earlier: DropCounters) -> DropCounters {
        DropCounters(
            kernel: kernel >= earlier.kernel ? kernel - earlier.kernel : 0,
            interface: interface >= earlier.interface ? interface - earlier.interface : 0,
            ring: ring >= earlier.ring ? ring - earlier.ring : 0
        )
    }

    public mutating func add(_ other: DropCounters) {
        kernel &+= other.kernel
        interface &+= other.interface
        ring &+= other.ring
    }
}
