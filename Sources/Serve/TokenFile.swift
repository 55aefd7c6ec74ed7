// Release builds (whole-module) find `struct stat` in CoreFoundation's copy of the C headers (WebConfig
// imports Foundation): its members need this import to be visible.
import CoreFoundation
import Glibc

/// A bearer token and what it may read.
public struct BearerToken: Equatable, Sendable {
    /// `all`: every path; `metrics`: `/metrics` only (a Prometheus scraper's token need not see
    /// the talkers, addresses and routes that the API serves; it gets 403 there).
    public enum Scope: String, Sendable, CaseIterable {
        case all
        case metrics
    }

    public var value: String
    public var scope: Scope

    public init(_ value: String, scope: Scope = .all) {
        self.value = value
        self.scope = scope
    }
}

/// `--token-file FILE`: bearer tokens, one per line, each optionally followed by its scope
/// (`all`, the default, or `metrics`); blank lines and `#` comments skipped. Read from a file that
/// only its owner can read (never from the command line, where `ps` shows it).
public enum TokenFile {
    public static func load(path: String) throws(ServeError) -> [BearerToken] {
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
        return try parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    public static func parse(_ text: String, path: String) throws(ServeError) -> [BearerToken] {
        var tokens: [BearerToken] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            let at = "line \(index + 1)"
            guard words.count <= 2 else {
                throw .tokenFile(path: path, problem: "\(at) has \(words.count) words; a line is TOKEN [SCOPE]")
            }
            guard first.utf8.count >= 16 else {
                throw .tokenFile(path: path, problem: "\(at): a token shorter than 16 characters is too easy to guess")
            }
            var scope = BearerToken.Scope.all
            if words.count == 2 {
                guard let s = BearerToken.Scope(rawValue: String(words[1])) else {
                    let known = BearerToken.Scope.allCases.map(\.rawValue).joined(separator: " or ")
                    throw .tokenFile(path: path, problem: "\(at): unknown scope '\(words[1])' (use \(known))")
                }
                scope = s
            }
            tokens.append(BearerToken(String(first), scope: scope))
        }
        guard !tokens.isEmpty else { throw .tokenFile(path: path, problem: "it holds no token") }
        return tokens
    }
}
