import Foundation

/// Checks evidence against its custody ledger and reports every problem found.
public enum Verifier {
    /// One problem, printed one per line (DESIGN §8):
    /// `TAMPERED ledger.jsonl seq 4 — subject does not match subject_digest`.
    public struct Finding: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable {
            case tampered = "TAMPERED"
            case missing = "MISSING"
            case unexpected = "UNEXPECTED"
            case badSignature = "BAD-SIGNATURE"
            case badTimestamp = "BAD-TIMESTAMP"
            case chainBroken = "CHAIN-BROKEN"
            /// The ledger no longer reaches a head that the workspace witness log
            /// (or case.json) recorded: entries were cut from its end (DESIGN §16).
            case truncated = "TRUNCATED"
            /// The last line is incomplete, as only power loss during an append
            /// leaves it; `exhibit recover` sets the bytes aside (DESIGN §16).
            case tornTail = "TORN-TAIL"
            /// Not a failure: a leftover temporary file from an interrupted write.
            case interrupted = "INTERRUPTED"
        }

        public var kind: Kind
        /// The file, relative to the case directory.
        public var path: String
        /// The ledger entry concerned, when there is one.
        public var seq: Int64?
        /// What was expected and what was found.
        public var detail: String

        public init(_ kind: Kind, path: String, seq: Int64? = nil, detail: String) {
            self.kind = kind
            self.path = path
            self.seq = seq
            self.detail = detail
        }

        /// Whether this finding makes the case fail verification.
        public var isFailure: Bool { kind != .interrupted }

