import CaseManagement
public import ChainOfCustody
import CaseReplay
import Foundation
import WARC

// What the case browser reads back from the evidence files: replayed responses from the WARC
// records and blobs the ledger records, each checked and recorded as a `view` entry.

extension CaseBrowsing {
    /// A captured response read back from its WARC record, for the sandboxed replay frame.
    public struct Replay: Sendable {
        public var body: [UInt8]
        /// The archived Content-Type, or nil when the server sent none.
        public var contentType: String?
        public var recordID: String
        /// The archived status (route form only; the artifact's own frame shows the body whatever it was).
        public var status = 200
        /// The archived Content-Encoding when the body is still encoded (route form).
        public var contentEncoding: String?
        /// For an archived redirect: its target, absolute.
        public var redirect: String?
    }

    /// A replayed page or one of its resources, in route form:
    /// `/cases/<ID>/artifacts/<A>/replay/<URL>`. The page is artifact `A`'s own
    /// response record; any other URL (an image of the page) is the capture of
    /// that URL nearest in time to `A`'s, found as the renderer finds it
    /// (``CaseReplay/ReplayArchive``). An HTML answer has its image addresses
    /// pointed back at this route (``ReplayImageLinks``); everything else is sent
    /// as archived. Nothing that was not captured is answered, and nothing is
    /// fetched (read permission; each answer recorded as a `view` of the record
    /// served).
    public func replay(_ caseID: String, artifact argument: String, url: String) throws(ExhibitError) -> Replay {
        let session = try authorizedRead(caseID)
        let (page, _) = try findArtifact(argument, caseID: caseID, session: session)
        let directory = session.store.directory(of: caseID)
        let archive = try ReplayArchive(caseDirectory: directory)
        let capture: ReplayArchive.Capture
        if let record = page.responseRecord, let offset = record.offset, let file = page.warcFile,
           let target = record.targetURI, CDXJIndex.surt(target) == CDXJIndex.surt(url) {
            capture = ReplayArchive.Capture(record: record.id, in: file, at: offset, url: target,
                                            blockDigest: record.blockDigest ?? "", seq: page.seq)
        } else if let found = archive.lookup(url, near: ReplayArchive.timestamp(page.started ?? page.time)) {
            capture = found
        } else {
            throw BrowserError.notFound("\(url) was not captured in case \(caseID); the replay answers only from the case's WARC files and never fetches anything.")
        }
        let message: ReplayedMessage
        do {
            message = try archive.message(for: capture)
        } catch {
            throw BrowserError.unprocessable("\(url) cannot be replayed here (\(error.message)); its WARC record is in \(capture.warc).")
        }
        var subject: [String: JSONValue] = [
            "viewed": "replay", "artifact": .string(ArtifactID.forSeq(Int(capture.seq))), "record_id": .string(capture.recordID),
            "warc": .string(capture.warc),
        ]
        if capture.seq != page.seq { subject["in_replay_of"] = .string(page.id) }
        try recordView(session, caseID, subject)
        let contentType = Self.field("content-type", in: message.headers)
        var replay = Replay(body: message.body, contentType: contentType, recordID: capture.recordID)
        replay.status = message.status
        replay.contentEncoding = Self.field("content-encoding", in: message.headers)
        if ["text/html", "application/xhtml+xml"].contains(CasePageQuery.essence(contentType)) {
            // A page: its image addresses are pointed at this route (the frame sends no Referer).
            var body: [UInt8]? = replay.contentEncoding == nil ? message.body : nil
            if body == nil {
                var path = directory + "/" + capture.warc
                if access(path, R_OK) != 0 { path += ".tmp" }
                body = (try? ArchivedResponse(warcPath: path, offset: capture.offset))?.body
            }
            if let body {
                let pageID = page.id
                replay.body = ReplayImageLinks.rewrite(body, pageURL: capture.url) { ReplayLink.page(caseID: caseID, artifactID: pageID, url: $0) }
                replay.contentEncoding = nil
            }
        }
        if (300...399).contains(message.status), let location = Self.field("location", in: message.headers), let base = URL(string: capture.url),
           let absolute = URL(string: location, relativeTo: base)?.absoluteString {
            replay.redirect = absolute
        }
        return replay
    }

    /// The first value of a header field, by name without regard to case.
    static func field(_ name: String, in headers: [(String, String)]) -> String? {
        headers.first { $0.0.lowercased() == name }?.1
    }

    /// The archived body of an artifact's response record (read permission; recorded).
    public func replay(_ caseID: String, artifact argument: String) throws(ExhibitError) -> Replay {
        let session = try authorizedRead(caseID)
        let (artifact, _) = try findArtifact(argument, caseID: caseID, session: session)
        guard let record = artifact.responseRecord, let offset = record.offset, let file = artifact.warcFile else {
            throw BrowserError.notFound("Artifact \(artifact.id) has no response record to replay.")
        }
        let directory = session.store.directory(of: caseID)
        var path = directory + "/" + file
        if !FileManager.default.fileExists(atPath: path) { path += ".tmp" }
        let archived: ArchivedResponse
        do {
            archived = try ArchivedResponse(warcPath: path, offset: offset)
        } catch {
            throw BrowserError.unprocessable("Artifact \(artifact.id) cannot be replayed here (\(error.message)); its WARC record is in \(file).")
        }
        try recordView(session, caseID, [
            "viewed": "replay", "artifact": .string(artifact.id), "record_id": .string(record.id), "warc": .string(file),
        ])
        return Replay(body: archived.body, contentType: archived.contentType, recordID: record.id)
    }

    /// A blob the ledger records, read and checked against its recorded digest.
    public struct Blob: Sendable {
        public var bytes: [UInt8]
        public var mediaType: String?
        public var path: String
    }

    /// Blobs larger than this (64 MiB) are not served: the browser is for
    /// looking at screenshots and media, and the bundle carries every file whole.
    public static let blobLimit: Int64 = 64 << 20

    /// A recorded blob by its sha256 (read permission; recorded). Anything the
    /// ledger does not record is not found, whatever is on disk.
    public func blob(_ caseID: String, sha256: String) throws(ExhibitError) -> Blob {
        let session = try authorizedRead(caseID)
        let digest = sha256.lowercased()
        let entries = try session.store.ledger(of: caseID).entries()
        guard let reference = BlobReference.find(digest, in: entries) else {
            throw BrowserError.notFound("Case \(caseID) records no blob with sha256 \(digest).")
        }
        let path = session.store.directory(of: caseID) + "/" + reference.path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BrowserError.notFound("The blob \(reference.path) is recorded but not in the case; run `exhibit verify \(caseID)`.")
        }
        guard Int64(info.st_size) <= Self.blobLimit else {
            throw BrowserError.unprocessable("The blob \(reference.path) is larger than \(Self.blobLimit >> 20) MiB and is not shown in the browser; export the case to hand it over.")
        }
        let bytes = try AtomicFile.read(path)
        // What is shown is what the ledger recorded, or nothing.
        guard Digest.sha256Hex(bytes) == reference.sha256 else {
            throw ExhibitError(.verificationFailed, "The blob \(reference.path) does not match the sha256 its ledger entry (seq \(reference.seq)) records; run `exhibit verify \(caseID)`.")
        }
        try recordView(session, caseID, ["viewed": "blob", "sha256": .string(digest), "path": .string(reference.path)])
        return Blob(bytes: bytes, mediaType: reference.mediaType, path: reference.path)
    }
}
