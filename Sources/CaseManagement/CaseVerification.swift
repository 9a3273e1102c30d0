public import ChainOfCustody
import Foundation

/// Verifies a case directory: its ledger's chain, hashes, subjects and
/// signatures against the actors' public keys.
public struct CaseVerification: Sendable {
    public struct Report: Sendable {
        public var caseID: String
        public var directory: String
        public var entryCount: Int
        public var withheldCount: Int
        public var head: String?
        public var findings: [Verifier.Finding]
        public var intact: Bool { !findings.contains(where: \.isFailure) }
    }

    /// Finds the case directory for a TARGET: a case id in the workspace, or a path
    /// to a case directory (holding ledger.jsonl).
    public static func locate(target: String, workspacePath: String) throws(ExhibitError) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
            let path = URL(fileURLWithPath: target).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: path + "/ledger.jsonl") else {
                throw ExhibitError(.storage, "\(path) is not a case directory (it has no ledger.jsonl).")
            }
            return path
        }
        guard CaseStore.isValidCaseID(target) else {
            throw ExhibitError(.storage, "\(target) is neither a case id nor a case directory.")
        }
        let directory = workspacePath + "/cases/" + target
        guard FileManager.default.fileExists(atPath: directory + "/ledger.jsonl") else {
            throw ExhibitError(.storage, "Unknown case \"\(target)\" in the workspace \(workspacePath); pass a case directory or --workspace.")
        }
        return directory
    }

    /// Checks the case at `directory`. Public keys come from `keyFor`, normally
    /// the workspace's actors/ (a case directory copied elsewhere is checked against
    /// the workspace beside it, `../../actors`).
    public static func verify(directory: String, keyFor: (String) -> VerifyingKey?) throws(ExhibitError) -> Report {
        let caseID = (directory as NSString).lastPathComponent
        let bytes = try AtomicFile.read(directory + "/ledger.jsonl")
        let expectedID = CaseStore.isValidCaseID(caseID) ? caseID : nil
        let ledger = Verifier.checkLedger(bytes: bytes, caseID: expectedID, keyFor: keyFor)
        let reportedID = expectedID ?? ledger.entries.first?.caseID ?? caseID
        return Report(
            caseID: reportedID, directory: directory, entryCount: ledger.entries.count,
            withheldCount: ledger.withheldCount, head: ledger.head, findings: ledger.findings)
    }

    /// Public keys of the workspace that holds `directory` (cases/<ID> → ../..),
    /// or of the given workspace.
    public static func workspaceKeys(forCaseDirectory directory: String) -> (String) -> VerifyingKey? {
        let root = URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
        return { id in
            guard ActorRegistry.isValidID(id),
                  let bytes = try? AtomicFile.read("\(root)/actors/\(id).json"),
                  let json = try? JSONValue(parsing: bytes),
                  let pem = json["public_key"]?.stringValue else { return nil }
            return try? VerifyingKey(pem: pem)
        }
    }
}
