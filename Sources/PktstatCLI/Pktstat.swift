public import ArgumentParser

public struct Pktstat: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pktstat",
        abstract: "Capture packets and chart their sizes over time; show interfaces and routes.",
        subcommands: []
    )
    public init() {}
}
