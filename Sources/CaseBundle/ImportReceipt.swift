import CaseIndex
import CaseManagement
public import ChainOfCustody

/// What an `import` entry says about one handing over (DESIGN §20, docs/import.md),
/// as the report, the provenance graph, the load file and the case browser show it:
/// who received the file, from whom, when, the source statement and what the check
/// found; and the items it took in, named as ``ImportedArtifactID`` names them.
public struct ImportReceipt: Sendable, Equatable {
    /// One item the file held: what becomes an artifact.
    public struct Item: Sendable, Equatable {
        public var id: String
        public var url: String
        /// The time the record or file carries, else the entry's.
        public var time: String
        /// The HTTP status of a WARC response record; 0 for anything else.
        public var status: Int
        public var contentType: String?
        public var sha256: String?
        public var size: Int64?
        public var role: String?
        /// Paths under the case: the WARC file holding the record, and the blob.
        public var warc: String?
        public var blob: String?
        public var offset: Int64?
        public var recordID: String?
        /// `response`, `resource` …: the kind of WARC record holding the bytes.
        public var recordType: String?
    }

    /// The `import` entry's seq, time and actor: the receiver.
    public var seq: Int64
    public var time: String
    public var receiver: String
    public var fileName: String
    /// `warc`, `wacz`, `bag` or `file`.
    public var kind: String
    public var sha256: String
    public var size: Int64?
    /// The statement of where the evidence came from and how it reached the receiver.
    public var source: String
    public var receivedFrom: String?
    public var receivedAt: String?
    /// What the check found: `passed`, `recorded` …, and its sentence.
    public var verdict: String?
    public var checkDetail: String?
    public var items: [Item]

    /// Reads an `import` entry; nil for other entries and for a withheld one.
    public init?(_ entry: LedgerEntry) {
        guard entry.action == "import", let subject = entry.subject else { return nil }
        func text(_ key: String) -> String? { subject[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        seq = entry.seq
        time = entry.time
        receiver = entry.actor
        fileName = text("file_name") ?? ""
        kind = text("kind") ?? ""
        sha256 = text("sha256") ?? ""
        size = subject["size"]?.intValue
        source = text("source") ?? ""
        receivedFrom = text("received_from")
        receivedAt = text("received_at")
        verdict = subject["check"]?["verdict"]?.stringValue
        checkDetail = subject["check"]?["detail"]?.stringValue
        let listed = subject["artifacts"]?.arrayValue ?? []
        let (seq, kind, time) = (entry.seq, kind, entry.time)
        items = listed.enumerated().map { index, item in
            Item(
                id: ImportedArtifactID.id(seq: seq, number: index + 1, of: listed.count, kind: kind),
                url: item["url"]?.stringValue ?? "", time: item["time"]?.stringValue ?? time,
                status: Int(item["status"]?.intValue ?? 0), contentType: item["content_type"]?.stringValue,
                sha256: item["sha256"]?.stringValue, size: item["size"]?.intValue, role: item["role"]?.stringValue,
                warc: item["warc"]?.stringValue, blob: item["blob"]?.stringValue, offset: item["offset"]?.intValue,
                recordID: (item["record"] ?? item["record_id"])?.stringValue, recordType: item["record_type"]?.stringValue)
        }
    }

    /// Every `import` entry of a ledger, in order.
    public static func all(in entries: [LedgerEntry]) -> [ImportReceipt] {
        entries.compactMap(ImportReceipt.init)
    }

    /// One line: "NAME (KIND, sha256 …), received by ACTOR from WHO on WHEN: SOURCE".
    public var statement: String {
        var line = "\(fileName) (\(kind), sha256 \(sha256)), received by \(receiver)"
        if let receivedFrom { line += " from \(receivedFrom)" }
        line += " on \(receivedAt ?? time)"
        if receivedAt == nil { line += " (recorded)" }
        return line + ": " + source
    }
}
