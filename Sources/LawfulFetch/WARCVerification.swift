public import ChainOfCustody
import Foundation

/// Record-level checks of a case's WARC files against their own headers and
/// against the ledger's capture subjects (offset, length, record id, block digest).
public enum WARCVerification {
    /// Findings for every WARC file the ledger records. `directory` is the case directory.
    public static func check(directory: String, entries: [LedgerEntry]) -> [Verifier.Finding] {
        check(directory: directory, entries: entries, placement: true)
    }

    /// The same checks by record id and block digest only, for WARC files that are
    /// derived copies holding some of the original records (a decision-maker
    /// bundle, DESIGN §9): offsets and lengths are those of the original files.
    public static func checkDerived(directory: String, entries: [LedgerEntry]) -> [Verifier.Finding] {
        check(directory: directory, entries: entries, placement: false)
    }

    static func check(directory: String, entries: [LedgerEntry], placement: Bool) -> [Verifier.Finding] {
        // What the ledger says about each record, by file and record id.
        var expected: [String: [String: (record: JSONValue, seq: Int64)]] = [:]
        for entry in entries {
            guard let subject = entry.subject, let file = subject["warc"]?["file"]?.stringValue else { continue }
            for record in subject["records"]?.arrayValue ?? [] {
                if let id = record["id"]?.stringValue {
                    expected[file, default: [:]][id] = (record, entry.seq)
                }
            }
        }
        var findings: [Verifier.Finding] = []
        for (file, records) in expected.sorted(by: { $0.key < $1.key }) {
            let path: String
            if access(directory + "/" + file, F_OK) == 0 {
                path = directory + "/" + file
            } else if access(directory + "/" + file + ".tmp", F_OK) == 0 {
                path = directory + "/" + file + ".tmp"
            } else {
                continue  // reported as MISSING by the file-level check
            }
            var seen = Set<String>()
            var damage: String?
            var shifted = !placement
            do throws(ExhibitError) {
                try WARCReader(path: path).forEachRecord { (record) throws(ExhibitError) in
                    let id = record.recordID ?? ""
                    seen.insert(id)
                    let found = compare(record, with: records[id], file: file, checkPlacement: !shifted)
                    // After one record changed size, every later offset moves: say it once.
                    if found.contains(where: { $0.detail.contains("compressed bytes") || $0.detail.contains("offset") }) { shifted = true }
                    findings += found
                }
            } catch {
                damage = error.message
            }
            let unread = records.filter { !seen.contains($0.key) }
                .sorted { ($0.value.record["offset"]?.intValue ?? 0) < ($1.value.record["offset"]?.intValue ?? 0) }
            if let damage {
                let first = unread.first
                let which = first.map { "record \($0.key)" } ?? "a record"
                findings.append(.init(.tampered, path: file, seq: first?.value.seq,
                                      detail: "\(which) is damaged or truncated (\(damage)); \(max(0, unread.count - 1)) later records could not be checked"))
            } else {
                for (id, (record, seq)) in unread {
                    findings.append(.init(.missing, path: file, seq: seq, detail: "record \(id) expected at offset \(record["offset"]?.intValue ?? -1) is not there"))
                }
            }
        }
        return findings
    }

    /// A record against its own block digest header and the ledger's description.
    private static func compare(_ record: ReadRecord, with ledger: (record: JSONValue, seq: Int64)?, file: String, checkPlacement: Bool) -> [Verifier.Finding] {
        var findings: [Verifier.Finding] = []
        let id = record.recordID ?? "?"
        let header = record.field("WARC-Block-Digest") ?? ""
        let actual = "sha256:" + record.blockSHA256
        if header != actual {
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
        if expected["block_digest"]?.stringValue != actual {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected block digest \(expected["block_digest"]?.stringValue ?? "?") found \(actual)"))
        }
        return findings
    }
}
