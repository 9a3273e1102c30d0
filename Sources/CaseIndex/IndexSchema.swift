import ChainOfCustody
import CaseManagement
import GRDB
import PageAnalysis

/// An artifact of a case: one captured response (a page, a media file, a
/// robots.txt), named by the ledger entry that recorded it.
public struct IndexedArtifact: Sendable, Equatable, Codable {
    /// `A-` and the recording entry's seq (`A-0007`): stable, and the same after a rebuild.
    public var id: String
    public var seq: Int
    public var url: String
    public var finalURL: String?
    /// When the response was complete (UTC).
    public var time: String
    public var status: Int
    public var contentType: String?
    /// sha256 of the payload as the server sent it (de-chunked).
    public var sha256: String?
    public var size: Int?
    public var role: String?
    public var title: String?
    public var warcFile: String?
    public var blob: String?
    /// Taken in by `exhibit import` (outside evidence), not captured by Exhibit.
    public var imported = false

    enum CodingKeys: String, CodingKey {
        case id, seq, url, finalURL = "final_url", time, status, contentType = "content_type", sha256, size, role, title
        case warcFile = "warc_file", blob, imported
    }

    /// The MIME type without parameters (`text/html`).
    public var mimeType: String? { Self.mimeType(of: contentType) }

    /// `image/jpeg` from `image/jpeg; charset=…`, lower case.
    public static func mimeType(of contentType: String?) -> String? {
        contentType.map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
    }


    init(entry: LedgerEntry, subject: JSONValue, status: Int) {
        seq = Int(entry.seq)
        id = ArtifactID.forSeq(seq)
        url = subject["url"]?.stringValue ?? ""
        finalURL = subject["final_url"]?.stringValue
        time = subject["ended"]?.stringValue ?? entry.time
        self.status = status
        contentType = subject["content_type"]?.stringValue
        sha256 = subject["payload_sha256"]?.stringValue
        size = subject["payload_length"]?.intValue.map(Int.init)
        role = subject["role"]?.stringValue
        title = subject["title"]?.stringValue
        warcFile = subject["warc"]?["file"]?.stringValue
        blob = subject["blob"]?["path"]?.stringValue
    }
}

/// A row of the `artifacts` table. Its columns are named as IndexedArtifact's
/// CodingKeys, so GRDB decodes it through them and the names are written once.
struct ArtifactRow: FetchableRecord, Decodable {
    var artifact: IndexedArtifact

    init(from decoder: any Decoder) throws {
        artifact = try IndexedArtifact(from: decoder)
    }
}

/// A selector of a case with its occurrences, and the other cases it appears in.
public struct SelectorSummary: Sendable, Equatable, Encodable {
    public struct Occurrence: Sendable, Equatable, Encodable {
        public var artifact: String
        /// `text`, `link` or `page`.
        public var source: String
        /// Scalar offset in the page's visible text, for `text` occurrences.
        public var offset: Int?
        public var raw: String
    }

    public var kind: String
    public var value: String
    public var occurrences: [Occurrence]
    public var otherCases: [String]

    enum CodingKeys: String, CodingKey {
        case kind, value, occurrences, otherCases = "other_cases"
    }
}

/// A page whose text matched a search.
public struct SearchHit: Sendable, Equatable, Encodable {
    public var `case`: String
    public var artifact: String
    public var url: String
    public var title: String?
    /// The matching passage, matches in [brackets].
    public var snippet: String
}

/// The index's tables and the statements that fill them.
enum IndexSchema {
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE cases (
                id TEXT PRIMARY KEY, category TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
                last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL, ledger_size INTEGER NOT NULL);
            CREATE TABLE artifacts (
                case_id TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, url TEXT NOT NULL, final_url TEXT,
                time TEXT NOT NULL, status INTEGER NOT NULL, content_type TEXT, sha256 TEXT, size INTEGER, role TEXT,
                title TEXT, warc_file TEXT, blob TEXT,
                PRIMARY KEY (case_id, id));
            CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
            CREATE TABLE selectors (
                case_id TEXT NOT NULL, artifact_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
                raw TEXT NOT NULL, source TEXT NOT NULL, text_offset INTEGER);
            CREATE INDEX selectors_by_value ON selectors (kind, value, case_id);
            CREATE INDEX selectors_by_case ON selectors (case_id, artifact_id);
            CREATE VIRTUAL TABLE page_text USING fts5 (
                case_id UNINDEXED, artifact_id UNINDEXED, url UNINDEXED, title, text,
                tokenize = 'porter unicode61 remove_diacritics 2');
            """)
    }

    static func deleteCase(_ id: String, _ db: Database) throws {
        for table in ["selectors", "page_text", "artifacts"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE case_id = ?", arguments: [id])
        }
        try db.execute(sql: "DELETE FROM cases WHERE id = ?", arguments: [id])
        // FTS5 keeps deleted terms in its segments until they merge: merge now, so a
        // disposed case's words do not linger in the index.
        try db.execute(sql: "INSERT INTO page_text(page_text) VALUES('optimize')")
    }

    static func upsertCase(_ state: CaseState, lastSeq: Int, lastHash: String, ledgerSize: Int, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO cases (id, category, title, status, last_seq, last_hash, ledger_size) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET category = excluded.category, title = excluded.title, status = excluded.status,
                last_seq = excluded.last_seq, last_hash = excluded.last_hash, ledger_size = excluded.ledger_size
            """, arguments: [state.id, state.category, state.title, state.status.rawValue, lastSeq, lastHash, ledgerSize])
    }

    static func updateCase(_ state: CaseState, _ db: Database) throws {
        try db.execute(sql: "UPDATE cases SET status = ?, title = ? WHERE id = ?", arguments: [state.status.rawValue, state.title, state.id])
    }

    static func insert(_ artifact: IndexedArtifact, caseID: String, _ db: Database) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO artifacts (case_id, id, seq, url, final_url, time, status, content_type, sha256, size, role,
                title, warc_file, blob, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                caseID, artifact.id, artifact.seq, artifact.url, artifact.finalURL, artifact.time, artifact.status,
                artifact.contentType, artifact.sha256, artifact.size, artifact.role, artifact.title, artifact.warcFile,
                artifact.blob, artifact.imported,
            ])
    }

    static func insert(_ page: AnalyzedPage, artifact: IndexedArtifact, caseID: String, _ db: Database) throws {
        // No delete first: an artifact is indexed once, by the refresh that moves the
        // case's last_seq past it in the same transaction (a rebuild empties the
        // tables). Deleting by an UNINDEXED FTS5 column scans every page's text, and
        // did so for every page a capture added.
        let statement = try db.cachedStatement(sql: """
            INSERT INTO selectors (case_id, artifact_id, kind, value, raw, source, text_offset) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for selector in page.selectors {
            try statement.execute(arguments: [
                caseID, artifact.id, selector.kind.rawValue, selector.value, selector.raw, selector.source.rawValue, selector.offset,
            ])
        }
        try db.execute(sql: "INSERT INTO page_text (case_id, artifact_id, url, title, text) VALUES (?, ?, ?, ?, ?)",
                       arguments: [caseID, artifact.id, artifact.finalURL ?? artifact.url, page.title ?? "", page.text])
    }
}
