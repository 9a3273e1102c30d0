import CaseManagement
public import ChainOfCustody
import Foundation
import WARC
import ZIPFoundation

/// A WACZ 1.1.1 web-archive package of a case (DESIGN §9), which ReplayWeb.page
/// opens and `wacz validate` accepts: the case's WARC files under archive/ and
/// their CDXJ index under indexes/ (both stored, not compressed again),
/// pages/pages.jsonl, datapackage.json with the sha256 of every file, and
/// datapackage-digest.json signed with the exporting actor's registered ECDSA
/// P-256 key (the WACZ signing spec's anonymous form), bound to the actor's
/// Ed25519 key by exhibit/signer.json. Exhibit adds exhibit/ledger.jsonl and
/// the actors' public keys, so `exhibit verify` can check the custody chain too.
public enum WACZPackage {
    /// exhibit/signer.json: the exporting actor's Ed25519 signature binding the
    /// P-256 key that signs datapackage-digest.json to the actor and to the case's
    /// ledger head (DESIGN §16). verify requires the actor's key to sign entries of
    /// the package's ledger and the actor to hold the analyst role.
    public struct SignerStatement: Sendable, Equatable {
        public static let path = "exhibit/signer.json"
        public static let format = "exhibit-wacz-signer-1"
        public var caseID: String
        public var ledgerHead: String
        public var signer: BagSeal.Signer
        /// Base64 SPKI of the P-256 key, as datapackage-digest.json carries it.
        public var waczPublicKey: String

        public var statement: JSONValue {
            .object([
                "format": .string(Self.format), "case": .string(caseID), "ledger_head": .string(ledgerHead),
                "wacz_public_key": .string(waczPublicKey), "signer": signer.json,
            ])
        }

        public func signed(with key: SigningKey) throws(ExhibitError) -> [UInt8] {
            try BagSeal.signedDocument(statement, as: "statement", with: key)
        }

        /// Parses the file: the statement, its canonical bytes and the signature.
        public static func read(_ bytes: [UInt8]) -> (SignerStatement, message: [UInt8], signature: [UInt8])? {
            guard let json = try? JSONValue(parsing: bytes), let statement = json["statement"],
                  let signature = json["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
                  statement["format"]?.stringValue == format,
                  let caseID = statement["case"]?.stringValue, let head = statement["ledger_head"]?.stringValue,
                  let key = statement["wacz_public_key"]?.stringValue, let signer = BagSeal.Signer(json: statement["signer"]),
                  let message = try? statement.canonicalBytes() else { return nil }
            let parsed = SignerStatement(caseID: caseID, ledgerHead: head, signer: signer, waczPublicKey: key)
            guard (try? parsed.statement.canonicalBytes()) == message else { return nil }
            return (parsed, message, Array(signature))
        }
    }

