public import Foundation

/// Paths of the package, the built binary and the shared conformance corpus.
public enum TestPaths {
    /// The package root (the folder with Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The `pktstat` binary under test: `$PKTSTAT_BIN`, else the debug build, else the release build.
    public static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["PKTSTAT_BIN"], !env.isEmpty { return env }
        for c in [".build/debug/pktstat", ".build/release/pktstat"] {
            let p = packageRoot.appendingPathComponent(c).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return packageRoot.appendingPathComponent(".build/debug/pktstat").path
    }()

    public static var captures: URL { packageRoot.appendingPathComponent("captures") }

    /// `../shared/conformance/captures` beside the checkout, if present.
    public static var conformanceCaptures: URL? {
        let u = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/captures")
        return FileManager.default.fileExists(atPath: u.path) ? u : nil
    }

    public static var isRoot: Bool { geteuid() == 0 }

    public static func tool(_ name: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
            let p = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory() -> URL {
        let u = TestRoot.url.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

/// One directory per test process for every `temporaryDirectory()`, removed with all that is
/// left in it when the process exits: a test that does not remove its own (or stops early on a
/// failed expectation) leaves nothing behind.
private enum TestRoot {
    static let url: URL = {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pktstat-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestRoot.url) }
        return u
    }()
}

/// The result of running a command to completion.
public struct RunResult: Sendable {
    public var status: Int32
    /// True when the process died of a signal (status is then the signal number).
    public var signaled: Bool
    public var stdout: String
    public var stderr: String
    public var stdoutData: Data

    public var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    /// True when nothing on stderr looks like a Swift trap or a crash.
    public var noCrash: Bool {
        !signaled && status < 128
            && !["Fatal error", "Stack dump", "Current stack trace", "Crash at", "Segmentation fault"].contains {
                stderr.contains($0)
            }
    }
}

/// A child process whose stdout and stderr go to files, so it can never block on a full pipe and
/// its output can be read while it runs.
public final class Spawned: @unchecked Sendable {
    public let process = Process()
    public let stdoutURL: URL
    public let stderrURL: URL
    private let dir: URL

    /// Starts `executable` with `arguments`. `stdin` may be a file to read from.
    public init(_ executable: String, _ arguments: [String], stdin: URL? = nil, environment: [String: String]? = nil)
        throws
    {
        dir = TestPaths.temporaryDirectory()
        stdoutURL = dir.appendingPathComponent("stdout")
        stderrURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = try stdin.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        try process.run()
    }

    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds for stderr or stdout, or `timeout` seconds pass.
    @discardableResult
    public func waitFor(timeout: Double, _ condition: (Spawned) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(20_000)
        }
        return condition(self)
    }

    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit (killing the process after `timeout` seconds) and returns the result.
    public func finish(timeout: Double = 30) -> RunResult {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        process.waitUntilExit()
        let data = (try? Data(contentsOf: stdoutURL)) ?? Data()
        let result = RunResult(
            status: process.terminationStatus,
            signaled: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: data, as: UTF8.self),
            stderr: stderr,
            stdoutData: data
        )
        try? FileManager.default.removeItem(at: dir)
        return result
    }
}

/// Runs a command to completion (bounded by `timeout` seconds).
@discardableResult
public func run(
    _ executable: String, _ arguments: [String], stdin: URL? = nil, timeout: Double = 60,
    environment: [String: String]? = nil
) throws -> RunResult {
    try Spawned(executable, arguments, stdin: stdin, environment: environment).finish(timeout: timeout)
}

/// Runs the pktstat binary under test.
@discardableResult
public func pktstat(_ arguments: [String], stdin: URL? = nil, timeout: Double = 60) throws -> RunResult {
    try run(TestPaths.binary, arguments, stdin: stdin, timeout: timeout)
}

/// Runs a shell command line (for pipelines such as `pktstat ... | head -1`).
@discardableResult
public func shell(_ command: String, timeout: Double = 60) throws -> RunResult {
    try run("/bin/bash", ["-c", command], timeout: timeout)
}
