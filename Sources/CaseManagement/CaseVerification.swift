public import ChainOfCustody
import Foundation
public import WARC

/// Verifies a case directory: its ledger's chain, hashes, subjects and
/// signatures against the actors' public keys.
public struct CaseVerification: Sendable {
    public struct Report: Sendable {
        public var caseID: String
        public var directory: String
        public var entryCount: Int
        public var withheldCount: Int
        public var head: String?
        public var findings: [Verifier.Finding]
        /// The actors who sign entries of the ledger checked.
        public var ledgerActors: Set<String> = []
        /// Who signed a bundle (its seal or WACZ signature), as "id (name, badge)".
        public var signer: String?
        /// The ledger's entries when every line was a whole, readable entry; nil otherwise.
        public var entries: [LedgerEntry]?
        public var intact: Bool { !findings.contains(where: \.isFailure) }

        public init(caseID: String, directory: String, entryCount: Int, withheldCount: Int, head: String?, findings: [Verifier.Finding]) {
            self.caseID = caseID
            self.directory = directory
            self.entryCount = entryCount
            self.withheldCount = withheldCount
            self.head = head
            self.findings = findings
        }
    }

    /// Finds the case directory for a TARGET: a case id in the workspace, or a path
    /// to a case directory (holding ledger.jsonl).
    public static func locate(target: String, workspacePath: String) throws(ExhibitError) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
            let path = URL(fileURLWithPath: target).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: path + "/ledger.jsonl") else {
                throw ExhibitError(.storage, "\(path) is a directory but neither a case (no ledger.jsonl) nor a bag (no bagit.txt).")
            }
            return path
        }
        guard CaseStore.isValidCaseID(target) else {
            var info = stat()
            guard stat(target, &info) == 0 else {
                if errno == ENOENT {
                    throw ExhibitError(.storage, "\(target) does not exist: give a case id, a case directory, a bag (directory or zip) or a WACZ file.")
                }
                throw AtomicFile.posixError("Cannot read \(target)")
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                throw ExhibitError(.storage, "\(target) is a directory but neither a case (no ledger.jsonl) nor a bag (no bagit.txt).")
            }
            let fd = open(target, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw AtomicFile.posixError("Cannot read \(target)") }
            close(fd)
            throw ExhibitError(.storage, "\(target) is not a bag zip or a WACZ file (it is not a zip archive), nor a case id or case directory.")
        }
        let directory = workspacePath + "/cases/" + target
        guard FileManager.default.fileExists(atPath: directory + "/ledger.jsonl") else {
            throw ExhibitError(.storage, "Unknown case \"\(target)\" in the workspace \(workspacePath); give a case directory, or name the workspace that holds it.", input: .workspace)
        }
        return directory
    }

    /// Checks the case at `directory`. Public keys come from `keyFor`, normally
    /// the workspace's actors/ (a case directory copied elsewhere is checked against
    /// the workspace beside it, `../../actors`).
    /// The WARC records are checked against their own headers and the ledger
    /// (`WARCVerification`), and trusted timestamps against the ledger heads.
    /// With `derivedWARC`, the WARC files are derived copies holding some of the
    /// original records (a decision-maker bundle), matched by record id and digest.
    /// `alsoExpected` names files that may be present without a ledger record
    /// (the documents a bundle adds beside the evidence, which its manifests cover).
    /// `digests` holds what the checks have read, so each file is read once.
    /// `scans`, when given, are the WARC scans the caller started (with the same
    /// `digests`); otherwise every file of the case is queued for reading before the
    /// ledger is parsed, so that hashing overlaps with the ledger's checks.
    /// `whileHashing` is called once the ledger is checked, before any digest is
    /// waited for, with its entries (nil when a line was not a readable entry): a
    /// caller's own checks that need no digest run there, overlapping with the hashing.
    public static func verify(
        directory: String, keyFor: (String) -> VerifyingKey?,
        derivedWARC: Bool = false,
        alsoExpected: @escaping (String) -> Bool = { _ in false },
        derivedFiles: @escaping (String) -> Bool = { _ in false },
        digests: FileDigestCache = FileDigestCache(),
        scans: WARCScans? = nil,
        whileHashing: ([LedgerEntry]?) -> Void = { _ in }
    ) throws(ExhibitError) -> Report {
        let caseID = (directory as NSString).lastPathComponent
        var ownScans = scans
        var queue: WorkQueue?
        if ownScans == nil {
            let started = WorkQueue()
            let made = WARCScans(digests: digests)
            schedule(files(in: directory).map { directory + "/" + $0 }, digests: digests, scans: made, on: started)
            (ownScans, queue) = (made, started)
        }
        defer { queue?.cancel() }
        return try verify(directory: directory, caseID: caseID, keyFor: keyFor, derivedWARC: derivedWARC,
                          alsoExpected: alsoExpected, derivedFiles: derivedFiles, digests: digests, scans: ownScans!,
                          whileHashing: whileHashing)
    }

    /// Queues every file for reading on `queue`, the costliest first: WARC files for
    /// their records and digests, the others for their digests.
    public static func schedule(_ paths: [String], digests: FileDigestCache, scans: WARCScans, on queue: WorkQueue) {
        let isWARC = { (path: String) -> Bool in
            path.contains("/warc/") && (path.hasSuffix(".warc.gz") || path.hasSuffix(".warc") || path.hasSuffix(".warc.gz.tmp") || path.hasSuffix(".warc.tmp"))
        }
        scans.schedule(paths.filter(isWARC), on: queue)
        digests.prefetch(paths.filter { !isWARC($0) }, on: queue)
    }

    /// Every file under `directory` but the ledger and case.json, relative to it.
    static func files(in directory: String) -> [String] {
        DirectoryWalk.entries(in: directory)
            .filter { $0.isRegularFile && $0.path != "ledger.jsonl" && $0.path != "case.json" }.map(\.path)
    }

    private static func verify(
        directory: String, caseID: String, keyFor: (String) -> VerifyingKey?, derivedWARC: Bool,
        alsoExpected: @escaping (String) -> Bool, derivedFiles: @escaping (String) -> Bool,
        digests: FileDigestCache, scans: WARCScans, whileHashing: ([LedgerEntry]?) -> Void
    ) throws(ExhibitError) -> Report {
        let bytes = try Ledger(directory: directory).readLocked()
        let expectedID = CaseStore.isValidCaseID(caseID) ? caseID : nil
        let ledger = Verifier.checkLedger(bytes: bytes, caseID: expectedID, keyFor: keyFor)
        let reportedID = expectedID ?? ledger.entries.first?.caseID ?? caseID
        // What needs no file's digest runs first, while the queue is still hashing:
        // the listing of files nothing records, the timestamps, the cache and the
        // witness log, and the caller's own checks; then the digests are waited for.
        let recorded = recordedFiles(ledger.entries)
        let unaccounted = unaccountedFiles(directory: directory, recorded: recorded, alsoExpected: alsoExpected)
        let timestamps = TrustedTimestamp.check(directory: directory, entries: ledger.entries)
        let cache = checkCache(directory: directory, entries: ledger.entries)
        let witness = expectedID.map { checkWitness(directory: directory, caseID: $0, entries: ledger.entries, keyFor: keyFor) } ?? []
        // What the ledger says of each WARC record, also made before any digest is waited for.
        let expectations = WARCVerification.Expectations(ledger.entries)
        whileHashing(ledger.everyLineRead ? ledger.entries : nil)
        // Record checks first: reading a WARC file for its records also yields its digest.
        var recordFindings = WARCVerification.check(directory: directory, expectations: expectations, derived: derivedWARC,
                                                    digests: digests, scans: scans)
        recordFindings += timestamps
        var files = checkFiles(directory: directory, recorded: recorded, derivedFiles: derivedFiles, digests: digests) + unaccounted
        files += cache
        files += witness
        files += recordFindings
        var report = Report(
            caseID: reportedID, directory: directory, entryCount: ledger.entries.count,
            withheldCount: ledger.withheldCount, head: ledger.head, findings: ledger.findings + files)
        report.ledgerActors = Set(ledger.entries.map(\.actor))
        if ledger.everyLineRead { report.entries = ledger.entries }
        return report
    }

    /// The workspace witness log (DESIGN §16), for a case directory inside a
    /// workspace (`<root>/cases/<ID>`): its own chain and this case's signatures,
    /// and every head it recorded for the case must still be in the ledger.
    static func checkWitness(directory: String, caseID: String, entries: [LedgerEntry], keyFor: (String) -> VerifyingKey?) -> [Verifier.Finding] {
        let cases = (directory as NSString).deletingLastPathComponent
        let root = (cases as NSString).deletingLastPathComponent
        guard (cases as NSString).lastPathComponent == "cases",
              FileManager.default.fileExists(atPath: root + "/workspace.json") else { return [] }
        let witness = WitnessLog(path: root + "/witness.jsonl")
        let report: WitnessLog.Report
        do {
            report = try witness.check(caseID: caseID, keyFor: keyFor)
        } catch {
            return [.init(.missing, path: "../../witness.jsonl", detail: "the workspace witness log cannot be read: \(error.message)")]
        }
        var findings = report.findings.map { finding in
            var moved = finding
            moved.path = "../../witness.jsonl"
            return moved
        }
        let bySeq = Dictionary(entries.map { ($0.seq, $0.hash) }, uniquingKeysWith: { first, _ in first })
        let have = Int64(entries.count)
        let records = report.records.filter { $0.caseID == caseID }
        if let beyond = records.filter({ $0.seq > have }).max(by: { $0.seq < $1.seq }) {
            findings.append(.init(.truncated, path: "ledger.jsonl", seq: beyond.seq, detail: "the workspace witness log recorded this case reaching entry \(beyond.seq) (head \(beyond.head), \(beyond.time)), but the ledger has \(have): entries were cut from its end"))
        }
        for record in records where record.seq <= have {
            if let hash = bySeq[record.seq], hash != record.head {
                findings.append(.init(.tampered, path: "ledger.jsonl", seq: record.seq, detail: "the workspace witness log recorded head \(record.head) for this entry (\(record.time)); the ledger's is \(hash)"))
            }
        }
        // The evidence server's receipts (DESIGN §22), checked with the keys pinned in the log.
        return findings + WitnessLog.checkReceipts(report, caseID: caseID, entries: entries, logPath: "../../witness.jsonl")
    }

    /// case.json is only a cache, but it remembers how long the ledger was when
    /// it was last written: a ledger that is now shorter lost entries at its end,
    /// which the chain alone cannot show (trusted timestamps anchor it for good).
    static func checkCache(directory: String, entries: [LedgerEntry]) -> [Verifier.Finding] {
        guard let bytes = try? AtomicFile.read(directory + "/case.json"),
              let cache = try? JSONValue(parsing: bytes),
              let count = cache["entry_count"]?.intValue, let head = cache["ledger_head"]?.stringValue else { return [] }
        guard count > Int64(entries.count) else { return [] }
        if entries.indices.contains(Int(count) - 1), entries[Int(count) - 1].hash == head { return [] }
        return [Verifier.Finding(.truncated, path: "ledger.jsonl", seq: Int64(entries.count + 1),
                                 detail: "case.json recorded \(count) entries ending with head \(head), but the ledger has \(entries.count): entries were removed from its end")]
    }

    /// What the ledger records of each file: its sha256, its size when stated, and the entry.
    package typealias RecordedFile = (sha256: String, size: Int64?, seq: Int64)

    /// The files one entry's subject records — its `warc` and `blob` objects (named by
    /// `file` or `path`) and each object of `files` — with the sha256 and, when stated, the size.
    package static func recordedFiles(in subject: JSONValue) -> [(path: String, sha256: String, size: Int64?)] {
        var files: [(path: String, sha256: String, size: Int64?)] = []
        for key in ["warc", "blob"] {
            guard let object = subject[key], let sha = object["sha256"]?.stringValue,
                  let file = object["file"]?.stringValue ?? object["path"]?.stringValue else { continue }
            files.append((file, sha, object["size"]?.intValue))
        }
        for object in subject["files"]?.arrayValue ?? [] {
            guard let sha = object["sha256"]?.stringValue, let file = object["path"]?.stringValue else { continue }
            files.append((file, sha, object["size"]?.intValue))
        }
        return files
    }

    /// Every file the entries record, by path inside the case (the last entry naming one wins).
    package static func recordedFiles(_ entries: [LedgerEntry]) -> [String: RecordedFile] {
        var recorded: [String: RecordedFile] = [:]
        for entry in entries {
            guard let subject = entry.subject else { continue }
            for file in recordedFiles(in: subject) { recorded[file.path] = (file.sha256, file.size, entry.seq) }
        }
        return recorded
    }

    /// Every file the ledger records must be present with its digest and size
    /// (``unaccountedFiles`` reports the files present that nothing records).
    /// `derivedFiles` names recorded files that are derived copies (a redacted
    /// bundle's WARC files): they must be present, but their digest is not the
    /// original's, so their records are checked one by one instead.
    static func checkFiles(directory: String, recorded: [String: RecordedFile], derivedFiles: (String) -> Bool,
                           digests: FileDigestCache) -> [Verifier.Finding] {
        var findings: [Verifier.Finding] = []
        digests.prefetch(recorded.keys.map { directory + "/" + $0 })
        for (file, expected) in recorded.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + file
            var candidate = path
            var interrupted = false
            if access(path, F_OK) != 0 {
                let temporary = CaseRecovery.temporaryFiles(in: directory).first {
                    $0 == file + ".tmp" || ($0.hasPrefix(file + ".") && $0.hasSuffix(".tmp"))
                }
                guard let temporary else {
                    findings.append(.init(.missing, path: file, seq: expected.seq, detail: "recorded in the ledger (sha256 \(expected.sha256)) but not in the case"))
                    continue
                }
                candidate = directory + "/" + temporary
                interrupted = true
            }
            guard let (found, size) = try? digests.digests(atPath: candidate) else {
                findings.append(.init(.missing, path: file, seq: expected.seq, detail: "cannot be read"))
                continue
            }
            let actual = found[.sha256] ?? ""
            if derivedFiles(file) {
                continue
            } else if actual != expected.sha256 {
                findings.append(.init(.tampered, path: file, seq: expected.seq, detail: "expected sha256 \(expected.sha256) found \(actual)"))
            } else if let expectedSize = expected.size, expectedSize != size {
                findings.append(.init(.tampered, path: file, seq: expected.seq, detail: "expected \(expectedSize) bytes found \(size)"))
            } else if interrupted {
                findings.append(.init(.interrupted, path: file, seq: expected.seq, detail: "recorded and intact under its temporary name; the next command on the case renames it"))
            }
        }
        return findings
    }

    /// Findings for the files under `directory` that no ledger entry records and
    /// `alsoExpected` does not name: leftovers of an interrupted write, or unexpected.
    static func unaccountedFiles(directory: String, recorded: [String: RecordedFile],
                                 alsoExpected: (String) -> Bool) -> [Verifier.Finding] {
        let ignored: Set<String> = ["ledger.jsonl", "case.json"]
        var findings: [Verifier.Finding] = []
        for entry in DirectoryWalk.entries(in: directory) {
            let relative = entry.path
            if entry.isDirectory || ignored.contains(relative) || recorded[relative] != nil || alsoExpected(relative) { continue }
            if relative.hasSuffix(".tmp") {
                let base = String(relative.dropLast(4))
                let covered = recorded.keys.contains { base == $0 || base.hasPrefix($0 + ".") }
                if !covered {
                    findings.append(.init(.interrupted, path: relative, detail: "an interrupted write that was never recorded: not evidence; the next command on the case removes it"))
                }
                continue
            }
            findings.append(.init(.unexpected, path: relative, detail: "a file the ledger does not account for"))
        }
        return findings
    }

    /// Public keys of the workspace that holds `directory` (cases/<ID> → ../..),
    /// or of the given workspace.
    public static func workspaceKeys(forCaseDirectory directory: String) -> (String) -> VerifyingKey? {
        let root = URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
        return { id in
            guard ActorRegistry.isValidID(id),
                  let bytes = try? AtomicFile.read("\(root)/actors/\(id).json"),
                  let json = try? JSONValue(parsing: bytes),
                  let pem = json["public_key"]?.stringValue else { return nil }
            return try? VerifyingKey(pem: pem)
        }
    }
}
