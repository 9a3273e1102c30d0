import ArgumentParser
import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation

// Records retention and legal hold (policy IV.A.2.c, DESIGN §11): hold, release,
// retention, dispose — and the disposal register's side of `case show` and
// `verify`. docs/retention.md describes the workflow and the formats.

struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Put a case on legal hold, so it is never disposed of until released (custodian; open or closed cases).",
        discussion: "Recorded as a `hold` entry. A case already on hold is refused (exit 4, recorded).")

    @OptionGroup var options: CaseOptions
    @Option(name: .long, help: "Why the case is held: the litigation, records request or offence (recorded).") var reason: String

    func run() throws {
        try options.record { try $0.hold($1, reason: reason) }
    }
}

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release a case's legal hold; its retention schedule applies again (custodian).",
        discussion: "Recorded as a `release` entry. A case not on hold is refused (exit 4, recorded).")

    @OptionGroup var options: CaseOptions
    @Option(name: .long, help: "Why the hold ends (recorded).") var reason: String?

    func run() throws {
        try options.record { try $0.release($1, reason: reason) }
    }
}

struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "List every case against its retention schedule and say which are due for disposition (custodian or supervisor).",
        discussion: """
        A closed case is due when its category's years after closing have passed \
        (calendar years from the close date, UTC) and it is not on legal hold. \
        --as-of plans ahead: it changes only this report, never what `exhibit dispose` \
        allows or what is written into evidence. Nothing is recorded.
        """)

    @OptionGroup var options: WorkspaceOptions
    @Option(name: .long, help: "Review as of this day, YYYY-MM-DD (default: today, UTC).") var asOf: String?
    @Flag(name: .long, help: "List only the cases due for disposition.") var dueOnly = false

    func validate() throws {
        if let asOf, CalendarDate(asOf) == nil {
            throw ValidationError("--as-of takes a day written YYYY-MM-DD, not \"\(asOf)\".")
        }
    }

    func run() throws {
        let review = try options.session().retentionReview(asOf: asOf.flatMap { CalendarDate($0) })
        let shown = review.cases.filter { !dueOnly || $0.isDue }
        if options.json {
            try Console.json(RetentionOutput(review, shown: shown))
            return
        }
        for status in shown {
            let closed = status.closedOn.map { "closed \($0)" } ?? status.status.rawValue
            let rule = status.rule?.summary ?? "no schedule"
            let due = status.dueOn.map { " → due \($0)" } ?? ""
            let hold = status.onHold ? "  HOLD" : ""
            let verdict = status.isDue ? "DUE" : "not due (\(status.reason.rawValue))"
            Console.line("\(status.caseID)  \(status.category)  \(closed)  \(rule)\(due)\(hold)  \(verdict) — \(status.explanation)")
        }
        for (caseID, problem) in review.unreadable {
            Console.line("\(caseID)  UNREADABLE — \(problem)")
        }
        let planning = review.asOf == review.today ? "" : " (planning; today is \(review.today))"
        Console.line("\(review.dueCount) of \(review.cases.count) cases due for disposition as of \(review.asOf)\(planning)")
    }
}

/// `exhibit retention --json` (docs/retention.md).
struct RetentionOutput: Encodable {
    /// One case of the review: the library's status, under the keys docs/retention.md gives.
    struct Case: Encodable {
        let status: RetentionStatus

        enum CodingKeys: String, CodingKey {
            case `case`, category, title, status, closed_at, closed_on, retention, retention_years, permanent
            case due_on, on_hold, hold_reason, due, reason, explanation
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status.caseID, forKey: .case)
            try container.encode(status.category, forKey: .category)
            try container.encode(status.title, forKey: .title)
            try container.encode(status.status.rawValue, forKey: .status)
            try container.encodeIfPresent(status.closedAt, forKey: .closed_at)
            try container.encodeIfPresent(status.closedOn?.description, forKey: .closed_on)
            try container.encodeIfPresent(status.rule?.summary, forKey: .retention)
            try container.encodeIfPresent(status.rule?.yearsAfterClose, forKey: .retention_years)
            try container.encode(status.rule?.isPermanent ?? false, forKey: .permanent)
            try container.encodeIfPresent(status.dueOn?.description, forKey: .due_on)
            try container.encode(status.onHold, forKey: .on_hold)
            try container.encodeIfPresent(status.holdReason, forKey: .hold_reason)
            try container.encode(status.isDue, forKey: .due)
            try container.encode(status.reason.rawValue, forKey: .reason)
            try container.encode(status.explanation, forKey: .explanation)
        }
    }

    struct Unreadable: Encodable {
        var `case`: String
        var problem: String
    }

    var as_of: String
    var today: String
    var due_count: Int
    var cases: [Case]
    var unreadable: [Unreadable]

    init(_ review: RetentionReview, shown: [RetentionStatus]) {
        as_of = review.asOf.description
        today = review.today.description
        due_count = review.dueCount
        cases = shown.map { Case(status: $0) }
        unreadable = review.unreadable.map { Unreadable(case: $0.caseID, problem: $0.problem) }
    }
}

