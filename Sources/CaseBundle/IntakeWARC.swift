import CaseManagement
import ChainOfCustody
import Foundation
import WARC

/// Intake of an outside WARC (`.warc` or `.warc.gz`, from wget, Heritrix,
/// warcio, Browsertrix …): every record read, its declared block and payload
/// digests checked in whatever form its writer used, and the file stored byte
/// for byte under `warc/`. Records without a digest are counted, not hidden.
enum WARCIntake {
    /// What reading a WARC's records found.
    struct Checked {
        var records: [JSONValue]
        var artifacts: [JSONValue]
        var check: JSONValue
        var sentence: String
    }

    static func prepare(_ path: String, _ context: IntakeContext) throws(ExhibitError) -> EvidenceIntake.Prepared {
        let compressed = path.lowercased().hasSuffix(".gz")
        let storedName = context.importID + (compressed ? ".warc.gz" : ".warc")
        let staged = context.staging + "/" + storedName
        let relative = "warc/" + storedName
        let (checked, sha256, size) = try copyAndCheck(path, to: staged, relative: relative)
        let subject: [String: JSONValue] = [
            "warc": .object(["file": .string(relative), "sha256": .string(sha256), "size": .integer(size)]),
            "records": .array(checked.records),
            "artifacts": .array(checked.artifacts),
            "check": checked.check,
        ]
        return EvidenceIntake.Prepared(
            name: context.name, kind: "warc", sha256: sha256, size: size, subject: subject,
            files: [.init(path: staged, relative: relative, isBlob: false)],
            artifactCount: checked.artifacts.count, check: checked.sentence)
    }

    /// Reads the WARC once: each chunk read is hashed (the file's sha256), written to
    /// `staged` and checked record by record, on three threads at once. The bytes
    /// checked are the bytes kept, so a file that changes while it is read cannot
    /// pass a check of one version and be stored as another.
    static func copyAndCheck(_ path: String, to staged: String, relative: String) throws(ExhibitError) -> (Checked, sha256: String, size: Int64) {
        let gzip = try WARCRecordSources.isGzip(path)
        let reader = try CopyingFileReader(source: path, destination: staged, ridesDigest: true)
        let checked: Checked
        do throws(ExhibitError) {
            checked = try check(path, relative: relative, displayName: path) { (visit) throws(ExhibitError) in
                try WARCReader(path: path, computesPayloadSHA1: false, checksDeclaredDigests: true).forEachRecord(from: reader, gzip: gzip, visit)
            }
        } catch {
            reader.cancel()
            throw error
        }
        let copy = try reader.finish()
        return (checked, copy.sha256, copy.size)
    }

    /// Reads every record of the WARC at `path` (to be stored as `relative`) and
    /// checks the digests it declares; throws verification-failed, naming the
    /// first record that fails, when any does or when the file cannot be read whole.
    /// `fileDigest`, when given, is fed every byte of the file as it is read.
    static func check(_ path: String, relative: String, displayName: String, fileDigest: DigestStream? = nil) throws(ExhibitError) -> Checked {
        try check(path, relative: relative, displayName: displayName) { (visit) throws(ExhibitError) in
            try WARCReader(path: path, computesPayloadSHA1: false, checksDeclaredDigests: true).forEachRecord(fileDigest: fileDigest, visit)
        }
    }

