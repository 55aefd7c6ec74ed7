import Foundation
import TestSupport
import Testing

/// The built `pktstat` binary and a way to run commands with their output read while they run.
enum NetInfoTestTools {
    /// The package root: this file is `<root>/Tests/NetInfoTests/Helpers.swift`.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<root>/.build-netinfo/debug/pktstat` when it exists, otherwise `<root>/.build/debug/pktstat`.
    static var binary: String {
        let own = packageRoot.appendingPathComponent(".build-netinfo/debug/pktstat").path
        if FileManager.default.isExecutableFile(atPath: own) { return own }
        return packageRoot.appendingPathComponent(".build/debug/pktstat").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program (looked up in PATH when not absolute), reading stdout and stderr concurrently.
    static func run(_ program: String, _ args: [String]) throws -> Result {
        let p = Process()
        if program.hasPrefix("/") {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [program] + args
        }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    /// Runs a command that must succeed; a failure is reported with its stderr and thrown.
    @discardableResult
    static func mustRun(_ program: String, _ args: [String]) throws -> String {
        let r = try run(program, args)
        if r.status != 0 {
            throw CommandFailed(command: ([program] + args).joined(separator: " "), status: r.status, stderr: r.stderr)
        }
        return r.stdout
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "\(command) exited \(status): \(stderr)" }
    }

    final class DataBox: @unchecked Sendable {
        var data = Data()
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    static var isRoot: Bool { getuid() == 0 }

    /// `ip` (iproute2), which these tests compare with: missing, it fails the test, naming the package.
    static func requireIP() throws { try requireTool("ip") }
}
