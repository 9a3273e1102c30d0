import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job end to end in a fresh workspace and print what happened.")

    @Option(name: .long, help: "Where to create the demo workspace (default: a new directory under the system's temporary folder).")
    var workspace: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let root = workspace.map { Workspace.resolvePath($0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("exhibit-demo-\(getpid())-\(Int(Date().timeIntervalSince1970))").path
        let result = try DemoScenario.run(workspacePath: root)
        if json {
            try Console.json(result)
        } else {
            for line in result.lines { print(line) }
        }
        if !result.intact { throw ExitCode(1) }
    }
}

/// The demo's steps, each a library call a user could make from the CLI.
enum DemoScenario {
    struct Result: Encodable {
        var workspace: String
        var caseID: String
        var supervisor: String
        var investigator: String
        var entries: Int
        var ledgerHead: String
        var intact: Bool
        var lines: [String]
    }

    static func run(workspacePath: String) throws -> Result {
        var lines: [String] = []
        let workspace = try Workspace.create(at: workspacePath, agency: "Exhibit Demo Police Department")
        lines.append("workspace   \(workspace.root)")
        let registry = ActorRegistry(workspace: workspace)
        let supervisor = try registry.add(name: "Dana Reyes", badge: "S-100", roles: [.supervisor, .custodian], actingActor: nil)
        let investigator = try registry.add(name: "Sam Okafor", badge: "D-214", roles: [.investigator, .analyst], actingActor: supervisor.id)
        lines.append("actors      \(supervisor.id) \(supervisor.name) (supervisor, custodian); \(investigator.id) \(investigator.name) (investigator, analyst)")
        let templates = try CaseTemplates.load()
        let session = try ActingSession(workspace: workspace, templates: templates, actorID: investigator.id)
        let opened = try session.openCase(
            category: "online-crime", title: "Threats posted against a local business",
            fields: ["subtype": "cyberstalking", "complainant_reference": "RPT-2026-0042"])
        lines.append("case        \(opened.id) (online-crime) opened by \(investigator.id)")
        _ = try session.note(opened.id, text: "Complainant reported threatening posts on a community news site.")
        let report = try CaseVerification.verify(
            directory: session.store.directory(of: opened.id),
            keyFor: { registry.verifyingKey(for: $0) })
        let custodian = try ActingSession(workspace: workspace, templates: templates, actorID: supervisor.id)
        try custodian.store.append(
            LedgerDraft(action: "verify", subject: .object([
                "result": .string(report.intact ? "intact" : "failed"),
                "findings": .integer(Int64(report.findings.count)),
                "ledger_head": .string(report.head ?? ""),
                "entries": .integer(Int64(report.entryCount)),
            ])),
            to: opened.id, signer: try custodian.signer())
        for finding in report.findings { lines.append(finding.line) }
        lines.append("verify      \(report.intact ? "intact" : "NOT INTACT"): \(report.entryCount) ledger entries, chain and Ed25519 signatures checked")
        let state = try custodian.store.state(of: opened.id)
        lines.append("ledger      \(session.store.ledger(of: opened.id).path)")
        lines.append("head        \(state.ledgerHead) (\(state.entryCount) entries, including the custodian's verify)")
        lines.append("next        exhibit verify \(opened.id) --workspace \(workspace.root)")
        return Result(
            workspace: workspace.root, caseID: opened.id, supervisor: supervisor.id, investigator: investigator.id,
            entries: state.entryCount, ledgerHead: state.ledgerHead, intact: report.intact, lines: lines)
    }
}
