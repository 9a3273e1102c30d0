import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation
import Logging
import PostgresNIO

/// One push as sent: the workstation's whole ledger of the case (so the server can name
/// the first entry where the two histories differ) and the files the server lacks.
///
/// Wire form: a 4-byte big-endian length, that many bytes of JSON
/// `{"ledger":N,"files":[{"path","sha256","size"}…]}`, then the N bytes of the ledger as its
/// file holds them (whole lines only), then each file's bytes in order. The ledger travels
/// as it is: no JSON string per line to escape on the workstation and unescape here.
struct PushUpload: Sendable {
    struct File: Sendable {
        var path: String
        var sha256: String
        var bytes: [UInt8]
    }

    var caseID: String
    /// The ledger's bytes, ending with a newline.
    var ledger: [UInt8]
    var files: [File]

    static func encode(ledger: ArraySlice<UInt8>, files: [(path: String, sha256: String, bytes: [UInt8])]) throws(ExhibitError) -> [UInt8] {
        let manifest = JSONValue.object([
            "ledger": .integer(Int64(ledger.count)),
            "files": .array(files.map { .object(["path": .string($0.path), "sha256": .string($0.sha256), "size": .integer(Int64($0.bytes.count))]) }),
        ])
        let json = try manifest.canonicalBytes(orThrow: "The push cannot be encoded")
        let length = UInt32(json.count)
        var out: [UInt8] = [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
        out.reserveCapacity(4 + json.count + ledger.count + files.reduce(0) { $0 + $1.bytes.count })
        out += json
        out += ledger
        for file in files { out += file.bytes }
        return out
    }

    init(parsing bytes: [UInt8], caseID: String) throws {
        func refuse(_ why: String) -> ServerRefusal { ServerRefusal(status: .badRequest, sentence: "The push cannot be read: \(why).") }
        guard bytes.count >= 4 else { throw refuse("it is shorter than its header") }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard bytes.count >= 4 + length, let manifest = try? JSONValue(parsing: Array(bytes[4..<(4 + length)])),
              let ledgerSize = manifest["ledger"]?.intValue, ledgerSize > 0, 4 + length + Int(ledgerSize) <= bytes.count,
              let files = manifest["files"]?.arrayValue else { throw refuse("its manifest is damaged") }
        self.caseID = caseID
        var offset = 4 + length
        ledger = Array(bytes[offset..<(offset + Int(ledgerSize))])
        guard ledger.last == UInt8(ascii: "\n") else { throw refuse("its ledger does not end with a whole line") }
        offset += Int(ledgerSize)
        self.files = []
        for file in files {
            guard let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue, let size = file["size"]?.intValue,
                  size >= 0, offset + Int(size) <= bytes.count, RecordedFiles.isSafe(path), EvidenceStore.isDigest(sha) else {
                throw refuse("a file in it is described wrongly or cut short")
            }
            self.files.append(File(path: path, sha256: sha, bytes: Array(bytes[offset..<(offset + Int(size))])))
            offset += Int(size)
        }
        guard offset == bytes.count else { throw refuse("bytes follow its last file") }
    }
}

/// Checks a push against the server's copy and commits it in one PostgreSQL transaction:
/// fast-forward only, every entry verified as `exhibit verify` verifies a case, then the
/// entries, file rows, page text and a signed receipt — or nothing at all.
struct PushTransaction {
    let database: ServerDatabase
    let store: EvidenceStore

