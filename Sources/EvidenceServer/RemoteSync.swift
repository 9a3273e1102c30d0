public import CaseManagement
public import ChainOfCustody
import Foundation

/// What a workstation does with an evidence server (DESIGN §22): add it, push a case
/// fast-forward, pull or clone a case, and search every case the actor may read. Each
/// request is signed with the acting actor's key.
public struct RemoteSync: Sendable {
    public let workspace: Workspace
    public let actorID: String

    public init(workspace: Workspace, actorID: String) {
        self.workspace = workspace
        self.actorID = actorID
    }

    var actors: ActorRegistry { ActorRegistry(workspace: workspace) }

    func withConnection<T>(_ url: String, caFile: String?, _ body: (RemoteConnection) async throws(ExhibitError) -> T) async throws(ExhibitError) -> T {
        try await body(try RemoteConnection(url: url, caFile: caFile))
    }

    public struct Added: Sendable {
        public var remote: Remote
        /// Actors this request registered on the server.
        public var registered: [String]
        public var trustedOnFirstUse: Bool
        /// Actors of the server this workspace did not know, now recorded in actors/.
        public var imported: [String]
        /// The pinned receipt key's fingerprint (``WitnessLog/ServerPin/fingerprint``).
        public var fingerprint: String
    }

    /// The remote `name` names (the only one when nil), refused unless remotes.json has the
    /// receipt key that `remote add` pinned in the witness log: a text editor could change
    /// the unsigned file, not the chained, signed log.
    func pinnedRemote(_ name: String?) throws(ExhibitError) -> Remote {
        let remote = try Remote.named(name, in: workspace)
        guard let pin = try workspace.witness.pinned(remote.name, keyFor: actors.verifyingKey(for:)) else {
            throw ExhibitError(.verificationFailed, "The workspace witness log has no signed pin of evidence server \(remote.name) (it was added before pins were recorded, or remotes.json was edited): run exhibit remote add \(remote.name) \(remote.url) again.")
        }
        // The key is the server's identity (receipts are checked with it); its address may
        // move (a new port, a proxy) without a new pin.
        let listed = WitnessLog.ServerPin(remote: remote.name, url: remote.url, serverKey: remote.serverKey)
        guard pin.serverKey == listed.serverKey else {
            throw ExhibitError(.verificationFailed, "remotes.json gives evidence server \(remote.name) the receipt key \(listed.fingerprint), but the pin signed into the witness log when it was added says \(pin.fingerprint): remotes.json was edited, so nothing was sent; run exhibit remote add \(remote.name) URL to pin a server again.")
        }
        return remote
    }

