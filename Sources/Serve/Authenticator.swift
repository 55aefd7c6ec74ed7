import HummingbirdBcrypt
import Synchronization

/// Who may ask: bearer tokens (`--token-file`) and bcrypt basic-auth users (the web config's
/// `basic_auth_users`). Comparisons take the same time whatever matches; an unknown user costs a
/// bcrypt check like a known one, and every failure gets the same answer, so a client learns
/// nothing about which part was wrong.
public final class Authenticator: Sendable {
    public let tokens: [(value: [UInt8], scope: BearerToken.Scope)]
    public let users: [(name: [UInt8], hash: String)]
    /// Basic credentials that passed bcrypt, so a scraper every second does not pay bcrypt each time.
    private let verified = Mutex<[[UInt8]]>([])
    /// A real bcrypt hash (cost 10) of a random string, checked when the user is unknown.
    static let decoyHash = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

    /// What a request may read: nothing (401), `/metrics` only (403 elsewhere), or everything.
    public enum Access: Sendable, Equatable {
        case denied
        case metricsOnly
        case all
    }

    public init(tokens: [BearerToken], users: [String: String]) {
        self.tokens = tokens.map { (Array($0.value.utf8), $0.scope) }
        self.users = users.sorted { $0.key < $1.key }.map { (Array($0.key.utf8), $0.value) }
    }

    public var isEnabled: Bool { !tokens.isEmpty || !users.isEmpty }

    /// The `WWW-Authenticate` challenge for a 401.
    public var challenge: String {
        users.isEmpty ? "Bearer realm=\"pktstat\"" : "Basic realm=\"pktstat\", charset=\"UTF-8\""
    }

    /// Checks an `Authorization` header value.
    public func allows(authorization header: String?) -> Bool { access(authorization: header) != .denied }

    /// What an `Authorization` header value lets its sender read. Basic-auth users read everything.
    public func access(authorization header: String?) -> Access {
        guard isEnabled else { return .all }
        guard let header else { return .denied }
        let bytes = Array(header.utf8)
        if Self.hasPrefix(bytes, "bearer ") { return checkBearer(Array(bytes.dropFirst(7))) }
        if Self.hasPrefix(bytes, "basic ") { return checkBasic(Array(bytes.dropFirst(6))) ? .all : .denied }
        return .denied
    }

    /// Every token is compared in full, whichever matches; a token listed twice gets its wider scope.
    private func checkBearer(_ token: [UInt8]) -> Access {
        var found = Access.denied
        for t in tokens where Self.constantTimeEqual(t.value, token) {
            found = found == .all || t.scope == .all ? .all : .metricsOnly
        }
        return found
    }

    private func checkBasic(_ encoded: [UInt8]) -> Bool {
        guard !users.isEmpty, let decoded = Base64.decode(encoded),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return false }
        let remembered = verified.withLock { list in list.reduce(false) { Self.constantTimeEqual($1, decoded) || $0 } }
        if remembered { return true }
        let name = Array(decoded[..<colon])
        let password = String(decoding: decoded[(colon + 1)...], as: UTF8.self)
        var hash = Self.decoyHash
        var known = false
        for u in users where Self.constantTimeEqual(u.name, name) {
            hash = u.hash
            known = true
        }
        // htpasswd and PHP write $2y$, the same algorithm as $2b$.
        if hash.hasPrefix("$2y$") { hash = "$2b$" + hash.dropFirst(4) }
        let ok = Bcrypt.verify(password, hash: hash) && known
        if ok { verified.withLock { if $0.count < 64 { $0.append(decoded) } } }
        return ok
    }

    static func hasPrefix(_ bytes: [UInt8], _ prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        guard bytes.count >= p.count else { return false }
        return zip(bytes, p).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    /// Equal bytes, in a time that depends on the lengths only.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { diff |= 1 }
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}

/// Standard base64 (RFC 4648), for basic-auth credentials.
enum Base64 {
    static func decode(_ input: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            if c == UInt8(ascii: "=") { break }
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            default: return nil
            }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
