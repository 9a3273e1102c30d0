import Foundation

/// The evidence server's records in the workspace witness log (DESIGN §16, §22).
///
/// `remote add` writes a `pin` record (the remote's name, URL and receipt key), signed
/// by the actor who added it, so the key a workstation trusts is covered by the
/// witness chain instead of living only in the unsigned `remotes.json`. Each accepted
/// push writes a `receipt` record: the server's signed `{case, seq, head, time}`. A
/// ledger cut short below a receipted entry, or whose entry differs from the receipt's
/// head, then fails `exhibit verify` with the server's signature as the proof.
extension WitnessLog {
    /// What a witness line records.
    public enum Kind: Sendable, Equatable {
        /// The case reached `seq` entries ending with `head` on this workstation.
        case head
        /// An evidence server accepted the case up to `seq`/`head` and signed it.
        case receipt(ServerReceipt)
        /// An evidence server's receipt key, pinned when it was added.
        case pin(ServerPin)

        /// Head and receipt records name a case, its `seq` and `head`; a pin does not.
        var hasCase: Bool {
            if case .pin = self { return false }
            return true
        }

        /// The fields a kind adds to a record (none for a head record, as before).
        var fields: [String: JSONValue] {
            switch self {
            case .head:
                return [:]
            case .receipt(let receipt):
                return ["kind": .string("receipt"), "remote": .string(receipt.remote),
                        "receipt_time": .string(receipt.time), "receipt_sig": .string(receipt.signature)]
            case .pin(let pin):
                return ["kind": .string("pin"), "remote": .string(pin.remote), "url": .string(pin.url), "server_key": .string(pin.serverKey)]
            }
        }

        /// The kind of a parsed line; nil when its `kind` is unknown or lacks a field.
        init?(_ json: JSONValue) {
            switch json["kind"]?.stringValue {
            case nil:
                self = .head
            case "receipt":
                guard let remote = json["remote"]?.stringValue, let time = json["receipt_time"]?.stringValue,
                      let signature = json["receipt_sig"]?.stringValue else { return nil }
                self = .receipt(ServerReceipt(remote: remote, time: time, signature: signature))
            case "pin":
                guard let remote = json["remote"]?.stringValue, let url = json["url"]?.stringValue,
                      let key = json["server_key"]?.stringValue else { return nil }
                self = .pin(ServerPin(remote: remote, url: url, serverKey: key))
            default:
                return nil
            }
        }
    }

    /// A server's receipt: its time and its Ed25519 signature over ``signedFields(caseID:seq:head:time:)``.
    public struct ServerReceipt: Sendable, Equatable {
        /// The remote's name in the workspace.
        public var remote: String
        /// When the server signed it.
        public var time: String
        /// Base64 of the server's signature.
        public var signature: String

        public init(remote: String, time: String, signature: String) {
            self.remote = remote
            self.time = time
            self.signature = signature
        }

        /// The object a receipt's signature covers (its canonical JSON, RFC 8785): what the
        /// server signs and every workstation checks.
        public static func signedFields(caseID: String, seq: Int64, head: String, time: String) -> JSONValue {
            .object(["case": .string(caseID), "seq": .integer(seq), "head": .string(head), "time": .string(time)])
        }

        /// True when `key` signed this receipt for `caseID` at `seq`/`head`.
        public func isSigned(by key: VerifyingKey, caseID: String, seq: Int64, head: String) -> Bool {
            guard let message = try? Self.signedFields(caseID: caseID, seq: seq, head: head, time: time).canonicalBytes(),
                  let bytes = Data(base64Encoded: signature) else { return false }
            return key.isValidSignature(Array(bytes), for: message)
        }
    }

    /// A remote's pinned receipt key.
    public struct ServerPin: Sendable, Equatable {
        public var remote: String
        public var url: String
        /// The server's receipt key, SubjectPublicKeyInfo PEM as the server sent it.
        public var serverKey: String

        public init(remote: String, url: String, serverKey: String) {
            self.remote = remote
            self.url = url
            self.serverKey = serverKey
        }

        /// `sha256:` and the hex digest of the key's DER bytes, for people to compare.
        public var fingerprint: String {
            let body = serverKey.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            return "sha256:" + Digest.sha256Hex(Data(base64Encoded: body).map(Array.init) ?? Array(serverKey.utf8))
        }
    }

    /// Records that the evidence server `pin.remote` signs its receipts with `pin.serverKey`.
    @discardableResult
    public func pin(_ pin: ServerPin, signer: LedgerSigner) throws(ExhibitError) -> Record {
        try append(Record(actor: signer.actorID, caseID: "", seq: 0, head: "", time: "", prev: "", hash: "", signature: "", kind: .pin(pin)),
                   signer: signer)
    }