        public var line: String {
            var text = "\(kind.rawValue) \(path)"
            if let seq { text += " seq \(seq)" }
            return text + " — " + detail
        }
    }

    /// The outcome of checking a ledger.
    public struct LedgerReport: Sendable {
        public var entries: [LedgerEntry]
        public var findings: [Finding]
        public var withheldCount: Int
        /// The `hash` of the last readable entry.
        public var head: String?
        /// Whether every line was a whole, readable entry (so `entries` is the whole ledger).
        public var everyLineRead = true
    }

    /// Checks a ledger's lines: parse, sequence, chain, hashes, subject digests and
    /// signatures. `keyFor` returns an actor's public key, or nil when unknown; it is
    /// asked once per actor.
    /// Lenient: a damaged line is reported and checking goes on.
    public static func checkLedger(
        bytes: [UInt8], path: String = "ledger.jsonl", caseID: String?,
        keyFor: (String) -> VerifyingKey?
    ) -> LedgerReport {
        var findings: [Finding] = []
        var entries: [LedgerEntry] = []
        var withheld = 0
        var previous: LedgerEntry?
        var previousReadable = true
        var everyLineRead = true
        let lines = Ledger.lines(of: bytes)
        if lines.isEmpty {
            findings.append(Finding(.missing, path: path, detail: "the ledger is empty"))
        }
        // Each entry's own checks (hash, subject digest, signature) need nothing from
        // its neighbours, so they run on every core; the chain is walked in order below.
        let read = Parallel.map(lines.map { Array($0.bytes) }) { line in
            Result { () throws(ExhibitError) -> (entry: LedgerEntry, canonicalSubject: ArraySlice<UInt8>?) in
                try LedgerEntry.parsing(line: line)
            }
        }
        let parsed = read.map { $0.map(\.entry) }
        var keys: [String: String] = [:]
        for case .success(let entry) in parsed where keys[entry.actor] == nil {
            if let key = keyFor(entry.actor) { keys[entry.actor] = key.pem }
        }
        // One slice of the ledger per core, each with keys of its own.
        let pems = keys
        let sliceSize = max(64, (parsed.count + Parallel.width - 1) / Parallel.width)
        let slices = stride(from: 0, to: parsed.count, by: sliceSize).map { $0..<min($0 + sliceSize, parsed.count) }
        let ownChecks = Parallel.map(slices) { slice -> [[Finding]] in
            var loaded: [String: VerifyingKey] = [:]
            return read[slice].map { result -> [Finding] in
                guard case .success(let (entry, canonicalSubject)) = result else { return [] }
                if loaded[entry.actor] == nil, let pem = pems[entry.actor] { loaded[entry.actor] = try? VerifyingKey(pem: pem) }
                return entryChecks(entry, path: path, key: loaded[entry.actor], canonicalSubject: canonicalSubject)
            }
        }.flatMap { $0 }
        for (index, line) in lines.enumerated() {
            let lineNumber = index + 1
            let entry: LedgerEntry
            switch parsed[index] {
            case .success(let parsedEntry):
                entry = parsedEntry
            case .failure where !line.terminated:
                everyLineRead = false
                findings.append(Finding(.tornTail, path: path, detail: "line \(lineNumber), the last, is incomplete (a write torn by a crash or power loss, or a cut); a custodian runs `exhibit recover` to set its bytes aside"))
                previousReadable = false
                continue
            case .failure(let error):
                everyLineRead = false
                let what = line.terminated ? "line \(lineNumber) is not a ledger entry (\(error.message))"
                    : "line \(lineNumber) is truncated (\(error.message))"
                findings.append(Finding(.tampered, path: path, detail: what))
                previousReadable = false
                continue
            }
            if !line.terminated {
                // Never committed: an append writes its newline with the line.
                everyLineRead = false
                findings.append(Finding(.tornTail, path: path, seq: entry.seq, detail: "line \(lineNumber), the last, has no newline (a write torn by a crash or power loss, or a cut); a custodian runs `exhibit recover` to set its bytes aside"))
                continue
            }
            let expectedSeq = (previous?.seq ?? 0) + 1
            if previousReadable || previous == nil && index == 0 {
                if entry.seq != expectedSeq {
                    findings.append(Finding(.chainBroken, path: path, seq: entry.seq, detail: "expected seq \(expectedSeq) here, found seq \(entry.seq) (an entry was removed, added or moved)"))
                }
                let expectedPrev = previous?.hash ?? LedgerEntry.genesisPrev
                if entry.prev != expectedPrev {
                    let what = previous.map { "the hash of seq \($0.seq)" } ?? "64 zeros for the first entry"
                    findings.append(Finding(.chainBroken, path: path, seq: entry.seq, detail: "prev does not match \(what) — expected \(expectedPrev) found \(entry.prev)"))
                }
            }
            if let caseID, entry.caseID != caseID {
                findings.append(Finding(.tampered, path: path, seq: entry.seq, detail: "entry names case \(entry.caseID), expected \(caseID)"))
            }
            findings += ownChecks[index]
            if entry.withheld { withheld += 1 }
            entries.append(entry)
            previous = entry
            previousReadable = true
        }
        return LedgerReport(entries: entries, findings: findings, withheldCount: withheld, head: entries.last?.hash, everyLineRead: everyLineRead)
    }

    /// What one entry proves on its own: its hash, its subject digest and its
    /// signature by the actor it names.
    /// `canonicalSubject`, when given, is the subject's canonical bytes as the line holds them.
    static func entryChecks(_ entry: LedgerEntry, path: String, key: VerifyingKey?, canonicalSubject: ArraySlice<UInt8>? = nil) -> [Finding] {
        var findings: [Finding] = []
        let computed = entry.computedHash()
        if computed != entry.hash {
            findings.append(Finding(.tampered, path: path, seq: entry.seq, detail: "the entry's fields do not match its hash — expected \(entry.hash) found \(computed)"))
        }
        if !entry.withheld, let subject = entry.subject, let salt = entry.salt {
            let digest = canonicalSubject.map { (try? LedgerEntry.subjectDigest(salt: salt, canonicalSubject: $0)) ?? "(uncomputable)" }
                ?? (try? LedgerEntry.subjectDigest(salt: salt, subject: subject)) ?? "(uncomputable)"
            if digest != entry.subjectDigest {
                findings.append(Finding(.tampered, path: path, seq: entry.seq, detail: "the subject does not match subject_digest — expected \(entry.subjectDigest) found \(digest)"))
            }
        }
        if let key {
            let signature = Data(base64Encoded: entry.signature).map { Array($0) } ?? []
            if !key.isValidSignature(signature, for: Array(entry.hash.utf8)) {
                findings.append(Finding(.badSignature, path: path, seq: entry.seq, detail: "the signature does not verify with actor \(entry.actor)'s public key"))
            }
        } else {
            findings.append(Finding(.badSignature, path: path, seq: entry.seq, detail: "no public key for actor \(entry.actor)"))
        }
        return findings
    }
}
