import ArgumentParser

/// Placeholder until the analyze command lands.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "analyze", abstract: "(not yet built)")
    func run() throws {
        throw ValidationError("analyze is not built yet")
    }
}