    /// Writes the package to `path` (a new file).
    static func write(
        to path: String, facts: BundleFacts, entries: [LedgerEntry], caseDirectory: String, warcFiles: [String], ledger: [UInt8],
        publicKeys: [(String, String)], signingKeyPEM: String, signerStatement: [UInt8], created: String
    ) throws(ExhibitError) {
        var files: [(path: String, bytes: [UInt8]?, source: String?)] = []
        for warc in warcFiles {
            var source = caseDirectory + "/" + warc
            if !FileManager.default.fileExists(atPath: source) { source += ".tmp" }
            files.append(("archive/" + (warc as NSString).lastPathComponent, nil, source))
        }
        let index = try CDXJIndex.lines(of: zip(warcFiles, files).map { ($0.1.source!, ($0.0 as NSString).lastPathComponent) })
        files.append(("indexes/index.cdx", Array(index.joined().utf8), nil))
        files.append(("pages/pages.jsonl", pages(entries), nil))
        files.append(("exhibit/ledger.jsonl", ledger, nil))
        files.append((SignerStatement.path, signerStatement, nil))
        for (id, pem) in publicKeys { files.append(("exhibit/\(id).pem", Array(pem.utf8), nil)) }

        var resources: [[String: Any]] = []
        for file in files.sorted(by: { $0.path < $1.path }) {
            let (digest, size): (String, Int64)
            if let bytes = file.bytes {
                (digest, size) = (Digest.sha256Hex(bytes), Int64(bytes.count))
            } else {
                let result = try Digest.file(atPath: file.source!)
                (digest, size) = (result.digests[.sha256]!, result.size)
            }
            resources.append([
                "name": (file.path as NSString).lastPathComponent.lowercased(), "path": file.path,
                "hash": "sha256:" + digest, "bytes": size,
            ])
        }
        let firstPage = facts.artifacts.first { $0.role == "page" && (200..<300).contains($0.status) }
        var package: [String: Any] = [
            "profile": "data-package", "wacz_version": "1.1.1", "resources": resources,
            "title": "\(facts.caseID): \(facts.title)",
            "description": "\(facts.categoryTitle) case \(facts.caseID) of \(facts.agency), exported by \(facts.toolName) \(facts.toolVersion). Ledger head \(facts.ledgerHead).",
            "created": created, "software": "\(facts.toolName) \(facts.toolVersion)",
        ]
        if let firstPage {
            package["mainPageUrl"] = firstPage.url
            package["mainPageDate"] = rfc3339(firstPage.started ?? firstPage.ended)
        }
        let datapackage = try BundleJSON.pretty(package)
        let hash = "sha256:" + Digest.sha256Hex(datapackage)
        let signature = try ECDSAP256.sign(Array(hash.utf8), privateKeyPEM: signingKeyPEM)
        let publicKey = try ECDSAP256.publicKeySPKI(privateKeyPEM: signingKeyPEM)
        let digest = try BundleJSON.pretty([
            "path": "datapackage.json", "hash": hash,
            "signedData": [
                "hash": hash, "created": created, "software": "\(facts.toolName) \(facts.toolVersion)",
                "signature": Data(signature).base64EncodedString(), "publicKey": Data(publicKey).base64EncodedString(),
            ] as [String: Any],
        ])
        files.append(("datapackage.json", datapackage, nil))
        files.append(("datapackage-digest.json", digest, nil))

        do {
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            for file in files {
                let bytes = try file.bytes ?? AtomicFile.read(file.source!)
                // WARC files and indexes are stored: the spec forbids compressing again,
                // and replay reads records at their offsets.
                let stored = file.path.hasPrefix("archive/") || file.path.hasPrefix("indexes/")
                try ZipContainer.add(bytes, at: file.path, compressed: !stored, to: archive)
            }
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "Cannot write the WACZ file \(path) (\(error)).")
        }
    }

    /// pages/pages.jsonl: a header line, then each captured page (the URL asked
    /// for, when its response began) and each HTML response of an imported WARC
    /// (its URL and WARC-Date; docs/import.md), in ledger order.
    /// A function of the ledger alone, so verify derives it again and compares (§16).
    static func pages(_ entries: [LedgerEntry]) -> [UInt8] {
        var lines = [#"{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}"#]
        func add(_ page: [String: Any]) {
            if let data = try? JSONSerialization.data(withJSONObject: page, options: [.sortedKeys, .withoutEscapingSlashes]) {
                lines.append(String(decoding: data, as: UTF8.self))
            }
        }
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if entry.action == "import", subject["warc"]?["file"]?.stringValue != nil {
                let items = subject["artifacts"]?.arrayValue ?? []
                for (index, item) in items.enumerated() where item["record_type"]?.stringValue == "response" && item["status"]?.intValue != nil
                    && (item["content_type"]?.stringValue?.lowercased().contains("html") ?? false) {
                    let time = item["time"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? entry.time
                    add(["id": ImportedArtifactID.id(seq: entry.seq, number: index + 1, of: items.count, kind: subject["kind"]?.stringValue ?? ""),
                         "url": item["url"]?.stringValue ?? "", "ts": rfc3339(time)])
                }
            }
            guard entry.action == "capture", subject["status"]?.intValue != nil, subject["role"]?.stringValue == "page" else { continue }
            let time = subject["started"]?.stringValue ?? subject["ended"]?.stringValue ?? entry.time
            var page: [String: Any] = ["id": ArtifactID.forSeq(Int(entry.seq)), "url": subject["url"]?.stringValue ?? "", "ts": rfc3339(time)]
            if let title = subject["title"]?.stringValue { page["title"] = title }
            add(page)
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// A ledger time as RFC 3339 to the second (`2026-12-01T10:42:55Z`).
    static func rfc3339(_ time: String) -> String {
        String(time.prefix(19)) + "Z"
    }


}
