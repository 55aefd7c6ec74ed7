import Foundation
import TestSupport
import Testing

/// A running `pktstat serve` on loopback (port 0: the kernel picks; we read it from "serving on").
final class ServeProcess {
    let spawned: Spawned
    let base: String

    init(_ arguments: [String], scheme: String = "http", binary: String = TestPaths.binary) throws {
        spawned = try Spawned(binary, ["serve", "--listen", "127.0.0.1:0"] + arguments)
        let up = spawned.waitFor(timeout: 20) { $0.stderr.contains("serving on ") || !$0.process.isRunning }
        guard up, let port = Self.port(in: spawned.stderr) else {
            let r = spawned.finish(timeout: 2)
            throw HarnessError.notServing(r.stderr)
        }
        base = "\(scheme)://127.0.0.1:\(port)"
    }

    static func port(in stderr: String) -> Int? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("serving on ") }),
            let colon = line.lastIndex(of: ":")
        else { return nil }
        return Int(line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: "/ ")))
    }

    /// GET (or another method) with curl: status, body, headers.
    func request(
        _ path: String, method: String = "GET", headers: [String] = [], extra: [String] = []
    ) throws -> HTTPResult {
        try curl(base + path, method: method, headers: headers, extra: extra)
    }

    /// Stops with SIGTERM and returns the result (bounded wait).
    func stop(timeout: Double = 5) -> RunResult {
        spawned.signal(SIGTERM)
        return spawned.finish(timeout: timeout)
    }
}

enum HarnessError: Error { case notServing(String) }

struct HTTPResult {
    var status: Int
    var body: String
    var headers: String
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
}

func curl(_ url: String, method: String = "GET", headers: [String] = [], extra: [String] = []) throws -> HTTPResult {
    let dir = TestPaths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let headerFile = dir.appendingPathComponent("headers").path
    let bodyFile = dir.appendingPathComponent("body").path
    var args = ["-s", "-S", "--max-time", "10", "-X", method, "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}"]
    for h in headers { args += ["-H", h] }
    args += extra + [url]
    let r = try run("/usr/bin/curl", args, timeout: 15)
    let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
    let head = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
    return HTTPResult(status: Int(r.stdout) ?? 0, body: body, headers: head)
}

/// Sends `count` UDP datagrams of `size` bytes to 127.0.0.1:`port` and waits until they are sent.
func sendUDP(port: Int, count: Int, size: Int) throws {
    let py = """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(\(count)): s.sendto(bytes(\(size)), ('127.0.0.1', \(port)))
        """
    let r = try run("/usr/bin/env", ["python3", "-c", py], timeout: 30)
    #expect(r.status == 0, "sender failed: \(r.stderr)")
}

/// A port nobody listens on, for filtered test traffic (distinct per test), below the kernel's
/// ephemeral range (32768-60999) so that no test's outgoing socket is given it.
func testPort(_ offset: Int) -> Int { 20_000 + Int(getpid() % 5000) + offset }

/// The value of one sample line in a Prometheus exposition (`name{labels} value`).
func sample(_ text: String, _ prefix: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(prefix + " ") {
        return Double(line.split(separator: " ").last ?? "")
    }
    return nil
}

/// Polls `condition` every 50 ms for at most `timeout` seconds.
func poll(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// Writes `text` to a new file with `mode`.
func writeFile(_ path: String, _ text: String, mode: Int16 = 0o600) throws {
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
}

/// A bcrypt hash from glibc's libxcrypt (Debian's python3 `crypt`), independent of our verifier.
func bcryptHash(_ password: String) throws -> String {
    let py =
        "import warnings; warnings.simplefilter('ignore'); import crypt, sys; "
        + "print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))"
    let r = try run("/usr/bin/python3", ["-c", py, password], timeout: 20)
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}
