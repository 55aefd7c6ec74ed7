import Foundation
import Glibc
import PacketFile
import Testing

@Suite struct OpenErrorTests {
    let dir = ScratchDirectory()

    @Test func emptyFile() {
        let error = readAll([], in: dir).error
        #expect(error?.description == "truncated dump file; tried to read 4 file header bytes, only got 0")
        #expect(error?.hint == "the file is empty")
    }

    @Test func threeBytes() {
        #expect(
            readAll([0xD4, 0xC3, 0xB2], in: dir).error?.description
                == "truncated dump file; tried to read 4 file header bytes, only got 3")
    }

    @Test func textFile() {
        let error = readAll(Array("timestamp,length\n1,2\n".utf8), in: dir).error
        #expect(error?.description == "unknown file format")
        #expect(error?.kind == .unsupportedFormat)
        #expect(error?.hint != nil)
    }

    @Test func textFileStartingLikePcapng() {
        #expect(readAll(Array("\n\r\r\nhello, world\n".utf8), in: dir).error?.description == "unknown file format")
        #expect(readAll(Array("\n\r\r\n".utf8), in: dir).error?.description == "unknown file format")
    }

    @Test func gzipHeaderAloneIsCutShort() {
        let error = readAll([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 3], in: dir).error
        #expect(error?.description == "gzip data ends before the end of its stream; the file was cut short")
        #expect(error?.kind == .truncated)
    }

    @Test func zstdGarbageIsAnError() {
        let error = readAll([0x28, 0xB5, 0x2F, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF], in: dir).error
        #expect(error?.description.hasPrefix("zstd data") == true, "\(String(describing: error))")
        #expect(error?.kind == .corrupt || error?.kind == .truncated)
    }

    @Test func otherCompressors() {
        #expect(readAll([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0], in: dir).error?.description.contains("xz") == true)
        #expect(readAll([0x42, 0x5A, 0x68, 0x39, 0], in: dir).error?.kind == .compressed)
    }

    @Test func directory() {
        let error = readAll(path: dir.url.path).error
        #expect(error?.description == "\(dir.url.path): is a directory")
        #expect(error?.kind == .access)
    }

    @Test func missingFile() {
        let path = dir.url.appendingPathComponent("nope.pcap").path
        let error = readAll(path: path).error
        #expect(error?.description == "\(path): no such file")
        #expect(error?.hint != nil)
    }

    @Test(.enabled(if: geteuid() != 0, "root reads files whatever their mode"))
    func unreadableFile() {
        let path = dir.write(PcapBytes().bytes)
        chmod(path, 0)
        #expect(readAll(path: path).error?.description == "\(path): permission denied")
    }

    @Test func errorsAreOneLine() {
        for bytes in [[], [1, 2, 3], Array("text\n".utf8), [0x1F, 0x8B, 8]] as [[UInt8]] {
            let error = readAll(bytes, in: dir).error
            #expect(error != nil)
            #expect(error?.description.contains("\n") == false)
        }
    }
}
