public import ChainOfCustody
import Foundation

/// An actor at work in a workspace: every case command goes through here, so
/// each is checked against the actor's roles and recorded in the case's ledger,
/// refusals included (DESIGN §4, §14).
public struct ActingSession: Sendable {
    public let workspace: Workspace
    public let store: CaseStore
    public let actors: ActorRegistry
    public let actor: Actor
    /// Receives sentences about recovery actions taken on the actor's behalf.
    public let notices: @Sendable (String) -> Void

    /// `actorID` is the acting actor the caller named (the CLI: its flag or `$EXHIBIT_ACTOR`).
    public init(
        workspace: Workspace, templates: CaseTemplates, actorID: String?,
        notices: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ExhibitError) {
        self.notices = notices
        guard let actorID, !actorID.isEmpty else {
            throw ExhibitError(.usage, "No acting actor is named (`exhibit actor list` shows the ids); name one.", input: .actingActor)
        }
        self.workspace = workspace
        self.store = CaseStore(workspace: workspace, templates: templates)
        self.actors = ActorRegistry(workspace: workspace)
        self.actor = try actors.actor(actorID)
    }

    public func signer() throws(ExhibitError) -> LedgerSigner {
        try actors.signer(for: actor.id)
    }

    /// Checks the permission. On an existing case a refusal is itself recorded as
    /// a `refusal` entry before the not-permitted error (exit 4) is thrown.
    /// Before anything else, leftovers of an interrupted command on the case are
    /// finished or removed, and each action is reported through `notices`.
    public func authorize(_ permission: Permission, caseID: String?, command: String) throws(ExhibitError) {
        for notice in ExportStaging.removeAbandoned(workspace: workspace) { notices(notice) }
        if let caseID {
            // A disposal interrupted by a crash is finished or rolled back first.
            for notice in try Disposal.settleInterrupted(caseID: caseID, store: store) { notices(notice) }
            try store.requireCase(caseID)
            for notice in CaseRecovery.recover(caseDirectory: store.directory(of: caseID)) { notices(notice) }
        }
        var reason: String?
        if !permission.allows(actor) {
            reason = permission.refusalReason(for: actor)
        } else if let caseID, actor.has(.decisionMaker),
                  (try? store.state(of: caseID))?.category == BackgroundInvestigation.category {
            // IV.B.6: a decision-maker sees a background investigation only through a
            // decision-maker bundle, whatever other roles the actor holds.
            reason = "Actor \(actor.id) (\(actor.name)) is a decision-maker and may not \(permission.rawValue) in background investigation \(caseID); decision-makers receive decision-maker bundles only (IV.B.6)."
        } else if caseID == nil, permission == .uniformity, actor.has(.decisionMaker) {
            // Uniformity reads every candidate's case of a cohort: no listing of them
            // is left once background investigations are left out (DESIGN §23).
            reason = "Actor \(actor.id) (\(actor.name)) is a decision-maker and may not \(permission.rawValue); decision-makers receive decision-maker bundles only (IV.B.6)."
        }
        guard let reason else { return }
        if let caseID {
            let subject: JSONValue = .object([
                "command": .string(command),
                "reason": .string(reason),
                "required_roles": .array(permission.roles.map { .string($0.rawValue) }),
            ])
            try store.append(LedgerDraft(action: "refusal", subject: subject), to: caseID, signer: try signer())
        }
        throw ExhibitError(.notPermitted, reason)
    }

    /// Refuses (exit 4) a change to a case that is not open, recording the refusal
    /// in its ledger like any other (DESIGN §14). `known`: the case's state when the
    /// caller has just read it.
    public func requireOpen(_ caseID: String, command: String, known: CaseState? = nil) throws(ExhibitError) {
        let state: CaseState
        if let known { state = known } else { state = try store.state(of: caseID) }
        guard state.status != .open else { return }
        let reason = "Case \(state.id) is \(state.status.rawValue); nothing more can be added to it."
        try store.append(LedgerDraft(action: "refusal", subject: .object([
            "command": .string(command), "reason": .string(reason),
        ])), to: caseID, signer: try signer())
        throw ExhibitError(.notPermitted, reason)
    }

