import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation
import MediaEvidence
import Screening
import WARC

/// Gathers `BundleFacts` from a case's ledger entries and the bag's copies of its files.
struct FactsCollector {
    let caseID: String
    let entries: [LedgerEntry]
    let state: CaseState
    let bagData: String
    /// The case itself, for reading payloads back from the original WARC files.
    let caseDirectory: String
    /// In a redacted bundle the WARC files are derived copies: original offsets do not apply.
    let derivedWARCs: Bool
    let payload: [String: (sha256: String, sha512: String, size: Int64)]
    let people: [BundleFacts.Person]

    func facts(categoryTitle: String, policySections: String, agency: String, verification: BundleFacts.Verification) -> BundleFacts {
        var artifacts: [BundleFacts.Artifact] = []
        var timeline: [BundleFacts.Event] = []
        // Captured artifacts are completed afterwards on every core: most need their MD5
        // computed from the file (a quarter of a gigabyte for the images of a large case).
        var captures: [(index: Int, captured: BundleFacts.Artifact)] = []
        for entry in entries {
            var artifactID: String?
            if let captured = BundleFacts.Artifact(capture: entry) {
                captures.append((artifacts.count, captured))
                artifacts.append(captured)
                artifactID = captured.id
            }
            if let receipt = ImportReceipt(entry) {
                artifacts += importedArtifacts(receipt)
            }
            timeline.append(.init(
                seq: Int(entry.seq), time: entry.time, actor: entry.actor, action: entry.action,
                summary: Self.summary(entry), hash: entry.hash, artifact: artifactID))
        }
        let completed = Parallel.map(captures.map(\.captured)) { artifact($0) }
        for (capture, artifact) in zip(captures, completed) { artifacts[capture.index] = artifact }
        // What media analysis found, from the `media-analysis` entries of the same ledger.
        let media = MediaFacts.byArtifact(entries)
        if !media.isEmpty {
            for index in artifacts.indices { artifacts[index].media = media[artifacts[index].id] }
        }
        let files = payload.keys.sorted().filter { path in
            !path.hasSuffix("/ledger.jsonl") && path != "data/ledger.jsonl" && path != "data/case.json" && !path.hasPrefix("data/keys/")
        }.map { BundleFacts.File(path: $0, sha256: payload[$0]!.sha256, size: payload[$0]!.size) }
        var facts = BundleFacts(
            caseID: caseID, title: state.title, category: state.category, categoryTitle: categoryTitle,
            policySections: policySections, agency: agency, status: state.status.rawValue, fields: state.fields,
            openedAt: state.openedAt, closedAt: state.closedAt, actors: people, artifacts: artifacts, timeline: timeline,
            files: files, verification: verification, ledgerHead: entries.last?.hash ?? "",
            toolName: "Exhibit", toolVersion: ExhibitRelease.version)
        // The diffs read the original WARC files; a redacted bundle's are derived copies.
        facts.watchTimelines = WatchTimeline.timelines(entries, caseDirectory: derivedWARCs ? nil : caseDirectory)
        return facts
    }

    /// A captured artifact as the bag holds it: paths from the bag's top folder, the MD5
    /// computed when capture did not record it, no original offsets in derived WARC files.
    private func artifact(_ captured: BundleFacts.Artifact) -> BundleFacts.Artifact {
        var artifact = captured
        artifact.warcPath = captured.warcPath.map { "data/" + $0 }
        artifact.blobPath = captured.blobPath.map { "data/" + $0 }
        artifact.md5 = captured.md5 ?? md5(sha256: captured.sha256, warc: captured.warcPath, blob: captured.blobPath, offset: captured.responseOffset)
        if derivedWARCs { artifact.responseOffset = nil }
        return artifact
    }

