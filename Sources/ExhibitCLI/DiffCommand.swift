import ArgumentParser
import Foundation
import Watches

/// `exhibit diff ARTIFACT ARTIFACT` (DESIGN §18).
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show a unified diff of two captured pages' visible text (recorded as a view); --json gives the structured change.")

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The earlier artifact: its id (A-0007) or its sha256.") var first: String
    @Argument(help: "The later artifact.") var second: String
    @Option(name: .customLong("case"), help: "The case the artifacts belong to (needed when an id exists in several cases).") var caseID: String?

    func run() throws {
        let result = try WatchCommand.withFlags { try CaptureDiff(session: options.session()).diff(first, second, caseID: caseID) }
        if options.json { try Console.json(result); return }
        guard !result.unified.isEmpty else {
            Console.line("The visible text of \(result.from.artifact) and \(result.to.artifact) has the same lines (\(result.result)).")
            return
        }
        for line in result.unified.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            Console.line(String(line))
        }
    }
}
