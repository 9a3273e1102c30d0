import ArgumentParser
import CaseBundle
import CaseManagement
import ChainOfCustody
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a case: hash chain, entry hashes, subjects and signatures. Exit 0 intact, 1 otherwise.",
        discussion: """
        TARGET is a case id in the workspace, a path to a case directory, an exported \
        bag (directory or zip, known by content), a WACZ file, or a workspace's disposals.jsonl (the disposal register). Without an \
        acting actor the check is read-only and anonymous (anyone may check evidence); \
        with --actor the actor must be a custodian and the result is recorded as a \
        `verify` entry in the case's ledger.
        """)

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "A case id, a case directory, a bag directory, a bag zip, a WACZ file, or disposals.jsonl.") var target: String

    func run() throws {
        if let register = DisposalRegisterCheck.registerPath(target, workspacePath: options.workspacePath) {
            try DisposalRegisterCheck.run(register, json: options.json)
            return
        }
        if BundleVerification.isBundle(target) {
            // A bundle proves itself with the keys it carries; nothing is recorded
            // (it is outside any workspace case).
            let report = try withProgress(reading: target) { () throws(ExhibitError) in try BundleVerification.verify(target) }
            try print(report)
            finish(report)
        }
        let directory = try CaseVerification.locate(target: target, workspacePath: options.workspacePath)
        let report = try withProgress(reading: directory) { () throws(ExhibitError) in try WorkspaceCaseCheck.verify(directory: directory) }
        try recordIfCustodian(report)
        try print(report)
        finish(report)
    }

    /// Ends the process with the report's status, 0 intact or 1, as returning (or throwing
    /// ExitCode(1)) to ExhibitMain would, but without first freeing the report: its
    /// ledger's entries and their JSON trees took ~20 ms of one core after the last
    /// check on the bench's bag (4,004 entries), with nothing left to do.
    private func finish(_ report: CaseVerification.Report) -> Never {
        Foundation.exit(report.intact ? 0 : 1)
    }

    /// Runs a check with a status line on a terminal (DESIGN §12): bytes read of
    /// about what the check reads, rate and ETA. A case or bag directory is read
    /// once; a zip is read, then its entries (about twice its size), a WACZ about
    /// four times (measured on a 60 MB case).
    private func withProgress<T>(reading path: String, _ work: () throws(ExhibitError) -> T) throws(ExhibitError) -> T {
        let mode = ProgressMode.current(json: options.json)
        guard mode == .terminal else { return try work() }
        let label = "verify " + ((path as NSString).lastPathComponent)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let factor: Int64 = isDirectory.boolValue ? 1 : path.lowercased().hasSuffix(".wacz") ? 4 : 2
        let progress = LiveProgress(mode: mode, describe: ProcessIO.describe(
            label, expected: factor * ProcessIO.size(of: path), start: ProcessIO.now(), countingWrites: false))
        defer { progress.finish() }
        return try work()
    }

    private func print(_ report: CaseVerification.Report) throws {
        if options.json {
            try Console.json(VerifyOutput(report))
        } else {
            for finding in report.findings { Console.line(finding.line) }
            Console.line(summary(report))
        }
    }

    private func summary(_ report: CaseVerification.Report) -> String {
        WorkspaceCaseCheck.summary(report)
    }

    /// A custodian's verification of a workspace case is itself custody: record it.
    private func recordIfCustodian(_ report: CaseVerification.Report) throws {
        guard options.actorID != nil else { return }
        let session = try options.session()
        let workspaceCase = session.store.directory(of: report.caseID)
        guard URL(fileURLWithPath: workspaceCase).standardizedFileURL.path == report.directory else { return }
        try session.authorize(.verify, caseID: report.caseID, command: "verify")
        try WorkspaceCaseCheck.record(report, session: session)
    }
}

/// `verify --json` of a case or a bundle: the report under the keys docs/cli-json.md gives.
struct VerifyOutput: Encodable {
    let report: CaseVerification.Report

    init(_ report: CaseVerification.Report) {
        self.report = report
    }

    /// A finding as every `verify --json` lists it (cases, bundles, the disposal register).
    struct Finding: Encodable {
        var kind: String
        var path: String
        var seq: Int64?
        var detail: String
        var line: String

        init(_ finding: Verifier.Finding) {
            kind = finding.kind.rawValue
            path = finding.path
            seq = finding.seq
            detail = finding.detail
            line = finding.line
        }
    }

    enum CodingKeys: String, CodingKey {
        case `case`, intact, entries, withheld, head, signer, findings
    }

    /// `signer` is who sealed or signed a bundle ("a-0002 (Name, badge)"); absent for a case.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(report.caseID, forKey: .case)
        try container.encode(report.intact, forKey: .intact)
        try container.encode(report.entryCount, forKey: .entries)
        try container.encode(report.withheldCount, forKey: .withheld)
        try container.encodeIfPresent(report.head, forKey: .head)
        try container.encodeIfPresent(report.signer, forKey: .signer)
        try container.encode(report.findings.map(Finding.init), forKey: .findings)
    }
}
