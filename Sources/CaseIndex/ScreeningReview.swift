public import CaseManagement
public import ChainOfCustody
public import Screening
import Foundation

// Default-deny protected-class screening (DESIGN §23, policy IV.B.6): which lexicon
// set counts, what a person decides where words cannot, the second actor who
// countersigns every clearing decision, and the gate a decision-maker export passes.

/// The digest of a lexicon set: what a `screening` entry records and a supervisor approves.
public enum LexiconSet {
    /// sha256 of the canonical JSON (RFC 8785) of the lexicons, sorted by class, each
    /// with every field of its file. Any change to a term, a title or a law, an
    /// added or a removed class, gives another digest.
    public static func digest(_ lexicons: [ProtectedClassLexicon]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var objects: [(String, JSONValue)] = []
        for lexicon in lexicons {
            let json = (try? encoder.encode(lexicon)).flatMap { try? JSONValue(parsing: Array($0)) } ?? .string(lexicon.class)
            objects.append((lexicon.class, json))
        }
        let sorted = JSONValue.array(objects.sorted { $0.0 < $1.0 }.map(\.1))
        return Digest.sha256Hex((try? sorted.canonicalBytes()) ?? [])
    }

    public static func digest(_ screening: ProtectedClassScreening) -> String {
        digest(screening.lexicons)
    }

    /// The digest of the set compiled into this binary: the shipped set.
    public static func shippedDigest() throws(ExhibitError) -> String {
        digest(try ProtectedClassScreening.embedded())
    }

    /// Every term of the set, counted.
    public static func termCount(_ screening: ProtectedClassScreening) -> Int {
        screening.lexicons.reduce(0) { $0 + $1.terms.count }
    }
}

/// Whether a lexicon set counts as screening in a workspace (DESIGN §23).
///
/// Only a set a supervisor approved counts: `exhibit lexicons approve` records a
/// `lexicons-approved` entry (digest, classes, origin) in the workspace ledger, and
/// the latest such entry names the one set in force — approving another set retires
/// the one before, so what was screened under it is screened again.
///
/// The shipped set works out of the box: while no supervisor has approved any set,
/// the set compiled into this binary counts as approved, and the first screening
/// that relies on it records a `lexicons-default` entry pinning its digest. A
/// changed set — an agency's own copy through `$EXHIBIT_TEMPLATES`, or an upgrade
/// whose shipped set differs from the pinned one — counts only once a supervisor
/// approves it.
public struct LexiconApproval: Sendable {
    public enum Basis: String, Sendable, Encodable {
        case supervisor
        case shippedDefault = "shipped-default"
    }

    /// The digest asked about.
    public var digest: String
    public var approved: Bool
    /// How it is approved, when it is.
    public var basis: Basis?
    /// The workspace-ledger entry that approves it (or pins the shipped default).
    public var entry: LedgerEntry?
    /// The digest a supervisor approved last, when there is one (it may be another set).
    public var approvedDigest: String?
    /// True when the set is the shipped default and no entry pins it yet.
    public var needsPin: Bool

    /// What a `screening` entry records of the approval: null when not approved.
    public var record: JSONValue {
        guard approved, let basis else { return .null }
        var object: [String: JSONValue] = ["basis": .string(basis.rawValue)]
        if let entry {
            object["workspace_seq"] = .integer(entry.seq)
            object["workspace_entry"] = .string(entry.hash)
            object["actor"] = .string(entry.actor)
        }
        return .object(object)
    }

