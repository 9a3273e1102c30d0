public import CaseManagement
public import ChainOfCustody
import Foundation
import WARC
import CaseIndex

extension ExhibitError.Input {
    /// The statement of where imported evidence came from.
    public static let intakeSource = ExhibitError.Input("intake-source")
    /// Who handed the evidence over.
    public static let intakeReceivedFrom = ExhibitError.Input("intake-received-from")
    /// When it was received.
    public static let intakeReceivedAt = ExhibitError.Input("intake-received-at")
}

/// How evidence from outside reached the investigator (DESIGN §20): recorded in
/// every `import` entry with the receiver, the acting actor.
public struct IntakeReceipt: Sendable {
    public var source: String
    public var receivedFrom: String?
    public var receivedAt: String?

    public init(source: String, receivedFrom: String? = nil, receivedAt: String? = nil) {
        self.source = source
        self.receivedFrom = receivedFrom
        self.receivedAt = receivedAt
    }
}

/// One file taken in: what `exhibit import` reports.
public struct ImportedItem: Sendable, Encodable {
    /// The file as named on the command line.
    public var file: String
    /// warc, wacz, bag or file.
    public var kind: String
    public var sha256: String
    public var size: Int64
    /// The `import` entry's seq.
    public var seq: Int64
    /// The artifact ids the index gives the items (`exhibit artifacts`).
    public var artifacts: [String]
    /// What the check found, in one sentence.
    public var check: String
    /// The files stored in the case for it (relative to the case).
    public var stored: [String]
}

/// `exhibit import CASE FILE…` (DESIGN §20, docs/import.md): each file is checked
/// by the rules of its kind, then stored byte for byte under the commit protocol
/// of DESIGN §2 and recorded in one `import` entry.
///
/// Every file is checked in a staging folder outside the case before anything is
/// written to the case, so a refused file (its own digests fail, a malformed
/// container) leaves the case byte-identical, and the other files of the same
/// command are not taken in either: an import is whole or nothing.
public struct EvidenceIntake {
    public let session: ActingSession
    /// Receives a sentence as each file's check begins (a long WARC takes a while).
    public var progress: (String) -> Void = { _ in }

    public init(session: ActingSession) {
        self.session = session
    }

    /// A file made ready for the case: checked, staged, described.
    struct Prepared {
        var name: String
        var kind: String
        var sha256: String
        var size: Int64
        var subject: [String: JSONValue]
        /// Staged files and where they go in the case.
        var files: [Staged]
        var artifactCount: Int
        var check: String
        /// Entries that follow this one in the same batch (the WARCs of a WACZ).
        var companions: [Prepared] = []
    }

    struct Staged {
        var path: String
        var relative: String
        /// Blobs are content-addressed: one already stored is not stored again.
        var isBlob: Bool
    }

