/// The first `capacity` elements of a stream in the order `precedes` gives (a strict total order,
/// so the answer is exactly the first `capacity` of the whole stream sorted): a binary heap whose
/// root is the last of those kept, so a new element costs one comparison when it does not make
/// the cut and O(log capacity) when it does. Memory: `capacity` elements, never the stream's length.
public struct TopHeap<Element> {
    public let capacity: Int
    private var heap: [Element] = []
    private let precedes: (Element, Element) -> Bool

    public init(capacity: Int, precedes: @escaping (Element, Element) -> Bool) {
        self.capacity = max(0, capacity)
        self.precedes = precedes
    }

    /// Elements kept (at most `capacity`).
    public var count: Int { heap.count }

    /// Offers `e`: kept if fewer than `capacity` are kept or it precedes the last one kept.
    public mutating func insert(_ e: Element) {
        if heap.count < capacity {
            heap.append(e)
            siftUp(heap.count - 1)
        } else if capacity > 0 && precedes(e, heap[0]) {
            heap[0] = e
            siftDown(0)
        }
    }

    /// The elements kept, first first.
    public func sorted() -> [Element] { heap.sorted(by: precedes) }

    // The heap keeps the latest element at the root: no child comes after its parent.
    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard precedes(heap[parent], heap[i]) else { return }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var latest = i
            if l < heap.count && precedes(heap[latest], heap[l]) { latest = l }
            if r < heap.count && precedes(heap[latest], heap[r]) { latest = r }
            if latest == i { return }
            heap.swapAt(i, latest)
            i = latest
        }
    }
}