    /// The check, over the records `read` hands to the visitor it is given.
    static func check(_ path: String, relative: String, displayName: String,
                      read: ((ReadRecord) throws(ExhibitError) -> Void) throws(ExhibitError) -> Void) throws(ExhibitError) -> Checked {
        var records: [JSONValue] = []
        var artifacts: [JSONValue] = []
        var byType: [String: Int64] = [:]
        var block: [String: Int64] = [:]
        var payload: [String: Int64] = [:]
        var failures: [String] = []
        var ids = Set<String>()
        do throws(ExhibitError) {
            try read { (record) throws(ExhibitError) in
                let type = record.type ?? "?"
                byType[type, default: 0] += 1
                let id = record.recordID ?? ""
                if id.isEmpty || !ids.insert(id).inserted {
                    failures.append("the record at offset \(record.offset) has \(id.isEmpty ? "no WARC-Record-ID" : "the same WARC-Record-ID as an earlier one (\(id))")")
                }
                let declared = record.declaredDigests!
                block[declared.block.word, default: 0] += 1
                payload[declared.payload.word, default: 0] += 1
                for (name, verdict) in [("WARC-Block-Digest", declared.block), ("WARC-Payload-Digest", declared.payload)] {
                    if case .mismatched(let said, let found) = verdict {
                        failures.append("record \(id) at offset \(record.offset) declares \(name) \(said), but its \(name == "WARC-Block-Digest" ? "block" : "payload") hashes to \(found)")
                    }
                }
                var entry: [String: JSONValue] = [
                    "id": .string(id), "type": .string(type), "offset": .integer(record.offset), "length": .integer(record.length),
                    // null for an HTTP response whose declared block digest was checked:
                    // that digest, payload_sha256 and the file's sha256 hold it (docs/import.md).
                    "block_digest": record.blockSHA256.isEmpty ? .null : .string("sha256:" + record.blockSHA256),
                    "declared_block_digest": record.field("WARC-Block-Digest").map { .string($0) } ?? .null,
                    "declared_payload_digest": record.field("WARC-Payload-Digest").map { .string($0) } ?? .null,
                    "block_check": .string(declared.block.word), "payload_check": .string(declared.payload.word),
                ]
                entry["target_uri"] = record.targetURI.map { .string($0) } ?? .null
                entry["payload_sha256"] = (declared.dechunkedPayloadSHA256 ?? declared.payloadSHA256).map { .string($0) } ?? .null
                records.append(.object(entry))
                if let artifact = artifact(record, declared, relative: relative) { artifacts.append(artifact) }
            }
        } catch {
            var detail = error.message
            if detail.contains("beyond its Content-Length") {
                detail += "; a .warc.gz must hold one gzip member per record (WARC 1.1 annex D)"
            }
            throw ExhibitError(.verificationFailed, "\(displayName) is not a WARC file that can be read whole (\(detail)); nothing was imported.")
        }
        guard !records.isEmpty else {
            throw ExhibitError(.verificationFailed, "\(displayName) holds no WARC record; nothing was imported.")
        }
        if let first = failures.first {
            let more = failures.count > 1 ? " (and \(failures.count - 1) more)" : ""
            throw ExhibitError(.verificationFailed, "\(displayName) fails its own digests: \(first)\(more); nothing was imported.")
        }
        func counts(_ table: [String: Int64]) -> JSONValue { .object(table.mapValues { .integer($0) }) }
        let check: JSONValue = .object([
            "verdict": .string("passed"),
            "records": .integer(Int64(records.count)),
            "by_type": counts(byType),
            "block_digest": counts(block),
            "payload_digest": counts(payload),
            "artifacts": .integer(Int64(artifacts.count)),
        ])
        return Checked(records: records, artifacts: artifacts, check: check,
                       sentence: sentence(records: records.count, byType: byType, block: block, payload: payload))
    }

    /// A response with an HTTP head, or a resource: an artifact of the case.
    static func artifact(_ record: ReadRecord, _ declared: DeclaredDigestCheck, relative: String) -> JSONValue? {
        var item: [String: JSONValue] = [
            "record": .string(record.recordID ?? ""), "record_type": .string(record.type ?? ""),
            "url": .string(plainURI(record.targetURI ?? "")), "time": .string(record.field("WARC-Date") ?? ""),
            "warc": .string(relative), "offset": .integer(record.offset),
        ]
        switch record.type {
        case "response":
            guard let head = record.httpHead, let status = HTTPHead.statusCode(in: head).flatMap({ Int64($0) }) else { return nil }
            item["status"] = .integer(status)
            item["content_type"] = HTTPHead.firstValue(of: "content-type", in: head).map { .string($0) } ?? .null
            item["sha256"] = (declared.dechunkedPayloadSHA256 ?? declared.payloadSHA256).map { .string($0) } ?? .null
            item["size"] = (declared.dechunkedPayloadLength ?? declared.payloadLength).map { .integer($0) } ?? .null
        case "resource":
            item["status"] = .null
            item["content_type"] = record.field("Content-Type").map { .string($0) } ?? .null
            item["sha256"] = .string(record.blockSHA256)
            item["size"] = .integer(record.blockLength)
        default:
            return nil
        }
        return .object(item)
    }

    /// wget writes WARC-Target-URI in angle brackets (the WARC 1.0 grammar's
    /// example, which 1.1 corrected); the artifact's URL is the URI inside them.
    static func plainURI(_ uri: String) -> String {
        uri.hasPrefix("<") && uri.hasSuffix(">") && uri.count > 2 ? String(uri.dropFirst().dropLast()) : uri
    }

    /// "14 records (…); block digests: 12 matched, 2 absent (no digest); payload digests: …".
    static func sentence(records: Int, byType: [String: Int64], block: [String: Int64], payload: [String: Int64]) -> String {
        func list(_ table: [String: Int64]) -> String {
            table.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key == "absent" ? "without a digest" : $0.key == "not-applicable" ? "not checkable here (revisits or no HTTP payload)" : $0.key)" }
                .joined(separator: ", ")
        }
        return "\(records) records (\(list(byType))); block digests: \(list(block)); payload digests: \(list(payload))"
    }
}
