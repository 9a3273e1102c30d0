public import ChainOfCustody
import Foundation

/// A case's current state, folded from its ledger. Written to case.json as a
/// cache; the ledger stays the source of truth.
public struct CaseState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case open, closed, disposed }

    /// One period in which an actor held custody of the case.
    public struct CustodyPeriod: Codable, Sendable, Equatable {
        public var actor: String
        public var from: String
        public var until: String?
    }

    public var id: String
    public var category: String
    public var title: String
    public var fields: [String: String]
    public var status: Status
    public var openedAt: String
    public var openedBy: String
    public var closedAt: String?
    public var onHold: Bool
    public var holdReason: String?
    public var custody: [CustodyPeriod]
    public var entryCount: Int
    public var ledgerHead: String
    public var lastActivity: String

    enum CodingKeys: String, CodingKey {
        case id, category, title, fields, status, custody
        case openedAt = "opened_at"
        case openedBy = "opened_by"
        case closedAt = "closed_at"
        case onHold = "on_hold"
        case holdReason = "hold_reason"
        case entryCount = "entry_count"
        case ledgerHead = "ledger_head"
        case lastActivity = "last_activity"
    }

    /// Folds ledger entries into the state they describe.
    public static func fold(_ entries: [LedgerEntry]) throws(ExhibitError) -> CaseState {
        guard let first = entries.first, first.action == "open", let subject = first.subject else {
            throw ExhibitError(.storage, "The ledger does not begin with an `open` entry; run `exhibit verify` on the case.")
        }
        var fields: [String: String] = [:]
        for (key, value) in subject["fields"]?.objectValue ?? [:] {
            fields[key] = value.stringValue
        }
        var state = CaseState(
            id: first.caseID, category: subject["category"]?.stringValue ?? "",
            title: subject["title"]?.stringValue ?? "", fields: fields, status: .open,
            openedAt: first.time, openedBy: first.actor, closedAt: nil, onHold: false, holdReason: nil,
            custody: [CustodyPeriod(actor: first.actor, from: first.time, until: nil)],
            entryCount: entries.count, ledgerHead: entries.last!.hash, lastActivity: entries.last!.time)
        for entry in entries.dropFirst() { state.apply(entry) }
        return state
    }

    /// This state with `entries` (the ones that follow it in the ledger) applied.
    public func folding(_ entries: [LedgerEntry]) -> CaseState {
        var state = self
        for entry in entries { state.apply(entry) }
        if let last = entries.last {
            state.entryCount += entries.count
            state.ledgerHead = last.hash
            state.lastActivity = last.time
        }
        return state
    }

    mutating func apply(_ entry: LedgerEntry) {
        switch entry.action {
        case "close":
            status = .closed
            closedAt = entry.time
        case "hold":
            onHold = true
            holdReason = entry.subject?["reason"]?.stringValue
        case "release":
            onHold = false
            holdReason = nil
        case "transfer":
            if let to = entry.subject?["to"]?.stringValue {
                custody[custody.count - 1].until = entry.time
                custody.append(CustodyPeriod(actor: to, from: entry.time, until: nil))
            }
        case "dispose":
            status = .disposed
        default:
            break
        }
    }
}

/// The cases of a workspace: opening, appending to, reading.
public struct CaseStore: Sendable {
    public let workspace: Workspace
    public let templates: CaseTemplates

    public init(workspace: Workspace, templates: CaseTemplates) {
        self.workspace = workspace
        self.templates = templates
    }

    public func directory(of caseID: String) -> String {
        "\(workspace.casesDirectory)/\(caseID)"
    }

    public func ledger(of caseID: String) -> Ledger {
        Ledger(directory: directory(of: caseID))
    }

