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
    /// One line: case `caseID` reached `seq` entries ending with `head`.
    public struct Record: Sendable, Equatable {
        public var actor: String
        public var caseID: String
        public var seq: Int64
        public var head: String
        public var time: String
        public var prev: String
        public var hash: String
        public var signature: String

        /// The object whose canonical form `hash` is the sha256 of.
        public var chainedFields: JSONValue {
            .object([
                "actor": .string(actor), "case": .string(caseID), "seq": .integer(seq),
                "head": .string(head), "time": .string(time), "prev": .string(prev),
            ])
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
        let existed = FileManager.default.fileExists(atPath: path)
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot open \(what)") }
        defer { close(fd) }
        let record = try FileLock.withLock(fd, .exclusive, what: what) { () throws(ExhibitError) -> Record in
            try witness(entry, signer: signer, fd: fd)
        }
        if !existed { AtomicFile.syncDirectory(containing: path) }
        return record
    }

    /// The append, under the exclusive lock.
    private func witness(_ entry: LedgerEntry, signer: LedgerSigner, fd: Int32) throws(ExhibitError) -> Record {
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
                    return try witness(entry, signer: signer, fd: fd)
                }
                guard let previous = Record(line: last.bytes) else {
                    throw ExhibitError(.verificationFailed, "The last line of \(what) is damaged, so nothing can be chained to it; run `exhibit verify` on the case.")
                }
                prev = previous.hash
            }
            var record = Record(actor: signer.actorID, caseID: entry.caseID, seq: entry.seq, head: entry.hash,
                                time: LedgerTime.now(), prev: prev, hash: "", signature: "")
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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw AtomicFile.posixError("Cannot read \(what)")
        }
        defer { close(fd) }
        return try FileLock.withLock(fd, .shared, what: what) { () throws(ExhibitError) -> Record? in
            var found: Record?
            let needle = Array("\"case\":\"\(caseID)\"".utf8)
            try AppendOnlyFile.scanBackwards(fd, what: what) { line in
                // Cheap filter before parsing: canonical JSON spells the key this way.
                guard line.terminated, line.bytes.firstRange(of: needle) != nil,
                      let record = Record(line: line.bytes), record.caseID == caseID else { return false }
                found = record
                return true
            }
            return found
        }
    }

    /// The outcome of checking the log.
    public struct Report: Sendable {
        public var records: [Record]
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
            if caseID == nil || record.caseID == caseID {
                if keys[record.actor] == nil { keys[record.actor] = .some(keyFor(record.actor)) }
                let signature = Data(base64Encoded: record.signature).map { Array($0) } ?? []
                if keys[record.actor]??.isValidSignature(signature, for: Array(record.hash.utf8)) != true {
                    findings.append(.init(.badSignature, path: name, detail: "line \(index + 1) of the workspace witness log is not signed by actor \(record.actor)"))
                }
            }
            prev = record.hash
            records.append(record)
        }
        return Report(records: records, findings: findings)
    }
}

// In an extension, so that Record keeps its memberwise initialiser.
extension WitnessLog.Record {
    /// Parses a line; nil when it is not a witness record.
    public init?(line: ArraySlice<UInt8>) {
        guard let json = try? JSONValue(parsing: Array(line)),
              let actor = json["actor"]?.stringValue, let caseID = json["case"]?.stringValue,
              let seq = json["seq"]?.intValue, let head = json["head"]?.stringValue,
              let time = json["time"]?.stringValue, let prev = json["prev"]?.stringValue,
              let hash = json["hash"]?.stringValue, let signature = json["sig"]?.stringValue,
              json.objectValue?.count == 8 else { return nil }
        self.init(actor: actor, caseID: caseID, seq: seq, head: head, time: time, prev: prev, hash: hash, signature: signature)
    }
}
