public import CaseManagement
public import ChainOfCustody
import Foundation
import Glibc
import GRDB
public import MediaForensics

/// The workspace's PDQ index (`media-index.sqlite`), for `exhibit similar`: every
/// hash that a `media-analysis` entry of any case recorded, looked up by
/// multi-index hashing (Norouzi et al.) so that a query never reads every hash.
///
/// Each 256-bit hash is cut into 16 chunks of 16 bits, and each chunk is indexed
/// by (position, value). Two hashes within distance d differ in at most d bits, so
/// among 16 chunks at least one differs in at most ⌊d / 16⌋ bits (pigeonhole: if
/// every chunk differed in ⌊d/16⌋ + 1 or more, the distance would be at least
/// 16 (⌊d/16⌋ + 1) > d). For PDQ's threshold 31 that is ⌊31/16⌋ = 1 bit: the lookup
/// probes, at each of the 16 positions, the query's chunk value and its 16
/// one-bit neighbours (16 × 17 = 272 index probes), and measures the exact
/// distance of only the hashes found. Every match within d is among them
/// (recall 100 %); d up to 47 probes the two-bit neighbours too; beyond 47 the
/// probes outnumber a scan and the lookup is refused.
///
/// Like `index.sqlite` it is a cache of the ledgers: a case whose ledger changed is
/// indexed again, a case that is gone is forgotten, and the file can be deleted.
public final class MediaHashIndex: Sendable {
    public let path: String
    private let database: DatabasePool

    /// The largest distance a lookup accepts (chunks probed up to two bits away).
    public static let maximumDistance = 47

    public convenience init(workspace: Workspace) throws(ExhibitError) {
        try self.init(path: workspace.root + "/media-index.sqlite")
    }

    /// Opens (or creates) an index file; the benchmark fills one outside a workspace.
    public init(path: String) throws(ExhibitError) {
        self.path = path
        do {
            database = try Self.open(path)
        } catch {
            // A cache: a damaged one is replaced.
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            do {
                database = try Self.open(path)
            } catch {
                throw ExhibitError(.storage, "The media index \(path) cannot be opened (\(error)); check that the workspace is writable by you.")
            }
        }
    }

