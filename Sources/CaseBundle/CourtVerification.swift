public import CaseManagement
public import ChainOfCustody
import Foundation

/// Verification of court documents (DESIGN §21): a court folder made by a court
/// export, or the `data/court/` folder of a bag.
///
/// certificate.json must be canonical JSON, signed (certificate.sig) by the actor it
/// names with the key the documents carry, which must sign entries of the ledger;
/// every fact the ledger states (case, ledger head and count, timestamps, exhibits
/// with their sha256) must be what that ledger gives again; the verification it
/// reports must be a clean run over that ledger; and every document (HTML, PDF) must
/// have the sha256 the certificate states, with none unlisted.
public enum CourtVerification {
    /// Whether `path` is a court folder: certificate.json and ledger.jsonl at its top.
    public static func isCourtFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + CourtCertificate.factsFile)
            && FileManager.default.fileExists(atPath: path + "/ledger.jsonl")
    }

    /// Verifies a court folder with its own ledger and keys.
    public static func verifyFolder(_ root: String) throws(ExhibitError) -> CaseVerification.Report {
        guard let ledgerBytes = try? AtomicFile.read(root + "/ledger.jsonl") else {
            throw ExhibitError(.storage, "\(root) has no readable ledger.jsonl; it is not a court folder made by Exhibit.")
        }
        let ledger = Verifier.checkLedger(bytes: ledgerBytes, caseID: nil, keyFor: CaseExport.keys(inFolder: root + "/keys"))
        var findings = ledger.findings
        findings += check(folder: root, entries: ledger.entries, keysFolder: root + "/keys", requireCustodian: true,
                          ownFiles: ["ledger.jsonl"], ownFolders: ["keys/"])
        var report = CaseVerification.Report(
            caseID: ledger.entries.first?.caseID ?? (root as NSString).lastPathComponent, directory: root,
            entryCount: ledger.entries.count, withheldCount: ledger.withheldCount, head: ledger.head, findings: findings)
        report.ledgerActors = Set(ledger.entries.map(\.actor))
        report.signer = signerLabel(folder: root)
        return report
    }

    /// Who signed the certificate, for the summary.
    static func signerLabel(folder: String) -> String? {
        guard let bytes = try? AtomicFile.read(folder + "/" + CourtCertificate.factsFile),
              let who = (try? JSONValue(parsing: bytes))?["custodian"] else { return nil }
        return "\(who["actor"]?.stringValue ?? "?") (\(who["name"]?.stringValue ?? "?"), \(who["badge"]?.stringValue ?? "?"))"
    }

    /// Findings about the court documents in `folder` against `entries`. Paths are
    /// reported relative to `folder` (the caller prefixes them). `ownFiles` and
    /// `ownFolders` are what the folder carries besides documents (a court folder's
    /// ledger and keys).
    public static func check(
        folder: String, entries: [LedgerEntry], keysFolder: String, requireCustodian: Bool,
        ownFiles: Set<String> = [], ownFolders: [String] = [], digests: FileDigestCache? = nil
    ) -> [Verifier.Finding] {
        let factsPath = CourtCertificate.factsFile
        guard let bytes = try? AtomicFile.read(folder + "/" + factsPath) else {
            return [.init(.missing, path: factsPath, detail: "the court documents carry no certificate.json")]
        }
        guard let (facts, certainlyCanonical) = try? JSONValue.parsingTellingCanonical(bytes), facts.objectValue != nil else {
            return [.init(.tampered, path: factsPath, detail: "is not valid JSON")]
        }
        var findings: [Verifier.Finding] = []
        // The parse tells canonical bytes as it reads them (a bag's certificate is 3 MB):
        // written out again only when it cannot tell.
        if !certainlyCanonical, (try? facts.canonicalBytes()) != bytes {
            findings.append(.init(.tampered, path: factsPath, detail: "is not the canonical JSON that was signed (RFC 8785)"))
        }
        if facts["format"]?.stringValue != CourtCertificate.format {
            findings.append(.init(.tampered, path: factsPath, detail: "format is not \(CourtCertificate.format)"))
        }

        // The signature, by the actor named, with the key the documents carry, known to the ledger.
        let who = facts["custodian"]
        let actor = who?["actor"]?.stringValue ?? ""
        let pem = ActorRegistry.isValidID(actor) ? (try? AtomicFile.read(keysFolder + "/\(actor).pem")) : nil
        let signature = (try? AtomicFile.read(folder + "/" + CourtCertificate.signatureFile))
            .flatMap { Data(base64Encoded: String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let pem, let key = try? VerifyingKey(pem: String(decoding: pem, as: UTF8.self)) {
            if Digest.sha256Hex(pem) != who?["public_key_sha256"]?.stringValue {
                findings.append(.init(.badSignature, path: factsPath, detail: "names a key for \(actor) other than the one the documents carry"))
            } else if signature == nil {
                findings.append(.init(.missing, path: CourtCertificate.signatureFile, detail: "no readable base64 signature"))
            } else if !key.isValidSignature(Array(signature!), for: bytes) {
                findings.append(.init(.badSignature, path: CourtCertificate.signatureFile, detail: "the signature over certificate.json does not verify with \(actor)'s public key"))
            }
        } else {
            findings.append(.init(.badSignature, path: CourtCertificate.signatureFile, detail: "no public key for the certifying actor \(actor)"))
        }
        if !entries.contains(where: { $0.actor == actor }) {
            findings.append(.init(.badSignature, path: factsPath, detail: "the certifying actor \(actor) signs no entry of the ledger, so its key is not one the custody chain knows"))
        }
        let roles = (who?["roles"]?.arrayValue ?? []).compactMap(\.stringValue)
        if requireCustodian, !roles.contains("custodian") {
            findings.append(.init(.badSignature, path: factsPath, detail: "the certifying actor \(actor) did not hold the custodian role"))
        }

        // Every fact the ledger states, derived again.
        let derived = CourtCertificate.ledgerFacts(entries)
        for member in CourtCertificate.ledgerMembers {
            let stated = facts[member] ?? .null
            let expected = derived[member] ?? .null
            guard stated != expected else { continue }
            findings.append(.init(.tampered, path: factsPath, detail: "\(member): \(difference(stated, expected))"))
        }
        let verification = facts["verification"]
        if verification?["intact"]?.boolValue != true || verification?["findings"]?.intValue != 0
            || verification?["entries"]?.intValue != Int64(entries.count) {
            findings.append(.init(.tampered, path: factsPath, detail: "verification: states \(describe(verification ?? .null)), but the export verified \(entries.count) entries with no finding"))
        }

        // Each document has the sha256 the signed facts state; none is unlisted.
        let documents = facts["documents"]?.objectValue ?? [:]
        if documents.isEmpty {
            findings.append(.init(.tampered, path: factsPath, detail: "documents: lists no document"))
        }
        for (name, value) in documents.sorted(by: { $0.key < $1.key }) {
            // A bag's documents were read with its payload: their digests are known.
            let known = digests.flatMap { try? $0.digests(atPath: folder + "/" + name).digests[.sha256] }
            guard ZipContainer.refusal(name: name, type: .file) == nil,
                  let actual = known ?? (try? AtomicFile.read(folder + "/" + name)).map({ Digest.sha256Hex($0) }) else {
                findings.append(.init(.missing, path: name, detail: "listed in certificate.json but not present"))
                continue
            }
            if actual != value.stringValue {
                findings.append(.init(.tampered, path: name, detail: "certificate.json states sha256 \(value.stringValue ?? "-") found \(actual)"))
            }
        }
        for name in DirectoryWalk.files(in: folder) {
            if documents[name] != nil || name == factsPath || name == CourtCertificate.signatureFile || ownFiles.contains(name)
                || ownFolders.contains(where: { name.hasPrefix($0) }) { continue }
            findings.append(.init(.unexpected, path: name, detail: "a file certificate.json does not list"))
        }
        return findings
    }

    static func describe(_ value: JSONValue) -> String {
        let text = (try? value.canonicalBytes()).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        return text.count > 160 ? String(text.prefix(160)) + "…" : text
    }

    /// The first place two fact values differ, told briefly.
    static func difference(_ stated: JSONValue, _ expected: JSONValue, at path: String = "") -> String {
        switch (stated, expected) {
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
                return difference(a[key] ?? .null, b[key] ?? .null, at: path + "." + key)
            }
        case (.array(let a), .array(let b)) where a.count == b.count:
            for index in a.indices where a[index] != b[index] {
                return difference(a[index], b[index], at: path + "[\(index)]")
            }
        default: break
        }
        return "\(path.isEmpty ? "" : String(path.dropFirst()) + " ")states \(describe(stated)), the ledger gives \(describe(expected))"
    }
}
