public import CaseIndex
public import CaseManagement
public import ChainOfCustody
import Foundation

/// What the case browser does to a workspace, as the acting actor: every read
/// of evidence is checked against the actor's roles and recorded as a `view`
/// entry; Verify and Export are `exhibit verify` and `exhibit export`.
///
/// Each call opens a fresh ``ActingSession``, so a change to the actor's roles
/// applies from the next page without restarting the server.
public struct CaseBrowsing: Sendable {
    public let workspace: Workspace
    public let templates: CaseTemplates
    public let actorID: String
    public let index: WorkspaceIndex
    /// Receives sentences about recovery actions taken on the actor's behalf.
    public let notices: @Sendable (String) -> Void

    /// Fails (before anything listens) when the actor is unknown or the index
    /// cannot be opened.
    public init(workspace: Workspace, actorID: String?, notices: @escaping @Sendable (String) -> Void = { _ in }) throws(ExhibitError) {
        self.workspace = workspace
        self.templates = try CaseTemplates.load()
        self.notices = notices
        let session = try ActingSession(workspace: workspace, templates: templates, actorID: actorID, notices: notices)
        self.actorID = session.actor.id
        self.index = try WorkspaceIndex(workspace: workspace, notices: notices)
    }

    public func session() throws(ExhibitError) -> ActingSession {
        try ActingSession(workspace: workspace, templates: templates, actorID: actorID, notices: notices)
    }

    // MARK: Pieces

    /// Unknown cases are "not found" before any permission check, so the
    /// answer never depends on who asks; an invalid id touches no file.
    func requireCase(_ caseID: String, session: ActingSession) throws(ExhibitError) {
        guard CaseStore.isValidCaseID(caseID),
              FileManager.default.fileExists(atPath: session.store.directory(of: caseID) + "/ledger.jsonl") else {
            throw BrowserError.notFound("There is no case \(caseID) in this workspace.")
        }
    }

    /// The case page's permission: reading, or custody. A custodian who reads no
    /// evidence still verifies the case, and the Verify button is on this page
    /// (issue 18); a decision-maker is still refused every background
    /// investigation, whatever other role it holds (``ActingSession/authorize(_:caseID:command:)``).
    func authorizedCasePage(_ caseID: String) throws(ExhibitError) -> (ActingSession, readsEvidence: Bool) {
        let session = try session()
        try requireCase(caseID, session: session)
        if !Permission.read.allows(session.actor), Permission.verify.allows(session.actor) {
            try session.authorize(.verify, caseID: caseID, command: "serve")
            return (session, false)
        }
        try session.authorize(.read, caseID: caseID, command: "serve")
        return (session, true)
    }

    func authorizedRead(_ caseID: String) throws(ExhibitError) -> ActingSession {
        let session = try session()
        try requireCase(caseID, session: session)
        try session.authorize(.read, caseID: caseID, command: "serve")
        return session
    }

    func findArtifact(_ argument: String, caseID: String, session: ActingSession) throws(ExhibitError) -> (BrowserArtifact, [LedgerEntry]) {
        let entries = try session.store.ledger(of: caseID).entries()
        // An id, or the full sha256 (the first artifact recorded with it), captured or imported alike.
        let artifacts = BrowserArtifact.all(in: entries)
        let sha256 = argument.count == 64 ? argument.lowercased() : nil
        guard let artifact = artifacts.first(where: { $0.id == argument }) ?? artifacts.first(where: { sha256 != nil && $0.sha256 == sha256 }) else {
            throw BrowserError.notFound("Case \(caseID) has no artifact \(argument).")
        }
        return (artifact, entries)
    }

    func selectors(_ caseID: String, session: ActingSession) throws(ExhibitError) -> [SelectorSummary] {
        try index.refresh(caseID: caseID, store: session.store)
        return try index.selectors(caseID: caseID)
    }

    /// A `view` entry by the acting actor; `command` is always `serve`, and
    /// `viewed` says what: case, artifact, replay or blob.
    @discardableResult
    func recordView(_ session: ActingSession, _ caseID: String, _ subject: [String: JSONValue]) throws(ExhibitError) -> LedgerEntry {
        var subject = subject
        subject["command"] = .string("serve")
        return try session.store.append(LedgerDraft(action: "view", subject: .object(subject)), to: caseID, signer: try session.signer())
    }
}
