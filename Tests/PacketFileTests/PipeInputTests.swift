import Foundation
import Glibc
import PacketFile
import PacketRecords
import Testing

/// Reading from a pipe (a FIFO here; standard input works the same): no file size to check
/// lengths against, data arriving in pieces, records delivered before each read that may wait.
@Suite struct PipeInputTests {
    let dir = ScratchDirectory()

    /// Writes `bytes` into a new FIFO from another thread, in `chunk`-sized pieces.
    func fifo(_ bytes: [UInt8], chunk: Int) -> String {
        let path = dir.url.appendingPathComponent("fifo-\(UUID().uuidString)").path
        mkfifo(path, 0o600)
        Thread.detachNewThread {
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return }
            var offset = 0
            while offset < bytes.count {
                let n = min(chunk, bytes.count - offset)
                let written = bytes[offset..<offset + n].withUnsafeBytes { write(fd, $0.baseAddress, n) }
                if written <= 0 { break }
                offset += written
            }
            close(fd)
        }
        return path
    }

    @Test func pcapInPieces() {
        var file = PcapBytes()
        for i in 0..<3000 { file.record(seconds: UInt32(i), fraction: 0, data: udpFrame(size: 60 + i % 500)) }
        let outcome = readAll(path: fifo(file.bytes, chunk: 7777))
        #expect(outcome.error == nil)
        #expect(outcome.records.count == 3000)
        #expect(outcome.records.last?.timestampNs == Int64(2_999_000_000_000))
    }

    @Test func pcapngWithARecordLargerThanTheBuffer() {
        var file = PcapngBytes()
        file.interface(linkType: 231)  // DBUS: 128 MiB packets allowed
        file.enhanced(ticks: 1, data: [UInt8](repeating: 1, count: 3 << 20))
        file.enhanced(ticks: 2, data: [1, 2, 3, 4])
        let outcome = readAll(path: fifo(file.bytes, chunk: 65536))
        #expect(outcome.error == nil)
        #expect(outcome.records.map(\.captured) == [3 << 20, 4])
    }

    @Test func truncatedPipe() {
        var file = PcapBytes()
        file.record(seconds: 1, fraction: 0, data: udpFrame())
        file.record(seconds: 2, fraction: 0, data: udpFrame())
        let outcome = readAll(path: fifo(Array(file.bytes.dropLast(5)), chunk: 10))
        #expect(outcome.records.count == 1)
        #expect(outcome.error?.description == "truncated dump file; tried to read 60 captured bytes, only got 55")
    }

    @Test func recordsArriveBeforeTheWriterIsDone() throws {
        let path = dir.url.appendingPathComponent("live").path
        mkfifo(path, 0o600)
        var header = PcapBytes()
        header.record(seconds: 1, fraction: 0, data: udpFrame())
        let firstPart = header.bytes
        var second = PcapBytes()
        second.record(seconds: 2, fraction: 0, data: udpFrame())
        let secondPart = Array(second.bytes.dropFirst(24))
        let firstSeen = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let fd = open(path, O_WRONLY)
            firstPart.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            // The reader must hand over the first packet while this writer still holds the pipe.
            _ = firstSeen.wait(timeout: .now() + 10)
            secondPart.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let reader = try CaptureFileReader(path: path)
        var batches: [[Int64]] = []
        try reader.read { batch in
            batches.append(batch.map(\.timestampNs))
            if batches.count == 1 { firstSeen.signal() }
            return true
        }
        #expect(batches == [[1_000_000_000], [2_000_000_000]])
    }
}
