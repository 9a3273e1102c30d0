import Foundation

/// The workspace's witness log, `witness.jsonl` (DESIGN §16, docs/ledger.md).
///
/// One hash-chained, signed line per sealed append batch of any case:
/// `{"actor","case","seq","head","time","prev","hash","sig"}`, hashed like a ledger
/// entry (sha256 of the canonical JSON of every field but `hash` and `sig`). A case
/// ledger alone cannot show that entries were cut from its end: the chain of what
/// is left still holds. The witness remembers every head each case reached, so a
/// ledger that no longer reaches one is `TRUNCATED`; and since one line covers
/// every case, one trusted timestamp or server receipt over its head anchors the
/// whole workspace.
public struct WitnessLog: Sendable {
    /// One line: case `caseID` reached `seq` entries ending with `head` (a `head`
    /// record), an evidence server signed a receipt for that head (`receipt`), or a
    /// server's receipt key was pinned (`pin`, no case: `caseID` and `head` are empty).
    public struct Record: Sendable, Equatable {
        public var actor: String
        public var caseID: String
        public var seq: Int64
        public var head: String
        public var time: String
        public var prev: String
        public var hash: String
        public var signature: String
        /// Head records, the only kind before the evidence server, carry no `kind`
        /// field, so their lines and hashes are what they always were.
        public var kind: Kind = .head

        /// The object whose canonical form `hash` is the sha256 of.
        public var chainedFields: JSONValue {
            var members: [String: JSONValue] = ["actor": .string(actor), "time": .string(time), "prev": .string(prev)]
            if kind.hasCase {
                members["case"] = .string(caseID)
                members["seq"] = .integer(seq)
                members["head"] = .string(head)
            }
            for (key, value) in kind.fields { members[key] = value }
            return .object(members)
        }

        public func computedHash() -> String {
            Digest.sha256Hex((try? chainedFields.canonicalBytes()) ?? [])
        }

        func line() throws(ExhibitError) -> [UInt8] {
            try SignedLine.bytes(chainedFields, hash: hash, signature: signature, what: "A witness record")
        }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    private var what: String { "the witness log \(path)" }

    /// Records that `caseID` now ends at `entry`. Call while holding that case's
    /// ledger lock, so that one case's records are in the order of its appends.
    @discardableResult
    public func witness(_ entry: LedgerEntry, signer: LedgerSigner) throws(ExhibitError) -> Record {
        try append(Record(actor: signer.actorID, caseID: entry.caseID, seq: entry.seq, head: entry.hash,
                          time: "", prev: "", hash: "", signature: ""), signer: signer)
    }

    /// Appends `record` (its `time`, `prev`, `hash` and `sig` are filled in here),
    /// chained to the last line and signed by `signer`.
    @discardableResult
    public func append(_ record: Record, signer: LedgerSigner) throws(ExhibitError) -> Record {
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot open \(what)") }
        defer { close(fd) }
        let written = try FileLock.withLock(fd, .exclusive, what: what) { () throws(ExhibitError) -> Record in
            try append(record, signer: signer, fd: fd)
        }
        if !existed { AtomicFile.syncDirectory(containing: path) }
        return written
    }

    /// The append, under the exclusive lock.
    private func append(_ unsigned: Record, signer: LedgerSigner, fd: Int32) throws(ExhibitError) -> Record {
            let size = try AppendOnlyFile.size(fd, what: what)
            var last: Ledger.Line?
            try AppendOnlyFile.scanBackwards(fd, what: what) { line in
                last = line
                return true
            }
            var prev = LedgerEntry.genesisPrev
            if let last {
                if !last.terminated {
                    // Only power loss leaves a torn line (a failed append is cut back):
                    // its bytes are kept beside the log, never deleted, and the log
                    // goes on from its last complete line.
                    try setAside(Array(last.bytes), fd: fd, size: size)
                    return try append(unsigned, signer: signer, fd: fd)
                }
                guard let previous = Record(line: last.bytes) else {
                    throw ExhibitError(.verificationFailed, "The last line of \(what) is damaged, so nothing can be chained to it; run `exhibit verify` on the case.")
                }
                prev = previous.hash
            }
            var record = unsigned
            record.actor = signer.actorID
            record.time = LedgerTime.now()
            record.prev = prev
            record.hash = record.computedHash()
            record.signature = Data(try signer.key.sign(Array(record.hash.utf8))).base64EncodedString()
            try AppendOnlyFile.append(try record.line() + [UInt8(ascii: "\n")], to: fd, previousSize: size, what: what)
            return record
    }