    private static func open(_ path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = OFF")
            // A lookup touches a few thousand scattered pages of a file that may hold
            // millions of hashes: mapped, they are memory reads of the page cache rather
            // than one pread (and a copy) each.
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        let pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE cases (id TEXT PRIMARY KEY, ledger_size INTEGER NOT NULL);
                CREATE TABLE hashes (
                    id INTEGER PRIMARY KEY, case_id TEXT NOT NULL, artifact_id TEXT NOT NULL, url TEXT NOT NULL,
                    first_seen TEXT NOT NULL, frame TEXT, hash BLOB NOT NULL, quality INTEGER NOT NULL, sha256 TEXT NOT NULL);
                CREATE INDEX hashes_by_artifact ON hashes (case_id, artifact_id);
                CREATE TABLE chunks (position INTEGER NOT NULL, value INTEGER NOT NULL, hash_id INTEGER NOT NULL,
                    PRIMARY KEY (position, value, hash_id)) WITHOUT ROWID;
                """)
        }
        try migrator.migrate(pool)
        return pool
    }

    /// One indexed hash: an image, or one keyframe of a video.
    public struct Entry: Sendable {
        public var caseID: String
        public var artifact: String
        public var url: String
        public var firstSeen: String
        /// The keyframe's time in seconds, for video.
        public var frame: String?
        public var hash: PDQHash
        public var sha256: String

        public init(caseID: String, artifact: String, url: String, firstSeen: String, frame: String?, hash: PDQHash, sha256: String) {
            self.caseID = caseID
            self.artifact = artifact
            self.url = url
            self.firstSeen = firstSeen
            self.frame = frame
            self.hash = hash
            self.sha256 = sha256
        }
    }

    /// The hashes a case's ledger recorded in its `media-analysis` entries.
    public static func entries(caseID: String, ledger: [LedgerEntry]) -> [Entry] {
        var result: [Entry] = []
        for entry in ledger where entry.action == "media-analysis" {
            for item in entry.subject?["items"]?.arrayValue ?? [] {
                guard let artifact = item["artifact"]?.stringValue else { continue }
                let url = item["url"]?.stringValue ?? ""
                let seen = item["captured"]?.stringValue ?? entry.time
                let sha = item["sha256"]?.stringValue ?? ""
                if let hex = item["pdq"]?["hash"]?.stringValue,
                   let hash = PDQHash(hex: hex, quality: Int(item["pdq"]?["quality"]?.intValue ?? 0)) {
                    result.append(Entry(caseID: caseID, artifact: artifact, url: url, firstSeen: seen, frame: nil, hash: hash, sha256: sha))
                }
                for frame in item["frames"]?.arrayValue ?? [] {
                    guard let hex = frame["hash"]?.stringValue,
                          let hash = PDQHash(hex: hex, quality: Int(frame["quality"]?.intValue ?? 0)) else { continue }
                    result.append(Entry(caseID: caseID, artifact: artifact, url: url, firstSeen: seen,
                                        frame: frame["time"]?.stringValue ?? "?", hash: hash, sha256: sha))
                }
            }
        }
        return result
    }

    /// An image's hashes in the seven other orientations, as its `media-analysis`
    /// item recorded them (`pdq.dihedral`, `PDQOrientation` order after `.original`);
    /// none for video and for analyses made before they were recorded.
    public static func orientations(of artifact: String, in ledger: [LedgerEntry]) -> [(PDQOrientation, PDQHash)] {
        for entry in ledger.reversed() where entry.action == "media-analysis" {
            for item in entry.subject?["items"]?.arrayValue ?? [] where item["artifact"]?.stringValue == artifact {
                let quality = Int(item["pdq"]?["quality"]?.intValue ?? 0)
                let hashes = (item["pdq"]?["dihedral"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { PDQHash(hex: $0, quality: quality) } }
                return zip(PDQOrientation.allCases.dropFirst(), hashes).map { ($0, $1) }
            }
        }
        return []
    }

    /// Brings every case of the store up to date: a case whose ledger size changed
    /// is indexed again from its ledger; cases that are gone are forgotten.
    public func refresh(store: CaseStore) throws(ExhibitError) {
        let ids = store.caseIDs()
        for id in ids {
            let ledger = store.ledger(of: id)
            var info = stat()
            let size = stat(ledger.path, &info) == 0 ? Int(info.st_size) : -1
            let known = try read { db in try Int.fetchOne(db, sql: "SELECT ledger_size FROM cases WHERE id = ?", arguments: [id]) }
            guard known != size else { continue }
            let entries = try ledger.entries()
            try replace(caseID: id, with: Self.entries(caseID: id, ledger: entries), ledgerSize: size)
        }
        try write { db in
            let known = try String.fetchAll(db, sql: "SELECT id FROM cases")
            for gone in Set(known).subtracting(ids) { try Self.delete(caseID: gone, db) }
        }
    }

    /// Replaces what the index holds for one case.
    public func replace(caseID: String, with entries: [Entry], ledgerSize: Int) throws(ExhibitError) {
        try write { db in
            try Self.delete(caseID: caseID, db)
            try Self.insert(entries, db)
            try db.execute(sql: "INSERT INTO cases (id, ledger_size) VALUES (?, ?)", arguments: [caseID, ledgerSize])
        }
    }

    /// Removes every hash of a case: disposal destroys the evidence, so its hashes go
    /// too (a later `refresh` would drop them as well, as it drops any case that is gone).
    public func forget(caseID: String) throws(ExhibitError) {
        try write { db in try Self.delete(caseID: caseID, db) }
    }

    /// Adds hashes without a case record (the benchmark's million random hashes).
    public func insert(_ entries: [Entry]) throws(ExhibitError) {
        try write { db in try Self.insert(entries, db) }
    }

    /// Hash rows first, then their chunk rows in key order: a million hashes make
    /// sixteen million chunk rows, and B-tree inserts in key order touch each page
    /// once instead of at random.
    private static func insert(_ entries: [Entry], _ db: Database) throws {
        let hashStatement = try db.cachedStatement(sql: """
            INSERT INTO hashes (case_id, artifact_id, url, first_seen, frame, hash, quality, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        // (position << 16 | value) << 40 | hash id: one integer sorts like the primary key.
        var keys: [UInt64] = []
        keys.reserveCapacity(entries.count * 16)
        for entry in entries {
            try hashStatement.execute(arguments: [
                entry.caseID, entry.artifact, entry.url, entry.firstSeen, entry.frame, Data(entry.hash.bytes), entry.hash.quality, entry.sha256,
            ])
            let id = UInt64(db.lastInsertedRowID)
            for (position, value) in entry.hash.chunks.enumerated() {
                keys.append((UInt64(position) << 16 | UInt64(value)) << 40 | id)
            }
        }
        keys.sort()
        let chunkStatement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO chunks (position, value, hash_id) VALUES (?, ?, ?)")
        for key in keys {
            try chunkStatement.execute(arguments: [Int(key >> 56), Int(key >> 40 & 0xFFFF), Int64(key & 0xFF_FFFF_FFFF)])
        }
    }

    private static func delete(caseID: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM chunks WHERE hash_id IN (SELECT id FROM hashes WHERE case_id = ?)", arguments: [caseID])
        try db.execute(sql: "DELETE FROM hashes WHERE case_id = ?", arguments: [caseID])
        try db.execute(sql: "DELETE FROM cases WHERE id = ?", arguments: [caseID])
    }

    /// How many hashes the index holds.
    public func count() throws(ExhibitError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM hashes") ?? 0 }
    }

    /// The hashes recorded for one artifact (one for an image, one per keyframe for video).
    public func hashes(caseID: String, artifact: String) throws(ExhibitError) -> [Entry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM hashes WHERE case_id = ? AND artifact_id = ? ORDER BY id", arguments: [caseID, artifact])
                .map(Self.entry)
        }
    }

    /// A hash found near a query hash.
    public struct Match: Sendable {
        public var entry: Entry
        public var distance: Int
    }