    func commit(_ upload: PushUpload, serverKey: SigningKey) async throws -> JSONValue {
        let caseID = upload.caseID
        let logger = database.logger
        let keys = Dictionary(try await database.actors().map { ($0.id, $0.publicKey) }, uniquingKeysWith: { first, _ in first })
        let staging = try store.stagingDirectory()
        defer { try? FileManager.default.removeItem(atPath: staging) }
        // Verified before the transaction opens. The check reads every file and may take
        // a while; a connection idle in a transaction that long is what a database restart
        // cuts, and postgres-nio then never answered the next query of that transaction.
        let report = try stageAndVerify(upload, staging: staging, keys: keys, stored: try await database.files(caseID))
        // The entries as the verification parsed them: each line is parsed once.
        let lines = Ledger.lines(of: upload.ledger).map { String(decoding: $0.bytes, as: UTF8.self) }
        guard let entries = report.entries, entries.count == lines.count else {
            let failure = report.findings.first(where: \.isFailure)
            let detail = failure.map { "\($0.seq.map { " at entry \($0)" } ?? ""): \($0.path): \($0.detail)" } ?? ""
            throw ServerRefusal(status: .unprocessableContent, sentence: "The push of \(caseID) does not verify\(detail); nothing was stored.")
        }
        let keyPEM = serverKey.privateKeyPEM()
        return try await Self.withDeadline(seconds: Self.transactionDeadline) { [database] in
          try await database.client.withTransaction(logger: logger) { connection -> JSONValue in
            // One push per case at a time, on whichever server behind the load balancer.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(caseID)))", logger: logger)
            var stored: [String] = []
            for try await hash in try await connection.query("SELECT hash FROM ledger_entries WHERE case_id = \(caseID) ORDER BY seq", logger: logger).decode(String.self) {
                stored.append(hash)
            }
            for (index, hash) in stored.enumerated() where index < entries.count {
                if entries[index].hash != hash {
                    throw ServerRefusal(status: .conflict, sentence: "The history of \(caseID) diverged from the evidence server's at entry \(index + 1): the server's entry \(index + 1) is \(hash), the workstation's is \(entries[index].hash); nothing was stored.")
                }
            }
            if entries.count < stored.count {
                throw ServerRefusal(status: .conflict, sentence: "The evidence server's ledger of \(caseID) has \(stored.count) entries and the workstation's \(entries.count): pull the case first; nothing was stored.")
            }
            let privateKey = try SigningKey(pem: keyPEM)
            if entries.count == stored.count {
                // The same entries again: a no-op, answered with the receipt already given.
                for try await (seq, head, time, sig) in try await connection.query("SELECT seq, head, time, signature FROM receipts WHERE case_id = \(caseID) ORDER BY seq DESC LIMIT 1", logger: logger).decode((Int64, String, String, String).self) {
                    return Self.receipt(caseID: caseID, seq: seq, head: head, time: time, signature: sig, unchanged: true)
                }
                throw ServerRefusal(status: .badRequest, sentence: "The push of \(caseID) has no entries.")
            }
            if let failure = report.findings.first(where: \.isFailure) {
                let seq = failure.seq.map { " at entry \($0)" } ?? ""
                throw ServerRefusal(status: .unprocessableContent, sentence: "The push of \(caseID) does not verify\(seq): \(failure.path): \(failure.detail); nothing was stored.")
            }
            let newEntries = entries[stored.count...]
            let last = entries[entries.count - 1]
            if stored.isEmpty {
                try await connection.query("INSERT INTO cases (id, entry_count, head) VALUES (\(caseID), \(last.seq), \(last.hash))", logger: logger)
            } else {
                try await connection.query("UPDATE cases SET entry_count = \(last.seq), head = \(last.hash), updated_at = now() WHERE id = \(caseID)", logger: logger)
            }
            // One statement per table, the rows bound as arrays and unnested: a 10,000-entry
            // push is three round trips, not 20,000. The chain trigger checks the
            // statement's rows together once they are in (schema version 2), so their
            // order does not matter and is not sorted for (6 MB of lines sorted on disk).
            let newLines = Array(lines[stored.count...])
            try await connection.query("""
                INSERT INTO ledger_entries (case_id, seq, hash, prev, actor, action, time, line)
                SELECT \(caseID), seq, hash, prev, actor, action, time, line
                FROM unnest(\(newEntries.map(\.seq)), \(newEntries.map(\.hash)), \(newEntries.map(\.prev)), \(newEntries.map(\.actor)),
                            \(newEntries.map(\.action)), \(newEntries.map(\.time)), \(newLines))
                     AS row(seq, hash, prev, actor, action, time, line)
                """, logger: logger)
            let firstNew = Int64(stored.count + 1)
            let files = RecordedFiles.of(entries).filter { $0.seq >= firstNew }
            let sizes = files.map { file -> Int64 in
                var info = stat()
                return stat(store.path(of: file.sha256), &info) == 0 ? Int64(info.st_size) : 0
            }
            try await connection.query("""
                INSERT INTO case_files (case_id, path, sha256, size, seq)
                SELECT \(caseID), path, sha256, size, seq FROM unnest(\(files.map(\.path)), \(files.map(\.sha256)), \(sizes), \(files.map(\.seq))) AS file(path, sha256, size, seq)
                ON CONFLICT DO NOTHING
                """, logger: logger)
            let directory = staging + "/cases/" + caseID
            let pages = newEntries.flatMap { entry in Self.pageText(of: entry, caseDirectory: directory).map { (seq: entry.seq, page: $0) } }
            try await connection.query("""
                INSERT INTO page_text (case_id, seq, url, title, body)
                SELECT \(caseID), seq, url, title, body
                FROM unnest(\(pages.map(\.seq)), \(pages.map(\.page.url)), \(pages.map(\.page.title)), \(pages.map(\.page.body))) AS page(seq, url, title, body)
                """, logger: logger)
            let time = LedgerTime.now()
            let signed = try WitnessLog.ServerReceipt.signedFields(caseID: caseID, seq: last.seq, head: last.hash, time: time).canonicalBytes()
            let signature = Data(try privateKey.sign(signed)).base64EncodedString()
            try await connection.query("INSERT INTO receipts (case_id, seq, head, time, signature) VALUES (\(caseID), \(last.seq), \(last.hash), \(time), \(signature))", logger: logger)
            return Self.receipt(caseID: caseID, seq: last.seq, head: last.hash, time: time, signature: signature, unchanged: false)
          }
        }
    }