    /// Case ids are `<PREFIX>-<YEAR>-<NNNN>`.
    public static func isValidCaseID(_ id: String) -> Bool {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && (1...8).contains(parts[0].count) && parts[0].allSatisfy { $0.isASCII && $0.isUppercase }
            && parts[1].count == 4 && parts[1].allSatisfy(\.isASCII) && Int(parts[1]) != nil
            && parts[2].count >= 4 && parts[2].allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Fails with an input error (exit 5) unless the case exists; a disposed-of
    /// case is named as such, with its certificate (Disposal.swift).
    public func requireCase(_ caseID: String) throws(ExhibitError) {
        guard Self.isValidCaseID(caseID),
              FileManager.default.fileExists(atPath: directory(of: caseID) + "/ledger.jsonl") else {
            if Self.isValidCaseID(caseID) { try requireNotDisposed(caseID) }
            throw ExhibitError(.storage, "Unknown case \"\(caseID)\"; `exhibit case list` shows the cases of this workspace.")
        }
    }

    /// Opens a case: validates the fields, assigns the next id for the category's
    /// prefix and the current UTC year, and writes the `open` entry.
    ///
    /// The case is built in a hidden directory and renamed into place under the
    /// workspace lock, so two processes never get the same id and a crash leaves no
    /// half-made case. Ids are never reused: disposed cases still count.
    public func open(
        category: String, title: String, fields: [String: String], signer: LedgerSigner
    ) throws(ExhibitError) -> CaseState {
        let template = try templates.template(category)
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw ExhibitError(.usage, "The case title is empty; give one.", input: .caseTitle) }
        let fields = try template.validate(fields)
        var fieldObject: [String: JSONValue] = [:]
        for (key, value) in fields { fieldObject[key] = .string(value) }
        let templateDigest = Digest.sha256Hex((try? JSONValue(parsing: try encodeJSON(template)).canonicalBytes()) ?? [])
        let subject: JSONValue = .object([
            "category": .string(template.id),
            "title": .string(title),
            "fields": .object(fieldObject),
            "template": .object(["id": .string(template.id), "sha256": .string(templateDigest)]),
            "retention": .string(template.retention.summary),
            "policy_sections": .array(template.policySections.map { .string($0) }),
        ])
        return try workspace.withExclusiveLock { () throws(ExhibitError) -> CaseState in
            let year = LedgerTime.year(of: LedgerTime.now()) ?? 1970
            let id = try nextCaseID(prefix: template.prefix, year: year)
            let staging = "\(workspace.casesDirectory)/.\(id).creating"
            try? FileManager.default.removeItem(atPath: staging)
            guard mkdir(staging, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create the case directory") }
            do throws(ExhibitError) {
                let entry = try Ledger(directory: staging).append(
                    [LedgerDraft(action: "open", subject: subject)], caseID: id, signer: signer, witness: workspace.witness)[0]
                let state = try CaseState.fold([entry])
                try AtomicFile.write(try encodeJSON(state), to: staging + "/case.json")
                guard rename(staging, directory(of: id)) == 0 else {
                    throw AtomicFile.posixError("Cannot create the case directory \(directory(of: id))")
                }
                AtomicFile.syncDirectory(workspace.casesDirectory)
                return state
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
        }
    }

    /// The next free number for a prefix and year: one past the highest ever used,
    /// counting live cases and the disposal register. Call under the workspace lock.
    private func nextCaseID(prefix: String, year: Int) throws(ExhibitError) -> String {
        let stem = "\(prefix)-\(year)-"
        var highest = 0
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace.casesDirectory)) ?? []
        for entry in names {
            // A case caught mid-disposal (.disposing-<ID>) still holds its number.
            let name = entry.hasPrefix(Disposal.stagingPrefix) ? String(entry.dropFirst(Disposal.stagingPrefix.count)) : entry
            guard name.hasPrefix(stem) else { continue }
            highest = max(highest, Int(name.dropFirst(stem.count)) ?? 0)
        }
        if let register = try? AtomicFile.read(workspace.disposalsPath) {
            for line in Ledger.lines(of: register) {
                if let id = (try? JSONValue(parsing: Array(line.bytes)))?["case"]?.stringValue, id.hasPrefix(stem) {
                    highest = max(highest, Int(id.dropFirst(stem.count)) ?? 0)
                }
            }
        }
        return stem + String(format: "%04d", highest + 1)
    }

    /// Appends entries to an existing case and refreshes case.json.
    @discardableResult
    public func append(_ drafts: [LedgerDraft], to caseID: String, signer: LedgerSigner) throws(ExhibitError) -> [LedgerEntry] {
        try requireCase(caseID)
        // Writers hold the case's shared lock, so no other command's recovery
        // mistakes this write's temporary files for leftovers.
        let lock = try CaseRecovery.WriterLock(caseDirectory: directory(of: caseID))
        defer { withExtendedLifetime(lock) {} }
        let entries = try ledger(of: caseID).append(
            drafts, caseID: caseID, signer: signer, witness: workspace.witness, remembered: { remembered(caseID) })
        // case.json follows the ledger: from the cached state when it describes the
        // ledger just before these entries (a long capture appends often, and folding
        // the whole ledger each time made its cost grow with the square of its length).
        if let first = entries.first, let cached = cachedState(caseID),
           cached.entryCount == Int(first.seq) - 1, cached.ledgerHead == first.prev {
            try? AtomicFile.write(try encodeJSON(cached.folding(entries)), to: directory(of: caseID) + "/case.json")
        } else {
            try? refreshCache(caseID)
        }
        return entries
    }

