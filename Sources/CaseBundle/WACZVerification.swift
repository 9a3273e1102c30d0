import CaseManagement
import ChainOfCustody
import Foundation
import WARC

/// `exhibit verify` on a WACZ package (DESIGN §16): its resources against
/// datapackage.json, that against the signed digest file, the signature, and the
/// ledger and WARC files it carries.
extension BundleVerification {
    /// Verifies an extracted WACZ package: every resource against datapackage.json,
    /// datapackage.json against the signed digest file, the signature, the custody
    /// ledger it carries, and each WARC file and record against that ledger.
    static func verifyWACZ(_ root: String, reportedAs path: String) throws(ExhibitError) -> CaseVerification.Report {
        var findings: [Verifier.Finding] = []
        guard let packageBytes = try? AtomicFile.read(root + "/datapackage.json") else {
            throw ExhibitError(.storage, "\(path) has no readable datapackage.json; it is not a WACZ package.")
        }
        let package: JSONValue
        if let parsed = try? JSONValue(parsing: packageBytes) {
            package = parsed
        } else {
            findings.append(.init(.tampered, path: "datapackage.json", detail: "not valid JSON"))
            package = .object([:])
        }
        var listed = Set<String>()
        for resource in package["resources"]?.arrayValue ?? [] {
            guard let file = resource["path"]?.stringValue, let hash = resource["hash"]?.stringValue else { continue }
            listed.insert(file)
            guard ZipContainer.refusal(name: file, type: .file) == nil,
                  let (digests, size) = try? Digest.file(atPath: root + "/" + file) else {
                findings.append(.init(.missing, path: file, detail: "listed in datapackage.json but not in the package"))
                continue
            }
            if "sha256:" + (digests[.sha256] ?? "") != hash {
                findings.append(.init(.tampered, path: file, detail: "datapackage.json: expected \(hash) found sha256:\(digests[.sha256] ?? "")"))
            } else if let bytes = resource["bytes"]?.intValue, bytes != size {
                findings.append(.init(.tampered, path: file, detail: "datapackage.json: expected \(bytes) bytes found \(size)"))
            }
        }
        for file in ((try? ZipContainer.files(in: root)) ?? []) where !listed.contains(file) {
            if file == "datapackage.json" || file == "datapackage-digest.json" { continue }
            findings.append(.init(.unexpected, path: file, detail: "a file datapackage.json does not list"))
        }

        // The signed digest of datapackage.json.
        let packageHash = "sha256:" + Digest.sha256Hex(packageBytes)
        if let digestBytes = try? AtomicFile.read(root + "/datapackage-digest.json"), let digest = try? JSONValue(parsing: digestBytes) {
            if digest["hash"]?.stringValue != packageHash {
                findings.append(.init(.tampered, path: "datapackage.json", detail: "datapackage-digest.json: expected \(digest["hash"]?.stringValue ?? "-") found \(packageHash)"))
            }
            let signed = digest["signedData"]
            let signature = signed?["signature"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
            let key = signed?["publicKey"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
            let signedHash = signed?["hash"]?.stringValue ?? ""
            if signedHash != packageHash || !ECDSAP256.verify(signature, over: Array(signedHash.utf8), publicKeySPKI: key) {
                findings.append(.init(.badSignature, path: "datapackage-digest.json", detail: "the ECDSA P-256 signature over the datapackage digest does not verify"))
            }
            if signed?["created"]?.stringValue != package["created"]?.stringValue {
                findings.append(.init(.tampered, path: "datapackage-digest.json", detail: "the signed creation time differs from datapackage.json's"))
            }
        } else {
            findings.append(.init(.missing, path: "datapackage-digest.json", detail: "the package carries no signed digest"))
        }

        // The custody ledger it carries, checked with the keys it carries.
        guard let ledgerBytes = try? AtomicFile.read(root + "/exhibit/ledger.jsonl") else {
            throw ExhibitError(.storage, "\(path) is a WACZ package but not an Exhibit export (it has no exhibit/ledger.jsonl).")
        }
        let ledger = Verifier.checkLedger(bytes: ledgerBytes, caseID: nil, keyFor: CaseExport.keys(inFolder: root + "/exhibit"))
        findings += ledger.findings.map { var moved = $0; moved.path = "exhibit/" + moved.path; return moved }

        // Who signed: the P-256 key must be the one the exporting actor's Ed25519
        // key vouches for, and that key must sign entries of the ledger (§16).
        let signedKey = (try? AtomicFile.read(root + "/datapackage-digest.json")).flatMap { try? JSONValue(parsing: $0) }?["signedData"]?["publicKey"]?.stringValue
        var signer: String?
        if let bytes = try? AtomicFile.read(root + "/" + WACZPackage.SignerStatement.path),
           let (statement, message, signature) = WACZPackage.SignerStatement.read(bytes) {
            let who = statement.signer
            signer = "\(who.id) (\(who.name), \(who.badge))"
            let pem = ActorRegistry.isValidID(who.id) ? (try? AtomicFile.read(root + "/exhibit/\(who.id).pem")) : nil
            let key = pem.flatMap { try? VerifyingKey(pem: String(decoding: $0, as: UTF8.self)) }
            let path = WACZPackage.SignerStatement.path
            if key == nil || Digest.sha256Hex(pem ?? []) != who.publicKeySHA256 || !key!.isValidSignature(signature, for: message) {
                findings.append(.init(.badSignature, path: path, detail: "the signer statement does not verify with \(who.id)'s public key"))
            }
            if !ledger.entries.contains(where: { $0.actor == who.id }) {
                findings.append(.init(.badSignature, path: path, detail: "the signer \(who.id) signs no entry of the package's ledger, so its key is not one the custody chain knows"))
            }
            if !who.roles.contains("analyst") {
                findings.append(.init(.badSignature, path: path, detail: "the signer \(who.id) did not hold the analyst role"))
            }
            if signedKey != statement.waczPublicKey {
                findings.append(.init(.badSignature, path: "datapackage-digest.json", detail: "signed with a P-256 key other than the one \(who.id) registered"))
            }
            if statement.ledgerHead != ledger.head {
                findings.append(.init(.tampered, path: path, detail: "the signer states ledger head \(statement.ledgerHead), the package's ledger ends with \(ledger.head ?? "nothing")"))
            }
        } else {
            findings.append(.init(.missing, path: WACZPackage.SignerStatement.path, detail: "no readable signer statement: nothing binds the package's signing key to an actor"))
        }

        // Each WARC file the ledger records is in archive/ with its recorded digest,
        // and its records match the ledger (checked as in a case laid out under warc/).
        let caseView = root + "/.case"
        try? FileManager.default.createDirectory(atPath: caseView + "/warc", withIntermediateDirectories: true)
        var checked: [LedgerEntry] = []
        for entry in ledger.entries {
            guard let file = entry.subject?["warc"]?["file"]?.stringValue, let sha = entry.subject?["warc"]?["sha256"]?.stringValue else { continue }
            let name = (file as NSString).lastPathComponent
            let archived = root + "/archive/" + name
            guard let digests = try? Digest.file(atPath: archived).digests else {
                findings.append(.init(.missing, path: "archive/" + name, seq: entry.seq, detail: "recorded in the ledger (sha256 \(sha)) but not in the package"))
                continue
            }
            if digests[.sha256] != sha {
                findings.append(.init(.tampered, path: "archive/" + name, seq: entry.seq, detail: "expected sha256 \(sha) found \(digests[.sha256] ?? "")"))
            }
            if !FileManager.default.fileExists(atPath: caseView + "/warc/" + name) {
                _ = symlink(archived, caseView + "/warc/" + name)
            }
            checked.append(entry)
        }
        findings += WARCVerification.check(directory: caseView, entries: checked).map { finding in
            var moved = finding
            moved.path = moved.path.hasPrefix("warc/") ? "archive/" + moved.path.dropFirst(5) : moved.path
            return moved
        }

        // Every file under archive/ is a WARC file the ledger records; the index and
        // the page list are derived again from those records and the ledger (§16).
        let recordedNames = Set(checked.compactMap { $0.subject?["warc"]?["file"]?.stringValue }.map { ($0 as NSString).lastPathComponent })
        for file in ((try? ZipContainer.files(in: root)) ?? []) where file.hasPrefix("archive/") {
            if !recordedNames.contains(String(file.dropFirst("archive/".count))) {
                findings.append(.init(.unexpected, path: file, detail: "a WARC file no ledger entry records"))
            }
        }
        let warcs = CaseExport.recordedFiles(ledger.entries).filter { $0.hasPrefix("warc/") }.map { ($0 as NSString).lastPathComponent }
            .filter { FileManager.default.fileExists(atPath: root + "/archive/" + $0) }
        if let index = try? CDXJIndex.lines(of: warcs.map { (root + "/archive/" + $0, $0) }) {
            if (try? AtomicFile.read(root + "/indexes/index.cdx")) != Array(index.joined().utf8) {
                findings.append(.init(.tampered, path: "indexes/index.cdx", detail: "does not match the index of the WARC records the ledger recorded (URL, time, offset, length or digest)"))
            }
        }
        if (try? AtomicFile.read(root + "/pages/pages.jsonl")) != WACZPackage.pages(ledger.entries) {
            findings.append(.init(.tampered, path: "pages/pages.jsonl", detail: "does not match the pages the ledger recorded"))
        }
        var waczReport = CaseVerification.Report(
            caseID: ledger.entries.first?.caseID ?? (path as NSString).lastPathComponent, directory: path,
            entryCount: ledger.entries.count, withheldCount: ledger.withheldCount, head: ledger.head, findings: findings)
        waczReport.signer = signer
        return waczReport
    }
}
