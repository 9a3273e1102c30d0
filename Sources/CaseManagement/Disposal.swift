public import ChainOfCustody
import Foundation

// Disposition of a case at the end of its retention schedule (policy IV.A.2.c,
// DESIGN §11 and §14): the evidence is destroyed, and what remains is a signed,
// hash-chained certificate in the workspace's disposal register, disposals.jsonl.

/// One line of disposals.jsonl: proof of what was destroyed, when, by whom and why.
///
/// Holds no title and no template fields: the register outlives the evidence, so
/// it keeps only what proves the disposal (ids, dates, digests), not the personal
/// data the schedule says must go.
public struct DisposalCertificate: Sendable, Equatable, Encodable {
    /// A destroyed file, relative to the case directory.
    public typealias File = FileRecord

    /// Position in the register, from 1.
    public var seq: Int64
    public var caseID: String
    public var category: String
    /// The custodian who disposed of the case.
    public var actor: String
    public var reason: String
    /// When the certificate was written (a ledger time, real clock).
    public var time: String
    public var openedAt: String
    public var closedAt: String
    /// The schedule applied, e.g. `10 years after closing`.
    public var retention: String
    /// The first day disposition was allowed.
    public var dueOn: String
    /// The `hash` of the case ledger's last entry before disposal.
    public var ledgerHead: String
    public var ledgerEntries: Int64
    /// Every WARC file (`warc/…`).
    public var warc: [File]
    /// Every content-addressed blob (`blobs/sha256/…`).
    public var blobs: [File]
    /// Every other file: ledger.jsonl, case.json, timestamps/….
    public var other: [File]
    /// The previous certificate's `hash`; 64 zeros for the first.
    public var prev: String
    /// sha256 of canonical(every member but `hash` and `sig`), lowercase hex.
    public var hash: String
    /// Base64 Ed25519 signature by `actor` over the ASCII bytes of `hash`.
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case seq, category, actor, reason, time, retention, warc, blobs, other, prev, hash
        case caseID = "case"
        case openedAt = "opened_at"
        case closedAt = "closed_at"
        case dueOn = "due_on"
        case ledgerHead = "ledger_head"
        case ledgerEntries = "ledger_entries"
        case signature = "sig"
    }

    /// The members the hash covers: all but `hash` and `sig`.
    public var hashedFields: JSONValue {
        .object([
            "seq": .integer(seq),
            "case": .string(caseID),
            "category": .string(category),
            "actor": .string(actor),
            "reason": .string(reason),
            "time": .string(time),
            "opened_at": .string(openedAt),
            "closed_at": .string(closedAt),
            "retention": .string(retention),
            "due_on": .string(dueOn),
            "ledger_head": .string(ledgerHead),
            "ledger_entries": .integer(ledgerEntries),
            "warc": .array(warc.map(\.json)),
            "blobs": .array(blobs.map(\.json)),
            "other": .array(other.map(\.json)),
            "prev": .string(prev),
        ])
    }

    /// The certificate's line: canonical JSON (RFC 8785), no trailing newline.
    public func line() throws(ExhibitError) -> [UInt8] {
        try SignedLine.bytes(hashedFields, hash: hash, signature: signature, what: "A disposal certificate")
    }

    /// sha256 of the canonical form of a register line's object without `hash`
    /// and `sig`. Works on the parsed line, so a member added by hand is covered
    /// (and so detected) like any other.
    public static func computedHash(of object: [String: JSONValue]) -> String? {
        var members = object
        members["hash"] = nil
        members["sig"] = nil
        guard let bytes = try? JSONValue.object(members).canonicalBytes() else { return nil }
        return Digest.sha256Hex(bytes)
    }

    /// Reads a certificate from a parsed register line.
    public init(json value: JSONValue) throws(ExhibitError) {
        func string(_ key: String) throws(ExhibitError) -> String {
            guard let text = value[key]?.stringValue else {
                throw ExhibitError(.verificationFailed, "member \"\(key)\" is missing or not a string")
            }
            return text
        }
        func integer(_ key: String) throws(ExhibitError) -> Int64 {
            guard let number = value[key]?.intValue else {
                throw ExhibitError(.verificationFailed, "member \"\(key)\" is missing or not an integer")
            }
            return number
        }
        func files(_ key: String) throws(ExhibitError) -> [File] {
            guard let items = value[key]?.arrayValue else {
                throw ExhibitError(.verificationFailed, "member \"\(key)\" is missing or not an array")
            }
            var result: [File] = []
            for item in items {
                guard let path = item["path"]?.stringValue, let sha = item["sha256"]?.stringValue,
                      let size = item["size"]?.intValue else {
                    throw ExhibitError(.verificationFailed, "an item of \"\(key)\" lacks path, sha256 or size")
                }
                result.append(File(path: path, sha256: sha, size: size))
            }
            return result
        }
        guard value.objectValue != nil else { throw ExhibitError(.verificationFailed, "not a JSON object") }
        seq = try integer("seq")
        caseID = try string("case")
        category = try string("category")
        actor = try string("actor")
        reason = try string("reason")
        time = try string("time")
        openedAt = try string("opened_at")
        closedAt = try string("closed_at")
        retention = try string("retention")
        dueOn = try string("due_on")
        ledgerHead = try string("ledger_head")
        ledgerEntries = try integer("ledger_entries")
        warc = try files("warc")
        blobs = try files("blobs")
        other = try files("other")
        prev = try string("prev")
        hash = try string("hash")
        signature = try string("sig")
    }

    init(
        caseID: String, category: String, actor: String, reason: String, openedAt: String, closedAt: String,
        retention: String, dueOn: String, ledgerHead: String, ledgerEntries: Int64,
        warc: [File], blobs: [File], other: [File]
    ) {
        self.seq = 0
        self.caseID = caseID
        self.category = category
        self.actor = actor
        self.reason = reason
        self.time = ""
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.retention = retention
        self.dueOn = dueOn
        self.ledgerHead = ledgerHead
        self.ledgerEntries = ledgerEntries
        self.warc = warc
        self.blobs = blobs
        self.other = other
        self.prev = LedgerEntry.genesisPrev
        self.hash = ""
        self.signature = ""
    }
}

