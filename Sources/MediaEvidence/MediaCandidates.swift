import CaseIndex
import CaseManagement
import ChainOfCustody

/// The artifacts of a case that may be media, read from its ledger alone (no index
/// refresh, so the step at the end of a capture costs nothing for pages): every
/// successful capture and every imported item, with where its sealed copy is.
struct MediaCandidate: Sendable {
    var id: String
    var url: String
    var time: String
    var mimeType: String?
    var sha256: String?
    var blob: String?
    /// A WARC file and the offset of the record holding the bytes, with its id.
    var warcFile: String?
    var recordOffset: Int64?
    var recordID: String?
    /// Whether the record at `recordOffset` is an HTTP response (else a resource record's block).
    var recordIsResponse = true

    static func list(_ entries: [LedgerEntry]) -> [MediaCandidate] {
        var result: [MediaCandidate] = []
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if entry.action == "capture", let status = subject["status"]?.intValue, (200..<300).contains(status) {
                let response = subject["records"]?.arrayValue?.last { $0["type"]?.stringValue == "response" }
                result.append(MediaCandidate(
                    id: ArtifactID.forSeq(Int(entry.seq)), url: subject["final_url"]?.stringValue ?? subject["url"]?.stringValue ?? "",
                    time: subject["ended"]?.stringValue ?? entry.time,
                    mimeType: IndexedArtifact.mimeType(of: subject["content_type"]?.stringValue), sha256: subject["payload_sha256"]?.stringValue,
                    blob: subject["blob"]?["path"]?.stringValue, warcFile: subject["warc"]?["file"]?.stringValue,
                    recordOffset: response?["offset"]?.intValue, recordID: response?["id"]?.stringValue))
            } else if entry.action == "import", let items = subject["artifacts"]?.arrayValue {
                let kind = subject["kind"]?.stringValue ?? ""
                for (index, item) in items.enumerated() {
                    result.append(MediaCandidate(
                        id: ImportedArtifactID.id(seq: entry.seq, number: index + 1, of: items.count, kind: kind),
                        url: item["url"]?.stringValue ?? "", time: item["time"]?.stringValue ?? entry.time,
                        mimeType: IndexedArtifact.mimeType(of: item["content_type"]?.stringValue), sha256: item["sha256"]?.stringValue,
                        blob: item["blob"]?.stringValue, warcFile: item["warc"]?.stringValue,
                        recordOffset: item["offset"]?.intValue, recordID: item["record_id"]?.stringValue,
                        recordIsResponse: item["record_type"]?.stringValue == "response"))
                }
            }
        }
        return result
    }
}
