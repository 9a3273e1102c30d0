public import CaseManagement
public import ChainOfCustody
import Foundation
import Glibc
import GRDB
import Synchronization
import WARC
import PageAnalysis

/// The workspace index (`index.sqlite`, SQLite in WAL mode through GRDB): cases,
/// artifacts, selectors and the full text of captured pages, for the reading
/// commands `artifacts`, `selectors` and `search` (DESIGN §2, §7).
///
/// The index is a cache. Everything in it is derived from the case ledgers and
/// the WARC files: each case is brought up to date from its ledger before it is
/// read (only entries not yet indexed are read), and `rebuild` starts again from
/// nothing. A missing or damaged index.sqlite is recreated.
public final class WorkspaceIndex: Sendable {
    public let path: String
    /// The open index, replaced when it turns out to be damaged (``recovering(notices:_:)``),
    /// and whether SQLite has reported damage since it was opened.
    private let state: Mutex<(database: DatabasePool?, damaged: Bool)>
    private var database: DatabasePool {
        get throws(ExhibitError) {
            guard let database = state.withLock({ $0.database }) else {
                throw ExhibitError(.storage, "The index \(path) is not open; run `exhibit reindex`.")
            }
            return database
        }
    }

    /// Opens (creating when missing) the index of `workspace`. A file that is not
    /// a database, or fails its schema, is moved aside and replaced, and
    /// `notices` says so: the index holds nothing that is not also in the cases.
    ///
    /// `checkingEveryPage` runs SQLite's `quick_check` over the whole file first, which
    /// reads every page (about 0.2 s for 100,000 pages); without it, damage inside the
    /// tables is found when a page is read, and a reader that runs its work through
    /// ``recovering(notices:_:)`` gets the index rebuilt and the work done again.
    public init(workspace: Workspace, notices: (String) -> Void = { _ in }, checkingEveryPage: Bool = true) throws(ExhibitError) {
        path = workspace.indexPath
        let database: DatabasePool
        do {
            database = try Self.open(path, checkingEveryPage: checkingEveryPage)
        } catch Failure.damaged(let detail) {
            notices("The index \(path) was damaged (\(detail)); it is rebuilt from the cases.")
            database = try Self.recreate(path)
        } catch {
            throw ExhibitError(.storage, "The index \(path) cannot be opened (\(error)); check that the workspace is writable by you.")
        }
        state = Mutex((database: database, damaged: false))
    }

    private static func recreate(_ path: String) throws(ExhibitError) -> DatabasePool {
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        do {
            return try Self.open(path, checkingEveryPage: false)
        } catch {
            throw ExhibitError(.storage, "The index \(path) cannot be recreated (\(error)); check that the workspace is writable by you.")
        }
    }

    /// Runs `operation` (which brings the index up to date before it reads it); when
    /// SQLite found the index damaged on the way, the index is recreated, `notices`
    /// says so, and `operation` runs once more on the new, empty index, which it
    /// fills from the ledgers like a new workspace's.
    public func recovering<T>(notices: (String) -> Void, _ operation: () throws(ExhibitError) -> T) throws(ExhibitError) -> T {
        do {
            return try operation()
        } catch {
            let damaged = state.withLock { current -> Bool in
                guard current.damaged else { return false }
                // The damaged pool is closed before its files are removed.
                current = (database: nil, damaged: false)
                return true
            }
            guard damaged else { throw error }
            notices("The index \(path) was damaged (\(error.message)); it is rebuilt from the cases.")
            let database = try Self.recreate(path)
            state.withLock { $0 = (database: database, damaged: false) }
            return try operation()
        }
    }

    /// Why the index could not be opened: damage is repaired by rebuilding;
    /// anything else (permissions, a full disk) is the user's to fix.
    private enum Failure: Error, CustomStringConvertible {
        case damaged(String)
        case other(String)
        var description: String {
            switch self {
            case .damaged(let text), .other(let text): text
            }
        }
    }