    /// Moves a torn last line into `witness.jsonl.torn-<sha256>` and cuts it off.
    private func setAside(_ torn: [UInt8], fd: Int32, size: Int64) throws(ExhibitError) {
        try AtomicFile.write(torn, to: path + ".torn-" + Digest.sha256Hex(torn))
        guard ftruncate(fd, off_t(size - Int64(torn.count))) == 0, fsync(fd) == 0 else {
            throw AtomicFile.posixError("Cannot cut the torn line off \(what)")
        }
    }

    /// The latest record of `caseID`, or nil when the witness never saw the case
    /// (a workspace made before the witness log, or a case made elsewhere).
    /// Unreadable lines are passed over here; verify reports them.
    public func latest(for caseID: String) throws(ExhibitError) -> Record? {
        // A receipt may name an older head than the ledger's last (a push races an
        // append), so only head records say where the ledger ends. Canonical JSON
        // spells the key as the needle does.
        try last(containing: "\"case\":\"\(caseID)\"") { $0.caseID == caseID && $0.kind == .head }
    }

    /// The outcome of checking the log.
    public struct Report: Sendable {
        /// The head records, in the order of the log.
        public var records: [Record]
        /// The receipt and pin records (the evidence server's), in the order of the log.
        public var serverRecords: [Record] = []
        public var findings: [Verifier.Finding]
    }

    /// Checks the chain and hashes of every line, and the signatures of the lines
    /// of `caseID` (or of all lines when nil). Findings are reported against
    /// `witness.jsonl`. A missing log is no finding: workspaces made before it.
    public func check(caseID: String?, keyFor: (String) -> VerifyingKey?) throws(ExhibitError) -> Report {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return Report(records: [], findings: []) }
            throw AtomicFile.posixError("Cannot read \(what)")
        }
        defer { close(fd) }
        let bytes = try FileLock.withLock(fd, .shared, what: what) { () throws(ExhibitError) -> [UInt8] in try AtomicFile.read(path) }
        let name = "witness.jsonl"
        var findings: [Verifier.Finding] = []
        var records: [Record] = []
        var serverRecords: [Record] = []
        var prev = LedgerEntry.genesisPrev
        var keys: [String: VerifyingKey?] = [:]
        for (index, line) in Ledger.lines(of: bytes).enumerated() {
            guard line.terminated else {
                findings.append(.init(.tornTail, path: name, detail: "line \(index + 1) of the workspace witness log is incomplete (a write torn by a crash)"))
                continue
            }
            guard let record = Record(line: line.bytes) else {
                findings.append(.init(.tampered, path: name, detail: "line \(index + 1) of the workspace witness log is not a witness record"))
                prev = ""
                continue
            }
            if record.prev != prev {
                findings.append(.init(.chainBroken, path: name, detail: "line \(index + 1) of the workspace witness log does not chain to the line before (a line was removed, added or changed)"))
            }
            if record.computedHash() != record.hash {
                findings.append(.init(.tampered, path: name, detail: "line \(index + 1) of the workspace witness log does not match its hash"))
            }
            // A pin concerns every case: a receipt is checked with the key it pinned.
            if caseID == nil || record.caseID == caseID || !record.kind.hasCase {
                if keys[record.actor] == nil { keys[record.actor] = .some(keyFor(record.actor)) }
                let signature = Data(base64Encoded: record.signature).map { Array($0) } ?? []
                if keys[record.actor]??.isValidSignature(signature, for: Array(record.hash.utf8)) != true {
                    findings.append(.init(.badSignature, path: name, detail: "line \(index + 1) of the workspace witness log is not signed by actor \(record.actor)"))
                }
            }
            prev = record.hash
            if record.kind == .head { records.append(record) } else { serverRecords.append(record) }
        }
        return Report(records: records, serverRecords: serverRecords, findings: findings)
    }
}

// In an extension, so that Record keeps its memberwise initialiser.
extension WitnessLog.Record {
    /// Parses a line; nil when it is not a witness record.
    public init?(line: ArraySlice<UInt8>) {
        guard let json = try? JSONValue(parsing: Array(line)),
              let actor = json["actor"]?.stringValue,
              let time = json["time"]?.stringValue, let prev = json["prev"]?.stringValue,
              let hash = json["hash"]?.stringValue, let signature = json["sig"]?.stringValue,
              let kind = WitnessLog.Kind(json) else { return nil }
        var caseID = "", head = "", seq: Int64 = 0
        if kind.hasCase {
            guard let named = json["case"]?.stringValue, let number = json["seq"]?.intValue, let reached = json["head"]?.stringValue else { return nil }
            (caseID, seq, head) = (named, number, reached)
        }
        guard json.objectValue?.count == 5 + (kind.hasCase ? 3 : 0) + kind.fields.count else { return nil }
        self.init(actor: actor, caseID: caseID, seq: seq, head: head, time: time, prev: prev, hash: hash, signature: signature, kind: kind)
    }
}