extension FileRecord {
    /// The file as a certificate lists it.
    var json: JSONValue {
        .object(["path": .string(path), "sha256": .string(sha256), "size": .integer(size)])
    }
}

/// The disposal procedure's storage steps and the recovery of an interrupted one.
///
/// A disposal, under the workspace lock:
/// 1. renames `cases/<ID>` to `cases/.disposing-<ID>` and fsyncs `cases/` — from
///    here the case no longer looks live to any command;
/// 2. digests every file and appends the signed certificate to disposals.jsonl,
///    fsynced — from here the case is disposed of;
/// 3. removes `.disposing-<ID>` and fsyncs `cases/`.
/// A crash after 1 without 2 leaves a hidden case with no certificate: it is
/// renamed back (nothing was destroyed). A crash after 2 leaves a hidden,
/// perhaps half-removed directory whose certificate exists: it is removed.
/// No live-looking case is ever covered by a certificate, and no byte is removed
/// before the certificate describing it is on disk.
public enum Disposal {
    /// The hidden name a case directory has while it is being disposed of.
    public static let stagingPrefix = ".disposing-"

    /// Case ids with a `.disposing-` directory in `cases/`.
    static func pendingCaseIDs(in casesDirectory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory)) ?? []
        return names.filter { $0.hasPrefix(stagingPrefix) }.map { String($0.dropFirst(stagingPrefix.count)) }
            .filter(CaseStore.isValidCaseID).sorted()
    }

    /// Finishes or rolls back every interrupted disposal; takes the workspace
    /// lock. Returns one sentence per action taken.
    public static func finishInterrupted(store: CaseStore) throws(ExhibitError) -> [String] {
        guard !pendingCaseIDs(in: store.workspace.casesDirectory).isEmpty else { return [] }
        return try store.workspace.withExclusiveLock { () throws(ExhibitError) -> [String] in
            finishInterruptedLocked(store: store)
        }
    }

    /// As ``finishInterrupted(store:)`` for one case, cheaply when it has no
    /// interrupted disposal (one `stat`).
    public static func settleInterrupted(caseID: String, store: CaseStore) throws(ExhibitError) -> [String] {
        guard CaseStore.isValidCaseID(caseID),
              FileManager.default.fileExists(atPath: store.workspace.casesDirectory + "/" + stagingPrefix + caseID) else { return [] }
        return try finishInterrupted(store: store)
    }

    /// ``finishInterrupted(store:)`` for a caller that holds the workspace lock.
    static func finishInterruptedLocked(store: CaseStore) -> [String] {
        let cases = store.workspace.casesDirectory
        let register = DisposalRegister(workspace: store.workspace)
        let pending = pendingCaseIDs(in: cases)
        guard !pending.isEmpty else { return [] }
        let certified: Set<String>
        do {
            certified = Set(try register.certificates().map(\.caseID))
        } catch {
            // Without the register it is unknowable whether these were disposed
            // of: leave them exactly as they are.
            return ["Interrupted disposals of \(pending.joined(separator: ", ")) are left as they are: \(error.message)"]
        }
        var notices: [String] = []
        for caseID in pending {
            let staging = cases + "/" + stagingPrefix + caseID
            if certified.contains(caseID) {
                do {
                    try FileManager.default.removeItem(atPath: staging)
                    AtomicFile.syncDirectory(cases)
                    notices.append("Finished the interrupted disposal of \(caseID): its certificate was already in disposals.jsonl, and the rest of the case is now removed.")
                } catch {
                    notices.append("The interrupted disposal of \(caseID) could not be finished (\(error.localizedDescription)); remove \(staging) by hand — its certificate is in disposals.jsonl.")
                }
                continue
            }
            // No certificate: the disposal never happened, so the case is restored
            // whole. A torn last register line can only be its unfinished certificate.
            if register.truncateTornTail() {
                notices.append("Removed the unfinished certificate of \(caseID) from disposals.jsonl (an interrupted disposal).")
            }
            if FileManager.default.fileExists(atPath: store.directory(of: caseID)) {
                notices.append("Both \(store.directory(of: caseID)) and \(staging) exist after an interrupted disposal; compare them and remove one by hand.")
            } else if rename(staging, store.directory(of: caseID)) == 0 {
                AtomicFile.syncDirectory(cases)
                notices.append("Rolled back an interrupted disposal of \(caseID): no certificate had been written, so the case is kept as it was.")
            }
        }
        return notices
    }

    /// Every regular file below `directory`, digested, split into WARC files,
    /// blobs and the rest, each sorted by path.
    static func inventory(_ directory: String) throws(ExhibitError) -> (warc: [DisposalCertificate.File], blobs: [DisposalCertificate.File], other: [DisposalCertificate.File]) {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw ExhibitError(.storage, "Cannot list \(directory).")
        }
        var relatives: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            guard lstat(directory + "/" + relative, &info) == 0 else { throw AtomicFile.posixError("Cannot inspect \(relative)") }
            if info.st_mode & S_IFMT == S_IFDIR { continue }
            relatives.append(relative)
        }
        var warc: [DisposalCertificate.File] = []
        var blobs: [DisposalCertificate.File] = []
        var other: [DisposalCertificate.File] = []
        for relative in relatives.sorted() {
            let (digests, size) = try Digest.file(atPath: directory + "/" + relative)
            let file = DisposalCertificate.File(path: relative, sha256: digests[.sha256] ?? "", size: size)
            if relative.hasPrefix("warc/") {
                warc.append(file)
            } else if relative.hasPrefix("blobs/") {
                blobs.append(file)
            } else {
                other.append(file)
            }
        }
        return (warc, blobs, other)
    }

    /// Holds an exclusive `flock` on a case directory: no command is writing to
    /// the case (writers hold a shared one, ``CaseRecovery/WriterLock``), and none
    /// can start until it is released.
    final class ExclusiveCaseLock {
        private let lock: FileLock.Held

        init(caseDirectory: String, caseID: String) throws(ExhibitError) {
            // Not blocking: a capture can hold its lock for a long time, and a
            // custodian is better told to come back than left waiting.
            lock = try FileLock.Held(
                path: caseDirectory, flags: O_RDONLY | O_DIRECTORY, mode: .exclusive, wait: false,
                what: "the case directory \(caseDirectory)",
                busy: ExhibitError(.storage, "Another command is writing to case \(caseID); run `exhibit dispose` again when it has finished."))
        }
    }
}

