public import CaseManagement
public import ChainOfCustody
import Screening

/// Protected-class screening of a background investigation's captures (DESIGN §10,
/// §23, IV.B.6), default-deny: every artifact is read as its decision-maker bundle
/// would carry it — the WARC records of its capture, decoded (``ScreeningContent``) —
/// and each lexicon hit becomes a flag, recorded in the ledger; content words cannot
/// judge (images, documents, undecodable or oversized bodies) is `needs-review`. The
/// searcher confirms or dismisses each flag and reviews what needs review; a
/// confirmed flag or a protected review tags the artifact protected-class, so it
/// never reaches a decision-maker, and a dismissal or a clear review counts only
/// once a second actor countersigns it (``ScreeningReview``).
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
        /// In Unicode scalars, from the start of the artifact's screening text (its
        /// records' parts in order, see ``ScreeningContent``).
        public var offset: Int
        public var excerpt: String
        /// `open`, `confirmed` or `dismissed`.
        public var status: String
        /// Which part of the artifact the term is in (`response body`, `response head` …).
        public var part: String?
        /// Who decided it, and who countersigned a dismissal.
        public var decidedBy: String?
        public var countersignedBy: String?

        enum CodingKeys: String, CodingKey {
            case id, artifact, `class`, term, offset, excerpt, status, part
            case decidedBy = "decided_by", countersignedBy = "countersigned_by"
        }
    }

    /// An artifact that text screening could not judge, and what a person decided.
    public struct Review: Sendable, Encodable, Equatable {
        public var artifact: String
        public var reason: String
        /// `needs-review`, `reviewed-clear` or `protected`.
        public var status: String
        public var reviewedBy: String?
        public var countersignedBy: String?

        enum CodingKeys: String, CodingKey {
            case artifact, reason, status
            case reviewedBy = "reviewed_by", countersignedBy = "countersigned_by"
        }
    }

    /// The lexicon set a screening used, and whether it counts.
    public struct Lexicons: Sendable, Encodable, Equatable {
        public var digest: String
        public var origin: String
        public var classes: Int
        public var terms: Int
        public var approved: Bool
        /// `supervisor` or `shipped-default` when approved.
        public var basis: String?
    }

    /// What `bi flags` reports.
    public struct Report: Sendable, Encodable {
        public var flags: [Flag]
        public var needsReview: [Review]
        public var lexicons: Lexicons

        enum CodingKeys: String, CodingKey {
            case flags, lexicons
            case needsReview = "needs_review"
        }
    }

    /// Between the parts of an artifact's screening text: a line no phrase matches across.
    static let separator = "\n\n\u{B6}\n\n"

    /// `exhibit bi flags CASE`: the flags of ``screen(_:)``.
    public func flags(_ caseID: String) throws(ExhibitError) -> [Flag] {
        try screen(caseID).flags
    }

    /// `exhibit bi flags CASE`: screens every artifact of the case, records the hits
    /// not flagged before and what needs review as one `screening` entry (with the
    /// lexicon set's digest and its approval), and reports every flag and review.
    public func screen(_ caseID: String) throws(ExhibitError) -> Report {
        let entries = try BackgroundInvestigation(session: session).authorizeChange(.backgroundSearch, caseID, command: "bi flags")
        let screening = try ProtectedClassScreening.load()
        let digest = LexiconSet.digest(screening)
        var approval = try LexiconApproval.status(of: digest, in: session.workspace)
        if approval.needsPin { approval = try LexiconApproval.pin(screening, session: session) }
        var known = Self.recorded(in: entries)
        var keys = Set(known.map { "\($0.artifact)|\($0.class)|\($0.term)|\($0.offset)" })
        var excerpts: [String: String] = [:]
        var fresh: [JSONValue] = []
        var screened: [JSONValue] = []
        var needsReview: [(String, String)] = []
        let caseDirectory = session.store.directory(of: caseID)
        for (id, entry) in ArtifactID.artifacts(in: entries).sorted(by: { $0.value.seq < $1.value.seq }) {
            let (parts, reason) = Self.parts(of: entry, caseDirectory: caseDirectory)
            screened.append(.string(id))
            if let reason { needsReview.append((id, reason)) }
            for (hit, part) in Self.hits(screening, in: parts) {
                let key = "\(id)|\(hit.class)|\(hit.term)|\(hit.offset)"
                excerpts[key] = hit.excerpt
                guard keys.insert(key).inserted else { continue }
                let number = known.count + 1
                let flagID = "FLAG-" + String(repeating: "0", count: max(0, 4 - String(number).count)) + String(number)
                known.append(Flag(id: flagID, artifact: id, class: hit.class, term: hit.term, offset: hit.offset, excerpt: hit.excerpt,
                                  status: "open", part: part))
                fresh.append(.object([
                    "id": .string(flagID), "artifact": .string(id), "class": .string(hit.class),
                    "term": .string(hit.term), "offset": .integer(Int64(hit.offset)), "part": .string(part),
                ]))
            }
        }
        // Recorded even without new flags: which artifacts were screened, under which
        // lexicon set, is what lets a decision-maker export prove that nothing
        // unscreened is disclosed.
        try session.store.append(LedgerDraft(action: "screening", subject: .object([
            "lexicons": .array(screening.lexicons.map { .string($0.class) }), "lexicon_origin": .string(screening.origin),
            "lexicon_digest": .string(digest), "lexicon_approval": approval.record,
            "screening_limit": .integer(Int64(ScreeningContent.limit)),
            "screened": .array(screened),
            "needs_review": .array(needsReview.map { .object(["artifact": .string($0.0), "reason": .string($0.1)]) }),
            "flags": .array(fresh),
        ])), to: caseID, signer: try session.signer())
        let decisions = Self.decisionEntries(in: entries)
        let signed = ScreeningReview.countersigned(in: entries)
        let flags = known.map { flag in
            var flag = flag
            if let decision = decisions[flag.id] {
                flag.status = decision.subject?["decision"]?.stringValue ?? "open"
                flag.decidedBy = decision.actor
                flag.countersignedBy = signed[decision.seq]
            }
            if flag.excerpt.isEmpty { flag.excerpt = excerpts["\(flag.artifact)|\(flag.class)|\(flag.term)|\(flag.offset)"] ?? "" }
            return flag
        }
        let reviews = ScreeningReview.reviews(in: entries)
        let needing = needsReview.map { id, reason in
            let review = reviews[id]
            return Review(artifact: id, reason: reason, status: review?.subject?["decision"]?.stringValue ?? "needs-review",
                          reviewedBy: review?.actor, countersignedBy: review.flatMap { signed[$0.seq] })
        }
        let lexicons = Lexicons(digest: digest, origin: screening.origin, classes: screening.lexicons.count,
                                terms: LexiconSet.termCount(screening), approved: approval.approved, basis: approval.basis?.rawValue)
        return Report(flags: flags, needsReview: needing, lexicons: lexicons)
    }

    /// The parts of an artifact's screening text, read from its capture's WARC
    /// records, and the first reason some of it needs review. A record that cannot be
    /// read needs review too: default-deny.
    static func parts(of entry: LedgerEntry, caseDirectory: String) -> ([ScreeningContent.Part], String?) {
        guard let file = entry.subject?["warc"]?["file"]?.stringValue, let records = entry.subject?["records"]?.arrayValue,
              !records.isEmpty else {
            return ([], "its capture records no WARC records to screen")
        }
        var parts: [ScreeningContent.Part] = []
        var reason: String?
        for record in records {
            guard let offset = record["offset"]?.intValue else { continue }
            do {
                let read = try ScreeningContent.read(warcPath: caseDirectory + "/" + file, offset: offset)
                parts += read.parts
                if reason == nil { reason = read.needsReview }
            } catch {
                if reason == nil { reason = "its WARC record at offset \(offset) of \(file) cannot be read (\(error.message)); run `exhibit verify`" }
            }
        }
        return (parts, reason)
    }

    /// The lexicon hits in `parts`, each with the name of its part. Offsets count from
    /// the start of the parts joined by ``separator``. A hit in a derived part (markup
    /// removed, escapes decoded) is kept only when its class and term were not hit in
    /// an original part: the same words are one flag, not two.
    static func hits(_ screening: ProtectedClassScreening, in parts: [ScreeningContent.Part]) -> [(ScreeningHit, String)] {
        guard !parts.isEmpty else { return [] }
        var starts: [Int] = []
        var position = 0
        let separatorLength = separator.unicodeScalars.count
        for part in parts {
            starts.append(position)
            position += part.text.unicodeScalars.count + separatorLength
        }
        let text = parts.map(\.text).joined(separator: separator)
        var original = Set<String>()
        var result: [(ScreeningHit, String)] = []
        var index = 0
        for hit in screening.hits(in: text) {
            while index + 1 < starts.count, starts[index + 1] <= hit.offset { index += 1 }
            let part = parts[index]
            let key = hit.class + "|" + hit.term
            if part.derived {
                guard !original.contains(key) else { continue }
            } else {
                original.insert(key)
            }
            result.append((hit, part.name))
        }
        return result
    }

    /// `exhibit bi confirm|dismiss CASE FLAG`, with a reason.
    public func decide(_ caseID: String, flag id: String, confirmed: Bool, reason: String) throws(ExhibitError) {
        let command = confirmed ? "bi confirm" : "bi dismiss"
        let entries = try BackgroundInvestigation(session: session).authorizeChange(.backgroundSearch, caseID, command: command)
        var reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw ExhibitError(.usage, "The reason for the decision is empty, and the decision is evidence too; say why.", input: .reason) }
        // A dismissal lets words through to a decision-maker: its reason is what the
        // second actor who countersigns it reads (DESIGN §23).
        if !confirmed { reason = try ScreeningReview.sentence(reason, what: "dismissal") }
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
                    offset: Int(object["offset"]?.intValue ?? 0), excerpt: "", status: "open", part: object["part"]?.stringValue))
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

    /// The `flag` entry that decided each flag.
    public static func decisionEntries(in entries: [LedgerEntry]) -> [String: LedgerEntry] {
        var result: [String: LedgerEntry] = [:]
        for entry in entries where entry.action == "flag" {
            if let id = entry.subject?["flag"]?.stringValue, entry.subject?["decision"]?.stringValue != nil, result[id] == nil { result[id] = entry }
        }
        return result
    }
}
