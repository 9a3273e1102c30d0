public import CaseManagement
public import ChainOfCustody

/// Protected-class screening of a background investigation's captured pages
/// (DESIGN §10, IV.B.6): each lexicon hit in a page's visible text becomes a
/// flag, recorded in the ledger; the searcher confirms or dismisses each, and a
/// confirmed flag tags its artifact protected-class, so it never reaches a
/// decision-maker. Flags and decisions are evidence: each is a ledger entry.
public struct Screening: Sendable {
    public let session: ActingSession

    public init(session: ActingSession) {
        self.session = session
    }

    /// A flag and what was decided about it.
    public struct Flag: Sendable, Encodable, Equatable {
        public var id: String
        public var artifact: String
        public var `class`: String
        public var term: String
        public var offset: Int
        public var excerpt: String
        /// `open`, `confirmed` or `dismissed`.
        public var status: String
    }

    /// `exhibit bi flags CASE`: screens every analysed page of the case, records the
    /// hits not flagged before as one `screening` entry, and lists every flag.
    public func flags(_ caseID: String) throws(ExhibitError) -> [Flag] {
        let entries = try BackgroundInvestigation(session: session).authorizeChange(.backgroundSearch, caseID, command: "bi flags")
        let index = try WorkspaceIndex(workspace: session.workspace, notices: session.notices)
        try index.refresh(caseID: caseID, store: session.store)
        let screening = try ProtectedClassScreening.load()
        var known = Self.recorded(in: entries)
        var keys = Set(known.map { "\($0.artifact)|\($0.class)|\($0.term)|\($0.offset)" })
        var texts: [String: [Unicode.Scalar]] = [:]
        var fresh: [JSONValue] = []
        var screened: [JSONValue] = []
        for artifact in try index.artifacts(caseID: caseID) {
            guard let text = try index.text(caseID: caseID, artifactID: artifact.id) else { continue }
            texts[artifact.id] = Array(text.unicodeScalars)
            screened.append(.string(artifact.id))
            for hit in screening.hits(in: text) {
                let key = "\(artifact.id)|\(hit.class)|\(hit.term)|\(hit.offset)"
                guard keys.insert(key).inserted else { continue }
                let number = known.count + 1
                let id = "FLAG-" + String(repeating: "0", count: max(0, 4 - String(number).count)) + String(number)
                known.append(Flag(id: id, artifact: artifact.id, class: hit.class, term: hit.term, offset: hit.offset, excerpt: hit.excerpt, status: "open"))
                fresh.append(.object([
                    "id": .string(id), "artifact": .string(artifact.id), "class": .string(hit.class),
                    "term": .string(hit.term), "offset": .integer(Int64(hit.offset)),
                ]))
            }
        }
        // Recorded even without new flags: which pages were screened is what lets a
        // decision-maker export prove that nothing unscreened is disclosed.
        try session.store.append(LedgerDraft(action: "screening", subject: .object([
            "lexicons": .array(screening.lexicons.map { .string($0.class) }), "lexicon_origin": .string(screening.origin),
            "screened": .array(screened), "flags": .array(fresh),
        ])), to: caseID, signer: try session.signer())
        let decisions = Self.decisions(in: entries)
        return known.map { flag in
            var flag = flag
            flag.status = decisions[flag.id] ?? "open"
            if flag.excerpt.isEmpty, let text = texts[flag.artifact] { flag.excerpt = Self.excerpt(text, at: flag.offset) }
            return flag
        }
    }

    /// `exhibit bi confirm|dismiss CASE FLAG --reason T`.
    public func decide(_ caseID: String, flag id: String, confirmed: Bool, reason: String) throws(ExhibitError) {
        let command = confirmed ? "bi confirm" : "bi dismiss"
        let entries = try BackgroundInvestigation(session: session).authorizeChange(.backgroundSearch, caseID, command: command)
        let reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw ExhibitError(.usage, "Say why with --reason TEXT; the decision is evidence too.") }
        guard let flag = Self.recorded(in: entries).first(where: { $0.id == id }) else {
            throw ExhibitError(.storage, "No flag \(id) in case \(caseID); `exhibit bi flags \(caseID)` lists them.")
        }
        if let decided = Self.decisions(in: entries)[id] {
            throw ExhibitError(.usage, "Flag \(id) was already \(decided); a decision is not changed.")
        }
        var subject: [String: JSONValue] = [
            "flag": .string(id), "decision": .string(confirmed ? "confirmed" : "dismissed"), "reason": .string(reason),
            "artifact": .string(flag.artifact), "class": .string(flag.class),
        ]
        if confirmed { subject["tag"] = .string(BackgroundInvestigation.protectedClassTag) }
        try session.store.append(LedgerDraft(action: "flag", subject: .object(subject)), to: caseID, signer: try session.signer())
    }

    public static func recorded(in entries: [LedgerEntry]) -> [Flag] {
        var flags: [Flag] = []
        for entry in entries where entry.action == "screening" {
            for object in entry.subject?["flags"]?.arrayValue ?? [] {
                guard let id = object["id"]?.stringValue, let artifact = object["artifact"]?.stringValue else { continue }
                flags.append(Flag(
                    id: id, artifact: artifact, class: object["class"]?.stringValue ?? "", term: object["term"]?.stringValue ?? "",
                    offset: Int(object["offset"]?.intValue ?? 0), excerpt: "", status: "open"))
            }
        }
        return flags
    }

    public static func decisions(in entries: [LedgerEntry]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries where entry.action == "flag" {
            if let id = entry.subject?["flag"]?.stringValue, let decision = entry.subject?["decision"]?.stringValue { result[id] = decision }
        }
        return result
    }

    static func excerpt(_ text: [Unicode.Scalar], at offset: Int) -> String {
        let start = max(0, offset - 30)
        let end = min(text.count, offset + 30)
        guard start < end else { return "" }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text[start..<end])
        return String(view).split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Artifacts a `screening` entry covered.
    public static func screenedArtifacts(in entries: [LedgerEntry]) -> Set<String> {
        var result = Set<String>()
        for entry in entries where entry.action == "screening" {
            for id in entry.subject?["screened"]?.arrayValue ?? [] { if let id = id.stringValue { result.insert(id) } }
        }
        return result
    }
}