extension CaseStore {
    /// Throws the sentence for a case that was disposed of (exit 5, like any
    /// case that is not there), naming its certificate; returns otherwise.
    func requireNotDisposed(_ caseID: String) throws(ExhibitError) {
        guard let certificate = try? DisposalRegister(workspace: workspace).certificate(for: caseID) else { return }
        throw ExhibitError(.storage, "Case \(caseID) was disposed of on \(certificate.time.prefix(10)) by \(certificate.actor) (certificate \(certificate.seq) of disposals.jsonl), so nothing of it remains; `exhibit case show \(caseID)` prints the certificate.")
    }
}

extension ActingSession {
    /// The sentence a refused disposal prints and records.
    static func disposalRefusal(_ status: RetentionStatus) -> String {
        let id = status.caseID
        switch status.reason {
        case .due:
            return ""
        case .held:
            return "Case \(id) is on legal hold (\(status.holdReason ?? "no reason recorded")) and may not be disposed of; a custodian must release the hold first (`exhibit release \(id)`)."
        case .open:
            return "Case \(id) is still open and may not be disposed of; its retention period starts when a supervisor closes it."
        case .permanent:
            return "Case \(id) is kept permanently under the \(status.category) schedule and may never be disposed of."
        case .notYet:
            let until = status.dueOn.map(\.description) ?? "-"
            let closed = status.closedOn.map(\.description) ?? "-"
            return "Case \(id) is under retention until \(until) (\(status.rule?.summary ?? "no schedule"), closed \(closed)) and may not be disposed of before then."
        case .noRule:
            return "Case \(id) has no retention schedule (no template for category \(status.category) is in force) and may not be disposed of."
        }
    }