    /// Whether commands that list cases show this case to the actor: background
    /// investigations are left out for an actor holding decision-maker, whatever
    /// other roles it holds (IV.B.6, DESIGN §23).
    public func mayList(_ state: CaseState) -> Bool {
        !(actor.has(.decisionMaker) && state.category == BackgroundInvestigation.category)
    }

    /// `exhibit case open`.
    public func openCase(category: String, title: String, fields: [String: String]) throws(ExhibitError) -> CaseState {
        try authorize(.openCase, caseID: nil, command: "case open")
        if category == BackgroundInvestigation.category, actor.has(.decisionMaker) {
            // The opener holds custody first, and a decision-maker never holds a BI case (DESIGN §23).
            throw ExhibitError(.notPermitted, "Actor \(actor.id) (\(actor.name)) is a decision-maker and may not open a background investigation; the bi-searcher opens it (IV.B.6).")
        }
        return try store.open(category: category, title: title, fields: fields, signer: try signer())
    }

    /// `exhibit case note`.
    public func note(_ caseID: String, text: String) throws(ExhibitError) -> LedgerEntry {
        try authorize(.note, caseID: caseID, command: "case note")
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ExhibitError(.usage, "The note is empty; give its text.") }
        try requireOpen(caseID, command: "case note")
        return try store.append(LedgerDraft(action: "note", subject: .object(["text": .string(text)])), to: caseID, signer: try signer())
    }

    /// `exhibit case close` (supervisor).
    public func close(_ caseID: String, reason: String?) throws(ExhibitError) -> LedgerEntry {
        try authorize(.close, caseID: caseID, command: "case close")
        try requireOpen(caseID, command: "case close")
        var subject: [String: JSONValue] = [:]
        if let reason { subject["reason"] = .string(reason) }
        return try store.append(LedgerDraft(action: "close", subject: .object(subject)), to: caseID, signer: try signer())
    }

    /// `exhibit transfer`: hands custody of the case to another custodian.
    public func transfer(_ caseID: String, to target: String, reason: String) throws(ExhibitError) -> LedgerEntry {
        try authorize(.transfer, caseID: caseID, command: "transfer")
        let recipient = try actors.actor(target)
        if recipient.has(.decisionMaker), try store.state(of: caseID).category == BackgroundInvestigation.category {
            try refuse(caseID, command: "transfer", reason: "Actor \(recipient.id) (\(recipient.name)) is a decision-maker and may not take custody of background investigation \(caseID); decision-makers receive decision-maker bundles only (IV.B.6).",
                       extra: ["to": .string(recipient.id)])
        }
        guard recipient.has(.custodian) else {
            throw ExhibitError(.storage, "Actor \(recipient.id) (\(recipient.name)) is not a custodian and cannot take custody; a supervisor can add the role to a new actor.")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw ExhibitError(.usage, "The reason custody changes hands is empty; say why.", input: .reason) }
        let state = try store.state(of: caseID)
        let subject: JSONValue = .object([
            "from": .string(state.custody.last?.actor ?? actor.id),
            "to": .string(recipient.id),
            "reason": .string(reason),
        ])
        return try store.append(LedgerDraft(action: "transfer", subject: subject), to: caseID, signer: try signer())
    }

    /// `exhibit case show`: reading a case is itself recorded as a `view` entry.
    public func show(_ caseID: String) throws(ExhibitError) -> CaseState {
        try authorize(.read, caseID: caseID, command: "case show")
        try store.append(LedgerDraft(action: "view", subject: .object(["command": .string("case show")])), to: caseID, signer: try signer())
        return try store.state(of: caseID)
    }

    /// `exhibit case list`: the cases' states (from their ledgers), without those
    /// ``mayList(_:)`` leaves out. Listing reads no evidence, so it is not recorded per case.
    public func listCases() throws(ExhibitError) -> [CaseState] {
        try authorize(.read, caseID: nil, command: "case list")
        var states: [CaseState] = []
        for id in store.caseIDs() {
            let state = try store.state(of: id)
            if mayList(state) { states.append(state) }
        }
        return states
    }
}
