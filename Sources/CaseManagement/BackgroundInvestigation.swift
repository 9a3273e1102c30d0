public import ChainOfCustody
import Foundation

/// Background investigations (DESIGN §10, policy IV.B.5–10): who may search,
/// the uniform checklist, findings and their validation, protected-class tags.
/// Everything here is read from and written to the case's ledger.
public struct BackgroundInvestigation: Sendable {
    public static let category = "background-investigation"
    public static let protectedClassTag = "protected-class"

    public let session: ActingSession

    public init(session: ActingSession) {
        self.session = session
    }

    // MARK: Who may search (IV.B.6, IV.B.7)

    /// In a background-investigation case the searcher must hold the bi-searcher
    /// authorisation and must not be a decision-maker. A refusal is recorded. `known`: the
    /// case's state when the caller has just read it (a long ledger is then not read again).
    public static func requireSearcher(_ session: ActingSession, caseID: String, command: String,
                                       known: CaseState? = nil) throws(ExhibitError) {
        let state: CaseState
        if let known { state = known } else { state = try session.store.state(of: caseID) }
        guard state.category == category else { return }
        var reason: String?
        if session.actor.has(.decisionMaker) {
            reason = "Actor \(session.actor.id) (\(session.actor.name)) is a decision-maker and may never search in a background investigation (IV.B.6)."
        } else if !session.actor.authorizations.contains(Authorization.biSearcher.rawValue) {
            reason = "Actor \(session.actor.id) (\(session.actor.name)) lacks the bi-searcher authorisation (IV.B.7); a supervisor grants the bi-searcher authorisation with `exhibit actor authorize \(session.actor.id)`."
        }
        guard let reason else { return }
        try session.store.append(LedgerDraft(action: "refusal", subject: .object([
            "command": .string(command), "reason": .string(reason),
        ])), to: caseID, signer: try session.signer())
        throw ExhibitError(.notPermitted, reason)
    }

    /// Checks role, case state and searcher rules for a change to a BI case.
    public func authorizeChange(_ permission: Permission, _ caseID: String, command: String, backgroundOnly: Bool = true) throws(ExhibitError) -> [LedgerEntry] {
        try session.authorize(permission, caseID: caseID, command: command)
        let state = try session.store.state(of: caseID)
        if backgroundOnly, state.category != Self.category {
            throw ExhibitError(.usage, "Case \(caseID) is not a background investigation; `\(command)` applies to those only.")
        }
        try Self.requireSearcher(session, caseID: caseID, command: command)
        try session.requireOpen(caseID, command: command)
        return try session.store.ledger(of: caseID).entries()
    }

    // MARK: The uniform checklist (IV.B.9)

    public enum StepStatus: String, Sendable, Codable { case done, skipped }

