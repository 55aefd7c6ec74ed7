import ArgumentParser

/// Placeholder until the routes command lands.
struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "(not yet built)")
    func run() throws {
        throw ValidationError("routes is not built yet")
    }
}