    /// How long a push's transaction may take before the server gives up on it (HTTP 503).
    static let transactionDeadline = 60

    /// Runs `body`, or fails with a 503 refusal after `seconds`. A query on a connection
    /// the database cut can stay unanswered for ever (seen with `pg_ctl restart -m fast`);
    /// the client is told to try again instead of waiting with it. Whatever that query
    /// was, PostgreSQL committed the transaction whole or not at all, and a retried push
    /// is either a no-op or the same fast-forward.
    static func withDeadline<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = FirstOutcome<T>()
        return try await withCheckedThrowingContinuation { continuation in
            once.continuation = continuation
            let work = Task {
                do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
            }
            let timer = Task {
                try await Task.sleep(for: .seconds(seconds))
                work.cancel()
                once.resume(.failure(ServerRefusal(status: .serviceUnavailable, sentence: "The evidence server's database did not answer within \(seconds) seconds; push again (a push is stored whole or not at all).")))
            }
            once.onResume = { timer.cancel() }
        }
    }

    static func receipt(caseID: String, seq: Int64, head: String, time: String, signature: String, unchanged: Bool) -> JSONValue {
        .object([
            "case": .string(caseID), "seq": .integer(seq), "head": .string(head), "time": .string(time),
            "sig": .string(signature), "unchanged": .bool(unchanged),
        ])
    }

    /// Lays the pushed case out as a case directory (the ledger, and the files the server
    /// holds for the case and the push brought, linked from the store) and verifies it as
    /// `exhibit verify` does: a recorded file neither holds is MISSING, a file no entry
    /// records is UNEXPECTED. The ledger is parsed there, once.
    func stageAndVerify(_ upload: PushUpload, staging: String, keys: [String: String],
                        stored: [FileRecord]) throws -> CaseVerification.Report {
        let directory = staging + "/cases/" + upload.caseID
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(upload.ledger, to: directory + "/ledger.jsonl")
        var byPath = Dictionary(stored.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        for file in upload.files { byPath[file.path] = file.sha256 }
        for file in byPath.map({ (path: $0.key, sha256: $0.value) }) {
            guard RecordedFiles.isSafe(file.path), EvidenceStore.isDigest(file.sha256), store.contains(file.sha256) else { continue }
            let target = directory + "/" + file.path
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if link(store.path(of: file.sha256), target) != 0 {
                try FileManager.default.copyItem(atPath: store.path(of: file.sha256), toPath: target)
            }
        }
        return try CaseVerification.verify(directory: directory, keyFor: { id in keys[id].flatMap { try? VerifyingKey(pem: $0) } })
    }

    /// The searchable text an entry adds: a captured page's title and visible text, or a note's.
    static func pageText(of entry: LedgerEntry, caseDirectory: String) -> [(url: String, title: String, body: String)] {
        guard let subject = entry.subject else { return [] }
        if entry.action == "capture", let page = CapturedPage.analysis(of: subject, caseDirectory: caseDirectory) {
            return [(page.url, page.title ?? "", page.text)]
        }
        if let text = subject["text"]?.stringValue, !text.isEmpty {
            return [("urn:exhibit:\(entry.caseID):\(entry.seq)", entry.action, text)]
        }
        return []
    }
}

/// The first of several outcomes resumes a continuation; later ones are dropped.
final class FirstOutcome<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    var continuation: CheckedContinuation<T, any Error>?
    var onResume: (@Sendable () -> Void)?

    func resume(_ result: Result<T, any Error>) {
        let (waiting, after) = lock.withLock { () -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            defer { continuation = nil }
            return (continuation, continuation == nil ? nil : onResume)
        }
        waiting?.resume(with: result)
        after?()
    }
}
