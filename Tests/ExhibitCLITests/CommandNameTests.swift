import ArgumentParser
@testable import ExhibitCLI
import Testing

/// Every command names itself in its `CommandConfiguration` (issue 25): without
/// `commandName:`, argument-parser derives the name from `String(describing:)` of the
/// type, which walks the runtime's protocol-conformance records — 3–4 ms of every
/// `exhibit` process start, before any work.
@Suite("command names")
struct CommandNameTests {
    @Test("every command in the tree has an explicit commandName")
    func everyCommandIsNamed() {
        var unnamed: [String] = []
        var count = 0
        Self.walk(ExhibitCommand.self, path: [], unnamed: &unnamed, count: &count)
        #expect(count > 50)
        #expect(unnamed.isEmpty, "commands without commandName: \(unnamed)")
    }

    /// Generic on purpose, as `CommandSuggestion.names(of:)`: reading static members
    /// through `any ParsableCommand.Type` crashed Swift 6.3.1's SILGen.
    private static func walk<Command: ParsableCommand>(
        _ command: Command.Type, path: [String], unnamed: inout [String], count: inout Int
    ) {
        count += 1
        let name = Command.configuration.commandName
        let here = path + [name ?? "(\(Command.self))"]
        if name == nil { unnamed.append(here.joined(separator: " ")) }
        for child in Command.configuration.subcommands {
            walk(child, path: here, unnamed: &unnamed, count: &count)
        }
    }
}