    /// `exhibit bi step CASE STEP`: done (with artifacts, or no results) or skipped with a reason.
    /// A step not in the template's checklist is recorded as an extra step. A `done`
    /// step cites the artifacts the search produced, or says it found nothing
    /// (`no_results`, signed with the entry like every other word of it); a done step
    /// with neither is recorded but counts as incomplete in `uniformity` (DESIGN §23).
    public func recordStep(_ caseID: String, step: String, status: StepStatus, reason: String?, artifacts: [String],
                           noResults: Bool = false) throws(ExhibitError) -> LedgerEntry {
        let entries = try authorizeChange(.backgroundSearch, caseID, command: "bi step")
        guard !step.isEmpty, step.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw ExhibitError(.usage, "A step id is lower-case letters, digits and hyphens (the template's checklist ids), not \"\(step)\".")
        }
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if status == .skipped, reason?.isEmpty ?? true {
            throw ExhibitError(.usage, "The reason the step was skipped is empty, and candidates must be treated alike (IV.B.9); say why.", input: .reason)
        }
        if noResults, status != .done {
            throw ExhibitError(.usage, "A no-results statement is for a step that was done; a skipped step gives its reason instead.")
        }
        if noResults, !artifacts.isEmpty {
            throw ExhibitError(.usage, "A step either cites the artifacts it produced or states that it found nothing, not both.")
        }
        var ids: [JSONValue] = []
        for artifact in artifacts { ids.append(.string(try ArtifactID.resolve(artifact, in: entries))) }
        let template = try session.store.templates.template(Self.category)
        var subject: [String: JSONValue] = [
            "step": .string(step), "status": .string(status.rawValue), "artifacts": .array(ids),
            "in_checklist": .bool(template.checklist?.contains { $0.id == step } ?? false),
        ]
        if noResults { subject["no_results"] = .bool(true) }
        if let reason, !reason.isEmpty { subject["reason"] = .string(reason) }
        return try session.store.append(LedgerDraft(action: "bi-step", subject: .object(subject)), to: caseID, signer: try session.signer())
    }

    /// A checklist step as the searcher runs it for one candidate.
    public struct ChecklistItem: Sendable, Encodable {
        public var id: String
        public var title: String
        public var source: String
        /// The template's query with the candidate's details filled in.
        public var query: String
        /// `done`, `skipped` or `not recorded`.
        public var status: String
        public var reason: String?
        public var artifacts: [String]
    }

    /// `exhibit bi checklist CASE`: the template's steps with the candidate's
    /// details filled in and what has been recorded for each (a read: recorded as a view).
    public func checklist(_ caseID: String) throws(ExhibitError) -> [ChecklistItem] {
        try session.authorize(.read, caseID: caseID, command: "bi checklist")
        let state = try session.store.state(of: caseID)
        guard state.category == Self.category else {
            throw ExhibitError(.usage, "Case \(caseID) is not a background investigation; it has no checklist.")
        }
        let template = try session.store.templates.template(Self.category)
        let entries = try session.store.ledger(of: caseID).entries()
        var recorded: [String: LedgerEntry] = [:]
        for entry in entries where entry.action == "bi-step" {
            if let step = entry.subject?["step"]?.stringValue { recorded[step] = entry }
        }
        let items = (template.checklist ?? []).map { step in
            var query = step.query
            for (name, value) in state.fields { query = query.replacingOccurrences(of: "{\(name)}", with: value) }
            let entry = recorded[step.id]
            return ChecklistItem(
                id: step.id, title: step.title, source: step.source, query: query,
                status: entry?.subject?["status"]?.stringValue ?? "not recorded", reason: entry?.subject?["reason"]?.stringValue,
                artifacts: entry?.subject?["artifacts"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        try session.store.append(LedgerDraft(action: "view", subject: .object(["command": .string("bi checklist")])),
                                 to: caseID, signer: try session.signer())
        return items
    }

    /// One candidate's record against the checklist.
    public struct CandidateSteps: Sendable, Encodable {
        public var `case`: String
        public var candidate: String
        /// The cohort as this case spells it (`"U1 "`, `"u1"` …).
        public var cohort: String
        /// Checklist steps whose last record is a done that cites artifacts or states no results.
        public var done: [String]
        /// Steps skipped at any point, with the last skip's reason (a later done does not erase it).
        public var skipped: [String: String]
        /// Recorded steps that are not in the template's checklist.
        public var extra: [String]
        public var missing: [String]
        /// Steps whose last record is a done citing no artifact and stating no results.
        public var incomplete: [String]
        /// Every step's records in ledger order: `done`, `done uncited` or `skipped`.
        public var history: [String: [String]]
        /// Captured artifacts that no step cites, nor descend from a cited page.
        public var extraCaptures: [String]

        enum CodingKeys: String, CodingKey {
            case `case`, candidate, cohort, done, skipped, extra, missing, incomplete, history
            case extraCaptures = "extra_captures"
        }
    }

    /// A cohort whose name differs from the one asked for only in punctuation or spacing.
    public struct NearDuplicate: Sendable, Encodable {
        public var cohort: String
        public var cases: [String]
    }

    /// The cohort's candidates and whether they were treated alike.
    public struct Uniformity: Sendable, Encodable {
        public var cohort: String
        public var checklist: [String]
        public var candidates: [CandidateSteps]
        /// Steps not treated the same way for every candidate, with what each got
        /// (the step's history, `skipped then done`, or `not recorded`); and
        /// `captures not tied to a step` when candidates have different numbers of them.
        public var differences: [String: [String: String]]
        /// Cohorts left out because their names differ only in punctuation or spacing.
        public var nearDuplicates: [NearDuplicate]
        /// Checklist steps every candidate left in the same unfinished state (not
        /// recorded, skipped, done citing nothing): the checklist is incomplete, but
        /// the candidates were treated alike, so this is no difference.
        public var incompleteForAll: [String: String] = [:]
        public var uniform: Bool { differences.isEmpty && !candidates.isEmpty }
    }

    /// The difference key for captures tied to no step (not a step id: those have no spaces).
    public static let untiedCapturesKey = "captures not tied to a step"
    /// How a `done` record that cites nothing and states no results is shown.
    public static let uncitedDone = "done uncited"

    /// A cohort name as uniformity compares it: trimmed, compatibility-normalised,
    /// case-folded, so `"U1 "`, `"u1"` and `"U1"` are one cohort.
    public static func cohortKey(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
    }

    /// The letters and digits of a cohort key: names sharing it but not the key
    /// (`U-1`, `U 1`, `u.1`) are near-duplicates, reported, never merged.
    static func cohortSkeleton(_ name: String) -> String {
        String(String.UnicodeScalarView(cohortKey(name).unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }))
    }

    /// Artifacts of a case that no `bi-step` entry cites, directly or through the
    /// page they were found on (a capture's `parent` is that page's URL).
    static func untiedCaptures(in entries: [LedgerEntry]) -> [String] {
        var cited = Set<String>()
        for entry in entries where entry.action == "bi-step" {
            for id in entry.subject?["artifacts"]?.arrayValue?.compactMap(\.stringValue) ?? [] { cited.insert(id) }
        }
        let artifacts = ArtifactID.artifacts(in: entries).sorted { $0.value.seq < $1.value.seq }
        var tiedURLs = Set<String>()
        var untied: [String] = []
        // Ledger order: a page's entry precedes those of what was fetched from it.
        for (id, entry) in artifacts {
            let parent = entry.subject?["parent"]?.stringValue
            if cited.contains(id) || parent.map(tiedURLs.contains) == true {
                for key in ["url", "final_url"] { if let url = entry.subject?[key]?.stringValue { tiedURLs.insert(url) } }
            } else {
                untied.append(id)
            }
        }
        return untied
    }

    /// `exhibit bi uniformity COHORT` (supervisor): a `view` entry in each case read.
    ///
    /// Candidates are alike when, for every step, each one's whole history of records
    /// is the same and ends in a done that cites artifacts or states no results, and
    /// they have the same number of captures tied to no step (DESIGN §23).
    public func uniformity(cohort: String) throws(ExhibitError) -> Uniformity {
        try session.authorize(.uniformity, caseID: nil, command: "bi uniformity")
        let template = try session.store.templates.template(Self.category)
        let checklist = template.checklist?.map(\.id) ?? []
        let key = Self.cohortKey(cohort)
        let skeleton = Self.cohortSkeleton(cohort)
        var candidates: [CandidateSteps] = []
        var near: [String: NearDuplicate] = [:]
        for id in session.store.caseIDs() {
            guard let state = try? session.store.state(of: id), state.category == Self.category,
                  let name = state.fields["cohort"] else { continue }
            guard Self.cohortKey(name) == key else {
                if !skeleton.isEmpty, Self.cohortSkeleton(name) == skeleton {
                    near[Self.cohortKey(name), default: NearDuplicate(cohort: name, cases: [])].cases.append(id)
                }
                continue
            }
            let entries = try session.store.ledger(of: id).entries()
            var history: [String: [String]] = [:]
            var skipped: [String: String] = [:]
            for entry in entries where entry.action == "bi-step" {
                guard let subject = entry.subject, let step = subject["step"]?.stringValue,
                      let value = subject["status"]?.stringValue.flatMap(StepStatus.init(rawValue:)) else { continue }
                switch value {
                case .skipped:
                    history[step, default: []].append(StepStatus.skipped.rawValue)
                    skipped[step] = subject["reason"]?.stringValue ?? ""
                case .done:
                    let cites = !(subject["artifacts"]?.arrayValue?.isEmpty ?? true) || subject["no_results"]?.boolValue == true
                    history[step, default: []].append(cites ? StepStatus.done.rawValue : Self.uncitedDone)
                }
            }
            candidates.append(CandidateSteps(
                case: id, candidate: state.fields["candidate_name"] ?? state.title, cohort: name,
                done: checklist.filter { history[$0]?.last == StepStatus.done.rawValue },
                skipped: skipped,
                extra: history.keys.filter { !checklist.contains($0) }.sorted(),
                missing: checklist.filter { history[$0] == nil },
                incomplete: history.filter { $0.value.last == Self.uncitedDone }.keys.sorted(),
                history: history,
                extraCaptures: Self.untiedCaptures(in: entries)))
        }
        let nearDuplicates = near.values.sorted { $0.cohort < $1.cohort }
        guard !candidates.isEmpty else {
            let hint = nearDuplicates.isEmpty ? "" : "; cohorts with a near name: "
                + nearDuplicates.map { "\"\($0.cohort)\" (\($0.cases.joined(separator: ", ")))" }.joined(separator: ", ")
            throw ExhibitError(.storage, "No background-investigation case has cohort \"\(cohort)\"\(hint).")
        }
        var differences: [String: [String: String]] = [:]
        var incompleteForAll: [String: String] = [:]
        let steps = Set(checklist + candidates.flatMap { Array($0.history.keys) })
        for step in steps.sorted() {
            var treatment: [String: String] = [:]
            for candidate in candidates {
                treatment[candidate.case] = candidate.history[step]?.joined(separator: " then ") ?? "not recorded"
            }
            // A step differs when the candidates' histories differ: a skip (even one later
            // done for one candidate only), a done citing nothing, a missing step or an
            // extra search for one candidate only. The same unfinished state for every
            // candidate is no difference; it is reported as an incomplete checklist.
            if Set(treatment.values).count != 1 {
                differences[step] = treatment
            } else if candidates[0].history[step]?.last != StepStatus.done.rawValue, let state = treatment.values.first {
                incompleteForAll[step] = state
            }
        }
        if Set(candidates.map(\.extraCaptures.count)).count > 1 {
            differences[Self.untiedCapturesKey] = Dictionary(uniqueKeysWithValues: candidates.map { ($0.case, String($0.extraCaptures.count)) })
        }
        for candidate in candidates {
            try session.store.append(LedgerDraft(action: "view", subject: .object([
                "command": .string("bi uniformity"), "cohort": .string(cohort),
            ])), to: candidate.case, signer: try session.signer())
        }
        var report = Uniformity(cohort: cohort, checklist: checklist, candidates: candidates, differences: differences, nearDuplicates: nearDuplicates)
        report.incompleteForAll = incompleteForAll
        return report
    }

    // MARK: Findings (IV.B.10)

    public enum FindingStatus: String, Sendable, Codable, CaseIterable { case unverified, corroborated, disputed }

    /// A finding as its ledger entries leave it.
    public struct Finding: Sendable, Encodable, Equatable {
        public var id: String
        public var text: String
        public var status: FindingStatus
        public var artifacts: [String]
        public var seq: Int
    }

    /// Findings of a case, from its ledger.
    public static func findings(in entries: [LedgerEntry]) -> [Finding] {
        var findings: [String: Finding] = [:]
        var order: [String] = []
        for entry in entries where entry.action == "finding" {
            guard let subject = entry.subject, let id = subject["id"]?.stringValue else { continue }
            let artifacts = subject["artifacts"]?.arrayValue?.compactMap(\.stringValue)
            if subject["op"]?.stringValue == "add" {
                findings[id] = Finding(id: id, text: subject["text"]?.stringValue ?? "", status: .unverified, artifacts: artifacts ?? [], seq: Int(entry.seq))
                order.append(id)
            } else if let status = subject["status"]?.stringValue.flatMap(FindingStatus.init(rawValue:)) {
                findings[id]?.status = status
                if let artifacts, !artifacts.isEmpty { findings[id]?.artifacts = artifacts }
            }
        }
        return order.compactMap { findings[$0] }
    }

    /// `exhibit finding add CASE`, a text and its artifacts (investigator; in a BI case the bi-searcher).
    public func addFinding(_ caseID: String, text: String, artifacts: [String]) throws(ExhibitError) -> String {
        let entries = try authorizeChange(.finding, caseID, command: "finding add", backgroundOnly: false)
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ExhibitError(.usage, "The finding is empty; give its text.", input: .findingText) }
        var ids: [String] = []
        for artifact in artifacts { ids.append(try ArtifactID.resolve(artifact, in: entries)) }
        let number = Self.findings(in: entries).count + 1
        let id = "F-" + String(repeating: "0", count: max(0, 3 - String(number).count)) + String(number)
        try session.store.append(LedgerDraft(action: "finding", subject: .object([
            "op": .string("add"), "id": .string(id), "text": .string(text), "status": .string("unverified"),
            "artifacts": .array(ids.map { .string($0) }),
        ])), to: caseID, signer: try session.signer())
        return id
    }

    /// `exhibit finding set CASE F`, a status and optional artifacts: corroborated needs at
    /// least two artifacts from independent sources — different registrable domains
    /// and different payloads (``SourceIndependence``, DESIGN §23) — and records each
    /// artifact's source and the Public Suffix List it was judged with.
    public func setFinding(_ caseID: String, finding: String, status: FindingStatus, artifacts: [String], reason: String?) throws(ExhibitError) -> Finding {
        let entries = try authorizeChange(.finding, caseID, command: "finding set", backgroundOnly: false)
        guard var current = Self.findings(in: entries).first(where: { $0.id == finding }) else {
            throw ExhibitError(.storage, "No finding \(finding) in case \(caseID); `exhibit finding list \(caseID)` shows them.")
        }
        var ids: [String] = []
        for artifact in artifacts { ids.append(try ArtifactID.resolve(artifact, in: entries)) }
        var seen = Set<String>()
        let supporting = (ids.isEmpty ? current.artifacts : ids).filter { seen.insert($0).inserted }
        var independence: (list: String, sources: [String: String])?
        if status == .corroborated {
            let byID = ArtifactID.all(in: entries)
            let judge = try SourceIndependence.system()
            let sources = try judge.requireIndependent(supporting.map { id in
                let subject = byID[id]?.subject
                return SourceIndependence.Artifact(id: id, url: subject?["final_url"]?.stringValue ?? subject?["url"]?.stringValue,
                                                   payloadSHA256: subject?["payload_sha256"]?.stringValue)
            }, finding: finding)
            independence = (judge.suffixes.sha256, sources)
        }
        var subject: [String: JSONValue] = [
            "op": .string("set"), "id": .string(finding), "status": .string(status.rawValue),
            "artifacts": .array(supporting.map { .string($0) }),
        ]
        if let reason, !reason.isEmpty { subject["reason"] = .string(reason) }
        if let independence {
            subject["sources"] = .object(independence.sources.mapValues { .string($0) })
            subject["public_suffix_list_sha256"] = .string(independence.list)
        }
        try session.store.append(LedgerDraft(action: "finding", subject: .object(subject)), to: caseID, signer: try session.signer())
        current.status = status
        current.artifacts = supporting
        return current
    }

    /// `exhibit finding list CASE` (a read: recorded as a view).
    public func listFindings(_ caseID: String) throws(ExhibitError) -> [Finding] {
        try session.authorize(.read, caseID: caseID, command: "finding list")
        let entries = try session.store.ledger(of: caseID).entries()
        try session.store.append(LedgerDraft(action: "view", subject: .object(["command": .string("finding list")])),
                                 to: caseID, signer: try session.signer())
        return Self.findings(in: entries)
    }

    // MARK: Tags

    /// Tags of each artifact, from `tag` entries and confirmed protected-class flags.
    public static func tags(in entries: [LedgerEntry]) -> [String: Set<String>] {
        var tags: [String: Set<String>] = [:]
        for entry in entries {
            guard let subject = entry.subject, let artifact = subject["artifact"]?.stringValue else { continue }
            if entry.action == "tag", let tag = subject["tag"]?.stringValue { tags[artifact, default: []].insert(tag) }
            if entry.action == "flag", subject["decision"]?.stringValue == "confirmed" {
                tags[artifact, default: []].insert(protectedClassTag)
            }
        }
        return tags
    }

    /// `exhibit tag CASE ARTIFACT TAG` (investigator).
    public func tag(_ caseID: String, artifact: String, tag: String) throws(ExhibitError) -> LedgerEntry {
        let entries = try authorizeChange(.tag, caseID, command: "tag", backgroundOnly: false)
        let id = try ArtifactID.resolve(artifact, in: entries)
        let tag = tag.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !tag.isEmpty, tag.count <= 64 else { throw ExhibitError(.usage, "A tag is 1 to 64 characters.") }
        return try session.store.append(LedgerDraft(action: "tag", subject: .object([
            "artifact": .string(id), "tag": .string(tag),
        ])), to: caseID, signer: try session.signer())
    }
}