    /// The approval status of the set with `digest` in `workspace`.
    public static func status(of digest: String, in workspace: Workspace) throws(ExhibitError) -> LexiconApproval {
        let entries = try WorkspaceLedger(workspace: workspace).entries()
        let actors = ActorRegistry(workspace: workspace)
        // Only an approval by an actor who holds supervisor, and not decision-maker,
        // is one (the ledger's signatures were checked when it was read).
        let approvals = entries.filter { entry in
            guard entry.action == "lexicons-approved", entry.subject?["digest"]?.stringValue != nil,
                  let actor = try? actors.actor(entry.actor) else { return false }
            return actor.has(.supervisor) && !actor.has(.decisionMaker)
        }
        if let last = approvals.last {
            let approvedDigest = last.subject?["digest"]?.stringValue
            return LexiconApproval(digest: digest, approved: approvedDigest == digest, basis: approvedDigest == digest ? .supervisor : nil,
                                   entry: approvedDigest == digest ? last : nil, approvedDigest: approvedDigest, needsPin: false)
        }
        let shipped = try LexiconSet.shippedDigest()
        let pin = entries.first { $0.action == "lexicons-default" }
        let pinned = pin?.subject?["digest"]?.stringValue
        let isDefault = digest == shipped && (pinned == nil || pinned == digest)
        return LexiconApproval(digest: digest, approved: isDefault, basis: isDefault ? .shippedDefault : nil,
                               entry: isDefault ? pin : nil, approvedDigest: pinned, needsPin: isDefault && pin == nil)
    }

    /// Records the shipped default in force at its first use (signed by the actor
    /// whose command relied on it: a record of fact, not an approval).
    public static func pin(_ screening: ProtectedClassScreening, session: ActingSession) throws(ExhibitError) -> LexiconApproval {
        let digest = LexiconSet.digest(screening)
        try WorkspaceLedger(workspace: session.workspace).append(LedgerDraft(action: "lexicons-default", subject: .object([
            "digest": .string(digest), "classes": .array(screening.lexicons.map { .string($0.class) }),
            "origin": .string(screening.origin), "terms": .integer(Int64(LexiconSet.termCount(screening))),
        ])), signer: try session.signer())
        return try status(of: digest, in: session.workspace)
    }

    /// `exhibit lexicons approve`, optionally of one digest (a supervisor who is not a
    /// decision-maker): records the set in force as the workspace's approved set.
    /// Returns nil when it is approved already (nothing is recorded again).
    public static func approve(_ screening: ProtectedClassScreening, expecting: String?, session: ActingSession) throws(ExhibitError) -> LedgerEntry? {
        let actor = session.actor
        var refusal: String?
        if !actor.has(.supervisor) {
            refusal = "Actor \(actor.id) (\(actor.name)) may not approve lexicons: that needs the supervisor role, which this actor does not hold."
        } else if actor.has(.decisionMaker) {
            refusal = "Actor \(actor.id) (\(actor.name)) is a decision-maker and may not approve the lexicons that filter what decision-makers see (IV.B.6)."
        }
        let ledger = WorkspaceLedger(workspace: session.workspace)
        if let refusal {
            try ledger.append(LedgerDraft(action: "refusal", subject: .object([
                "command": .string("lexicons approve"), "reason": .string(refusal),
            ])), signer: try session.signer())
            throw ExhibitError(.notPermitted, refusal)
        }
        let digest = LexiconSet.digest(screening)
        if let expecting, expecting.lowercased() != digest {
            throw ExhibitError(.usage, "The lexicon set in force has digest \(digest), not \(expecting); check `exhibit lexicons show` and approve the set you reviewed.")
        }
        let current = try status(of: digest, in: session.workspace)
        if current.approved, current.basis == .supervisor { return nil }
        return try ledger.append(LedgerDraft(action: "lexicons-approved", subject: .object([
            "digest": .string(digest), "classes": .array(screening.lexicons.map { .string($0.class) }),
            "origin": .string(screening.origin), "terms": .integer(Int64(LexiconSet.termCount(screening))),
        ])), signer: try session.signer())
    }
}

/// What a person decides where screening cannot (`needs-review`), and the second
/// actor's countersignature on every decision that lets something through: a
/// reviewed-clear artifact and a dismissed flag (the four-eyes rule, DESIGN §23).
public struct ScreeningReview: Sendable {
    public let session: ActingSession

