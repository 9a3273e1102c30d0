public import CaseManagement
public import ChainOfCustody
import Foundation

/// `exhibit verify CASE` on a case of the workspace: the checks it runs, the
/// `verify` entry a custodian's verification leaves, and the summary line.
/// One implementation for the command line and the local case browser, so
/// that "Verify" in the browser is exactly `exhibit verify`.
public enum WorkspaceCaseCheck {
    /// Every check of a case directory: chain, entry hashes, subjects and
    /// signatures, every recorded file's digest, WARC records against the
    /// ledger, and trusted timestamps.
    /// Each file is read once, for every check that needs it.
    public static func verify(directory: String) throws(ExhibitError) -> CaseVerification.Report {
        let digests = FileDigestCache()
        return try CaseVerification.verify(
            directory: directory, keyFor: CaseVerification.workspaceKeys(forCaseDirectory: directory),
            digests: digests)
    }

    /// Records a custodian's verification as a `verify` entry. The caller has
    /// authorised the session for `.verify` on the case.
    ///
    /// A damaged ledger may refuse appends; then the findings are what matter
    /// and the entry is left out rather than hiding them behind a second error.
    @discardableResult
    public static func record(_ report: CaseVerification.Report, session: ActingSession) throws(ExhibitError) -> LedgerEntry? {
        let subject: JSONValue = .object([
            "result": .string(report.intact ? "intact" : "failed"),
            "findings": .integer(Int64(report.findings.filter(\.isFailure).count)),
            "ledger_head": .string(report.head ?? ""),
            "entries": .integer(Int64(report.entryCount)),
        ])
        let signer = try session.signer()
        if report.intact {
            return try session.store.append(LedgerDraft(action: "verify", subject: subject), to: report.caseID, signer: signer)
        }
        return try? session.store.append(LedgerDraft(action: "verify", subject: subject), to: report.caseID, signer: signer)
    }

    /// The last line `exhibit verify` prints.
    public static func summary(_ report: CaseVerification.Report) -> String {
        let withheld = report.withheldCount > 0 ? ", \(report.withheldCount) withheld" : ""
        let failures = report.findings.filter(\.isFailure).count
        if report.intact {
            let signer = report.signer.map { "; sealed by \($0)" } ?? ""
            return "\(report.caseID): intact — \(report.entryCount) ledger entries\(withheld); chain, signatures, files, WARC records and timestamps verified; head \(report.head ?? "-")\(signer)"
        }
        return "\(report.caseID): NOT INTACT — \(failures) problem\(failures == 1 ? "" : "s") in \(report.entryCount) readable ledger entries\(withheld)"
    }
}

extension BundleFacts {
    /// The one-line summary of a ledger entry that the report's timeline shows.
    public static func timelineSummary(_ entry: LedgerEntry) -> String {
        FactsCollector.summary(entry)
    }
}