    public func importFiles(_ paths: [String], into caseID: String, receipt: IntakeReceipt) throws(ExhibitError) -> [ImportedItem] {
        try session.authorize(.importEvidence, caseID: caseID, command: "import")
        try BackgroundInvestigation.requireSearcher(session, caseID: caseID, command: "import")
        try session.requireOpen(caseID, command: "import")
        let receipt = try Self.validated(receipt)
        guard !paths.isEmpty else { throw ExhibitError(.usage, "No file to import is named; name at least one.") }
        for path in paths { try Self.requireReadable(path) }

        let workspace = session.workspace
        let staging = try ExportStaging(beside: workspace.root + "/intake-" + caseID, caseID: caseID, workspace: workspace)
        defer { staging.end() }
        guard mkdir(staging.path, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create the staging folder \(staging.path)") }

        var prepared: [Prepared] = []
        for (index, path) in paths.enumerated() {
            progress("checking \(path)")
            let importID = EvidenceFiles.jobID(prefix: "imp")
            let context = IntakeContext(session: session, caseID: caseID, importID: importID, receipt: receipt,
                                        staging: staging.path + "/" + String(index), name: (path as NSString).lastPathComponent)
            guard mkdir(context.staging, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(context.staging)") }
            var item = try prepare(path, context)
            item.subject["import_id"] = item.subject["import_id"] ?? .string(importID)
            item.subject = Self.common(receipt, receiver: session.actor.id, name: item.name, kind: item.kind, sha256: item.sha256, size: item.size)
                .merging(item.subject) { _, new in new }
            for index in item.companions.indices {
                let part = item.companions[index]
                item.companions[index].subject = Self.common(receipt, receiver: session.actor.id, name: part.name, kind: part.kind, sha256: part.sha256, size: part.size)
                    .merging(part.subject) { _, new in new }
            }
            prepared.append(item)
        }
        return try commit(prepared, caseID: caseID, paths: paths)
    }

    /// Chooses the check by what the file is.
    func prepare(_ path: String, _ context: IntakeContext) throws(ExhibitError) -> Prepared {
        let lower = path.lowercased()
        if lower.hasSuffix(".warc") || lower.hasSuffix(".warc.gz") {
            return try WARCIntake.prepare(path, context)
        }
        if lower.hasSuffix(".wacz") {
            return try WACZIntake.prepare(path, context)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return try BagIntake.prepare(path, context, zipped: false)
        }
        if lower.hasSuffix(".zip"), BagIntake.isZippedBag(path) {
            return try BagIntake.prepare(path, context, zipped: true)
        }
        return try FileIntake.prepare(path, context)
    }

    /// Moves the staged files into the case under temporary names (step 1), appends
    /// the entries (step 2), renames (step 3). A failure before step 2 removes them.
    func commit(_ prepared: [Prepared], caseID: String, paths: [String]) throws(ExhibitError) -> [ImportedItem] {
        let store = session.store
        let caseDirectory = store.directory(of: caseID)
        let lock = try CaseRecovery.WriterLock(caseDirectory: caseDirectory)
        defer { withExtendedLifetime(lock) {} }
        var moved: [(temporary: String, final: String)] = []
        var drafts: [LedgerDraft] = []
        do throws(ExhibitError) {
            for item in prepared {
                for entry in [item] + item.companions {
                    for file in entry.files {
                        let final = caseDirectory + "/" + file.relative
                        let directory = (final as NSString).deletingLastPathComponent
                        do {
                            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                        } catch {
                            throw ExhibitError(.storage, "Cannot create \(directory): \(error.localizedDescription)")
                        }
                        if file.isBlob, FileManager.default.fileExists(atPath: final) { continue }
                        let temporary = file.isBlob ? final + "." + Self.jobSuffix(entry) + ".tmp" : final + ".tmp"
                        guard rename(file.path, temporary) == 0 else { throw AtomicFile.posixError("Cannot move \(file.relative) into the case") }
                        moved.append((temporary, final))
                        AtomicFile.syncDirectory(containing: temporary)
                    }
                    drafts.append(LedgerDraft(action: "import", subject: .object(entry.subject)))
                }
            }
        } catch {
            for file in moved { unlink(file.temporary) }
            throw error
        }
        let entries: [LedgerEntry]
        do throws(ExhibitError) {
            entries = try store.append(drafts, to: caseID, signer: try session.signer())
        } catch {
            for file in moved { unlink(file.temporary) }
            throw error
        }
        for file in moved {
            if FileManager.default.fileExists(atPath: file.final) {
                unlink(file.temporary)
            } else if rename(file.temporary, file.final) == 0 {
                AtomicFile.syncDirectory(containing: file.final)
            }
        }
        var items: [ImportedItem] = []
        var next = 0
        for (index, item) in prepared.enumerated() {
            let group = [item] + item.companions
            var artifacts: [String] = []
            var stored: [String] = []
            for (offset, part) in group.enumerated() {
                let entry = entries[next + offset]
                artifacts += (0..<part.artifactCount).map { ImportedArtifactID.id(seq: entry.seq, number: $0 + 1, of: part.artifactCount, kind: part.kind) }
                stored += part.files.map(\.relative)
            }
            items.append(ImportedItem(file: paths[index], kind: item.kind, sha256: item.sha256, size: item.size,
                                      seq: entries[next].seq, artifacts: artifacts, check: item.check, stored: stored))
            next += group.count
        }
        return items
    }

    /// The blob's temporary name carries the import id, like a capture's job id.
    static func jobSuffix(_ item: Prepared) -> String {
        item.subject["import_id"]?.stringValue ?? "imp"
    }

    /// What every `import` entry records about the handing over (DESIGN §20).
    static func common(_ receipt: IntakeReceipt, receiver: String, name: String, kind: String, sha256: String, size: Int64) -> [String: JSONValue] {
        [
            "kind": .string(kind),
            "file_name": .string(name),
            "sha256": .string(sha256),
            "size": .integer(size),
            "source": .string(receipt.source),
            "received_from": receipt.receivedFrom.map { .string($0) } ?? .null,
            "received_at": receipt.receivedAt.map { .string($0) } ?? .null,
            "receiver": .string(receiver),
        ]
    }

    /// The statement is required and one line, like every free text that is
    /// echoed into a WARC header; the time is an RFC 3339 date-time or a date, not in the future.
    static func validated(_ receipt: IntakeReceipt) throws(ExhibitError) -> IntakeReceipt {
        var result = receipt
        result.source = receipt.source.trimmingCharacters(in: .whitespaces)
        guard !result.source.isEmpty else {
            throw ExhibitError(.usage, "The source statement is empty; say where the evidence came from and how it reached you.", input: .intakeSource)
        }
        guard !hasControl(result.source) else {
            throw ExhibitError(.usage, "The source statement holds a line break or control character; it is one line, recorded in the ledger.", input: .intakeSource)
        }
        if let from = receipt.receivedFrom {
            let trimmed = from.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !hasControl(trimmed) else {
                throw ExhibitError(.usage, "The name of whoever handed the evidence over is empty or holds a line break or control character; give it on one line.", input: .intakeReceivedFrom)
            }
            result.receivedFrom = trimmed
        }
        if let at = receipt.receivedAt {
            let trimmed = at.trimmingCharacters(in: .whitespaces)
            guard let date = parseTime(trimmed) else {
                throw ExhibitError(.usage, "The time of receipt \"\(trimmed)\" is not an RFC 3339 date-time (2026-12-01T09:30:00Z) or a date (2026-12-01).", input: .intakeReceivedAt)
            }
            guard date <= Date().addingTimeInterval(300) else {
                throw ExhibitError(.usage, "The time of receipt \(trimmed) is in the future; give when the evidence was actually received.", input: .intakeReceivedAt)
            }
            result.receivedAt = trimmed
        }
        return result
    }

    static func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) || (0x202a...0x202e).contains($0.value) || (0x2066...0x2069).contains($0.value) }
    }

    static func parseTime(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return text.count == 10 ? day.date(from: text) : nil
    }

    static func requireReadable(_ path: String) throws(ExhibitError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw ExhibitError(.storage, "\(path) does not exist; name a file (or a bag directory) to import.") }
            throw AtomicFile.posixError("Cannot read \(path)")
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR {
            guard FileManager.default.fileExists(atPath: path + "/bagit.txt") else {
                throw ExhibitError(.storage, "\(path) is a directory but not a BagIt bag (no bagit.txt); import its files one by one, or bag them first.")
            }
            return
        }
        guard kind == S_IFREG else { throw ExhibitError(.storage, "\(path) is not a regular file; import files or bag directories.") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(path)") }
        close(fd)
    }
}

/// What a kind's check needs to know about the import in progress.
struct IntakeContext {
    var session: ActingSession
    var caseID: String
    var importID: String
    var receipt: IntakeReceipt
    /// This file's own folder in the staging area.
    var staging: String
    /// The file's name as received (its last path component).
    var name: String
}

/// Streams bytes from one file to a new one, hashing them on the way, and fsyncs
/// the copy: the staged copy is what gets checked and stored, so what is checked
/// is exactly what is kept.
enum IntakeCopy {
    static func copy(from source: String, to destination: String, algorithms: [DigestAlgorithm] = [.sha256]) throws(ExhibitError) -> (digests: [DigestAlgorithm: String], size: Int64) {
        if algorithms == [.sha256] {
            // Hashed while written directly to disk (no page-cache flush at the end).
            let reader = try CopyingFileReader(source: source, destination: destination)
            do throws(ExhibitError) {
                while try reader.next() != nil {}
            } catch {
                reader.cancel()
                throw error
            }
            let copy = try reader.finish()
            return ([.sha256: copy.sha256], copy.size)
        }
        return try HashedCopy.copy(from: source, to: destination, algorithms: algorithms, blockSize: 1 << 20, createFailure: "Cannot write", sync: true)
    }
}
