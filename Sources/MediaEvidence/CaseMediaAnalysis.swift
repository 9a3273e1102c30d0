public import CaseManagement
public import ChainOfCustody
import Foundation
public import MediaForensics
import WARC

/// `exhibit media analyse CASE` and the same step at the end of a capture or an
/// import (DESIGN §19): every image and video artifact of the case not analysed yet
/// is analysed from its sealed copy (the content-addressed blob, or the payload of
/// its WARC response record, checked against the ledger's sha256 first), and the
/// results are sealed under the commit protocol: one `metadata` record per item in a
/// new WARC file of the case, then one `media-analysis` ledger entry naming the
/// records, each item's summary and its PDQ hashes, then the rename.
public struct CaseMediaAnalysis: Sendable {
    public let session: ActingSession

    public init(session: ActingSession) {
        self.session = session
    }

    /// One analysed artifact, as the command prints it.
    public struct Item: Sendable, Encodable {
        public var artifact: String
        public var url: String
        public var kind: String
        public var sha256: String
        public var pdq: String?
        public var quality: Int?
        public var frames: Int
        public var summary: MediaSummary
        public var unavailable: [String]
        public var hashUnavailable: String?

        enum CodingKeys: String, CodingKey {
            case artifact, url, kind, sha256, pdq, quality, frames, summary, unavailable, hashUnavailable = "hash_unavailable"
        }
    }

    public struct Report: Sendable, Encodable {
        public var `case`: String
        /// The `media-analysis` entry's seq, nil when there was nothing to analyse.
        public var seq: Int64?
        public var warcFile: String?
        public var items: [Item]

        enum CodingKeys: String, CodingKey {
            case `case`, seq, warcFile = "warc_file", items
        }
    }

    /// Who may run it: investigators and analysts (a capture or an import runs it as
    /// the investigator who captured).
    public static func mayAnalyse(_ actor: Actor) -> Bool {
        actor.has(.investigator) || actor.has(.analyst)
    }

    /// Analyses every media artifact of `caseID` that no `media-analysis` entry names yet.
    public func run(caseID: String, command: String = "media analyse") throws(ExhibitError) -> Report {
        try session.authorize(.read, caseID: caseID, command: command)
        if !Self.mayAnalyse(session.actor) {
            let reason = "Actor \(session.actor.id) (\(session.actor.name)) may not analyse media: that needs one of the roles investigator, analyst, which this actor does not hold."
            try session.store.append(LedgerDraft(action: "refusal", subject: .object([
                "command": .string(command), "reason": .string(reason),
                "required_roles": .array([.string("investigator"), .string("analyst")]),
            ])), to: caseID, signer: try session.signer())
            throw ExhibitError(.notPermitted, reason)
        }
        try session.requireOpen(caseID, command: command)
        let store = session.store
        let caseDirectory = store.directory(of: caseID)
        let entries = try store.ledger(of: caseID).entries()
        var analysed = Set<String>()
        for entry in entries where entry.action == "media-analysis" {
            for item in entry.subject?["items"]?.arrayValue ?? [] {
                if let artifact = item["artifact"]?.stringValue { analysed.insert(artifact) }
            }
        }
        let candidates = MediaCandidate.list(entries).filter { !analysed.contains($0.id) }
        let lock = try CaseRecovery.WriterLock(caseDirectory: caseDirectory)
        defer { withExtendedLifetime(lock) {} }
        let scratch = TemporaryFiles()
        var pending: [(artifact: MediaCandidate, analysis: MediaItemAnalysis, sha256: String)] = []
        for candidate in candidates {
            guard let source = try locate(candidate, caseDirectory: caseDirectory, scratch: scratch),
                  let kind = MediaAnalyzer.kind(mimeType: candidate.mimeType, head: source.head) else { continue }
            let analysis = try MediaAnalyzer.analyse(path: source.path, kind: kind)
            pending.append((candidate, analysis, source.sha256))
        }
        guard !pending.isEmpty else { return Report(case: caseID, seq: nil, warcFile: nil, items: []) }

        // Step 1: the WARC file under its temporary name, flushed.
        let jobID = EvidenceFiles.jobID(prefix: "media")
        let warcDirectory = try EvidenceFiles.prepareWARCDirectory(caseDirectory: caseDirectory)
        let name = jobID + ".warc.gz"
        let writer = try WARCWriter(finalPath: warcDirectory + "/" + name)
        var committed = false
        defer { if !committed { writer.discard() } }
        let info = EvidenceFiles.warcinfo(
            fileName: name, session: session, caseID: caseID, jobField: ("media-analysis-id", jobID),
            software: "Exhibit/\(ExhibitRelease.version) (exiftool, ffprobe, PDQ)",
            extra: [("description", "ExifTool and ffprobe output and PDQ perceptual hashes of the case's images and video, one metadata record per item, read from the sealed copies")])
        try writer.write(info)
        var records: [JSONValue] = []
        var items: [JSONValue] = []
        var printed: [Item] = []
        for (artifact, analysis, sha256) in pending {
            var fields: [(String, String)] = [("WARC-Warcinfo-ID", info.recordID)]
            if let refersTo = artifact.copy.recordID { fields.append(("WARC-Refers-To", refersTo)) }
            let url = artifact.url
            let record = WARCRecord(
                type: "metadata", date: LedgerTime.now(), targetURI: url, contentType: "application/json",
                fields: fields, block: .init(bytes: analysis.recordBody(artifact: artifact.id, sha256: sha256, url: url)))
            let written = try writer.write(record)
            records.append(written.json)
            var item: [String: JSONValue] = [
                "artifact": .string(artifact.id), "url": .string(url), "kind": .string(analysis.kind.rawValue),
                "sha256": .string(sha256), "captured": .string(artifact.time), "record": .string(written.id),
                "summary": analysis.metadata.summary.json,
            ]
            if !analysis.metadata.unavailable.isEmpty {
                item["unavailable"] = .array(analysis.metadata.unavailable.map { .string($0) })
            }
            if !analysis.metadata.warnings.isEmpty {
                item["warnings"] = .array(analysis.metadata.warnings.map { .string($0) })
            }
            item.merge(analysis.hashJSON) { $1 }
            items.append(.object(item))
            printed.append(Item(
                artifact: artifact.id, url: url, kind: analysis.kind.rawValue, sha256: sha256, pdq: analysis.pdq?.hex,
                quality: analysis.pdq?.quality, frames: analysis.frames.count, summary: analysis.metadata.summary,
                unavailable: analysis.metadata.unavailable, hashUnavailable: analysis.hashUnavailable))
        }
        let (fileSHA, size) = try writer.seal()
        // Step 2: the ledger entry naming the file, its records and every item.
        let subject: JSONValue = .object([
            "warc": .object(["file": .string("warc/" + name), "sha256": .string(fileSHA), "size": .integer(size)]),
            "records": .array(records),
            "items": .array(items),
            "tools": .object(["metadata": .string("exiftool -json -G -n -struct; ffprobe -print_format json -show_format -show_streams"),
                              "hash": .string("PDQ (256 bits, quality); video: one frame a second and each scene cut")]),
        ])
        let entry = try store.append(LedgerDraft(action: "media-analysis", subject: subject), to: caseID, signer: try session.signer())
        // Step 3: the rename.
        try writer.commit()
        committed = true
        return Report(case: caseID, seq: entry.seq, warcFile: "warc/" + name, items: printed)
    }

