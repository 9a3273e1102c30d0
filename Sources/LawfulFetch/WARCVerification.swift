public import ChainOfCustody
import Foundation

/// Record-level checks of a case's WARC files against their own headers and
/// against the ledger's capture subjects (offset, length, record id, block digest).
public enum WARCVerification {
    /// Findings for every WARC file the ledger records. `directory` is the case directory.
    public static func check(directory: String, entries: [LedgerEntry]) -> [Verifier.Finding] {
        // What the ledger says about each record, by file and offset.
        var expected: [String: [Int64: (record: JSONValue, seq: Int64)]] = [:]
        for entry in entries {
            guard let subject = entry.subject, let file = subject["warc"]?["file"]?.stringValue else { continue }
            for record in subject["records"]?.arrayValue ?? [] {
                if let offset = record["offset"]?.intValue {
                    expected[file, default: [:]][offset] = (record, entry.seq)
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
            var seen = Set<Int64>()
            var damage: String?
            do throws(ExhibitError) {
                try WARCReader(path: path).forEachRecord { (record) throws(ExhibitError) in
                    seen.insert(record.offset)
                    findings += compare(record, with: records[record.offset], file: file)
                }
            } catch {
                damage = error.message
            }
            let unread = records.sorted(by: { $0.key < $1.key }).filter { !seen.contains($0.key) }
            if let damage {
                let first = unread.first
                let which = first.map { "record \($0.value.record["id"]?.stringValue ?? "?") (seq \($0.value.seq))" } ?? "a record"
                findings.append(.init(.tampered, path: file, seq: first?.value.seq,
                                      detail: "\(which) is damaged or truncated (\(damage)); \(max(0, unread.count - 1)) later records could not be checked"))
            } else {
                for (offset, (record, seq)) in unread {
                    findings.append(.init(.missing, path: file, seq: seq, detail: "record \(record["id"]?.stringValue ?? "?") expected at offset \(offset) is not there"))
                }
            }
        }
        return findings
    }

    /// A record against its own block digest header and the ledger's description.
    private static func compare(_ record: ReadRecord, with ledger: (record: JSONValue, seq: Int64)?, file: String) -> [Verifier.Finding] {
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
        if expected["id"]?.stringValue != record.recordID {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record at offset \(record.offset): expected id \(expected["id"]?.stringValue ?? "?") found \(id)"))
        }
        if expected["length"]?.intValue != record.length {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected \(expected["length"]?.intValue ?? -1) compressed bytes found \(record.length)"))
        }
        if expected["block_digest"]?.stringValue != actual {
            findings.append(.init(.tampered, path: file, seq: seq, detail: "record \(id): expected block digest \(expected["block_digest"]?.stringValue ?? "?") found \(actual)"))
        }
        return findings
    }
}
