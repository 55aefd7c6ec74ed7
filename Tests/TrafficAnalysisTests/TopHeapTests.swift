import Foundation
import TestSupport
import Testing

@testable import TrafficAnalysis

/// (key, sequence): ordered by key, ties by sequence, as the flows report orders its rows.
private struct Item: Equatable {
    var key: Int
    var sequence: Int
}

private func before(_ a: Item, _ b: Item) -> Bool { a.key != b.key ? a.key > b.key : a.sequence < b.sequence }

private func items(_ n: Int, keys: Int, seed: UInt64) -> [Item] {
    var rng = SplitMix(state: seed)
    return (0..<n).map { Item(key: Int.random(in: 0..<keys, using: &rng), sequence: $0) }
}

@Suite struct TopHeapTests {
    @Test(arguments: [0, 1, 2, 7, 100, 999, 1000, 5000])
    func keepsExactlyTheFirstOfTheWholeSort(_ capacity: Int) {
        let all = items(1000, keys: 20, seed: 1)  // many ties
        var heap = TopHeap(capacity: capacity, precedes: before)
        for x in all { heap.insert(x) }
        #expect(heap.sorted() == Array(all.sorted(by: before).prefix(capacity)))
        #expect(heap.count == min(capacity, all.count))
    }

    @Test func tiesGoToTheEarlier() {
        var heap = TopHeap(capacity: 2, precedes: before)
        for s in 0..<10 { heap.insert(Item(key: 5, sequence: s)) }
        #expect(heap.sorted() == [Item(key: 5, sequence: 0), Item(key: 5, sequence: 1)])
    }
}

@Suite struct ExternalSorterTests {
    /// In memory, one pass of runs, and several merge passes (fan-in 2 and 3 over dozens of runs).
    @Test(arguments: [(10_000, 64), (7, 64), (7, 3), (1, 2), (13, 2)])
    func sortsLikeSort(_ limit: Int, _ fanIn: Int) throws {
        let all = items(700, keys: 50, seed: UInt64(limit * 100 + fanIn))
        let sorter = ExternalSorter(memoryLimit: limit, fanIn: fanIn, chunk: 5, precedes: before)
        for x in all { sorter.append(x) }
        var out: [Item] = []
        try sorter.forEach { out.append($0) }
        #expect(out == all.sorted(by: before))
        #expect(sorter.spillProblem == nil)
        #expect(sorter.runCount <= fanIn)
        var again: [Item] = []
        try sorter.forEach { again.append($0) }
        #expect(again == out)
    }

    @Test func runsAppendedWholeMergeWithTheRest() throws {
        let all = items(300, keys: 1000, seed: 9)
        let sorter = ExternalSorter(memoryLimit: 16, fanIn: 4, precedes: before)
        sorter.appendRun(Array(all[0..<100]).sorted(by: before))
        for x in all[100..<200] { sorter.append(x) }
        sorter.appendRun(Array(all[200...]).sorted(by: before))
        sorter.appendRun([])
        var out: [Item] = []
        try sorter.forEach { out.append($0) }
        #expect(out == all.sorted(by: before))
        #expect(sorter.count == 300)
    }

    @Test func withoutATemporaryFileEverythingStaysInMemory() throws {
        let all = items(500, keys: 30, seed: 3)
        let sorter = ExternalSorter(memoryLimit: 8, directory: "/nonexistent/pktstat-test", precedes: before)
        for x in all { sorter.append(x) }
        sorter.appendRun(Array(all.prefix(10)).sorted(by: before))
        var out: [Item] = []
        try sorter.forEach { out.append($0) }
        #expect(out == (all + all.prefix(10)).sorted(by: before))
        #expect(sorter.spillProblem?.hasPrefix("cannot create a temporary file in /nonexistent/pktstat-test") == true)
    }

    @Test func theTemporaryFileIsUnlinked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sorter-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sorter = ExternalSorter(memoryLimit: 4, directory: dir.path, precedes: before)
        for x in items(100, keys: 10, seed: 4) { sorter.append(x) }
        #expect(sorter.runCount > 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