    /// What case.json remembers of the ledger's end: an append must find the
    /// ledger at least that long (DESIGN §16).
    private func remembered(_ caseID: String) -> [Ledger.Remembered] {
        guard let cached = cachedState(caseID) else { return [] }
        return [Ledger.Remembered(cache: "case.json", seq: Int64(cached.entryCount), head: cached.ledgerHead)]
    }

    /// Sets aside the torn last line of a case's ledger (`exhibit recover`): the
    /// bytes become a blob under custody, the line is cut off and a `recovery`
    /// entry records the blob's digest, so nothing is deleted and nothing hidden.
    /// Returns nil when the ledger has no torn line.
    public func recoverTornTail(_ caseID: String, signer: LedgerSigner) throws(ExhibitError) -> LedgerEntry? {
        try requireCase(caseID)
        let lock = try CaseRecovery.WriterLock(caseDirectory: directory(of: caseID))
        defer { withExtendedLifetime(lock) {} }
        guard let torn = try ledger(of: caseID).tornTail() else { return nil }
        let sha256 = Digest.sha256Hex(torn)
        let relative = "blobs/sha256/\(sha256.prefix(2))/\(sha256)"
        let final = directory(of: caseID) + "/" + relative
        let temporary = final + ".tmp"
        try? FileManager.default.createDirectory(atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Commit protocol (§2): the blob under a temporary name, then the entry, then the rename.
        try AtomicFile.write(torn, to: temporary)
        let subject: JSONValue = .object([
            "reason": .string("the ledger's last line was incomplete (a write torn by a crash or power loss)"),
            "torn_bytes": .integer(Int64(torn.count)),
            "blob": .object(["path": .string(relative), "sha256": .string(sha256), "size": .integer(Int64(torn.count))]),
        ])
        let entry: LedgerEntry
        do throws(ExhibitError) {
            entry = try ledger(of: caseID).append(
                [LedgerDraft(action: "recovery", subject: subject)], caseID: caseID, signer: signer,
                witness: workspace.witness, remembered: { remembered(caseID) }, replacingTornTail: torn)[0]
        } catch {
            unlink(temporary)
            throw error
        }
        if FileManager.default.fileExists(atPath: final) { unlink(temporary) } else { rename(temporary, final) }
        AtomicFile.syncDirectory(containing: final)
        try? refreshCache(caseID)
        return entry
    }

    /// case.json as written, when it still describes the ledger's last entry; nil
    /// otherwise. For caches (the workspace index); decisions read `state(of:)`.
    public func currentState(of caseID: String) throws(ExhibitError) -> CaseState {
        if let cached = cachedState(caseID), let head = try? ledger(of: caseID).head(),
           cached.entryCount == Int(head.seq), cached.ledgerHead == head.hash {
            return cached
        }
        return try state(of: caseID)
    }

    private func cachedState(_ caseID: String) -> CaseState? {
        guard let bytes = try? AtomicFile.read(directory(of: caseID) + "/case.json") else { return nil }
        return try? JSONDecoder().decode(CaseState.self, from: Data(bytes))
    }

    /// Appends one entry.
    @discardableResult
    public func append(_ draft: LedgerDraft, to caseID: String, signer: LedgerSigner) throws(ExhibitError) -> LedgerEntry {
        try append([draft], to: caseID, signer: signer)[0]
    }

    /// The case's state, folded from its ledger (not from the cache).
    public func state(of caseID: String) throws(ExhibitError) -> CaseState {
        try requireCase(caseID)
        return try CaseState.fold(try ledger(of: caseID).entries())
    }

    /// Rewrites case.json from the ledger.
    public func refreshCache(_ caseID: String) throws(ExhibitError) {
        let state = try state(of: caseID)
        // Never from a ledger shorter than case.json remembers (DESIGN §16): that
        // would erase the one local trace of entries cut from its end.
        if let cached = cachedState(caseID), cached.entryCount > state.entryCount {
            throw ExhibitError(.verificationFailed, "The ledger of \(caseID) has \(state.entryCount) entries but case.json remembers \(cached.entryCount); run `exhibit verify \(caseID)`.")
        }
        try AtomicFile.write(try encodeJSON(state), to: directory(of: caseID) + "/case.json")
    }

    /// Every case id, sorted.
    public func caseIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace.casesDirectory)) ?? []
        return names.filter(Self.isValidCaseID).sorted()
    }
}
