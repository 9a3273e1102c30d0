public import CaseBundle
import CaseManagement
public import ChainOfCustody

/// One artifact of a case as its `capture` ledger entry records it, or an item
/// an `import` entry took in: what the case and artifact pages show. Read from
/// the ledger, the source of truth, not from the index.
public struct BrowserArtifact: Sendable, Equatable {
    /// One WARC record the capture wrote.
    public struct Record: Sendable, Equatable {
        public var id: String
        public var type: String
        public var targetURI: String?
        public var offset: Int64?
        public var length: Int64?
        public var blockDigest: String?
    }

    public var id: String
    public var seq: Int64
    public var actor: String
    public var url: String
    public var finalURL: String?
    /// When the request was sent (UTC), when recorded.
    public var started: String?
    /// When the response was complete (UTC).
    public var time: String
    public var status: Int
    public var contentType: String?
    /// sha256 of the payload as the server sent it (de-chunked).
    public var sha256: String?
    public var size: Int64?
    public var title: String?
    public var role: String?
    public var ip: String?
    public var warcFile: String?
    public var blobPath: String?
    public var records: [Record]
    /// For an imported item: how it was received (its entry's receipt, without the item list).
    public var imported: ImportReceipt?

    /// The response record a replay serves: the last one (after redirects).
    public var responseRecord: Record? {
        records.last { $0.type == "response" }
    }

    init?(_ entry: LedgerEntry) {
        // The facts the bundle reads from the same entry; the browser lists each record in full.
        guard let captured = BundleFacts.Artifact(capture: entry), let subject = entry.subject else { return nil }
        id = captured.id
        seq = entry.seq
        actor = captured.actor
        url = captured.url
        finalURL = captured.finalURL
        started = captured.started
        time = captured.ended
        status = captured.status
        contentType = captured.contentType
        sha256 = captured.sha256
        size = captured.size
        title = captured.title
        role = captured.role
        ip = captured.ip
        warcFile = captured.warcPath
        blobPath = captured.blobPath
        records = (subject["records"]?.arrayValue ?? []).compactMap { record in
            guard let id = record["id"]?.stringValue else { return nil }
            return Record(
                id: id, type: record["type"]?.stringValue ?? "", targetURI: record["target_uri"]?.stringValue,
                offset: record["offset"]?.intValue, length: record["length"]?.intValue,
                blockDigest: record["block_digest"]?.stringValue)
        }
    }

    /// An item an `import` entry took in; its one record is the WARC record holding its bytes.
    init(_ item: ImportReceipt.Item, of receipt: ImportReceipt) {
        id = item.id
        seq = receipt.seq
        actor = receipt.receiver
        url = item.url
        time = item.time
        status = item.status
        contentType = item.contentType
        sha256 = item.sha256
        size = item.size
        role = item.role
        warcFile = item.warc
        blobPath = item.blob
        records = item.recordID.map { [Record(id: $0, type: item.recordType ?? "", targetURI: item.url, offset: item.offset)] } ?? []
        var handing = receipt
        handing.items = []
        imported = handing
    }

    /// Every artifact of a ledger, captured or imported, in ledger order.
    public static func all(in entries: [LedgerEntry]) -> [BrowserArtifact] {
        var result: [BrowserArtifact] = []
        for entry in entries {
            if let captured = BrowserArtifact(entry) {
                result.append(captured)
            } else if let receipt = ImportReceipt(entry) {
                result += receipt.items.map { BrowserArtifact($0, of: receipt) }
            }
        }
        return result
    }
}

/// A `render` ledger entry (written by `exhibit render`): the screenshot and
/// PDF made from one captured response record.
public struct Rendering: Sendable, Equatable {
    /// One file the render stored as a blob, as the bundle report describes it, but
    /// with its path under the case (`blobs/sha256/…`) instead of the bag.
    public typealias File = BundleFacts.Render.Output

    public var seq: Int64
    public var time: String
    public var actor: String
    /// The id of the WARC response record the render was made from.
    public var sourceRecordID: String
    public var sourceURL: String?
    public var captureTime: String?
    public var files: [File]

    public var screenshots: [File] { files.filter { $0.role == "screenshot" } }
    public var pdfs: [File] { files.filter { $0.role == "pdf" } }

    /// Read as the bundle report reads it (``CaseBundle/BundleFacts/Render``), with
    /// paths under the case instead of the bag.
    init?(_ entry: LedgerEntry) {
        guard let render = BundleFacts.Render(entry, artifacts: []) else { return nil }
        seq = entry.seq
        time = render.time
        actor = render.actor
        sourceRecordID = render.sourceRecordID
        sourceURL = render.url.isEmpty ? nil : render.url
        captureTime = render.captureTime
        files = render.outputs.map { output in
            var file = output
            file.path = String(output.path.dropFirst("data/".count))
            return file
        }
    }

    /// Every render of a ledger, in ledger order.
    public static func all(in entries: [LedgerEntry]) -> [Rendering] {
        entries.compactMap(Rendering.init)
    }

    /// Whether this render was made from one of the artifact's records.
    public func renders(_ artifact: BrowserArtifact) -> Bool {
        artifact.records.contains { $0.id == sourceRecordID }
    }
}

/// A blob the ledger records: where it is and what it is, for the blob route.
struct BlobReference: Sendable, Equatable {
    var path: String
    var sha256: String
    var size: Int64?
    var mediaType: String?
    var seq: Int64

    /// `blobs/sha256/<2 hex>/<64 hex>` naming exactly that digest: a ledger
    /// entry can never point the blob route outside the blob store.
    static func isBlobPath(_ path: String, sha256: String) -> Bool {
        BundleFacts.Render.isBlobPath(path, sha256: sha256)
    }

    /// The blob with digest `sha256` if an entry records it: a capture's
    /// media payload (`blob`), an import, or a render's files (`files`).
    static func find(_ sha256: String, in entries: [LedgerEntry]) -> BlobReference? {
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if let blob = subject["blob"], let path = blob["path"]?.stringValue, blob["sha256"]?.stringValue == sha256,
               isBlobPath(path, sha256: sha256) {
                let type = blob["media_type"]?.stringValue ?? subject["content_type"]?.stringValue ?? subject["media_type"]?.stringValue
                return BlobReference(path: path, sha256: sha256, size: blob["size"]?.intValue, mediaType: type, seq: entry.seq)
            }
            for file in subject["files"]?.arrayValue ?? [] {
                guard let path = file["path"]?.stringValue, file["sha256"]?.stringValue == sha256,
                      isBlobPath(path, sha256: sha256) else { continue }
                return BlobReference(path: path, sha256: sha256, size: file["size"]?.intValue,
                                     mediaType: file["media_type"]?.stringValue, seq: entry.seq)
            }
        }
        return nil
    }
}