    /// The items an `import` entry took in (docs/import.md), with role `imported`:
    /// ids as the index gives them, the receiver as actor, the time the record or
    /// file carries, and the receipt (source statement, from whom, when).
    private func importedArtifacts(_ receipt: ImportReceipt) -> [BundleFacts.Artifact] {
        var handing = receipt
        handing.items = []
        return receipt.items.map { item in
            var artifact = BundleFacts.Artifact(
                id: item.id, seq: Int(receipt.seq), actor: receipt.receiver, url: item.url, finalURL: nil, started: nil,
                ended: item.time, status: item.status, contentType: item.contentType, size: item.size, sha256: item.sha256,
                md5: item.blob.flatMap { try? Digest.file(atPath: bagData + "/" + $0, algorithms: [.md5]).digests[.md5] },
                ip: nil, certificateSubject: nil, title: nil, role: "imported",
                warcPath: item.warc.map { "data/" + $0 }, blobPath: item.blob.map { "data/" + $0 },
                responseOffset: derivedWARCs || item.recordType != "response" ? nil : item.offset,
                recordIDs: item.recordID.map { [$0] } ?? [], tags: [])
            artifact.intake = handing
            return artifact
        }
    }

    /// MD5 of the payload for e-discovery tools when capture did not record it: computed
    /// now from the blob or the WARC record.
    private func md5(sha256: String?, warc: String?, blob: String?, offset: Int64?) -> String? {
        if let blob, let digests = try? Digest.file(atPath: bagData + "/" + blob, algorithms: [.md5]).digests {
            return digests[.md5]
        }
        guard let warc, let offset, let response = try? ArchivedResponse(warcPath: caseDirectory + "/" + warc, offset: offset) else { return nil }
        // Only when the payload read back is the one recorded (not cut at the analysis limit).
        guard Digest.sha256Hex(response.payload) == sha256 else { return nil }
        let digest = DigestStream([.md5])
        digest.update(response.payload)
        return digest.finishHex()[.md5]
    }

    /// One line for the report's timeline and the provenance graph.
    static func summary(_ entry: LedgerEntry) -> String {
        guard let subject = entry.subject else { return "\(entry.action) (details withheld)" }
        func text(_ key: String) -> String { subject[key]?.stringValue ?? "" }
        switch entry.action {
        case "open": return "opened the case “\(text("title"))”"
        case "capture":
            let final = text("final_url")
            return "captured \(text("url"))\(final.isEmpty || final == text("url") ? "" : " → \(final)") (HTTP \(subject["status"]?.intValue ?? 0))"
        case "capture-failed": return "capture of \(text("url")) failed: \(text("reason"))"
        case "policy-refusal": return "refused to capture \(text("url")): \(text("reason"))"
        case "policy-override": return "policy override: \(text("reason"))"
        case "note": return "note: \(text("text"))"
        case "verify": return "verified the case: \(text("result")) (\(subject["entries"]?.intValue ?? 0) entries)"
        case "timestamp": return "trusted timestamp over the ledger head from \(text("tsa"))"
        case "transfer": return "custody transferred from \(text("from")) to \(text("to")): \(text("reason"))"
        case "export": return "exported (\(text("format")), \(subject["entries"]?.intValue ?? 0) entries, tag manifest \(text("tag_manifest_sha256")))"
        case "view": return "viewed (\(text("command")))"
        case "refusal": return "refused \(text("command")): \(text("reason"))"
        case "close": return "closed the case"
        case "hold": return "legal hold: \(text("reason"))"
        case "release": return "legal hold released"
        case "watch": return "watch set up: \(text("url")) every \(text("every"))"
        case "watch-removed": return "watch \(text("watch")) removed"
        case "change": return "watch \(text("watch")): \(text("result")) — \(WatchTimeline.summary(subject))"
        case "import":
            // The receiver is the entry's actor, the performer of this action in the provenance graph.
            let from = text("received_from").isEmpty ? "" : " from \(text("received_from"))"
            let at = text("received_at").isEmpty ? "" : " (received \(text("received_at")))"
            return "imported \(text("file_name")) (\(text("kind")), sha256 \(text("sha256")))\(from)\(at): \(text("source")); check \(subject["check"]?["verdict"]?.stringValue ?? "-")"
        default: return entry.action
        }
    }
}
