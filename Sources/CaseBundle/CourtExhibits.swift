public import CaseManagement
public import ChainOfCustody
import Foundation

/// Stable exhibit numbers (DESIGN §21): EX-0001, EX-0002 … for a case's artifacts,
/// assigned once and recorded in the ledger as an `exhibit-number` entry, so that a
/// number given to counsel never changes between exports.
///
/// An item is every artifact the ledger records — each `capture` entry with a
/// response (artifact `A-<seq>`) and each `import` entry (the file taken in, also
/// named `A-<seq>` after its entry) — keyed by that id and its sha256. Numbers
/// follow ledger order; items recorded after the last assignment get the next
/// numbers at the next export, and an item once numbered keeps its number.
public enum ExhibitNumbers {
    public static let action = "exhibit-number"

    /// One numbered item.
    public struct Item: Sendable, Equatable {
        /// `EX-0001`.
        public var number: String
        /// `A-0007`: the artifact id (the seq of the entry that recorded it).
        public var artifact: String
        /// `capture` or `import`.
        public var kind: String
        /// The payload's sha256 (a capture) or the file's (an import).
        public var sha256: String

        public var json: JSONValue {
            .object(["number": .string(number), "artifact": .string(artifact), "kind": .string(kind), "sha256": .string(sha256)])
        }
    }

    public static func number(_ index: Int) -> String {
        let digits = String(index)
        return "EX-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The items the ledger records, in ledger order, not yet numbered: (artifact, kind, sha256).
    static func candidates(_ entries: [LedgerEntry]) -> [(artifact: String, kind: String, sha256: String)] {
        var result: [(String, String, String)] = []
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if entry.action == "capture", subject["status"]?.intValue != nil {
                result.append((ArtifactID.forSeq(Int(entry.seq)), "capture", subject["payload_sha256"]?.stringValue ?? ""))
            } else if entry.action == "import", let sha = subject["sha256"]?.stringValue {
                result.append((ArtifactID.forSeq(Int(entry.seq)), "import", sha))
            }
        }
        return result
    }

    /// Numbers already assigned by `exhibit-number` entries, in the order they were given.
    public static func assigned(_ entries: [LedgerEntry]) -> [Item] {
        var items: [Item] = []
        for entry in entries where entry.action == action {
            for value in entry.subject?["numbers"]?.arrayValue ?? [] {
                guard let number = value["number"]?.stringValue, let artifact = value["artifact"]?.stringValue else { continue }
                items.append(Item(number: number, artifact: artifact, kind: value["kind"]?.stringValue ?? "",
                                  sha256: value["sha256"]?.stringValue ?? ""))
            }
        }
        return items
    }

    /// The numbers an export must add: items without one get the next numbers.
    public static func pending(_ entries: [LedgerEntry]) -> [Item] {
        let given = assigned(entries)
        let numbered = Set(given.map(\.artifact))
        var next = (given.compactMap { Int($0.number.dropFirst(3)) }.max() ?? 0) + 1
        var items: [Item] = []
        for candidate in candidates(entries) where !numbered.contains(candidate.artifact) {
            items.append(Item(number: number(next), artifact: candidate.artifact, kind: candidate.kind, sha256: candidate.sha256))
            next += 1
        }
        return items
    }

    /// Numbers the case's new items, if any, with one `exhibit-number` entry signed by
    /// the session's actor. Called before an export reads the ledger, so the
    /// exported ledger holds every number its documents show.
    public static func assignPending(session: ActingSession, caseID: String) throws(ExhibitError) {
        try assignPending(session: session, caseID: caseID, entries: try session.store.ledger(of: caseID).entries())
    }

    /// ``assignPending(session:caseID:)`` for the case's current `entries`, already read;
    /// true when it appended an entry.
    @discardableResult
    static func assignPending(session: ActingSession, caseID: String, entries: [LedgerEntry]) throws(ExhibitError) -> Bool {
        let items = pending(entries)
        guard !items.isEmpty else { return false }
        try session.store.append(LedgerDraft(action: action, subject: .object(["numbers": .array(items.map(\.json))])),
                                 to: caseID, signer: try session.signer())
        return true
    }

    /// Every numbered item of `entries` that the ledger still records, by artifact id.
    public static func byArtifact(_ entries: [LedgerEntry]) -> [String: Item] {
        var result: [String: Item] = [:]
        for item in assigned(entries) where result[item.artifact] == nil { result[item.artifact] = item }
        return result
    }
}