    /// Records a server's receipt for `caseID` at `seq`/`head`.
    @discardableResult
    public func receipt(_ receipt: ServerReceipt, caseID: String, seq: Int64, head: String, signer: LedgerSigner) throws(ExhibitError) -> Record {
        try append(Record(actor: signer.actorID, caseID: caseID, seq: seq, head: head, time: "", prev: "", hash: "", signature: "",
                          kind: .receipt(receipt)), signer: signer)
    }

    /// The last record matching `isWanted` whose line holds `needle` (a cheap filter before
    /// parsing), or nil. Unreadable lines are passed over here; verify reports them.
    func last(containing needle: String, where isWanted: (Record) -> Bool) throws(ExhibitError) -> Record? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw AtomicFile.posixError("Cannot read the witness log \(path)")
        }
        defer { close(fd) }
        let bytes = Array(needle.utf8)
        return try FileLock.withLock(fd, .shared, what: "the witness log \(path)") { () throws(ExhibitError) -> Record? in
            var found: Record?
            try AppendOnlyFile.scanBackwards(fd, what: "the witness log \(path)") { line in
                guard line.terminated, line.bytes.firstRange(of: bytes) != nil, let record = Record(line: line.bytes), isWanted(record) else { return false }
                found = record
                return true
            }
            return found
        }
    }

    /// The latest pin of `remote`, checked: its line's hash, and its signature by the
    /// actor who wrote it (`keyFor`). Nil when the remote was never pinned here.
    public func pinned(_ remote: String, keyFor: (String) -> VerifyingKey?) throws(ExhibitError) -> ServerPin? {
        guard let record = try last(containing: "\"kind\":\"pin\"", where: { record in
            if case .pin(let pin) = record.kind { return pin.remote == remote }
            return false
        }), case .pin(let pin) = record.kind else { return nil }
        let signature = Data(base64Encoded: record.signature).map(Array.init) ?? []
        guard record.computedHash() == record.hash,
              keyFor(record.actor)?.isValidSignature(signature, for: Array(record.hash.utf8)) == true else {
            throw ExhibitError(.verificationFailed, "The pin of evidence server \(remote) in the witness log \(path) is not signed by actor \(record.actor) or was changed; run exhibit verify.")
        }
        return pin
    }

    /// The latest receipt of `remote` for `caseID`, if any.
    public func latestReceipt(of remote: String, caseID: String) throws(ExhibitError) -> (record: Record, receipt: ServerReceipt)? {
        guard let record = try last(containing: "\"kind\":\"receipt\"", where: { record in
            if case .receipt(let receipt) = record.kind { return receipt.remote == remote && record.caseID == caseID }
            return false
        }), case .receipt(let receipt) = record.kind else { return nil }
        return (record, receipt)
    }

    /// Checks `caseID`'s receipts in a checked log: each must be signed by the key pinned
    /// for its remote before it, and the ledger (`entries`) must still reach its entry
    /// with its head. Findings name the witness log as `logPath` and the ledger as `ledger.jsonl`.
    public static func checkReceipts(_ report: Report, caseID: String, entries: [LedgerEntry], logPath: String) -> [Verifier.Finding] {
        var pins: [String: ServerPin] = [:]
        var keys: [String: VerifyingKey] = [:]
        var findings: [Verifier.Finding] = []
        let bySeq = Dictionary(entries.map { ($0.seq, $0.hash) }, uniquingKeysWith: { first, _ in first })
        for record in report.serverRecords {
            if case .pin(let pin) = record.kind {
                pins[pin.remote] = pin
                keys[pin.remote] = try? VerifyingKey(pem: pin.serverKey)
                continue
            }
            guard case .receipt(let receipt) = record.kind, record.caseID == caseID else { continue }
            let named = "evidence server \(receipt.remote)"
            guard let pin = pins[receipt.remote] else {
                findings.append(.init(.tampered, path: logPath, seq: record.seq, detail: "the workspace witness log holds a receipt of \(named) for entry \(record.seq) of this case, but no pin of \(receipt.remote)'s key comes before it"))
                continue
            }
            guard let key = keys[receipt.remote], receipt.isSigned(by: key, caseID: caseID, seq: record.seq, head: record.head) else {
                findings.append(.init(.badSignature, path: logPath, seq: record.seq, detail: "the receipt of \(named) for entry \(record.seq) of this case (\(receipt.time)) is not signed by the key pinned for it (\(pin.fingerprint))"))
                continue
            }
            if record.seq > Int64(entries.count) {
                findings.append(.init(.tampered, path: "ledger.jsonl", seq: record.seq, detail: "\(named) signed a receipt for entry \(record.seq) of this case (head \(record.head), \(receipt.time)), but the ledger has \(entries.count) entries: entries the server holds were cut from its end"))
            } else if let hash = bySeq[record.seq], hash != record.head {
                findings.append(.init(.tampered, path: "ledger.jsonl", seq: record.seq, detail: "\(named) signed a receipt for head \(record.head) at entry \(record.seq) (\(receipt.time)); the ledger's entry \(record.seq) is \(hash)"))
            }
        }
        return findings
    }
}