struct DisposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispose",
        abstract: "Destroy a case whose retention period has run, leaving a signed certificate in disposals.jsonl (custodian).",
        discussion: """
        Refused (exit 4, recorded in the case's ledger) while the case is on legal hold, \
        still open, kept permanently, or before its due date by the real clock (see \
        `exhibit retention`). Refused (exit 1) when the case does not verify. The \
        certificate lists every WARC file and blob with its sha256; `exhibit case show` \
        prints it afterwards and `exhibit verify WORKSPACE/disposals.jsonl` checks the register.
        """)

    @OptionGroup var options: CaseOptions
    @Option(name: .long, help: "Why the case is disposed of (recorded in the certificate; default: the retention schedule that ended).") var reason: String?

    func run() throws {
        let session = try options.session()
        let certificate = try session.dispose(options.caseID, reason: reason)
        // The index holds the case's page text: it must go with the evidence.
        do {
            try WorkspaceIndex(workspace: session.workspace, notices: session.notices).refresh(store: session.store)
        } catch {
            Console.error("The index still lists \(options.caseID) (\(error.message)); run `exhibit reindex` to remove it.")
        }
        MediaLines.afterDisposal(session, caseID: options.caseID)
        if options.json { try Console.json(certificate); return }
        let destroyed = certificate.warc.count + certificate.blobs.count + certificate.other.count
        let bytes = (certificate.warc + certificate.blobs + certificate.other).reduce(Int64(0)) { $0 + $1.size }
        Console.line("\(certificate.caseID) disposed of: \(destroyed) files (\(bytes) bytes) destroyed, \(certificate.warc.count) WARC, \(certificate.blobs.count) blobs; certificate \(certificate.seq) in \(session.workspace.disposalsPath), hash \(certificate.hash)")
    }
}

/// `exhibit case show` of a disposed-of case: its certificate.
enum DisposalCertificateOutput {
    static func show(_ certificate: DisposalCertificate, json: Bool) throws {
        if json { try Console.json(certificate); return }
        Console.line("\(certificate.caseID) — disposed of (certificate \(certificate.seq) of disposals.jsonl)")
        Console.line("category:  \(certificate.category)")
        Console.line("disposed:  \(certificate.time) by \(certificate.actor)")
        Console.line("reason:    \(certificate.reason)")
        Console.line("opened:    \(certificate.openedAt)")
        Console.line("closed:    \(certificate.closedAt)")
        Console.line("retention: \(certificate.retention), due \(certificate.dueOn)")
        Console.line("ledger:    \(certificate.ledgerEntries) entries, head \(certificate.ledgerHead)")
        for (label, files) in [("warc", certificate.warc), ("blob", certificate.blobs), ("other", certificate.other)] {
            for file in files {
                Console.line("\(label.padding(toLength: 10, withPad: " ", startingAt: 0))\(file.path)  sha256 \(file.sha256)  \(file.size) bytes")
            }
        }
        Console.line("prev:      \(certificate.prev)")
        Console.line("hash:      \(certificate.hash)")
        Console.line("sig:       \(certificate.signature)")
    }
}

/// `exhibit verify …/disposals.jsonl`: the disposal register's chain, hashes and
/// signatures, checked against the public keys of the workspace beside it.
/// Anyone may run it; nothing is recorded (the register is no case's ledger).
enum DisposalRegisterCheck {
    /// The register a verify TARGET names: a file called disposals.jsonl, or the
    /// bare name `disposals.jsonl` for the workspace's own.
    static func registerPath(_ target: String, workspacePath: String) -> String? {
        guard (target as NSString).lastPathComponent == "disposals.jsonl" else { return nil }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), !isDirectory.boolValue {
            return URL(fileURLWithPath: target).standardizedFileURL.path
        }
        return target == "disposals.jsonl" ? workspacePath + "/disposals.jsonl" : nil
    }

    static func run(_ path: String, json: Bool) throws {
        let root = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: root + "/workspace.json") else {
            throw ExhibitError(.storage, "\(path) is not in an Exhibit workspace (no workspace.json beside it), so there are no public keys to check its signatures with.")
        }
        let report = try DisposalRegister(path: path).verify(
            keyFor: DisposalRegister.workspaceKeys(forRegister: path), casesDirectory: root + "/cases")
        if json {
            try Console.json(Output(report))
        } else {
            for finding in report.findings { Console.line(finding.line) }
            let failures = report.findings.filter(\.isFailure).count
            if report.intact {
                Console.line("disposals.jsonl: intact — \(report.certificateCount) certificate\(report.certificateCount == 1 ? "" : "s"); chain, hashes and signatures verified; head \(report.head ?? "-")")
            } else {
                Console.line("disposals.jsonl: NOT INTACT — \(failures) problem\(failures == 1 ? "" : "s") in \(report.certificateCount) readable certificates")
            }
        }
        if !report.intact { throw ExitCode(1) }
    }

    struct Output: Encodable {
        var register: String
        var intact: Bool
        var certificates: Int
        var head: String?
        var findings: [VerifyOutput.Finding]

        init(_ report: DisposalRegister.Report) {
            register = report.path
            intact = report.intact
            certificates = report.certificateCount
            head = report.head
            findings = report.findings.map(VerifyOutput.Finding.init)
        }
    }
}
