public import ChainOfCustody
import Foundation

/// The workspace's register of disposed cases, disposals.jsonl (DESIGN §2):
/// append-only, one certificate per line, hash-chained like a case ledger.
///
/// Appends take an exclusive `flock` on the file, write the line in one `write`
/// and fsync before returning (the pattern of ``Ledger``), and are made under the
/// workspace lock, which also serialises case-id allocation.
public struct DisposalRegister: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public init(workspace: Workspace) {
        self.path = workspace.disposalsPath
    }

    /// The file's bytes under a shared lock (empty when no case was ever disposed of).
    public func read() throws(ExhibitError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileLock.withLock(path: path, .shared, what: "the disposal register \(path)") { (_: Int32) throws(ExhibitError) -> [UInt8] in
            try AtomicFile.read(path)
        }
    }

    /// Every complete, readable certificate, in order; damaged lines are skipped
    /// (``verify(keyFor:casesDirectory:)`` reports them).
    public func certificates() throws(ExhibitError) -> [DisposalCertificate] {
        Ledger.lines(of: try read()).filter(\.terminated).compactMap { line in
            (try? JSONValue(parsing: Array(line.bytes))).flatMap { try? DisposalCertificate(json: $0) }
        }
    }

    /// The certificate of a case, when it was disposed of.
    public func certificate(for caseID: String) throws(ExhibitError) -> DisposalCertificate? {
        try certificates().last { $0.caseID == caseID }
    }

    /// Appends a certificate: numbers it, chains it to the last line, hashes and
    /// signs it. Call under the workspace lock. On failure the file is cut back
    /// to its previous length, so no torn line is left behind.
    func append(_ draft: DisposalCertificate, signer: LedgerSigner) throws(ExhibitError) -> DisposalCertificate {
        let existed = FileManager.default.fileExists(atPath: path)
        let certificate = try FileLock.withLock(
            path: path, flags: O_RDWR | O_APPEND | O_CREAT, .exclusive, what: "the disposal register \(path)"
        ) { (fd: Int32) throws(ExhibitError) -> DisposalCertificate in try appendLocked(draft, signer: signer, fd: fd) }
        if !existed { AtomicFile.syncDirectory(containing: path) }
        return certificate
    }

    private func appendLocked(_ draft: DisposalCertificate, signer: LedgerSigner, fd: Int32) throws(ExhibitError) -> DisposalCertificate {

        let bytes = try AtomicFile.read(path)
        if let last = bytes.last, last != UInt8(ascii: "\n") {
            throw ExhibitError(.storage, "The disposal register \(path) ends with an incomplete line, so no certificate can be appended safely; run `exhibit verify \(path)` and restore the register from a copy.")
        }
        var certificate = draft
        certificate.seq = 1
        certificate.prev = LedgerEntry.genesisPrev
        if let last = Ledger.lines(of: bytes).last {
            guard let head = (try? JSONValue(parsing: Array(last.bytes))),
                  let seq = head["seq"]?.intValue, let hash = head["hash"]?.stringValue else {
                throw ExhibitError(.storage, "The last line of the disposal register \(path) is damaged, so no certificate can be chained to it; run `exhibit verify \(path)`.")
            }
            certificate.seq = seq + 1
            certificate.prev = hash
        }
        certificate.time = LedgerTime.now()
        certificate.hash = DisposalCertificate.computedHash(of: certificate.hashedFields.objectValue ?? [:]) ?? ""
        certificate.signature = Data(try signer.key.sign(Array(certificate.hash.utf8))).base64EncodedString()
        let line = try certificate.line() + [UInt8(ascii: "\n")]
        try AppendOnlyFile.append(line, to: fd, previousSize: Int64(bytes.count), what: "the disposal register \(path)")
        return certificate
    }

    /// Cuts an incomplete last line (a crash during ``append(_:signer:)``) back to
    /// the last newline. Only for rolling back an interrupted disposal, whose
    /// certificate that line would have been; returns whether anything was cut.
    func truncateTornTail() -> Bool {
        guard let bytes = try? read(), let last = bytes.last, last != UInt8(ascii: "\n") else { return false }
        let keep = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard ftruncate(fd, off_t(keep)) == 0 else { return false }
        fsync(fd)
        return true
    }

    /// The outcome of checking the register.
    public struct Report: Sendable {
        public var path: String
        public var certificateCount: Int
        public var head: String?
        public var findings: [Verifier.Finding]
        public var intact: Bool { !findings.contains(where: \.isFailure) }
    }

    /// Checks every line: that it parses, its place in the sequence and the chain,
    /// its hash, its signature against the actor's public key, that no case is
    /// certified twice, and (given `casesDirectory`) that no certified case is
    /// still present. Lenient: every problem is reported and checking goes on.
    public func verify(keyFor: (String) -> VerifyingKey?, casesDirectory: String?) throws(ExhibitError) -> Report {
        let name = (path as NSString).lastPathComponent
        let pending = casesDirectory.map(Disposal.pendingCaseIDs(in:)) ?? []
        var findings: [Verifier.Finding] = []
        var previousHash: String?
        var previousSeq: Int64 = 0
        var previousReadable = true
        var seen: Set<String> = []
        var count = 0
        for (index, line) in Ledger.lines(of: try read()).enumerated() {
            let number = index + 1
            guard let value = try? JSONValue(parsing: Array(line.bytes)), let object = value.objectValue else {
                if !line.terminated && !pending.isEmpty {
                    findings.append(.init(.interrupted, path: name, detail: "line \(number) is an unfinished certificate of an interrupted disposal; the next `exhibit dispose` or `exhibit retention` rolls it back"))
                } else {
                    findings.append(.init(.tampered, path: name, detail: line.terminated ? "line \(number) is not a certificate (not a JSON object)" : "line \(number) is truncated"))
                }
                previousReadable = false
                continue
            }
            let seq = value["seq"]?.intValue
            let caseID = value["case"]?.stringValue ?? "?"
            if !line.terminated {
                findings.append(.init(.tampered, path: name, seq: seq, detail: "the last line has no newline: the register was truncated or a write was torn"))
            }
            if previousReadable {
                if seq != previousSeq + 1 {
                    findings.append(.init(.chainBroken, path: name, seq: seq, detail: "expected seq \(previousSeq + 1) at line \(number), found \(seq.map(String.init) ?? "none") (a certificate was removed, added or moved)"))
                }
                let expectedPrev = previousHash ?? LedgerEntry.genesisPrev
                if value["prev"]?.stringValue != expectedPrev {
                    findings.append(.init(.chainBroken, path: name, seq: seq, detail: "prev does not match \(previousHash == nil ? "64 zeros for the first certificate" : "the hash of the certificate before it") — expected \(expectedPrev) found \(value["prev"]?.stringValue ?? "none")"))
                }
            }
            let recorded = value["hash"]?.stringValue ?? ""
            let computed = DisposalCertificate.computedHash(of: object) ?? "(uncomputable)"
            if computed != recorded {
                findings.append(.init(.tampered, path: name, seq: seq, detail: "the certificate of \(caseID) does not match its hash — expected \(recorded) found \(computed)"))
            }
            if let problem = Self.structureProblem(value) {
                findings.append(.init(.tampered, path: name, seq: seq, detail: "the certificate of \(caseID) is malformed: \(problem)"))
            }
            let actor = value["actor"]?.stringValue ?? ""
            if let key = keyFor(actor) {
                let signature = value["sig"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
                if !key.isValidSignature(signature, for: Array(recorded.utf8)) {
                    findings.append(.init(.badSignature, path: name, seq: seq, detail: "the signature of the certificate of \(caseID) does not verify with actor \(actor)'s public key"))
                }
            } else {
                findings.append(.init(.badSignature, path: name, seq: seq, detail: "no public key for actor \"\(actor)\""))
            }
            if !seen.insert(caseID).inserted {
                findings.append(.init(.tampered, path: name, seq: seq, detail: "case \(caseID) is certified as disposed of more than once"))
            }
            if let casesDirectory, CaseStore.isValidCaseID(caseID),
               FileManager.default.fileExists(atPath: casesDirectory + "/" + caseID) {
                findings.append(.init(.unexpected, path: "cases/\(caseID)", seq: seq, detail: "certified as disposed of, but the case directory is still present"))
            }
            if pending.contains(caseID) {
                findings.append(.init(.interrupted, path: "cases/\(Disposal.stagingPrefix)\(caseID)", seq: seq, detail: "disposed of, but the removal was interrupted; the next `exhibit dispose` or `exhibit retention` finishes it"))
            }
            previousHash = recorded
            previousSeq = seq ?? previousSeq + 1
            previousReadable = true
            count += 1
        }
        return Report(path: path, certificateCount: count, head: previousHash, findings: findings)
    }

    static func structureProblem(_ value: JSONValue) -> String? {
        do {
            _ = try DisposalCertificate(json: value)
            return nil
        } catch {
            return error.message
        }
    }

    /// Public keys of the workspace that holds the register (its actors/ beside it).
    public static func workspaceKeys(forRegister path: String) -> (String) -> VerifyingKey? {
        let root = (path as NSString).deletingLastPathComponent
        return { id in
            guard ActorRegistry.isValidID(id),
                  let bytes = try? AtomicFile.read("\(root.isEmpty ? "." : root)/actors/\(id).json"),
                  let pem = (try? JSONValue(parsing: bytes))?["public_key"]?.stringValue else { return nil }
            return try? VerifyingKey(pem: pem)
        }
    }
}