    public init(session: ActingSession) {
        self.session = session
    }

    public enum Decision: String, Sendable, Encodable {
        case reviewedClear = "reviewed-clear"
        case protected
    }

    /// A reason must say why in words: a countersigner reads it.
    static func sentence(_ reason: String, what: String) throws(ExhibitError) -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        let letters = trimmed.unicodeScalars.filter { $0.properties.isAlphabetic }.count
        guard letters >= 3 else {
            throw ExhibitError(.usage, "The reason \"\(trimmed)\" has fewer than three letters, but the \(what) is evidence and a second actor countersigns it; say why in words.", input: .reason)
        }
        return trimmed
    }

    /// `exhibit bi review CASE ARTIFACT`, clear or protected, with a reason (the
    /// bi-searcher). Protected tags the artifact protected-class; clear lets it through
    /// once a second actor countersigns. A decision is not changed, except that a
    /// cleared artifact may still be found protected.
    public func review(_ caseID: String, artifact: String, decision: Decision, reason: String) throws(ExhibitError) -> LedgerEntry {
        let entries = try BackgroundInvestigation(session: session).authorizeChange(.backgroundSearch, caseID, command: "bi review")
        let reason = try Self.sentence(reason, what: "review")
        let id = try ArtifactID.resolve(artifact, in: entries)
        if let previous = Self.reviews(in: entries)[id] {
            let before = previous.subject?["decision"]?.stringValue ?? ""
            if before == Decision.protected.rawValue || decision == .reviewedClear {
                throw ExhibitError(.usage, "Artifact \(id) was already reviewed \(before) (ledger seq \(previous.seq)); a review is not changed.")
            }
        }
        var drafts = [LedgerDraft(action: "review", subject: .object([
            "artifact": .string(id), "decision": .string(decision.rawValue), "reason": .string(reason),
        ]))]
        if decision == .protected {
            drafts.append(LedgerDraft(action: "tag", subject: .object([
                "artifact": .string(id), "tag": .string(BackgroundInvestigation.protectedClassTag),
            ])))
        }
        return try session.store.append(drafts, to: caseID, signer: try session.signer())[0]
    }

    /// `exhibit bi countersign CASE ARTIFACT|FLAG`, with an optional reason: a second actor —
    /// another bi-searcher or a supervisor, never a decision-maker, never the actor
    /// who decided — countersigns a reviewed-clear artifact or a dismissed flag.
    public func countersign(_ caseID: String, target: String, reason: String?) throws(ExhibitError) -> LedgerEntry {
        try session.authorize(.read, caseID: caseID, command: "bi countersign")
        let state = try session.store.state(of: caseID)
        guard state.category == BackgroundInvestigation.category else {
            throw ExhibitError(.usage, "Case \(caseID) is not a background investigation; `bi countersign` applies to those only.")
        }
        try session.requireOpen(caseID, command: "bi countersign")
        let actor = session.actor
        let searcher = actor.has(.investigator) && actor.authorizations.contains(Authorization.biSearcher.rawValue)
        if actor.has(.decisionMaker) {
            try refuse(caseID, "Actor \(actor.id) (\(actor.name)) is a decision-maker and may not countersign a screening decision (IV.B.6).")
        }
        if !searcher && !actor.has(.supervisor) {
            try refuse(caseID, "Actor \(actor.id) (\(actor.name)) may not countersign: a second bi-searcher or a supervisor countersigns screening decisions (IV.B.6).")
        }
        let entries = try session.store.ledger(of: caseID).entries()
        let signed = Self.countersigned(in: entries)
        var subject: [String: JSONValue] = [:]
        let decided: LedgerEntry
        if Screening.recorded(in: entries).contains(where: { $0.id == target }) {
            guard let decision = Screening.decisionEntries(in: entries)[target] else {
                throw ExhibitError(.usage, "Flag \(target) is not decided yet; the searcher confirms or dismisses it first.")
            }
            guard decision.subject?["decision"]?.stringValue == "dismissed" else {
                throw ExhibitError(.usage, "Flag \(target) was confirmed; a confirmation withholds its artifact and needs no countersignature.")
            }
            decided = decision
            subject["flag"] = .string(target)
            subject["artifact"] = decision.subject?["artifact"] ?? .null
            subject["decision"] = .string("dismissed")
        } else {
            let id = try ArtifactID.resolve(target, in: entries)
            guard let review = Self.reviews(in: entries)[id] else {
                throw ExhibitError(.usage, "Artifact \(id) has no review to countersign; a bi-searcher first reviews it as clear or protected, with a reason, with `exhibit bi review \(caseID) \(id)`.")
            }
            guard review.subject?["decision"]?.stringValue == Decision.reviewedClear.rawValue else {
                throw ExhibitError(.usage, "Artifact \(id) was reviewed protected; that withholds it and needs no countersignature.")
            }
            decided = review
            subject["artifact"] = .string(id)
            subject["decision"] = .string(Decision.reviewedClear.rawValue)
        }
        if let by = signed[decided.seq] {
            throw ExhibitError(.usage, "That decision (ledger seq \(decided.seq)) was already countersigned by \(by).")
        }
        if decided.actor == actor.id {
            try refuse(caseID, "Actor \(actor.id) (\(actor.name)) made that decision (ledger seq \(decided.seq)); a second actor countersigns it (four eyes, IV.B.6).")
        }
        subject["decision_seq"] = .integer(decided.seq)
        subject["decided_by"] = .string(decided.actor)
        if let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty { subject["reason"] = .string(reason) }
        return try session.store.append(LedgerDraft(action: "countersign", subject: .object(subject)), to: caseID, signer: try session.signer())
    }

    private func refuse(_ caseID: String, _ reason: String) throws(ExhibitError) {
        try session.store.append(LedgerDraft(action: "refusal", subject: .object([
            "command": .string("bi countersign"), "reason": .string(reason),
        ])), to: caseID, signer: try session.signer())
        throw ExhibitError(.notPermitted, reason)
    }

    /// The latest `review` entry of each artifact.
    public static func reviews(in entries: [LedgerEntry]) -> [String: LedgerEntry] {
        var result: [String: LedgerEntry] = [:]
        for entry in entries where entry.action == "review" {
            if let id = entry.subject?["artifact"]?.stringValue { result[id] = entry }
        }
        return result
    }

    /// The actor who countersigned each decision, by the decision's ledger seq.
    public static func countersigned(in entries: [LedgerEntry]) -> [Int64: String] {
        var result: [Int64: String] = [:]
        for entry in entries where entry.action == "countersign" {
            if let seq = entry.subject?["decision_seq"]?.intValue, result[seq] == nil { result[seq] = entry.actor }
        }
        return result
    }

    /// What the latest screening under the set in force said of each artifact: a
    /// reason when it needs review, nil when it was screened as text.
    public static func screenings(in entries: [LedgerEntry], lexiconDigest: String) -> [String: String?] {
        var result: [String: String?] = [:]
        for entry in entries where entry.action == "screening" {
            guard let subject = entry.subject, subject["lexicon_digest"]?.stringValue == lexiconDigest,
                  subject["lexicon_approval"]?.objectValue != nil else { continue }
            var reasons: [String: String] = [:]
            for item in subject["needs_review"]?.arrayValue ?? [] {
                if let id = item["artifact"]?.stringValue { reasons[id] = item["reason"]?.stringValue ?? "it needs review" }
            }
            for id in subject["screened"]?.arrayValue ?? [] {
                if let id = id.stringValue { result[id] = .some(reasons[id]) }
            }
        }
        return result
    }
}