    /// Every indexed hash within `maxDistance` of `query`, nearest first, and how
    /// many candidates the chunk probes read (for the benchmark: far fewer than all).
    ///
    /// Three statements, so that per-candidate work stays small: the probes go in as
    /// one JSON array of (position << 16 | value) keys in key order and come back as
    /// hash ids; the ids go back in ascending order (neighbouring B-tree pages, read
    /// without a copy) for their 32 bytes only; and only the hashes within reach are
    /// read whole.
    public func lookup(_ query: PDQHash, maxDistance: Int) throws(ExhibitError) -> (matches: [Match], candidates: Int) {
        guard maxDistance >= 0, maxDistance <= Self.maximumDistance else {
            throw ExhibitError(.usage, "A near-duplicate search reaches at most distance \(Self.maximumDistance) of 256 bits (\(maxDistance) asked); PDQ calls 31 a match.")
        }
        let probes = Self.neighbours(radius: maxDistance / 16)
        var keys: [Int] = []
        keys.reserveCapacity(16 * probes.count)
        for (position, value) in query.chunks.enumerated() {
            for mask in probes { keys.append(position << 16 | Int(value ^ mask)) }
        }
        keys.sort()
        let words = Self.words(query.bytes)
        return try read { db in
            let probe = try db.cachedStatement(sql: """
                SELECT c.hash_id FROM json_each(?) AS p CROSS JOIN chunks AS c
                WHERE c.position = p.value >> 16 AND c.value = p.value & 65535
                """)
            var candidates = Set<Int64>()
            let found = try Int64.fetchCursor(probe, arguments: [Self.jsonArray(keys)])
            while let id = try found.next() { candidates.insert(id) }
            let bits = try db.cachedStatement(sql: "SELECT h.id, h.hash FROM json_each(?) AS k CROSS JOIN hashes AS h WHERE h.id = k.value")
            var near: [(id: Int64, distance: Int)] = []
            let rows = try Row.fetchCursor(bits, arguments: [Self.jsonArray(candidates.sorted())])
            while let row = try rows.next() {
                let distance = try row.withUnsafeData(atIndex: 1) { data in
                    data.map { Self.distance(words, $0) } ?? 257
                }
                if distance <= maxDistance { near.append((row[0], distance)) }
            }
            let whole = try db.cachedStatement(sql: "SELECT * FROM hashes WHERE id = ?")
            var matches: [Match] = []
            for (id, distance) in near {
                if let row = try Row.fetchOne(whole, arguments: [id]) { matches.append(Match(entry: Self.entry(row), distance: distance)) }
            }
            matches.sort { ($0.distance, $0.entry.caseID, $0.entry.artifact) < ($1.distance, $1.entry.caseID, $1.entry.artifact) }
            return (matches, candidates.count)
        }
    }

    private static func jsonArray(_ numbers: some Sequence<some BinaryInteger>) -> String {
        "[" + numbers.map { String($0) }.joined(separator: ",") + "]"
    }

    /// A hash as four 64-bit words, for the distance to stored blobs.
    private static func words(_ bytes: [UInt8]) -> [UInt64] {
        bytes.withUnsafeBytes { raw in (0..<4).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) } }
    }

    /// Bits that differ between `words` and a stored 32-byte hash (257 for anything else).
    private static func distance(_ words: [UInt64], _ data: Data) -> Int {
        guard data.count == 32 else { return 257 }
        return data.withUnsafeBytes { raw in
            var total = 0
            for index in 0..<4 {
                total += (raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self) ^ words[index]).nonzeroBitCount
            }
            return total
        }
    }

    /// The 16-bit masks with at most `radius` bits set.
    static func neighbours(radius: Int) -> [UInt16] {
        var masks: [UInt16] = [0]
        if radius >= 1 { for i in 0..<16 { masks.append(1 << i) } }
        if radius >= 2 { for i in 0..<16 { for j in (i + 1)..<16 { masks.append(1 << i | 1 << j) } } }
        return masks
    }

    private static func entry(_ row: Row) -> Entry {
        let bytes: Data = row["hash"]
        return Entry(caseID: row["case_id"], artifact: row["artifact_id"], url: row["url"], firstSeen: row["first_seen"],
                     frame: row["frame"], hash: PDQHash(bytes: Array(bytes), quality: row["quality"]), sha256: row["sha256"])
    }

    private func write<T>(_ body: (Database) throws -> T) throws(ExhibitError) -> T {
        try storage("updated") { try database.write { db in try body(db) } }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(ExhibitError) -> T {
        try storage("read") { try database.read { db in try body(db) } }
    }

    /// Runs one database access; an ExhibitError passes through, and anything GRDB
    /// throws becomes one sentence saying what failed (`verb`: "read", "updated")
    /// and that the index can be rebuilt.
    private func storage<T>(_ verb: String, _ access: () throws -> T) throws(ExhibitError) -> T {
        do {
            return try access()
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "The media index \(path) could not be \(verb) (\(error)); delete it to have it rebuilt.")
        }
    }
}
