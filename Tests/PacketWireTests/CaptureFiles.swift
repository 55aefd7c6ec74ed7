import Foundation
import PacketWire
import TestSupport
import Testing

/// A capture file used as a test argument, shown by its name.
struct CaptureFile: Sendable, CustomTestStringConvertible {
    var path: String
    var name: String
    var testDescription: String { name }

    /// The package root, three levels up from this file (Tests/PacketWireTests/CaptureFiles.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The project's own captures (`captures/`, written by `scripts/make-captures`).
    static let ownDirectory = packageRoot.appendingPathComponent("captures").path

    /// The shared conformance corpus beside the package, if it is there.
    static let conformanceDirectory = packageRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/captures").path

    static func inDirectory(_ directory: String, prefix: String = "") -> [CaptureFile] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted()
            .filter { !$0.hasSuffix(".csv") && !$0.hasSuffix(".md") && $0 != "EXPECT_ERROR" && !$0.hasPrefix(".") }
            .map { CaptureFile(path: directory + "/" + $0, name: prefix + $0) }
    }

    static let own = inDirectory(ownDirectory)
    static let conformance = inDirectory(conformanceDirectory, prefix: "conformance/")
}

/// Link types the decoder follows (rule 1); every other one is `other`.
let knownLinkTypes: Set<LinkType> = [.ethernet, .linuxSLL, .linuxSLL2, .raw, .rawDLT, .ipv4, .ipv6, .null, .loop]
