import CaseIndex
import CaseManagement
import ChainOfCustody

/// The artifacts of a case that may be media, read from its ledger alone (no index
/// refresh, so the step at the end of a capture costs nothing for pages): every
/// successful capture and every imported item, with where its sealed copy is.
struct MediaCandidate: Sendable {
    /// Where the artifact's sealed copy is, a blob or a WARC record (its file, offset
    /// and id), with the sha256 the ledger recorded for the bytes it holds.
    struct SealedCopy: Sendable {
        var sha256: String?
        var blob: String?
        /// The WARC file, relative to the case.
        var warc: String?
        var offset: Int64?
        var recordID: String?
        /// Whether the record is an HTTP response (else a resource record's block).
        var recordIsResponse = true
    }

    var id: String
    var url: String
    var time: String
    var mimeType: String?
    var copy: SealedCopy

    static func list(_ entries: [LedgerEntry]) -> [MediaCandidate] {
        var result: [MediaCandidate] = []
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if entry.action == "capture", let status = subject["status"]?.intValue, (200..<300).contains(status) {
                let response = subject["records"]?.arrayValue?.last { $0["type"]?.stringValue == "response" }
                result.append(MediaCandidate(
                    id: ArtifactID.forSeq(Int(entry.seq)), url: subject["final_url"]?.stringValue ?? subject["url"]?.stringValue ?? "",
                    time: subject["ended"]?.stringValue ?? entry.time,
                    mimeType: IndexedArtifact.mimeType(of: subject["content_type"]?.stringValue),
                    copy: SealedCopy(sha256: subject["payload_sha256"]?.stringValue, blob: subject["blob"]?["path"]?.stringValue,
                                     warc: subject["warc"]?["file"]?.stringValue, offset: response?["offset"]?.intValue,
                                     recordID: response?["id"]?.stringValue)))
            } else if entry.action == "import", let items = subject["artifacts"]?.arrayValue {
                let kind = subject["kind"]?.stringValue ?? ""
                for (index, item) in items.enumerated() {
                    result.append(MediaCandidate(
                        id: ImportedArtifactID.id(seq: entry.seq, number: index + 1, of: items.count, kind: kind),
                        url: item["url"]?.stringValue ?? "", time: item["time"]?.stringValue ?? entry.time,
                        mimeType: IndexedArtifact.mimeType(of: item["content_type"]?.stringValue),
                        copy: SealedCopy(sha256: item["sha256"]?.stringValue, blob: item["blob"]?.stringValue,
                                         warc: item["warc"]?.stringValue, offset: item["offset"]?.intValue,
                                         recordID: item["record_id"]?.stringValue,
                                         recordIsResponse: item["record_type"]?.stringValue == "response")))
                }
            }
        }
        return result
    }
}
