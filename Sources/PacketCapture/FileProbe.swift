import Glibc

/// Checks a capture path before libpcap sees it, so the message names the real problem (a
/// directory, a compressed file, an empty file) instead of libpcap's generic one.
enum FileProbe {
    static func problem(path: String) -> String? {
        if path == "-" { return nil }  // standard input: libpcap reads "-" itself
        var st = stat()
        if stat(path, &st) != 0 {
            return String(cString: strerror(errno))
        }
        if st.st_mode & S_IFMT == S_IFDIR { return "is a directory" }
        guard st.st_mode & S_IFMT == S_IFREG else { return nil }
        if st.st_size == 0 { return "the file is empty" }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var magic: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        let n = withUnsafeMutableBytes(of: &magic) { read(fd, $0.baseAddress, 6) }
        if n >= 2 && magic.0 == 0x1F && magic.1 == 0x8B { return "the file is compressed (gzip)" }
        if n >= 6 && magic.0 == 0xFD && magic.1 == 0x37 && magic.2 == 0x7A && magic.3 == 0x58 {
            return "the file is compressed (xz)"
        }
        if n >= 4 && magic.0 == 0x28 && magic.1 == 0xB5 && magic.2 == 0x2F && magic.3 == 0xFD {
            return "the file is compressed (zstd)"
        }
        if n >= 3 && magic.0 == 0x42 && magic.1 == 0x5A && magic.2 == 0x68 { return "the file is compressed (bzip2)" }
        if n < 4 { return "truncated dump file; tried to read 4 file header bytes, only got \(n)" }
        return nil
    }

    /// Nanoseconds per unit of a classic pcap file's fraction field: 1,000 for microsecond files,
    /// 1 for nanosecond files; nil for pcapng, standard input and anything unreadable.
    static func pcapFractionUnitNs(path: String) -> Int64? {
        guard path != "-" else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var magic: UInt32 = 0
        guard withUnsafeMutableBytes(of: &magic, { read(fd, $0.baseAddress, 4) }) == 4 else { return nil }
        switch magic {
        case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_CD34, 0x34CD_B2A1: return 1000
        case 0xA1B2_3C4D, 0x4D3C_B2A1: return 1
        default: return nil
        }
    }

    static func explain(libpcap message: String, path: String) -> String {
        if message.hasPrefix(path + ": ") { return String(message.dropFirst(path.count + 2)) }
        return message
    }
}
