public import CaseManagement
public import ChainOfCustody
import Foundation
import WARC

/// What `exhibit render` (and `exhibit capture` when it takes screenshots) was asked to render.
public struct RenderOptions: Sendable {
    /// One artifact (its id or full sha256); nil: every captured HTML page of the case.
    public var artifact: String?
    /// Only pages recorded in these WARC files (relative to the case): the pages a
    /// capture job just wrote. An empty selection is then not an error.
    public var warcFiles: [String]?

    public init(artifact: String? = nil, warcFiles: [String]? = nil) {
        self.artifact = artifact
        self.warcFiles = warcFiles
    }
}

/// The outcome of a render job, page by page.
public struct RenderReport: Sendable {
    /// One request the replay server answered while a page rendered.
    public struct Request: Sendable, Encodable {
        public var method: String
        public var url: String
        public var form: String
        public var status: Int
        public var fromWARC: Bool

        enum CodingKeys: String, CodingKey {
            case method, url, form, status
            case fromWARC = "from_warc"
        }
    }

    public struct Rendered: Sendable, Encodable {
        public var url: String
        public var artifact: String
        public var sourceRecord: String
        public var captureTime: String
        public var png: String
        public var pngSHA256: String
        public var pdf: String
        public var pdfSHA256: String
        public var width: Int
        public var height: Int
        /// Every request of the render, as the replay server answered it.
        public var requests: [Request]

        enum CodingKeys: String, CodingKey {
            case url, artifact, png, pdf, width, height, requests
            case sourceRecord = "source_record"
            case captureTime = "capture_time"
            case pngSHA256 = "png_sha256"
            case pdfSHA256 = "pdf_sha256"
        }
    }

    public struct Failure: Sendable, Encodable {
        public var url: String
        public var artifact: String
        public var reason: String
    }

    public var caseID: String
    public var renderID: String
    public var warc: String?
    public var chromiumVersion: String?
    public var rendered: [Rendered] = []
    public var failed: [Failure] = []
    public var ledgerHead: String?

    /// A page that could not be rendered (a time limit, Chromium's refusal) is exit 6,
    /// like a capture that failed; the pages that did render are recorded.
    public var exitCode: ExhibitError.Code? { failed.isEmpty ? nil : .captureFailed }
}

/// How far a render job is, for a live display: sent before the first page
/// (`line` nil) and after each page.
public struct RenderProgress: Sendable {
    /// The page's line as `exhibit render` prints it; nil before the first page.
    public var line: String?
    public var failed: Bool
    /// Pages rendered or failed so far, of `total`.
    public var done: Int
    public var total: Int
    /// The page's PNG and PDF bytes.
    public var bytes: Int64
}

/// A render job: replays each selected page from the case's WARC files on a
/// loopback server, screenshots it with headless Chromium, and seals the PNG and
/// PDF into a new WARC file (`warc/<render-id>.warc.gz`, `resource` records) and
/// the blob store, with one `render` ledger entry per page, under DESIGN §2's
/// commit protocol (temporary names, fsync, ledger, rename).
public struct RenderJob: Sendable {
    public let session: ActingSession
    public let caseID: String
    public let options: RenderOptions

    public init(session: ActingSession, caseID: String, options: RenderOptions = RenderOptions()) {
        self.session = session
        self.caseID = caseID
        self.options = options
    }

    /// A page to render: its capture entry and the response record it shows.
    struct PageSource {
        var artifact: String
        var url: String
        var record: JSONValue
        var warc: String
        var payloadSHA256: String?
    }

    /// Runs the job on the calling thread (blocking: call it off the Swift concurrency pool).
    public func run(progress: ((String) -> Void)? = nil) throws(ExhibitError) -> RenderReport {
        try run(events: progress.map { line in { if let text = $0.line { line(text) } } })
    }

