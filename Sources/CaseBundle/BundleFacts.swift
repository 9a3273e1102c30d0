public import CaseIndex
public import ChainOfCustody
import Foundation
public import MediaEvidence

/// What a bundle's generated documents (the CASE/UCO provenance graph, the human
/// report, the load file) say about a case, gathered once from its ledger, its
/// WARC files and its actors. Every value here is derived from the evidence, and
/// nothing depends on the time of export, so that two exports of the same case
/// are the same bytes (DESIGN §9).
///
/// Other modules read facts; only this one makes them (FactsCollector), so most
/// nested types keep the compiler's internal memberwise initialisers.
public struct BundleFacts: Sendable, Equatable {
    /// A person who acted on the case.
    public struct Person: Sendable, Equatable {
        public var id: String
        public var name: String
        public var badge: String
        public var roles: [String]
    }

    /// One captured response (or, later, imported file): what the load file has a
    /// row for and the report a section for.
    public struct Artifact: Sendable, Equatable {
        /// `A-0007`: `A-` and the ledger seq of the entry that recorded it.
        public var id: String
        public var seq: Int
        /// The actor who captured it.
        public var actor: String
        public var url: String
        public var finalURL: String?
        /// When the first request was sent and when the last response ended (UTC).
        public var started: String?
        public var ended: String
        public var status: Int
        public var contentType: String?
        /// Payload size in bytes and digests (payload as sent, de-chunked).
        public var size: Int64?
        public var sha256: String?
        public var md5: String?
        /// The connected IP address, the TLS certificate's subject (nil for http).
        public var ip: String?
        public var certificateSubject: String?
        public var title: String?
        /// `page`, `media` or `robots`.
        public var role: String?
        /// Paths inside the bag, from its top folder: `data/warc/….warc.gz` (the
        /// WARC holding the records) and `data/blobs/sha256/…` (media payloads).
        public var warcPath: String?
        public var blobPath: String?
        /// Offset of the response record's gzip member in the WARC file.
        public var responseOffset: Int64?
        /// WARC record ids of the records written for it (request, response, metadata per hop).
        public var recordIDs: [String]
        /// Tags given to it (`exhibit tag`).
        public var tags: [String]
        /// What the case's media analysis found (DESIGN §19): metadata and PDQ; nil
        /// for anything that is not an image or video, or was not analysed.
        public var media: MediaFacts?
        /// For an imported item (role `imported`): the handing over its `import` entry
        /// records — receiver, source statement, from whom, when, the check (without
        /// the entry's item list).
        public var intake: ImportReceipt?
    }

    /// One ledger entry, as the timeline and the provenance chain show it.
    public struct Event: Sendable, Equatable {
        public var seq: Int
        public var time: String
        public var actor: String
        /// The ledger action (`open`, `capture`, `verify`, `export` …).
        public var action: String
        /// One line a reader understands ("captured https://… (200)").
        public var summary: String
        /// The entry's hash, as chained in the ledger.
        public var hash: String
        /// The artifact the entry recorded, for captures.
        public var artifact: String?
    }

    /// An evidence file of the bag's payload; its path is from the bag's top folder, `data/…`.
    public typealias File = FileRecord

    /// The result of `exhibit verify` on the case when it was exported.
    public struct Verification: Sendable, Equatable {
        public var intact: Bool
        /// Ledger entries checked.
        public var entries: Int
        /// One line per finding (`TAMPERED warc/… — expected … found …`).
        public var findings: [String]

        public init(intact: Bool, entries: Int, findings: [String]) {
            self.intact = intact
            self.entries = entries
            self.findings = findings
        }
    }

    public var caseID: String
    public var title: String
    /// Category id (`online-crime`) and its title from the template.
    public var category: String
    public var categoryTitle: String
    /// The policy sections the category comes from (`IV.B.1.d`).
    public var policySections: String
    public var agency: String
    /// `open`, `closed`.
    public var status: String
    public var fields: [String: String]
    public var openedAt: String
    public var closedAt: String?
    public var actors: [Person]
    public var artifacts: [Artifact]
    /// Every entry of the ledger as exported, in order.
    public var timeline: [Event]
    /// Evidence files in the payload (WARC files, blobs, timestamp tokens).
    public var files: [File]
    public var verification: Verification
    /// The `hash` of the last ledger entry in the bag (bag-info.txt's Ledger-Head).
    public var ledgerHead: String
    /// `Exhibit` and its version, the instrument of every action.
    public var toolName: String
    public var toolVersion: String
    /// For a decision-maker bundle: how many artifacts and findings were withheld
    /// (the number only, never what), and the corroborated findings it discloses.
    public var withheldItems: Int?
    public var disclosedFindings: [DisclosedFinding] = []

    /// Page screenshots and PDFs made by `exhibit render`, in ledger order. Empty
    /// when the maker of the facts did not gather them; ``CaseReport`` then reads them
    /// from the bag's own ledger (``renders(inLedger:artifacts:)``).
    public var renders: [Render] = []

    /// Per watched URL, what each watch run found (DESIGN §18), with the diff of each
    /// change when the WARC files could be read; empty when the case has no watches.
    public var watchTimelines: [WatchTimeline] = []

    /// One `render` ledger entry: the full-page screenshot (PNG) and the PDF that
    /// `exhibit render` made of a captured page by replaying it from the case's WARC
    /// files alone (docs/browser.md, "Replay and screenshots").
    public struct Render: Sendable, Equatable {
        /// One file the render stored as a blob.
        public struct Output: Sendable, Equatable {
            /// Path from the bag's top folder: `data/blobs/sha256/<2 hex>/<sha256>`.
            public var path: String
            public var sha256: String
            public var size: Int64?
            public var mediaType: String
            /// `screenshot` (the PNG) or `pdf`.
            public var role: String
            /// Pixels, for the screenshot.
            public var width: Int64?
            public var height: Int64?
        }

