public import ChainOfCustody
import Foundation

/// The workspace's own custody ledger, `workspace-ledger.jsonl`: decisions that
/// belong to no case but govern all of them, such as which protected-class lexicon
/// set a supervisor approved (DESIGN §23).
///
/// It is a ``Ledger`` like a case's — hash-chained, every entry signed by its actor,
/// appended under a lock with compare-and-swap — whose entries name the fixed case id
/// ``caseID``, and whose heads the workspace witness log records like a case's, so
/// a cut at its end is seen. Reading it checks the chain, every signature and the
/// witness: a decision read from a damaged ledger would not be one.
public struct WorkspaceLedger: Sendable {
    /// The case id its entries carry.
    public static let caseID = "WORKSPACE"

    public let workspace: Workspace

    public init(workspace: Workspace) {
        self.workspace = workspace
    }

    public var path: String { workspace.root + "/workspace-ledger.jsonl" }

    var ledger: Ledger { Ledger(path: path) }

    /// Appends one entry signed by `signer`.
    @discardableResult
    public func append(_ draft: LedgerDraft, signer: LedgerSigner) throws(ExhibitError) -> LedgerEntry {
        // Checked first: an entry chained to a tampered ledger would vouch for it.
        _ = try entries()
        let existed = FileManager.default.fileExists(atPath: path)
        let entry = try ledger.append([draft], caseID: Self.caseID, signer: signer, witness: workspace.witness)[0]
        if !existed { AtomicFile.syncDirectory(containing: path) }
        return entry
    }

    /// Every entry, after checking the chain, hashes, signatures (with the
    /// workspace's actors' keys) and the witness log; empty when nothing was ever
    /// recorded. A damaged or cut ledger is a verification error (exit 1).
    public func entries() throws(ExhibitError) -> [LedgerEntry] {
        let witnessed = try workspace.witness.latest(for: Self.caseID)
        guard FileManager.default.fileExists(atPath: path) else {
            if let witnessed {
                throw damaged("it is missing, but the witness log recorded it reaching entry \(witnessed.seq)")
            }
            return []
        }
        let bytes = try ledger.readLocked()
        let actors = ActorRegistry(workspace: workspace)
        let report = Verifier.checkLedger(bytes: bytes, path: "workspace-ledger.jsonl", caseID: Self.caseID, keyFor: actors.verifyingKey(for:))
        if let finding = report.findings.first(where: \.isFailure) {
            throw damaged(finding.detail)
        }
        if let witnessed {
            let have = report.entries.last?.seq ?? 0
            guard witnessed.seq <= have, report.entries[Int(witnessed.seq) - 1].hash == witnessed.head else {
                throw damaged("the witness log recorded it reaching entry \(witnessed.seq) with head \(witnessed.head), which it no longer does")
            }
        }
        return report.entries
    }

    private func damaged(_ detail: String) -> ExhibitError {
        ExhibitError(.verificationFailed, "The workspace ledger \(path) does not verify (\(detail)); nothing recorded in it can be relied on — restore it from a copy.")
    }
}
