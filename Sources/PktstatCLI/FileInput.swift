import PacketCapture
import PacketFile
import PacketRecords
import PacketWire

/// Reads a capture file into record batches with the fastest reader that can do the job: our own
/// pcap/pcapng reader (large sequential reads, records parsed in place), or libpcap when a BPF
/// filter or a `-w` copy is asked for (libpcap runs the filter and writes the file).
struct FileInput {
    let path: String
    var filter: String?
    var writePath: String?
    var limits = RunLimits()

    /// What `open` learned about the file, for the "reading from file" line.
    struct Opened {
        var linkTypeName: String
        var linkTypeDescription: String
        var snapLength: Int
    }

    /// Opens the file, calls `opened` (the place to drop privileges and print the status line),
    /// then streams batches to `body` until the end, the count limit, `stop`, or `body` returning
    /// false. Damage is thrown after every readable record was delivered.
    func stream(
        stop: StopFlag,
        opened: (Opened) throws -> Void,
        body: (UnsafeBufferPointer<PacketRecord>) -> Bool
    ) throws {
        if filter == nil && writePath == nil && path != "-" {
            try streamOwn(stop: stop, opened: opened, body: body)
        } else {
            try streamLibpcap(stop: stop, opened: opened, body: body)
        }
    }

    private func streamOwn(stop: StopFlag, opened: (Opened) throws -> Void, body: (UnsafeBufferPointer<PacketRecord>) -> Bool) throws {
        let reader = try CaptureFileReader(path: path)
        let names = PcapCapture.names(ofLinkType: reader.linkType)
        try opened(Opened(linkTypeName: names.name, linkTypeDescription: names.description, snapLength: reader.snapLength))
        var remaining = limits.count ?? .max
        try reader.read { batch in
            if stop.isRequested { return false }
            if UInt64(batch.count) >= remaining {
                _ = body(UnsafeBufferPointer(rebasing: batch[0..<Int(remaining)]))
                remaining = 0
                return false
            }
            remaining -= UInt64(batch.count)
            return body(batch)
        }
    }

    private func streamLibpcap(stop: StopFlag, opened: (Opened) throws -> Void, body: (UnsafeBufferPointer<PacketRecord>) -> Bool) throws {
        let capture = try PcapCapture.openFile(path)
        if let filter { try capture.setFilter(filter) }
        try opened(Opened(linkTypeName: capture.linkTypeName, linkTypeDescription: capture.linkTypeDescription, snapLength: Int(capture.snapLength)))
        if let writePath { try capture.startWriting(to: writePath) }
        var failure: CaptureError?
        do throws(CaptureError) {
            _ = try capture.run(limits: limits, stop: stop, batchSize: 512, onBatch: body)
        } catch {
            failure = error
        }
        do throws(CaptureError) { try capture.finishWriting() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}

extension CaptureFileError: CustomHintedError {}
extension CaptureError: CustomHintedError {}
extension PrivilegeError: CustomHintedError {}

/// An error with the one-line description and fix the CLI prints.
protocol CustomHintedError: Error, CustomStringConvertible {
    var hint: String? { get }
}
