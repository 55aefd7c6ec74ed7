import Foundation
import TestSupport
import Testing

/// `flows --format zeek` end to end on the public Zeek pairs with tunnels and fragments (VXLAN,
/// Geneve, GRE, ERSPAN, Teredo, GTP with an outer IP fragmentation), by the shared checker.
@Suite("flows --format zeek: tunnels and fragments")
struct TunnelConformanceTests {
    @Test(arguments: ["tunnels", "erspan"])
    func zeekConformancePairsWithTunnels(_ filter: String) throws {
        let checker = TestPaths.packageRoot.deletingLastPathComponent().appendingPathComponent(
            "shared/conformance/check-zeek")
        guard FileManager.default.fileExists(atPath: checker.path), let python = TestPaths.tool("python3") else {
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [checker.path, "--filter", filter, TestPaths.binary]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(filter): \(text)")
    }
}