    /// Runs the job as `run(progress:)` does; `events` hears of the page count first, then of each page.
    public func run(events progress: ((RenderProgress) -> Void)?) throws(ExhibitError) -> RenderReport {
        try session.authorize(.render, caseID: caseID, command: "render")
        try BackgroundInvestigation.requireSearcher(session, caseID: caseID, command: "render")
        try session.requireOpen(caseID, command: "render")
        let renderer = try Renderer()
        let entries = try session.store.ledger(of: caseID).entries()
        let pages = try select(entries)
        let renderID = EvidenceFiles.jobID(prefix: "ren")
        var report = RenderReport(caseID: caseID, renderID: renderID)
        guard !pages.isEmpty else { return report }
        progress?(RenderProgress(line: nil, failed: false, done: 0, total: pages.count, bytes: 0))

        let caseDirectory = session.store.directory(of: caseID)
        let lock = try CaseRecovery.WriterLock(caseDirectory: caseDirectory)
        defer { withExtendedLifetime(lock) {} }
        let warcDirectory = try EvidenceFiles.prepareWARCDirectory(caseDirectory: caseDirectory)
        let archive = try ReplayArchive(caseDirectory: caseDirectory)
        let fileName = "\(renderID).warc.gz"
        var writer: WARCWriter?
        var warcinfoID = ""
        var subjects: [[String: JSONValue]] = []
        var blobs: [(temporary: String, final: String)] = []
        do throws(ExhibitError) {
            for page in pages {
                guard let output = try renderPage(page, archive: archive, renderer: renderer, report: &report, total: pages.count, progress: progress) else { continue }
                if writer == nil {
                    let opened = try WARCWriter(finalPath: warcDirectory + "/" + fileName)
                    let info = EvidenceFiles.warcinfo(
                        fileName: fileName, session: session, caseID: caseID, jobField: ("render-id", renderID),
                        software: "Exhibit/\(ExhibitRelease.version) (Chromium \(output.output.chromiumVersion))",
                        extra: [("renderer", "headless Chromium \(output.output.chromiumVersion), viewport \(Renderer.viewportWidth)x\(Renderer.viewportHeight), full-page PNG and PDF"),
                                ("network", "none: every request answered by Exhibit's loopback replay server from the case's WARC files")])
                    try opened.write(info)
                    warcinfoID = info.recordID
                    writer = opened
                }
                guard let writer else { continue }
                let (subject, staged) = try store(output, writer: writer, warcinfoID: warcinfoID, caseDirectory: caseDirectory, renderID: renderID)
                subjects.append(subject)
                blobs += staged
            }
            guard let writer else { return report }
            let (sha, size) = try writer.seal()
            let relative = "warc/" + fileName
            let drafts = subjects.map { subject -> LedgerDraft in
                var subject = subject
                subject["warc"] = .object(["file": .string(relative), "sha256": .string(sha), "size": .integer(size)])
                return LedgerDraft(action: "render", subject: .object(subject))
            }
            try session.store.append(drafts, to: caseID, signer: try session.signer())
            try writer.commit()
            for blob in blobs { EvidenceFiles.commitBlob(temporary: blob.temporary, final: blob.final) }
            report.warc = relative
            report.ledgerHead = try session.store.ledger(of: caseID).head()?.hash
            return report
        } catch {
            // Nothing unrecorded is evidence: remove the unsealed file and staged blobs.
            writer?.discard()
            for blob in blobs { unlink(blob.temporary) }
            throw error
        }
    }

    /// The capture entries to render.
    func select(_ entries: [LedgerEntry]) throws(ExhibitError) -> [PageSource] {
        var chosen: [(String, LedgerEntry)] = []
        if let artifact = options.artifact {
            let found = try ArtifactID.artifact(artifact, in: entries)
            let id = found.id
            guard Self.isHTML(found.subject) else {
                throw ExhibitError(.storage, "Artifact \(id) is not an HTML page; only captured pages are rendered.")
            }
            if found.imported { return try [Self.importedPage(found)] }
            chosen = [(id, found.entry)]
        } else {
            for (id, entry) in ArtifactID.artifacts(in: entries).sorted(by: { $0.value.seq < $1.value.seq }) {
                guard let subject = entry.subject, Self.isHTML(subject), subject["role"]?.stringValue == "page" else { continue }
                if let files = options.warcFiles, !files.contains(entry.subject?["warc"]?["file"]?.stringValue ?? "") { continue }
                chosen.append((id, entry))
            }
            if chosen.isEmpty && options.warcFiles == nil {
                throw ExhibitError(.storage, "Case \(caseID) has no captured HTML page to render; capture one first.")
            }
        }
        return chosen.compactMap { id, entry in
            guard let subject = entry.subject, let warc = subject["warc"]?["file"]?.stringValue,
                  let record = subject["records"]?.arrayValue?.last(where: { $0["type"]?.stringValue == "response" }),
                  let url = record["target_uri"]?.stringValue else { return nil }
            return PageSource(artifact: id, url: url, record: record, warc: warc, payloadSHA256: subject["payload_sha256"]?.stringValue)
        }
    }