/// The gate a decision-maker export passes (DESIGN §23): nothing is disclosed
/// unless it was screened and passed under the approved lexicon set, or a person
/// reviewed it clear and a second actor countersigned.
public enum ScreeningGate {
    /// Throws not-permitted (exit 4), naming the first artifact that may not go out
    /// and the command that lets it, unless every artifact of `disclosed` passed.
    /// `lexiconDigest` is the set in force now; a screening under another set does not count.
    public static func requirePassed(_ disclosed: Set<String>, entries: [LedgerEntry], caseID: String, lexiconDigest: String) throws(ExhibitError) {
        let screeningEntries = entries.filter { $0.action == "screening" }
        guard !screeningEntries.isEmpty else {
            throw ExhibitError(.notPermitted, "Case \(caseID) was never screened for protected-class information; run `exhibit bi flags \(caseID)` and decide what it finds before a decision-maker export.")
        }
        let flags = Screening.recorded(in: entries)
        let decisions = Screening.decisionEntries(in: entries)
        if let open = flags.first(where: { decisions[$0.id] == nil }) {
            throw ExhibitError(.notPermitted, "Flag \(open.id) on \(open.artifact) is not decided; confirm or dismiss every flag (`exhibit bi flags \(caseID)`) before a decision-maker export.")
        }
        let current = ScreeningReview.screenings(in: entries, lexiconDigest: lexiconDigest)
        let reviews = ScreeningReview.reviews(in: entries)
        let signed = ScreeningReview.countersigned(in: entries)
        for id in disclosed.sorted() {
            if let review = reviews[id], review.subject?["decision"]?.stringValue == ScreeningReview.Decision.reviewedClear.rawValue {
                guard signed[review.seq] != nil else {
                    throw ExhibitError(.notPermitted, "Artifact \(id) was reviewed clear by \(review.actor) but not countersigned; a second actor (another bi-searcher or a supervisor) runs `exhibit bi countersign \(caseID) \(id)` before a decision-maker export.")
                }
                continue
            }
            guard let screened = current[id] else {
                throw ExhibitError(.notPermitted, notScreened(id, screeningEntries, caseID: caseID, lexiconDigest: lexiconDigest))
            }
            if let reason = screened {
                throw ExhibitError(.notPermitted, "Artifact \(id) needs review: \(reason); a bi-searcher reviews it as clear or protected, with a reason, with `exhibit bi review \(caseID) \(id)`, and a second actor countersigns a clear with `exhibit bi countersign \(caseID) \(id)`.")
            }
            for flag in flags where flag.artifact == id {
                guard let decision = decisions[flag.id], decision.subject?["decision"]?.stringValue == "dismissed" else { continue }
                if signed[decision.seq] == nil {
                    throw ExhibitError(.notPermitted, "Flag \(flag.id) on \(id) was dismissed by \(decision.actor) but not countersigned; a second actor (another bi-searcher or a supervisor) runs `exhibit bi countersign \(caseID) \(flag.id)` before a decision-maker export.")
                }
            }
        }
    }

    /// Why an artifact has no screening that counts, and what to run.
    static func notScreened(_ id: String, _ screenings: [LedgerEntry], caseID: String, lexiconDigest: String) -> String {
        let covering = screenings.filter { entry in
            entry.subject?["screened"]?.arrayValue?.contains(.string(id)) == true
        }
        if covering.contains(where: { $0.subject?["lexicon_digest"]?.stringValue == lexiconDigest }) {
            return "Artifact \(id) was screened only with a lexicon set no supervisor approved (sha256 \(lexiconDigest)); a supervisor runs `exhibit lexicons approve`, then run `exhibit bi flags \(caseID)` again before a decision-maker export."
        }
        if let last = covering.last {
            let used = last.subject?["lexicon_digest"]?.stringValue ?? "unrecorded"
            return "Artifact \(id) was screened with lexicon set \(used), not the set in force (\(lexiconDigest)); run `exhibit bi flags \(caseID)` again before a decision-maker export."
        }
        return "Artifact \(id) was never screened for protected-class information; run `exhibit bi flags \(caseID)` after the last capture and decide what it finds before a decision-maker export."
    }
}
