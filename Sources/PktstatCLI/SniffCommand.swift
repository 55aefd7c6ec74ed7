import ArgumentParser

/// Placeholder until the sniff command lands.
struct Sniff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sniff", abstract: "(not yet built)")
    func run() throws {
        throw ValidationError("sniff is not built yet")
    }
}