    static func isHTML(_ subject: JSONValue) -> Bool {
        let type = subject["content_type"]?.stringValue?.lowercased() ?? ""
        return type.contains("text/html") || type.contains("application/xhtml")
    }

    /// An imported page: a response record of an imported WARC (docs/import.md),
    /// replayed from that WARC like a captured one.
    static func importedPage(_ artifact: ArtifactID.Artifact) throws(ExhibitError) -> PageSource {
        let subject = artifact.subject
        guard subject["record_type"]?.stringValue == "response", let warc = subject["warc"]?.stringValue,
              let recordID = subject["record"]?.stringValue,
              let record = artifact.entry.subject?["records"]?.arrayValue?.first(where: { $0["id"]?.stringValue == recordID }) else {
            throw ExhibitError(.storage, "Artifact \(artifact.id) is an imported file, not an archived HTTP response; only pages held in a WARC are rendered.")
        }
        return PageSource(artifact: artifact.id, url: subject["url"]?.stringValue ?? "", record: record, warc: warc,
                          payloadSHA256: subject["payload_sha256"]?.stringValue)
    }

    struct PageOutput {
        var page: PageSource
        var captureTime: String
        var blockDigest: String
        var output: Renderer.Output
    }

    /// Replays and renders one page; a failure of the page (not of storage) is reported and skipped.
    private func renderPage(_ page: PageSource, archive: ReplayArchive, renderer: Renderer, report: inout RenderReport,
                            total: Int, progress: ((RenderProgress) -> Void)?) throws(ExhibitError) -> PageOutput? {
        guard let offset = page.record["offset"]?.intValue, let recordID = page.record["id"]?.stringValue else { return nil }
        let capture = ReplayArchive.Capture(
            record: recordID, in: page.warc, at: offset, url: page.url,
            blockDigest: page.record["block_digest"]?.stringValue ?? "", seq: 0)
        let message = try archive.message(for: capture)
        let timestamp = ReplayArchive.timestamp(message.date)
        let server = try ReplayServer.startBlocking(archive: archive, defaultTimestamp: timestamp)
        defer { server.stopBlocking() }
        let banner = Renderer.Banner(url: page.url, captureTime: Self.isoSeconds(message.date), blockDigest: message.blockDigest)
        do throws(ExhibitError) {
            let output = try renderer.render(url: page.url, timestamp: timestamp, server: server, banner: banner)
            report.chromiumVersion = output.chromiumVersion
            let requests = server.requests().map {
                RenderReport.Request(method: $0.method, url: $0.url, form: $0.form.rawValue, status: $0.status, fromWARC: $0.answeredFromWARC)
            }
            report.rendered.append(.init(
                url: page.url, artifact: page.artifact, sourceRecord: recordID, captureTime: message.date,
                png: EvidenceFiles.blobPath(sha256: Digest.sha256Hex(output.png)), pngSHA256: Digest.sha256Hex(output.png),
                pdf: EvidenceFiles.blobPath(sha256: Digest.sha256Hex(output.pdf)), pdfSHA256: Digest.sha256Hex(output.pdf),
                width: output.width, height: output.height, requests: requests))
            progress?(RenderProgress(line: "rendered \(page.url)  png sha256 \(Digest.sha256Hex(output.png))  height \(output.height)",
                                     failed: false, done: report.rendered.count + report.failed.count, total: total,
                                     bytes: Int64(output.png.count + output.pdf.count)))
            return PageOutput(page: page, captureTime: message.date, blockDigest: message.blockDigest, output: output)
        } catch where error.code == .captureFailed {
            report.failed.append(.init(url: page.url, artifact: page.artifact, reason: error.message))
            progress?(RenderProgress(line: "FAILED \(page.url) — \(error.message)", failed: true,
                                     done: report.rendered.count + report.failed.count, total: total, bytes: 0))
            return nil
        }
    }

