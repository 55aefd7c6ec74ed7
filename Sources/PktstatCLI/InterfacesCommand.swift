import ArgumentParser

/// Placeholder until the interfaces command lands.
struct Interfaces: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "interfaces", abstract: "(not yet built)")
    func run() throws {
        throw ValidationError("interfaces is not built yet")
    }
}
