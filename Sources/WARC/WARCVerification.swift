public import ChainOfCustody
import Foundation

/// Record-level checks of a case's WARC files against their own headers and
/// against the ledger's capture subjects (offset, length, record id, block digest).
public enum WARCVerification {
    /// Findings for every WARC file the ledger records. `directory` is the case directory.
    /// With `digests`, each file's own digests are taken from the same read and kept
    /// there, so the file-level check does not read it again. With `scans`, files
    /// already read (or being read) in the background are not read again.
    public static func check(directory: String, entries: [LedgerEntry], digests: FileDigestCache? = nil, scans: WARCScans? = nil) -> [Verifier.Finding] {
        check(directory: directory, expectations: Expectations(entries), placement: true, digests: digests, scans: scans)
    }

    /// ``check(directory:entries:digests:scans:)`` with the ledger's ``Expectations`` made
    /// beforehand (verify makes them while the payload is still hashed; `derived` as in
    /// ``checkDerived(directory:entries:digests:scans:)``).
    public static func check(directory: String, expectations: Expectations, derived: Bool, digests: FileDigestCache?, scans: WARCScans?) -> [Verifier.Finding] {
        check(directory: directory, expectations: expectations, placement: !derived, digests: digests, scans: scans)
    }

    /// The same checks by record id and block digest only, for WARC files that are
    /// derived copies holding some of the original records (a decision-maker
    /// bundle, DESIGN §9): offsets and lengths are those of the original files.
    public static func checkDerived(directory: String, entries: [LedgerEntry], digests: FileDigestCache? = nil, scans: WARCScans? = nil) -> [Verifier.Finding] {
        check(directory: directory, expectations: Expectations(entries), placement: false, digests: digests, scans: scans)
    }

    typealias Expected = [String: (record: JSONValue, seq: Int64)]

    /// What the ledger says about each record, by file and record id.
    public struct Expectations: Sendable {
        let byFile: [String: Expected]

        public init(_ entries: [LedgerEntry]) {
            var expected: [String: Expected] = [:]
            for entry in entries {
                guard let subject = entry.subject, let file = subject["warc"]?["file"]?.stringValue else { continue }
                for record in subject["records"]?.arrayValue ?? [] {
                    if let id = record["id"]?.stringValue {
                        expected[file, default: [:]][id] = (record, entry.seq)
                    }
                }
            }
            byFile = expected
        }
    }

    static func check(directory: String, expectations: Expectations, placement: Bool, digests: FileDigestCache?, scans: WARCScans?) -> [Verifier.Finding] {
        // Files are independent: check them on every core, biggest first, and report
        // them in name order.
        let scans = scans ?? WARCScans(digests: digests)
        let files = expectations.byFile.map { (file: $0.key, records: $0.value, path: existingPath(directory, $0.key)) }
            .sorted { ($0.path.map(fileSize) ?? 0) > ($1.path.map(fileSize) ?? 0) }
        let results = Parallel.map(files) { item in
            (item.file, item.path.map { compare(scans.scan($0), name: item.file, records: item.records, placement: placement) } ?? [])
        }
        return results.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    /// The file as written, or under its temporary name after an interrupted commit;
    /// nil when missing (reported as MISSING by the file-level check).
    static func existingPath(_ directory: String, _ file: String) -> String? {
        if access(directory + "/" + file, F_OK) == 0 { return directory + "/" + file }
        if access(directory + "/" + file + ".tmp", F_OK) == 0 { return directory + "/" + file + ".tmp" }
        return nil
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// One file's records, as a scan read them, against the ledger.
    static func compare(_ scan: WARCScans.Scan, name file: String, records: Expected, placement: Bool) -> [Verifier.Finding] {
        var findings: [Verifier.Finding] = []
        var seen = Set<String>()
        var shifted = !placement
        for record in scan.records {
            let id = record.recordID ?? ""
            seen.insert(id)
            let found = compare(record, with: records[id], file: file, checkPlacement: !shifted)
            // After one record changed size, every later offset moves: say it once.
            if found.contains(where: { $0.detail.contains("compressed bytes") || $0.detail.contains("offset") }) { shifted = true }
            findings += found
        }
        let unread = records.filter { !seen.contains($0.key) }
            .sorted { ($0.value.record["offset"]?.intValue ?? 0) < ($1.value.record["offset"]?.intValue ?? 0) }
        if let damage = scan.damage {
            let first = unread.first
            let which = first.map { "record \($0.key)" } ?? "a record"
            findings.append(.init(.tampered, path: file, seq: first?.value.seq,
                                  detail: "\(which) is damaged or truncated (\(damage)); \(max(0, unread.count - 1)) later records could not be checked"))
        } else {
            for (id, (record, seq)) in unread {
                findings.append(.init(.missing, path: file, seq: seq, detail: "record \(id) expected at offset \(record["offset"]?.intValue ?? -1) is not there"))
            }
        }
        return findings
    }

    /// A record against its own block digest header and the ledger's description.
    private static func compare(_ record: WARCScans.Record, with ledger: (record: JSONValue, seq: Int64)?, file: String, checkPlacement: Bool) -> [Verifier.Finding] {
        var findings: [Verifier.Finding] = []
        let id = record.recordID ?? "?"
        let header = record.blockDigestHeader ?? ""
        let actual = "sha256:" + record.blockSHA256
        // An imported record keeps the digest header its writer gave it (sha1 in
        // base32, or none), which intake checked and the ledger recorded as
        // `declared_block_digest`; its sha256 is then checked against the ledger below.
        let declared = ledger?.record["declared_block_digest"].map { $0.stringValue ?? "" }
        if header != actual, header != declared {
            findings.append(.init(.tampered, path: file, seq: ledger?.seq,
                                  detail: "record \(id) at offset \(record.offset): block digest header says \(header), the block hashes to \(actual)"))
        }
        guard let (expected, seq) = ledger else {
            if record.type != "warcinfo" {
                findings.append(.init(.unexpected, path: file, detail: "record \(id) at offset \(record.offset) is not in the ledger"))
            }
            return findings
        }
        if expected["type"]?.stringValue != record.type {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected type \(expected["type"]?.stringValue ?? "?") found \(record.type ?? "none")"))
        }
        if let target = expected["target_uri"]?.stringValue, target != record.targetURI {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected target URI \(target) found \(record.targetURI ?? "none")"))
        }
        if checkPlacement, expected["offset"]?.intValue != record.offset {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected at offset \(expected["offset"]?.intValue ?? -1) found at \(record.offset)"))
        } else if checkPlacement, expected["length"]?.intValue != record.length {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected \(expected["length"]?.intValue ?? -1) compressed bytes found \(record.length)"))
        }
        // An imported HTTP response whose declared digest intake checked has no sha256
        // of its block in the ledger (null). In the stored file the file's sha256 holds
        // its bytes; a derived copy has no such digest, so the block is held to the
        // declared digest the signed ledger recorded (header == declared, checked above).
        if expected["block_digest"] == .null {
            if declared == nil || record.declaredBlockHolds != true {
                findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): the block no longer hashes to the digest the ledger recorded for it (\(declared ?? "none"))"))
            }
        } else if expected["block_digest"]?.stringValue != actual {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected block digest \(expected["block_digest"]?.stringValue ?? "?") found \(actual)"))
        }
        return findings
    }
}
