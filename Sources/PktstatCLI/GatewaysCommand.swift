import ArgumentParser

/// Placeholder until the gateways command lands.
struct Gateways: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateways", abstract: "(not yet built)")
    func run() throws {
        throw ValidationError("gateways is not built yet")
    }
}
