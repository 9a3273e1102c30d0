import ArgumentParser
import CaseBundle
import CaseManagement
import ChainOfCustody
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Take outside evidence into a case: WARC, WACZ, BagIt bags and any other file, checked and stored byte for byte (investigator; in a BI case the bi-searcher).",
        discussion: """
        Each file is checked by the rules of its kind before anything is stored: a WARC's own \
        block and payload digests, a WACZ's datapackage.json digests and signature, a bag's \
        manifests (RFC 8493). A file that fails its own digests is refused (exit 1) and the case \
        is left as it was; so are the other files of the same command. Each file taken in is one \
        `import` ledger entry with the source statement, the receiver, whom it came from and when, \
        its sha256 and size and what the check found (docs/import.md).
        """)

    @OptionGroup var options: CaseOptions
    @Argument(help: "Files to import: .warc, .warc.gz, .wacz, a bag (directory or .zip), or any other file.") var files: [String] = []
    @Option(name: .long, help: "Where the evidence came from and how it reached you (one line; recorded).") var source: String
    @Option(name: .long, help: "Who handed it over (recorded).") var receivedFrom: String?
    @Option(name: .long, help: "When it was received: an RFC 3339 date-time (2026-12-01T09:30:00Z) or a date (recorded).") var receivedAt: String?

    func validate() throws {
        if files.isEmpty { throw ValidationError("Name at least one file to import.") }
    }

    func run() throws {
        var intake = EvidenceIntake(session: try options.session())
        let mode = ProgressMode.current(json: options.json)
        if mode == .terminal { intake.progress = { Console.error($0) } }
        let receipt = IntakeReceipt(source: source, receivedFrom: receivedFrom, receivedAt: receivedAt)
        let items = try Self.run(intake, files: files, caseID: options.caseID, receipt: receipt)
        MediaLines.afterIntake(intake.session, caseID: options.caseID, quiet: options.json)
        if options.json { try Console.json(Imported(case: options.caseID, imported: items)); return }
        for item in items {
            let range = item.artifacts.count > 1 ? "\(item.artifacts.first!) … \(item.artifacts.last!)" : item.artifacts.first ?? "-"
            Console.line("\(item.file)  \(item.kind)  sha256 \(item.sha256)  \(item.artifacts.count) artifact\(item.artifacts.count == 1 ? "" : "s") (\(range))  entry \(item.seq)")
            Console.line("    \(item.check)")
        }
    }

    static func run(_ intake: EvidenceIntake, files: [String], caseID: String, receipt: IntakeReceipt) throws(ExhibitError) -> [ImportedItem] {
        do {
            return try intake.importFiles(files, into: caseID, receipt: receipt)
        } catch {
            throw withFlag(error)
        }
    }

    /// The intake's inputs, told in this command's flags.
    static func withFlag(_ error: ExhibitError) -> ExhibitError {
        let hints: [ExhibitError.Input: String] = [
            .intakeSource: " (--source TEXT)", .intakeReceivedFrom: " (--received-from NAME)", .intakeReceivedAt: " (--received-at TIME)",
        ]
        guard let input = error.input, let hint = hints[input] else { return error }
        var message = error.message
        if message.hasSuffix(".") { message.removeLast() }
        return ExhibitError(error.code, message + hint + ".")
    }

    struct Imported: Encodable {
        var `case`: String
        var imported: [ImportedItem]
    }
}
