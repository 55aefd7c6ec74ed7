import Glibc

/// `--token-file FILE`: bearer tokens, one per line (blank lines and `#` comments skipped), read from
/// a file that only its owner can read (never from the command line, where `ps` shows it).
public enum TokenFile {
    public static func load(path: String) throws(ServeError) -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw .tokenFile(path: path, problem: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .tokenFile(path: path, problem: "not a regular file") }
        if st.st_mode & 0o077 != 0 { throw .tokenFileOpen(path: path, mode: st.st_mode) }
        guard let f = fopen(path, "r") else {
            throw .tokenFile(path: path, problem: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 65_536 {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        guard bytes.count <= 65_536 else { throw .tokenFile(path: path, problem: "larger than 64 KiB") }
        let tokens = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: [" ", "\t", "\r"]) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !tokens.isEmpty else { throw .tokenFile(path: path, problem: "it holds no token") }
        if let short = tokens.first(where: { $0.utf8.count < 16 }) {
            _ = short
            throw .tokenFile(path: path, problem: "a token shorter than 16 characters is too easy to guess")
        }
        return tokens
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var s = self
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
