import Foundation
import Glibc
public import Rendering
import SystemPackage

/// Failures of the external gnuplot process.
public enum GnuplotError: Error, CustomStringConvertible {
    case notFound
    case failed(status: Int32, message: String)
    case noOutput(String)

    public var description: String {
        switch self {
        case .notFound: "gnuplot is not installed (it draws PNG charts)"
        case .failed(let s, let m): "gnuplot failed (exit status \(s))" + (m.isEmpty ? "" : ": \(m)")
        case .noOutput(let p): "gnuplot did not write \(p)"
        }
    }

    public var hint: String? {
        switch self {
        case .notFound: "install it with: sudo apt-get install gnuplot-nox (or use --format svg, which needs nothing)"
        case .failed, .noOutput:
            "run the script yourself to see gnuplot's view: --format gnuplot -o chart.gp, then gnuplot chart.gp"
        }
    }
}

/// Runs a real gnuplot and feeds it a script on standard input.
public enum Gnuplot {
    public static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/gnuplot"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// pngcairo when this gnuplot has it (anti-aliased), else libgd's png.
    public static func pngTerminal() -> GnuplotTerminal {
        guard let exe = executable() else { return .png }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-e", "set terminal pngcairo"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return .png }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? .pngcairo : .png
    }

    /// Feeds `script` to gnuplot; checks its exit status and, when `output` is given (the file
    /// `name` becomes), that it is not empty.
    public static func run(script: [UInt8], output: String?, name: String) throws {
        guard let exe = executable() else { throw GnuplotError.notFound }
        // A gnuplot that exits early must not kill us with SIGPIPE: writes then fail with EPIPE.
        signal(SIGPIPE, SIG_IGN)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        let stdin = Pipe()
        let stderr = Pipe()
        p.standardInput = stdin
        p.standardError = stderr
        // Written in place (a pipe, /dev/stdout), the output may be our own standard output.
        p.standardOutput = output == nil ? FileHandle.standardOutput : FileHandle.nullDevice
        do { try p.run() } catch { throw GnuplotError.notFound }
        // Read stderr while writing, so neither side can block on a full pipe.
        let errorData = ErrorCollector(stderr.fileHandleForReading)
        let fd = stdin.fileHandleForWriting.fileDescriptor
        // A gnuplot that stops reading early (EPIPE) reports itself through its exit status.
        _ = try? FileDescriptor(rawValue: fd).writeAll(script)
        try? stdin.fileHandleForWriting.close()
        p.waitUntilExit()
        let message =
            errorData.text()
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.last ?? ""
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw GnuplotError.failed(status: p.terminationStatus, message: message)
        }
        var info = stat()
        if let output, stat(output, &info) != 0 || info.st_size == 0 { throw GnuplotError.noOutput(name) }
    }
}

/// Collects a pipe's bytes on a background thread.
final class ErrorCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