    /// Writes the PNG and PDF `resource` records and stages the blobs; returns the
    /// entry's subject (without `warc`, known only when the file is sealed).
    private func store(_ rendered: PageOutput, writer: WARCWriter, warcinfoID: String, caseDirectory: String,
                       renderID: String) throws(ExhibitError) -> ([String: JSONValue], [(temporary: String, final: String)]) {
        let page = rendered.page
        var records: [JSONValue] = []
        var files: [JSONValue] = []
        var staged: [(temporary: String, final: String)] = []
        let parts: [(bytes: [UInt8], scheme: String, mediaType: String, role: String)] = [
            (rendered.output.png, "screenshot", "image/png", "screenshot"),
            (rendered.output.pdf, "pdf", "application/pdf", "pdf"),
        ]
        for part in parts {
            let sha = Digest.sha256Hex(part.bytes)
            var block = WARCRecord.Block(bytes: part.bytes)
            block.sha256 = sha
            // A resource record's payload is its whole block, so both digests are the same.
            let record = WARCRecord(
                type: "resource", date: LedgerTime.now(), targetURI: "urn:exhibit:\(part.scheme):\(page.url)",
                contentType: part.mediaType,
                fields: [("WARC-Warcinfo-ID", warcinfoID), ("WARC-Refers-To", page.record["id"]?.stringValue ?? ""),
                         ("WARC-Refers-To-Target-URI", page.url), ("WARC-Refers-To-Date", rendered.captureTime)],
                payloadSHA256: sha, block: block)
            records.append(try writer.write(record).json)
            let bytes = part.bytes
            if let blob = try EvidenceFiles.stageBlob(caseDirectory: caseDirectory, sha256: sha, jobID: renderID, fill: { (fd, path) throws(ExhibitError) -> Int64 in
                try AtomicFile.writeAll(fd, bytes, path: path)
                return Int64(bytes.count)
            }) {
                staged.append((blob.temporary, blob.final))
            }
            var file: [String: JSONValue] = [
                "path": .string(EvidenceFiles.blobPath(sha256: sha)), "sha256": .string(sha), "size": .integer(Int64(bytes.count)),
                "media_type": .string(part.mediaType), "role": .string(part.role),
            ]
            if part.role == "screenshot" {
                file["width"] = .integer(Int64(rendered.output.width))
                file["height"] = .integer(Int64(rendered.output.height))
            }
            files.append(.object(file))
        }
        var source: [String: JSONValue] = [
            "url": .string(page.url), "artifact": .string(page.artifact),
            "record_id": .string(page.record["id"]?.stringValue ?? ""), "warc": .string(page.warc),
            "offset": .integer(page.record["offset"]?.intValue ?? 0), "capture_time": .string(rendered.captureTime),
            "block_digest": .string(rendered.blockDigest),
        ]
        source["payload_sha256"] = page.payloadSHA256.map { .string($0) } ?? page.record["payload_sha256"] ?? .null
        let subject: [String: JSONValue] = [
            "source": .object(source),
            "records": .array(records),
            "files": .array(files),
            "renderer": .object(["name": .string("chromium"), "version": .string(rendered.output.chromiumVersion)]),
            "banner": .string(Renderer.Banner(url: page.url, captureTime: Self.isoSeconds(rendered.captureTime), blockDigest: rendered.blockDigest).text),
        ]
        return (subject, staged)
    }

    /// `2026-12-01T10:42:55.982417Z` → `2026-12-01T10:42:55Z` (the banner's ISO 8601 UTC time).
    static func isoSeconds(_ date: String) -> String {
        guard date.count >= 19 else { return date }
        return String(date.prefix(19)) + "Z"
    }
}
