public import ChainOfCustody
import Foundation

/// An artifact's id: `A-` and the seq of the ledger entry that recorded it
/// (`A-0007`). Derived from the ledger, so the same in every index and bundle.
public enum ArtifactID {
    public static func forSeq(_ seq: Int) -> String {
        let digits = String(seq)
        return "A-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The captured artifacts a case's ledger records: every `capture` entry with
    /// a response. Screening and decision-maker disclosure work on these alone, so
    /// an imported item is never disclosed (default-deny, DESIGN §23).
    public static func artifacts(in entries: [LedgerEntry]) -> [String: LedgerEntry] {
        var result: [String: LedgerEntry] = [:]
        for entry in entries where entry.action == "capture" && entry.subject?["status"]?.intValue != nil {
            result[forSeq(Int(entry.seq))] = entry
        }
        return result
    }

    /// One artifact, captured or imported.
    public struct Artifact: Sendable {
        public var id: String
        /// The `capture` or `import` entry that recorded it.
        public var entry: LedgerEntry
        /// A capture's subject; for an imported item, the item as its `import`
        /// entry lists it (url, time, content_type, sha256, warc and offset or
        /// blob …) with `payload_sha256` (its sha256) and `"imported": true`.
        public var subject: JSONValue
        public var imported: Bool
        /// The artifact's own sha256: a capture's payload, an imported item's bytes.
        public var sha256: String? { subject["payload_sha256"]?.stringValue }
    }

    /// Every artifact of a case: captures, and each item that `import` entries list
    /// (named as ``ImportedArtifactID`` names them).
    public static func all(in entries: [LedgerEntry]) -> [String: Artifact] {
        var result: [String: Artifact] = [:]
        for entry in entries {
            if entry.action == "capture", let subject = entry.subject, subject["status"]?.intValue != nil {
                let id = forSeq(Int(entry.seq))
                result[id] = Artifact(id: id, entry: entry, subject: subject, imported: false)
            } else if entry.action == "import", let subject = entry.subject, let items = subject["artifacts"]?.arrayValue {
                let kind = subject["kind"]?.stringValue ?? ""
                for (index, item) in items.enumerated() {
                    guard var fields = item.objectValue else { continue }
                    let id = ImportedArtifactID.id(seq: entry.seq, number: index + 1, of: items.count, kind: kind)
                    fields["payload_sha256"] = fields["sha256"] ?? .null
                    fields["imported"] = .bool(true)
                    result[id] = Artifact(id: id, entry: entry, subject: .object(fields), imported: true)
                }
            }
        }
        return result
    }

    /// Resolves an ARTIFACT argument — an id, or the artifact's full sha256 — to its
    /// id. Captured and imported artifacts alike; a sha256 that several share names
    /// the first recorded.
    public static func resolve(_ argument: String, in entries: [LedgerEntry]) throws(ExhibitError) -> String {
        try artifact(argument, in: entries).id
    }

    /// The artifact an ARTIFACT argument names (see ``resolve(_:in:)``).
    public static func artifact(_ argument: String, in entries: [LedgerEntry]) throws(ExhibitError) -> Artifact {
        let artifacts = all(in: entries)
        if let artifact = artifacts[argument] { return artifact }
        let lower = argument.lowercased()
        if lower.count == 64, let match = artifacts.values.filter({ $0.sha256 == lower }).min(by: { order($0.id, $1.id) }) {
            return match
        }
        throw ExhibitError(.storage, "No artifact \(argument) in this case; `exhibit artifacts CASE` lists the ids.")
    }

    /// Ledger order of two ids (`A-0012` before `A-0012.2` before `A-0012.10`).
    static func order(_ lhs: String, _ rhs: String) -> Bool {
        func parts(_ id: String) -> [Int] { id.dropFirst(2).split(separator: ".").map { Int($0) ?? 0 } }
        return parts(lhs).lexicographicallyPrecedes(parts(rhs))
    }
}

/// Artifact ids of imported evidence (docs/import.md). A single file taken in is
/// one artifact, named by its `import` entry like a capture (`A-0012`); a WARC,
/// a WACZ's WARC or a bag holds many, numbered in order after a dot (`A-0012.3`).
public enum ImportedArtifactID {
    public static func id(seq: Int64, number: Int, of count: Int, kind: String) -> String {
        let base = ArtifactID.forSeq(Int(seq))
        return kind == "file" && count == 1 ? base : base + "." + String(number)
    }
}
