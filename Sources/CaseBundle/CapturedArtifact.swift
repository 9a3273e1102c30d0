public import ChainOfCustody
import CaseManagement

extension BundleFacts.Artifact {
    /// What a `capture` entry with a response records about its artifact, read once for
    /// the bundle and the case browser: paths are the case's own (`warc/…`, `blobs/…`),
    /// the MD5 is the one recorded at capture if any, and the offset is the last response
    /// record's. Nil for other entries, a failed capture, or a withheld entry.
    public init?(capture entry: LedgerEntry) {
        guard entry.action == "capture", let subject = entry.subject, let status = subject["status"]?.intValue else { return nil }
        let records = subject["records"]?.arrayValue ?? []
        let seq = Int(entry.seq)
        self.init(
            id: ArtifactID.forSeq(seq), seq: seq, actor: entry.actor,
            url: subject["url"]?.stringValue ?? "", finalURL: subject["final_url"]?.stringValue,
            started: subject["started"]?.stringValue, ended: subject["ended"]?.stringValue ?? entry.time, status: Int(status),
            contentType: subject["content_type"]?.stringValue, size: subject["payload_length"]?.intValue,
            sha256: subject["payload_sha256"]?.stringValue, md5: subject["payload_digests"]?["md5"]?.stringValue,
            ip: subject["ip"]?.stringValue, certificateSubject: subject["tls"]?["subject"]?.stringValue,
            title: subject["title"]?.stringValue, role: subject["role"]?.stringValue,
            warcPath: subject["warc"]?["file"]?.stringValue, blobPath: subject["blob"]?["path"]?.stringValue,
            responseOffset: records.last { $0["type"]?.stringValue == "response" }?["offset"]?.intValue,
            recordIDs: records.compactMap { $0["id"]?.stringValue }, tags: [])
    }
}