    struct Source {
        var path: String
        var sha256: String
        var head: [UInt8]
    }

    /// The sealed copy of an artifact: its blob, or the bytes of its WARC record
    /// written to a private temporary file; nil when there is none. A blob whose
    /// sha256 is not the ledger's is refused: that is tampering for `exhibit verify`.
    func locate(_ artifact: MediaCandidate, caseDirectory: String, scratch: TemporaryFiles) throws(ExhibitError) -> Source? {
        if let blob = artifact.copy.blob {
            var path = caseDirectory + "/" + blob
            if !FileManager.default.fileExists(atPath: path) {
                // Recorded but not yet renamed by its capture (commit step 3 pending).
                guard let staged = (try? FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent))?
                    .first(where: { $0.hasPrefix((blob as NSString).lastPathComponent + ".") && $0.hasSuffix(".tmp") }) else { return nil }
                path = (path as NSString).deletingLastPathComponent + "/" + staged
            }
            let head = Self.head(of: path)
            // Only what may be media is hashed in full.
            guard MediaAnalyzer.kind(mimeType: artifact.mimeType, head: head) != nil else { return nil }
            let sha = try Digest.file(atPath: path).digests[.sha256] ?? ""
            if let expected = artifact.copy.sha256, expected != sha {
                throw ExhibitError(.verificationFailed, "The stored copy of \(artifact.id) (\(blob)) no longer has the sha256 the ledger recorded; run `exhibit verify`.")
            }
            return Source(path: path, sha256: sha, head: head)
        }
        // Only media is read out of a WARC record: the MIME type says so, or nothing is read.
        guard let mime = artifact.mimeType, mime.hasPrefix("image/") || mime.hasPrefix("video/"),
              let warc = artifact.copy.warc, let offset = artifact.copy.offset else { return nil }
        var path = caseDirectory + "/" + warc
        if !FileManager.default.fileExists(atPath: path) { path += ".tmp" }
        let bytes: [UInt8]
        if artifact.copy.recordIsResponse {
            guard let archived = try? ArchivedResponse(warcPath: path, offset: offset) else { return nil }
            bytes = archived.payload
        } else {
            guard let record = try? WARCReader(path: path, keepBlocksUpTo: Int64(ArchivedResponse.analysisLimit), computesPayloadSHA1: false).record(at: offset),
                  let block = record.block else { return nil }
            bytes = block
        }
        let sha = Digest.sha256Hex(bytes)
        if let expected = artifact.copy.sha256, expected != sha { return nil }
        let file = try scratch.write(bytes)
        return Source(path: file, sha256: sha, head: Array(bytes.prefix(64)))
    }

    static func head(of path: String) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: 64)) ?? Data())
    }
}

/// Private temporary copies (mode 0600 in a 0700 directory), removed when released.
final class TemporaryFiles: @unchecked Sendable {
    private var directory: String?
    private var count = 0

    func write(_ bytes: [UInt8]) throws(ExhibitError) -> String {
        if directory == nil {
            var template = Array((NSTemporaryDirectory() + "/exhibit-media-XXXXXX").utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw AtomicFile.posixError("Cannot create a temporary directory for media analysis")
            }
            directory = String(cString: made)
        }
        count += 1
        let path = directory! + "/item-\(count)"
        try AtomicFile.write(bytes, to: path, mode: 0o600)
        return path
    }

    deinit {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
