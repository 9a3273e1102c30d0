import ChainOfCustody
import Foundation
import Logging
import PostgresNIO

/// The evidence server's PostgreSQL database: connection from a `postgres://` URL,
/// migrations, and the queries the routes make. All state of a server lives here and
/// in the file store, so several servers can share one database (docs/server.md).
final class ServerDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    static func configuration(url text: String) throws(ExhibitError) -> PostgresClient.Configuration {
        guard let url = URL(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""),
              let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty else {
            throw ExhibitError(.usage, "The database address \"\(text)\" is not a postgres://USER@HOST:PORT/DATABASE URL.")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        var configuration = PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: url.password,
            database: database.isEmpty ? user : database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    init(url: String) throws(ExhibitError) {
        logger = Logger(label: "exhibit.server.db", factory: { _ in SwiftLogNoOpLogHandler() })
        client = PostgresClient(configuration: try Self.configuration(url: url), backgroundLogger: logger)
    }

    /// One sentence for a database failure (PSQLError's description hides the server's message).
    static func sentence(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError,
           let cause = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
            return sentence(cause)
        }
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return message }
            return "the database connection failed (\(psql.code)); nothing was stored, try again"
        }
        return "\(error)"
    }

    // MARK: Migrations

    /// Applies the migrations not yet recorded, each in its own transaction, under an
    /// advisory lock so that servers starting together do not race. Returns the versions applied.
    func migrate() async throws -> [Int] {
        try await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", logger: logger)
        var applied: [Int] = []
        for migration in ServerSchema.migrations {
            let done = try await client.withTransaction(logger: logger) { connection -> Bool in
                try await connection.query("SELECT pg_advisory_xact_lock(7345102024)", logger: logger)
                let rows = try await connection.query("SELECT version FROM schema_migrations WHERE version = \(migration.version)", logger: logger)
                for try await _ in rows { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (version, description) VALUES (\(migration.version), \(migration.description))", logger: logger)
                return true
            }
            if done { applied.append(migration.version) }
        }
        return applied
    }

    /// The highest migration recorded, or nil before any.
    func schemaVersion() async throws -> Int? {
        let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return nil }
        let rows = try await client.query("SELECT max(version) FROM schema_migrations", logger: logger)
        for try await version in rows.decode(Int?.self) { return version }
        return nil
    }

    // MARK: Actors

    struct RegisteredActor: Sendable {
        var id: String
        var publicKey: String
        var roles: [String]
        var record: String
        var trust: String
        var registeredBy: String?
        var registeredAt: String
    }

    func actor(_ id: String) async throws -> RegisteredActor? {
        let rows = try await client.query("SELECT id, public_key, roles, record::text, trust, registered_by, registered_at::text FROM actors WHERE id = \(id)", logger: logger)
        for try await (id, key, roles, record, trust, by, at) in rows.decode((String, String, [String], String, String, String?, String).self) {
            return RegisteredActor(id: id, publicKey: key, roles: roles, record: record, trust: trust, registeredBy: by, registeredAt: at)
        }
        return nil
    }

    func actors() async throws -> [RegisteredActor] {
        let rows = try await client.query("SELECT id, public_key, roles, record::text, trust, registered_by, registered_at::text FROM actors ORDER BY id", logger: logger)
        var found: [RegisteredActor] = []
        for try await (id, key, roles, record, trust, by, at) in rows.decode((String, String, [String], String, String, String?, String).self) {
            found.append(RegisteredActor(id: id, publicKey: key, roles: roles, record: record, trust: trust, registeredBy: by, registeredAt: at))
        }
        return found
    }

    /// The supervisor trusted on first use, if one registered.
    func firstSupervisor() async throws -> RegisteredActor? {
        try await actors().first { $0.trust == "first-use" }
    }

    // MARK: Replay

    /// Records a signature as seen; false when it was seen before (a replay).
    func recordSignature(_ signature: [UInt8]) async throws -> Bool {
        let text = Data(signature).base64EncodedString()
        // Signatures older than the acceptance window can never be accepted again anyway.
        try await client.query("DELETE FROM seen_signatures WHERE seen_at < now() - interval '15 minutes'", logger: logger)
        let rows = try await client.query("INSERT INTO seen_signatures (signature) VALUES (\(text)) ON CONFLICT DO NOTHING RETURNING 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    // MARK: Cases

    func caseHead(_ caseID: String) async throws -> (count: Int64, head: String)? {
        let rows = try await client.query("SELECT entry_count, head FROM cases WHERE id = \(caseID)", logger: logger)
        for try await (count, head) in rows.decode((Int64, String).self) { return (count, head) }
        return nil
    }

    func entryLines(_ caseID: String) async throws -> [String] {
        let rows = try await client.query("SELECT line FROM ledger_entries WHERE case_id = \(caseID) ORDER BY seq", logger: logger)
        var lines: [String] = []
        for try await line in rows.decode(String.self) { lines.append(line) }
        return lines
    }

    func files(_ caseID: String) async throws -> [FileRecord] {
        let rows = try await client.query("SELECT path, sha256, size FROM case_files WHERE case_id = \(caseID) ORDER BY path", logger: logger)
        var files: [FileRecord] = []
        for try await (path, sha, size) in rows.decode((String, String, Int64).self) {
            files.append(FileRecord(path: path, sha256: sha, size: size))
        }
        return files
    }

    func caseHasFile(_ caseID: String, sha256: String) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM case_files WHERE case_id = \(caseID) AND sha256 = \(sha256) LIMIT 1", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    func serverPublicKey() async throws -> String? {
        let rows = try await client.query("SELECT public_key_pem FROM server_key WHERE id = 1", logger: logger)
        for try await pem in rows.decode(String.self) { return pem }
        return nil
    }

    /// The server's own Ed25519 key for receipts: made by the first server that starts
    /// and shared through the database by every server behind the load balancer.
    func serverKey() async throws -> String {
        let rows = try await client.query("SELECT private_key_pem FROM server_key WHERE id = 1", logger: logger)
        for try await pem in rows.decode(String.self) { return pem }
        let key = try SigningKey.generate()
        try await client.query("INSERT INTO server_key (id, private_key_pem, public_key_pem) VALUES (1, \(key.privateKeyPEM()), \(key.publicKeyPEM())) ON CONFLICT DO NOTHING", logger: logger)
        let again = try await client.query("SELECT private_key_pem FROM server_key WHERE id = 1", logger: logger)
        for try await pem in again.decode(String.self) { return pem }
        throw ExhibitError(.storage, "The server's receipt key could not be stored in the database.")
    }

    /// Full-text search over the page text of the given cases (nil: every case).
    func search(_ words: String, excludingPrefix: String?, limit: Int = 100) async throws -> [RemoteSync.Hit] {
        let exclude = excludingPrefix.map { $0 + "%" } ?? ""
        // The query is parsed once; the GIN index finds the pages, only they are ranked, and
        // only the `limit` best get a headline (which reads and parses the page's body).
        let rows = try await client.query("""
            SELECT case_id, seq, url, title, ts_headline('simple', body, query, 'MaxWords=20,MinWords=5')
            FROM (SELECT case_id, seq, url, title, body, query, ts_rank(tsv, query) AS rank
                  FROM page_text, plainto_tsquery('simple', \(words)) AS query
                  WHERE tsv @@ query AND (\(exclude) = '' OR case_id NOT LIKE \(exclude))
                  ORDER BY rank DESC, case_id, seq
                  LIMIT \(limit)) AS best
            ORDER BY rank DESC, case_id, seq
            """, logger: logger)
        var hits: [RemoteSync.Hit] = []
        for try await (caseID, seq, url, title, snippet) in rows.decode((String, Int64, String, String, String).self) {
            hits.append(RemoteSync.Hit(caseID: caseID, seq: seq, url: url, title: title, snippet: snippet))
        }
        return hits
    }
}