    private static func open(_ path: String, checkingEveryPage: Bool) throws(Failure) -> DatabasePool {
        do {
            var configuration = Configuration()
            // Several `exhibit` processes may refresh the index at once (a capture
            // finishing while an analyst searches): wait for the writer, do not fail.
            configuration.busyMode = .timeout(60)
            // Deleted rows (a disposed case's page text) are overwritten, not left in free pages.
            // The index is a cache of the ledgers and WARC files, rebuilt when damaged
            // (quick_check below), so its commits are not flushed to disk: waiting
            // for fsync took longer than indexing a capture of 500 pages.
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA secure_delete = ON")
                try db.execute(sql: "PRAGMA synchronous = OFF")
                // FTS5 merges its segments as pages are added; a bigger page cache
                // spares it reading them back from disk again and again.
                try db.execute(sql: "PRAGMA cache_size = -32768")
            }
            // Page text is evidence too: the index is private like the rest of the
            // workspace (SQLite gives its -wal and -shm files the same mode).
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB's WAL set-up turns the writer to `synchronous = NORMAL` after
            // prepareDatabase; put it back, or every command's closing checkpoint waits
            // for two flushes that a cache does not need.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1", migrate: IndexSchema.create)
            migrator.registerMigration("v2-imported") { db in
                try db.execute(sql: "ALTER TABLE artifacts ADD COLUMN imported INTEGER NOT NULL DEFAULT 0")
            }
            try migrator.migrate(pool)
            // quick_check reports damage as rows, not as an error: anything but "ok" is damage.
            if checkingEveryPage {
                let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
                guard check == ["ok"] else { throw Failure.damaged(check.prefix(2).joined(separator: "; ")) }
            }
            return pool
        } catch let failure as Failure {
            throw failure
        } catch let error as DatabaseError where [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) {
            throw Failure.damaged(error.message ?? "\(error)")
        } catch let error as DatabaseError {
            throw Failure.other(error.message ?? "\(error)")
        } catch {
            throw Failure.other("\(error)")
        }
    }

    // MARK: Bringing the index up to date

    /// Brings every case of the store up to date (cheap for cases whose ledger
    /// has not grown) and forgets cases that no longer exist.
    public func refresh(store: CaseStore) throws(ExhibitError) {
        let ids = store.caseIDs()
        for id in ids { try refresh(caseID: id, store: store) }
        // Looked for first with a read: a write transaction, even an empty one, waits
        // for any other process's writer, and nearly always nothing is gone.
        let gone = { (db: Database) throws -> Set<String> in Set(try String.fetchAll(db, sql: "SELECT id FROM cases")).subtracting(ids) }
        guard try !read(gone).isEmpty else { return }
        try write { db in
            for id in try gone(db) { try IndexSchema.deleteCase(id, db) }
        }
    }

    /// Indexes the ledger entries of one case that are not indexed yet; starts
    /// the case again when its ledger no longer continues what was indexed.
    /// HTML pages are analysed again from their WARC record.
    ///
    /// Only the ledger's new bytes are read: the index remembers how far it read
    /// (`ledger_size`) and the hash of the entry that ends there, and checks that the
    /// ledger still has that entry at that place before it reads on. A case whose
    /// ledger has not grown and whose title and status are unchanged costs a `stat`,
    /// one small read and no write.
    public func refresh(caseID: String, store: CaseStore) throws(ExhibitError) {
        let ledger = store.ledger(of: caseID)
        let caseState = try store.currentState(of: caseID)
        let size = try ledger.currentSize()
        let known = try read { db in
            try Row.fetchOne(db, sql: "SELECT last_hash, ledger_size, status, title FROM cases WHERE id = ?", arguments: [caseID])
        }
        if let known, known["ledger_size"] as Int == size, known["status"] as String == caseState.status.rawValue,
           known["title"] as String == caseState.title,
           try Self.continuation(of: ledger, after: size, hash: known["last_hash"]) == [] {
            return
        }
        try write { db in
            var lastSeq = 0
            var lastHash = ""
            var indexedSize = 0
            let pending: [UInt8]
            if let row = try Row.fetchOne(db, sql: "SELECT last_seq, last_hash, ledger_size FROM cases WHERE id = ?", arguments: [caseID]) {
                let seq: Int = row["last_seq"]
                let hash: String = row["last_hash"]
                let recorded: Int = row["ledger_size"]
                if seq > 0, let rest = try Self.continuation(of: ledger, after: recorded, hash: hash) {
                    lastSeq = seq
                    lastHash = hash
                    indexedSize = recorded
                    pending = rest
                } else {
                    if seq > 0 { try IndexSchema.deleteCase(caseID, db) }
                    pending = try ledger.readLocked()
                }
            } else {
                pending = try ledger.readLocked()
            }
            for line in Ledger.lines(of: pending) where line.terminated {
                let entry: LedgerEntry
                do {
                    entry = try LedgerEntry(line: Array(line.bytes))
                } catch {
                    throw ExhibitError(.storage, "The ledger of \(caseID) is damaged (\(error)); run `exhibit verify \(caseID)`.")
                }
                lastHash = entry.hash
                lastSeq += 1
                indexedSize += line.bytes.count + 1
                try Self.index(entry, caseDirectory: store.directory(of: caseID), db)
            }
            try IndexSchema.upsertCase(caseState, lastSeq: lastSeq, lastHash: lastHash, ledgerSize: indexedSize, db)
        }
    }

    /// The ledger's bytes after its first `size` bytes, when those end with the entry
    /// whose hash is `hash` (the last one indexed); nil when they do not (the ledger was
    /// replaced or cut back: the case is indexed again from the start).
    private static func continuation(of ledger: Ledger, after size: Int, hash: String) throws(ExhibitError) -> [UInt8]? {
        guard size > 0 else { return nil }
        var window = 64 * 1024
        while true {
            let start = max(0, size - window)
            let bytes = try ledger.readLocked(from: start)
            let end = size - start - 1
            guard bytes.count > end, bytes[end] == UInt8(ascii: "\n") else { return nil }
            let lineStart: Int? = bytes[..<end].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? (start == 0 ? 0 : nil)
            if let lineStart {
                guard (try? LedgerEntry(line: Array(bytes[lineStart..<end])))?.hash == hash else { return nil }
                return Array(bytes[(end + 1)...])
            }
            window *= 4
        }
    }

    /// Empties the index and indexes every case again from its ledger and WARC files;
    /// when `caseIDs` is given, only those cases: the others are indexed again by the
    /// next command that reads them, like a case whose ledger has grown.
    public func rebuild(store: CaseStore, caseIDs: [String]? = nil) throws(ExhibitError) {
        try write { db in
            for table in ["selectors", "page_text", "artifacts", "cases"] { try db.execute(sql: "DELETE FROM \(table)") }
        }
        guard let caseIDs else { return try refresh(store: store) }
        for id in caseIDs { try refresh(caseID: id, store: store) }
    }

    /// Adds what one ledger entry contributes: a `capture` entry is an artifact,
    /// and an HTML one is analysed again from its response record in the WARC.
    private static func index(_ entry: LedgerEntry, caseDirectory: String, _ db: Database) throws {
        if entry.action == "import" { return try ImportedArtifacts.index(entry, caseDirectory: caseDirectory, db) }
        guard entry.action == "capture", let subject = entry.subject,
              let status = subject["status"]?.intValue else { return }
        let artifact = IndexedArtifact(entry: entry, subject: subject, status: Int(status))
        try IndexSchema.insert(artifact, caseID: entry.caseID, db)
        guard let page = analyse(subject, caseDirectory: caseDirectory) else { return }
        try IndexSchema.insert(page, artifact: artifact, caseID: entry.caseID, db)
    }

    /// The page analysis of a captured HTML response, recomputed from the WARC.
    static func analyse(_ subject: JSONValue, caseDirectory: String) -> AnalyzedPage? {
        source(subject, caseDirectory: caseDirectory).map { AnalyzedPage(html: $0.html, url: $0.url, contentType: $0.contentType) }
    }

    /// What a capture's page analysis reads from the WARC: the HTML response's decoded
    /// body or, for a browser capture, its DOM snapshot, with the page's URL and type.
    static func source(_ subject: JSONValue, caseDirectory: String) -> (html: [UInt8], url: String, contentType: String?)? {
        // A browser capture's text is its serialised DOM: what the page's scripts made (DESIGN §17).
        if subject["mode"]?.stringValue == "browser" { return domSource(subject, caseDirectory: caseDirectory) }
        guard let contentType = subject["content_type"]?.stringValue, contentType.lowercased().contains("html"),
              let file = subject["warc"]?["file"]?.stringValue,
              let response = subject["records"]?.arrayValue?.last(where: { $0["type"]?.stringValue == "response" }),
              let offset = response["offset"]?.intValue else { return nil }
        var path = caseDirectory + "/" + file
        // Recorded but not yet renamed (an interruption between commit steps 2 and 3).
        if !FileManager.default.fileExists(atPath: path) { path += ".tmp" }
        guard let archived = try? ArchivedResponse(warcPath: path, offset: offset, length: response["length"]?.intValue) else { return nil }
        let url = subject["final_url"]?.stringValue ?? archived.targetURI
        return (archived.body, url, archived.contentType ?? contentType)
    }

    /// A browser capture's DOM snapshot (`urn:exhibit:dom:` resource record), as a page.
    static func domSource(_ subject: JSONValue, caseDirectory: String) -> (html: [UInt8], url: String, contentType: String?)? {
        guard let file = subject["warc"]?["file"]?.stringValue,
              let dom = subject["records"]?.arrayValue?.first(where: {
                  $0["type"]?.stringValue == "resource" && ($0["target_uri"]?.stringValue ?? "").hasPrefix("urn:exhibit:dom:")
              }),
              let offset = dom["offset"]?.intValue else { return nil }
        var path = caseDirectory + "/" + file
        if !FileManager.default.fileExists(atPath: path) { path += ".tmp" }
        guard let record = try? WARCReader(path: path, keepBlocksUpTo: Int64(ArchivedResponse.analysisLimit)).record(at: offset),
              record.type == "resource", let block = record.block else { return nil }
        let url = subject["location"]?.stringValue ?? subject["final_url"]?.stringValue ?? subject["url"]?.stringValue ?? ""
        return (block, url, "text/html; charset=utf-8")
    }

    // MARK: Reading

    /// A case's artifacts in ledger order.
    public func artifacts(caseID: String) throws(ExhibitError) -> [IndexedArtifact] {
        try read { db in
            try ArtifactRow.fetchAll(db, sql: "SELECT * FROM artifacts WHERE case_id = ? ORDER BY seq, rowid", arguments: [caseID])
                .map(\.artifact)
        }
    }

    /// The visible text of an HTML artifact, as analysed; nil for other artifacts.
    public func text(caseID: String, artifactID: String) throws(ExhibitError) -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT text FROM page_text WHERE case_id = ? AND artifact_id = ?", arguments: [caseID, artifactID])
        }
    }

    /// A case's selectors, each with where it occurs and which other cases it also appears in.
    public func selectors(caseID: String) throws(ExhibitError) -> [SelectorSummary] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.kind, s.value, s.artifact_id, s.source, s.text_offset, s.raw
                FROM selectors s JOIN artifacts a ON a.case_id = s.case_id AND a.id = s.artifact_id
                WHERE s.case_id = ? ORDER BY s.kind, s.value, a.seq, s.source, s.text_offset
                """, arguments: [caseID])
            var summaries: [SelectorSummary] = []
            for row in rows {
                let kind: String = row["kind"]
                let value: String = row["value"]
                let occurrence = SelectorSummary.Occurrence(
                    artifact: row["artifact_id"], source: row["source"], offset: row["text_offset"], raw: row["raw"])
                if let last = summaries.last, last.kind == kind, last.value == value {
                    summaries[summaries.count - 1].occurrences.append(occurrence)
                } else {
                    summaries.append(SelectorSummary(kind: kind, value: value, occurrences: [occurrence], otherCases: []))
                }
            }
            for index in summaries.indices {
                summaries[index].otherCases = try String.fetchAll(db, sql: """
                    SELECT DISTINCT case_id FROM selectors WHERE kind = ? AND value = ? AND case_id != ? ORDER BY case_id
                    """, arguments: [summaries[index].kind, summaries[index].value, caseID])
            }
            return summaries
        }
    }

    /// Pages whose text or title holds every word of `text`, best match first,
    /// with a snippet around the match. Words are matched whole, case- and
    /// accent-insensitively, with English stemming ("bicycle" finds "bicycles"; SQLite FTS5, porter over unicode61); quotes and
    /// operators in `text` are taken literally.
    public func search(_ text: String, caseID: String? = nil, limit: Int = 100) throws(ExhibitError) -> [SearchHit] {
        let words = text.split(whereSeparator: { $0.isWhitespace }).map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        guard !words.isEmpty else {
            throw ExhibitError(.usage, "The search text is empty; give the words to look for.")
        }
        let query = words.joined(separator: " ")
        return try read { db in
            var sql = """
                SELECT p.case_id, p.artifact_id, p.url, p.title, snippet(page_text, 4, '[', ']', '…', 16) AS snippet,
                       a.seq
                FROM page_text p JOIN artifacts a ON a.case_id = p.case_id AND a.id = p.artifact_id
                WHERE page_text MATCH ?
                """
            var arguments: StatementArguments = [query]
            if let caseID {
                sql += " AND p.case_id = ?"
                arguments += [caseID]
            }
            sql += " ORDER BY rank, p.case_id, a.seq LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                SearchHit(case: row["case_id"], artifact: row["artifact_id"], url: row["url"], title: row["title"], snippet: row["snippet"])
            }
        }
    }

    // MARK: GRDB with typed errors

    private func write<T>(_ body: (Database) throws -> T) throws(ExhibitError) -> T {
        let database = try database
        do {
            return try database.write { db in try body(db) }
        } catch let error as ExhibitError {
            throw error
        } catch {
            noteDamage(error)
            throw ExhibitError(.storage, "The index \(path) could not be updated (\(error)); run `exhibit reindex`.")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(ExhibitError) -> T {
        let database = try database
        do {
            return try database.read { db in try body(db) }
        } catch {
            noteDamage(error)
            throw ExhibitError(.storage, "The index \(path) could not be read (\(error)); run `exhibit reindex`.")
        }
    }

    /// Remembers that SQLite found a damaged page (or no database at all), for ``recovering(notices:_:)``.
    private func noteDamage(_ error: any Error) {
        guard let error = error as? DatabaseError, [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) else { return }
        state.withLock { $0.damaged = true }
    }
}