        public var seq: Int
        public var time: String
        public var actor: String
        /// The artifact one of whose WARC records is the render's source record; nil
        /// when no artifact of the facts holds that record.
        public var artifact: String?
        /// The id of the WARC response record that was replayed.
        public var sourceRecordID: String
        public var url: String
        /// The source response's WARC-Date.
        public var captureTime: String?
        /// The render job's WARC file (`data/warc/ren-….warc.gz`), which holds the
        /// PNG and the PDF again as `resource` records.
        public var warcPath: String?
        public var outputs: [Output]

        public var screenshot: Output? { outputs.first { $0.role == "screenshot" } }
        public var pdf: Output? { outputs.first { $0.role == "pdf" } }

        public init(seq: Int, time: String, actor: String, artifact: String?, sourceRecordID: String, url: String,
                    captureTime: String?, warcPath: String?, outputs: [Output]) {
            self.seq = seq
            self.time = time
            self.actor = actor
            self.artifact = artifact
            self.sourceRecordID = sourceRecordID
            self.url = url
            self.captureTime = captureTime
            self.warcPath = warcPath
            self.outputs = outputs
        }

        /// Reads a `render` entry; nil for other entries and for a withheld one.
        /// Only files stored exactly at `blobs/sha256/<2 hex>/<their sha256>` are
        /// kept, so an entry can never name a file outside the blob store.
        public init?(_ entry: LedgerEntry, artifacts: [Artifact]) {
            guard entry.action == "render", let subject = entry.subject,
                  let record = subject["source"]?["record_id"]?.stringValue else { return nil }
            seq = Int(entry.seq)
            time = entry.time
            actor = entry.actor
            sourceRecordID = record
            artifact = artifacts.first { $0.recordIDs.contains(record) }?.id
            url = subject["source"]?["url"]?.stringValue ?? ""
            captureTime = subject["source"]?["capture_time"]?.stringValue
            warcPath = subject["warc"]?["file"]?.stringValue.map { "data/" + $0 }
            outputs = (subject["files"]?.arrayValue ?? []).compactMap { file in
                guard let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue,
                      Self.isBlobPath(path, sha256: sha) else { return nil }
                return Output(
                    path: "data/" + path, sha256: sha, size: file["size"]?.intValue,
                    mediaType: file["media_type"]?.stringValue ?? "application/octet-stream",
                    role: file["role"]?.stringValue ?? "", width: file["width"]?.intValue, height: file["height"]?.intValue)
            }
        }

        /// `blobs/sha256/<2 hex>/<64 lowercase hex>` naming exactly `sha256`.
        public static func isBlobPath(_ path: String, sha256: String) -> Bool {
            sha256.utf8.count == 64 && sha256.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
                && path == "blobs/sha256/\(sha256.prefix(2))/\(sha256)"
        }

        /// One line for a timeline: what was rendered and what came out.
        public var summary: String {
            var made: [String] = []
            if let shot = screenshot {
                let size = shot.width.flatMap { w in shot.height.map { " \(w) × \($0) px" } } ?? ""
                made.append("a\(size) PNG screenshot")
            }
            if pdf != nil { made.append("a PDF") }
            let what = made.isEmpty ? "no file" : made.joined(separator: " and ")
            return "rendered \(url.isEmpty ? "a capture" : url) as \(what), replayed from WARC record \(sourceRecordID)"
        }
    }

    /// The `render` entries of `entries`, in order, tied to `artifacts` by record id.
    public static func renders(in entries: [LedgerEntry], artifacts: [Artifact]) -> [Render] {
        entries.compactMap { Render($0, artifacts: artifacts) }
    }

    /// ``renders(in:artifacts:)`` from the bytes of a ledger file; lines that do
    /// not read as entries are passed over (verification reports them, not the report).
    public static func renders(inLedger bytes: [UInt8], artifacts: [Artifact]) -> [Render] {
        let entries = Ledger.lines(of: bytes).compactMap { line -> LedgerEntry? in
            guard line.terminated else { return nil }
            return try? LedgerEntry(line: Array(line.bytes))
        }
        return renders(in: entries, artifacts: artifacts)
    }

    /// A corroborated finding disclosed to a decision-maker, with its artifacts.
    public struct DisclosedFinding: Sendable, Equatable, Encodable {
        public var id: String
        public var text: String
        public var status: String
        public var artifacts: [String]
    }

    public init(
        caseID: String, title: String, category: String, categoryTitle: String, policySections: String, agency: String,
        status: String, fields: [String: String], openedAt: String, closedAt: String?, actors: [Person],
        artifacts: [Artifact], timeline: [Event], files: [File], verification: Verification, ledgerHead: String,
        toolName: String, toolVersion: String, withheldItems: Int? = nil
    ) {
        self.withheldItems = withheldItems
        self.caseID = caseID
        self.title = title
        self.category = category
        self.categoryTitle = categoryTitle
        self.policySections = policySections
        self.agency = agency
        self.status = status
        self.fields = fields
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.actors = actors
        self.artifacts = artifacts
        self.timeline = timeline
        self.files = files
        self.verification = verification
        self.ledgerHead = ledgerHead
        self.toolName = toolName
        self.toolVersion = toolVersion
    }
}

/// The JSON documents a bundle holds (datapackage.json, findings.json …): pretty,
/// keys sorted, slashes unescaped, so equal content gives equal bytes.
enum BundleJSON {
    static func pretty(_ object: [String: Any]) throws(ExhibitError) -> [UInt8] {
        do {
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw ExhibitError(.storage, "Cannot serialise a bundle document (\(error)).")
        }
    }
}