    /// `exhibit dispose CASE`, with an optional reason (custodian): destroys a case whose
    /// retention period has run, leaving a signed certificate in disposals.jsonl.
    ///
    /// Refused (exit 4, recorded as a `refusal` entry) while the case is on hold,
    /// still open, kept permanently, or before its due date — by the real clock:
    /// no option moves it. Refused (exit 1) when the case does not verify: the
    /// certificate must describe intact evidence: the checks of `exhibit verify`,
    /// WARC records and timestamps included.
    public func dispose(_ caseID: String, reason: String? = nil) throws(ExhibitError) -> DisposalCertificate {
        try authorize(.dispose, caseID: caseID, command: "dispose")
        // DESIGN §11 names `exhibit dispose CASE`: without a reason given, the schedule applied is the reason.
        let given = reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let signer = try signer()
        let cases = workspace.casesDirectory
        return try workspace.withExclusiveLock { () throws(ExhibitError) -> DisposalCertificate in
            for notice in Disposal.finishInterruptedLocked(store: store) { notices(notice) }
            let state = try store.state(of: caseID)
            let status = RetentionStatus(state: state, rule: retentionRule(category: state.category), on: CalendarDate.today())
            guard status.isDue else {
                try refuse(caseID, command: "dispose", reason: Self.disposalRefusal(status),
                           extra: ["blocked_by": .string(status.reason.rawValue)])
            }
            let reason = given.isEmpty ? "retention schedule ended: \(status.rule?.summary ?? "no rule")" : given
            let directory = store.directory(of: caseID)
            let lock = try Disposal.ExclusiveCaseLock(caseDirectory: directory, caseID: caseID)
            defer { withExtendedLifetime(lock) {} }
            // Read again now that no one can write: a hold placed a moment ago counts.
            let current = try store.state(of: caseID)
            guard current.ledgerHead == state.ledgerHead else {
                throw ExhibitError(.storage, "Case \(caseID) changed while it was being disposed of (another command wrote to it); run `exhibit dispose` again.")
            }
            let report = try CaseVerification.verify(
                directory: directory, keyFor: CaseVerification.workspaceKeys(forCaseDirectory: directory))
            guard report.intact else {
                let count = report.findings.filter(\.isFailure).count
                throw ExhibitError(.verificationFailed, "Case \(caseID) does not verify (\(count) problem\(count == 1 ? "" : "s")), so it is not disposed of: the certificate must describe intact evidence; run `exhibit verify \(caseID)` and resolve the findings first.")
            }

            let staging = cases + "/" + Disposal.stagingPrefix + caseID
            guard rename(directory, staging) == 0 else {
                throw AtomicFile.posixError("Cannot move case \(caseID) aside for disposal")
            }
            AtomicFile.syncDirectory(cases)
            let certificate: DisposalCertificate
            do throws(ExhibitError) {
                let files = try Disposal.inventory(staging)
                let draft = DisposalCertificate(
                    caseID: caseID, category: current.category, actor: actor.id, reason: reason,
                    openedAt: current.openedAt, closedAt: current.closedAt ?? "",
                    retention: status.rule?.summary ?? "", dueOn: status.dueOn?.description ?? "",
                    ledgerHead: current.ledgerHead, ledgerEntries: Int64(current.entryCount),
                    warc: files.warc, blobs: files.blobs, other: files.other)
                certificate = try DisposalRegister(workspace: workspace).append(draft, signer: signer)
            } catch {
                // No certificate, so nothing is destroyed: the case goes back.
                if rename(staging, directory) == 0 { AtomicFile.syncDirectory(cases) }
                throw error
            }
            // The certificate is on disk: the case is disposed of. Remove what it describes.
            do {
                try FileManager.default.removeItem(atPath: staging)
            } catch {
                throw ExhibitError(.storage, "Case \(caseID) is disposed of (certificate \(certificate.seq) of disposals.jsonl), but \(staging) could not be removed entirely (\(error.localizedDescription)); the next `exhibit dispose` or `exhibit retention` finishes the removal.")
            }
            AtomicFile.syncDirectory(cases)
            return certificate
        }
    }

    /// The disposal certificate of `caseID` when the case was disposed of, for
    /// `exhibit case show`; nil when the case is present (or never existed).
    ///
    /// Readers of cases and those who review retention may see it. Nothing is
    /// recorded: the case has no ledger any more, and the certificate holds no
    /// evidence.
    public func disposalCertificate(_ caseID: String) throws(ExhibitError) -> DisposalCertificate? {
        guard CaseStore.isValidCaseID(caseID) else { return nil }
        for notice in try Disposal.settleInterrupted(caseID: caseID, store: store) { notices(notice) }
        guard !FileManager.default.fileExists(atPath: store.directory(of: caseID) + "/ledger.jsonl"),
              let certificate = try DisposalRegister(workspace: workspace).certificate(for: caseID) else { return nil }
        guard Permission.read.allows(actor) || Permission.retention.allows(actor) else {
            throw ExhibitError(.notPermitted, Permission.read.refusalReason(for: actor))
        }
        return certificate
    }
}