    /// Adds the evidence server `url` as `name`. A supervisor registers every actor of the
    /// workspace on it (the first supervisor to do so is trusted on first use); anyone
    /// then takes the server's actors the workspace lacks (public keys only).
    public func addRemote(name: String, url: String, caFile: String?) async throws(ExhibitError) -> Added {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ExhibitError(.usage, "A remote's name is letters, digits, - and _ only.")
        }
        let acting = try actors.actor(actorID)
        let signer = try actors.signer(for: actorID)
        return try await withConnection(url, caFile: caFile) { connection throws(ExhibitError) -> Added in
            let status = try connection.check(try await connection.send(.GET, "/v1/status", signer: nil))
            guard let serverKey = status["server_key"]?.stringValue, (try? VerifyingKey(pem: serverKey)) != nil else {
                throw ExhibitError(.storage, "\(url) did not answer as an evidence server (no receipt key in its status).")
            }
            var registered: [String] = []
            var firstUse = false
            if acting.has(.supervisor) {
                let mine = try actors.all().filter { FileManager.default.fileExists(atPath: actors.privateKeyPath($0.id)) || $0.id == acting.id }
                var list: [JSONValue] = []
                for actor in mine {
                    guard let json = try? JSONValue(parsing: try encodeJSON(actor)) else { continue }
                    list.append(json)
                }
                let body = (try? JSONValue.object(["actors": .array(list)]).canonicalBytes()) ?? []
                let answer = try connection.check(try await connection.send(.POST, "/v1/actors", body: body, signer: signer))
                registered = answer["registered"]?.arrayValue?.compactMap(\.stringValue) ?? []
                firstUse = answer["trusted_on_first_use"]?.boolValue ?? false
            }
            let imported = try await importActors(connection, signer: signer)
            let remote = Remote(name: name, url: connection.baseURL, caFile: caFile, serverKey: serverKey)
            // The pin goes into the signed, chained witness log first: remotes.json is only
            // a copy that push and pull compare with it.
            let pin = WitnessLog.ServerPin(remote: name, url: remote.url, serverKey: serverKey)
            if try workspace.witness.pinned(name, keyFor: actors.verifyingKey(for:)) != pin {
                try workspace.witness.pin(pin, signer: signer)
            }
            try Remote.save(remote, in: workspace)
            return Added(remote: remote, registered: registered, trustedOnFirstUse: firstUse, imported: imported, fingerprint: pin.fingerprint)
        }
    }

    /// Records the server's actors that this workspace lacks (public records, no keys),
    /// so that their signatures on pulled entries verify here.
    func importActors(_ connection: RemoteConnection, signer: LedgerSigner) async throws(ExhibitError) -> [String] {
        let answer = try connection.check(try await connection.send(.GET, "/v1/actors", signer: signer))
        var imported: [String] = []
        for item in answer["actors"]?.arrayValue ?? [] {
            guard let bytes = try? item.canonicalBytes(), let actor = try? JSONDecoder().decode(Actor.self, from: Data(bytes)),
                  ActorRegistry.isValidID(actor.id) else { continue }
            let path = "\(workspace.actorsDirectory)/\(actor.id).json"
            if let existing = try? actors.actor(actor.id) {
                guard existing.publicKey == actor.publicKey else {
                    throw ExhibitError(.verificationFailed, "Actor \(actor.id) of this workspace has another key than the evidence server's \(actor.id): this workspace made its own actors; take them from the agency's supervisor instead.")
                }
                continue
            }
            try AtomicFile.write(try encodeJSON(actor), to: path)
            imported.append(actor.id)
        }
        return imported
    }

    public struct Pushed: Sendable {
        public var caseID: String
        public var seq: Int64
        public var head: String
        public var time: String
        public var unchanged: Bool
        public var filesSent: Int
    }

    /// Pushes the case's ledger and the files the server lacks; the server accepts it only
    /// as a fast-forward that verifies, and signs a receipt, which is checked with the
    /// pinned server key and kept as a receipt record of the workspace witness log.
    public func push(_ caseID: String, remote name: String?) async throws(ExhibitError) -> Pushed {
        let remote = try pinnedRemote(name)
        let signer = try actors.signer(for: actorID)
        let directory = workspace.casesDirectory + "/" + caseID
        let ledgerFile = Ledger(directory: directory)
        guard CaseStore.isValidCaseID(caseID), FileManager.default.fileExists(atPath: ledgerFile.path) else {
            throw ExhibitError(.usage, "The workspace has no case \(caseID).")
        }
        let bytes = try ledgerFile.readLocked()
        // Whole lines only (a torn tail is the workstation's to recover), parsed on every core.
        let whole = Ledger.lines(of: bytes).filter(\.terminated)
        let ledger = bytes[0..<(whole.last.map { $0.bytes.endIndex + 1 } ?? 0)]
        var entries: [LedgerEntry] = []
        for parsed in Parallel.map(whole.map { Array($0.bytes) }, { line in Result { () throws(ExhibitError) in try LedgerEntry(line: line) } }) {
            entries.append(try parsed.get())
        }
        return try await withConnection(remote.url, caFile: remote.caFile) { connection throws(ExhibitError) -> Pushed in
            let head = try connection.check(try await connection.send(.GET, "/v1/cases/\(caseID)/head", signer: signer))
            var onServer: Set<String> = []
            for file in head["files"]?.arrayValue ?? [] {
                if let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue { onServer.insert(path + "\u{0}" + sha) }
            }
            var files: [(path: String, sha256: String, bytes: [UInt8])] = []
            for file in RecordedFiles.of(entries) where !onServer.contains(file.path + "\u{0}" + file.sha256) {
                guard RecordedFiles.isSafe(file.path) else { continue }
                var path = directory + "/" + file.path
                if !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: path + ".tmp") { path += ".tmp" }
                guard let content = try? AtomicFile.read(path) else { continue }
                files.append((file.path, file.sha256, content))
            }
            let body = try PushUpload.encode(ledger: ledger, files: files)
            let answer = try connection.check(try await connection.send(.POST, "/v1/cases/\(caseID)/push", body: body, signer: signer))
            guard let sent = answer["receipt"], let seq = sent["seq"]?.intValue, let headHash = sent["head"]?.stringValue,
                  let time = sent["time"]?.stringValue, let signature = sent["sig"]?.stringValue else {
                throw ExhibitError(.storage, "The evidence server accepted the push of \(caseID) but sent no receipt.")
            }
            let receipt = WitnessLog.ServerReceipt(remote: remote.name, time: time, signature: signature)
            guard let key = try? VerifyingKey(pem: remote.serverKey), receipt.isSigned(by: key, caseID: caseID, seq: seq, head: headHash) else {
                throw ExhibitError(.verificationFailed, "The receipt for \(caseID) is not signed by the key pinned when \(remote.name) was added: the server is not the one added, or its key changed.")
            }
            guard seq == Int64(entries.count), headHash == entries.last?.hash else {
                throw ExhibitError(.verificationFailed, "The receipt for \(caseID) names entry \(seq) (\(headHash)), but the workstation pushed \(entries.count) entries.")
            }
            // Into the witness log (DESIGN §16): verify then holds the ledger to every receipted
            // head. A repeated push answers with the receipt already kept, which is not kept twice.
            let witness = workspace.witness
            let kept = try witness.latestReceipt(of: remote.name, caseID: caseID)
            if kept?.receipt != receipt || kept?.record.seq != seq || kept?.record.head != headHash {
                try witness.receipt(receipt, caseID: caseID, seq: seq, head: headHash, signer: signer)
            }
            return Pushed(caseID: caseID, seq: seq, head: headHash, time: time, unchanged: answer["receipt"]?["unchanged"]?.boolValue ?? false, filesSent: files.count)
        }
    }

    public struct Pulled: Sendable {
        public var caseID: String
        public var added: Int
        public var entryCount: Int
        public var filesFetched: Int
    }

    /// Takes the server's entries of a case this workspace has (`clone: false`, the local
    /// ledger must be a prefix of the server's) or lacks (`clone: true`). Files are written
    /// and fsynced before the ledger lines that record them (DESIGN §2's commit protocol).
    public func pull(_ caseID: String, remote name: String?, clone: Bool) async throws(ExhibitError) -> Pulled {
        let remote = try pinnedRemote(name)
        let signer = try actors.signer(for: actorID)
        guard CaseStore.isValidCaseID(caseID) else { throw ExhibitError(.usage, "\(caseID) is not a case id.") }
        let directory = workspace.casesDirectory + "/" + caseID
        let ledger = Ledger(directory: directory)
        let exists = FileManager.default.fileExists(atPath: ledger.path)
        if clone, exists { throw ExhibitError(.usage, "The workspace already has case \(caseID); pull it instead of cloning.") }
        if !clone, !exists { throw ExhibitError(.usage, "The workspace has no case \(caseID); clone it first.") }
        return try await withConnection(remote.url, caFile: remote.caFile) { connection throws(ExhibitError) -> Pulled in
            _ = try await importActors(connection, signer: signer)
            let answer = try connection.check(try await connection.send(.GET, "/v1/cases/\(caseID)", signer: signer))
            let lines = answer["entries"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var entries: [LedgerEntry] = []
            for line in lines { entries.append(try LedgerEntry(line: Array(line.utf8))) }
            var local: [LedgerEntry] = []
            if exists { local = try ledger.entries() }
            for (index, entry) in local.enumerated() {
                guard index < entries.count else {
                    throw ExhibitError(.verificationFailed, "The workstation's ledger of \(caseID) has \(local.count) entries and the evidence server's \(entries.count): push it instead of pulling.")
                }
                guard entries[index].hash == entry.hash else {
                    // Fast-forward only, like the server: a local entry (a verify or an export on a
                    // clone is one too) that was never pushed cannot be re-chained after others'.
                    throw ExhibitError(.verificationFailed, "The history of \(caseID) diverged from the evidence server's at entry \(index + 1) (here \(entry.action) by \(entry.actor), on the server \(entries[index].action) by \(entries[index].actor)), because an entry made here was not pushed before another workstation pushed; nothing was pulled.")
                }
            }
            if local.count == entries.count { return Pulled(caseID: caseID, added: 0, entryCount: local.count, filesFetched: 0) }
            try Self.makeDirectory(directory)
            var fetched = 0
            for file in answer["files"]?.arrayValue ?? [] {
                guard let path = file["path"]?.stringValue, let sha = file["sha256"]?.stringValue, RecordedFiles.isSafe(path),
                      EvidenceStore.isDigest(sha) else { continue }
                let target = directory + "/" + path
                if (try? Digest.file(atPath: target))?.digests[.sha256] == sha { continue }
                let bytes = try await fileBytes(connection, caseID: caseID, sha: sha, size: file["size"]?.intValue ?? 0, signer: signer)
                guard Digest.sha256Hex(bytes) == sha else {
                    throw ExhibitError(.verificationFailed, "The file \(path) of \(caseID) from the evidence server does not have its recorded sha256.")
                }
                try Self.makeDirectory((target as NSString).deletingLastPathComponent)
                try AtomicFile.write(bytes, to: target, mode: 0o600)
                fetched += 1
            }
            let newLines = lines[local.count...].map { $0 + "\n" }.joined()
            let ledgerPath = ledger.path
            let fd = open(ledgerPath, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw AtomicFile.posixError("Cannot open the ledger of \(caseID)") }
            defer { close(fd) }
            let witness = workspace.witness
            try FileLock.withLock(fd, .exclusive, what: "the ledger of \(caseID)") { () throws(ExhibitError) in
                // Compare-and-swap (DESIGN §16): the ledger must still end where it did when compared.
                let size = try AppendOnlyFile.size(fd, what: ledgerPath)
                let now = Ledger.lines(of: try AtomicFile.read(ledgerPath)).filter(\.terminated)
                guard now.count == local.count, (now.last.flatMap { try? LedgerEntry(line: Array($0.bytes)) })?.hash == local.last?.hash else {
                    throw ExhibitError(.verificationFailed, "The ledger of \(caseID) changed while it was being pulled; nothing was added, pull again.")
                }
                try AppendOnlyFile.append(Array(newLines.utf8), to: fd, previousSize: size, what: ledgerPath)
                // The witness log remembers the pulled head, so cutting pulled entries is TRUNCATED locally too.
                if let last = entries.last {
                    do throws(ExhibitError) {
                        try witness.witness(last, signer: signer)
                    } catch {
                        AppendOnlyFile.rollBack(fd, to: size)
                        throw error
                    }
                }
            }
            try CaseStore(workspace: workspace, templates: try CaseTemplates.load()).refreshCache(caseID)
            return Pulled(caseID: caseID, added: entries.count - local.count, entryCount: entries.count, filesFetched: fetched)
        }
    }

    static func makeDirectory(_ path: String) throws(ExhibitError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ExhibitError(.storage, "Cannot create \(path): \(error.localizedDescription)")
        }
    }

    func fileBytes(_ connection: RemoteConnection, caseID: String, sha: String, size: Int64, signer: LedgerSigner) async throws(ExhibitError) -> [UInt8] {
        let answer = try await connection.send(.GET, "/v1/cases/\(caseID)/files/\(sha)", expecting: size, signer: signer)
        _ = try connection.check(answer.status == 200 ? RemoteConnection.Answer(status: 200, body: Array("{}".utf8)) : answer)
        return answer.body
    }

    /// Agency-wide search on the server, over the cases the actor's roles allow.
    public func search(_ words: String, remote name: String?) async throws(ExhibitError) -> [Hit] {
        let remote = try pinnedRemote(name)
        let signer = try actors.signer(for: actorID)
        let body = (try? JSONValue.object(["query": .string(words)]).canonicalBytes()) ?? []
        return try await withConnection(remote.url, caFile: remote.caFile) { connection throws(ExhibitError) -> [Hit] in
            let answer = try connection.check(try await connection.send(.POST, "/v1/search", body: body, signer: signer))
            return (answer["hits"]?.arrayValue ?? []).compactMap(Hit.init(json:))
        }
    }
}
