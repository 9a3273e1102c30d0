public import ChainOfCustody
import Foundation
import LawfulFetch
import ZIPFoundation

/// A WACZ 1.1.1 web-archive package of a case (DESIGN §9), which ReplayWeb.page
/// opens and `wacz validate` accepts: the case's WARC files under archive/ and
/// their CDXJ index under indexes/ (both stored, not compressed again),
/// pages/pages.jsonl, datapackage.json with the sha256 of every file, and
/// datapackage-digest.json signed with the workspace's anonymous ECDSA P-256 key
/// (the WACZ signing spec's anonymous form). Exhibit adds exhibit/ledger.jsonl and
/// the actors' public keys, so `exhibit verify` can check the custody chain too.
public enum WACZPackage {
    /// Where the workspace keeps the key that signs its WACZ files.
    public static func signingKeyPath(keysDirectory: String) -> String {
        keysDirectory + "/wacz-signing.key.pem"
    }

    /// The workspace's signing key, created (mode 0600) on first use.
    public static func signingKey(keysDirectory: String) throws(ExhibitError) -> String {
        let path = signingKeyPath(keysDirectory: keysDirectory)
        var info = stat()
        if stat(path, &info) == 0 {
            // Like an actor's key: one others can read no longer proves who signed.
            guard info.st_mode & 0o077 == 0 else {
                throw ExhibitError(.storage, "The WACZ signing key \(path) is readable by other users; run `chmod 600 \(path)` and check who may have copied it.")
            }
            return String(decoding: try AtomicFile.read(path), as: UTF8.self)
        }
        let pem = try ECDSAP256.generatePrivateKeyPEM()
        try AtomicFile.write(Array(pem.utf8), to: path, mode: 0o600)
        // Another export may have created one at the same moment: use what is on disk.
        return String(decoding: try AtomicFile.read(path), as: UTF8.self)
    }

    /// Writes the package to `path` (a new file).
    static func write(
        to path: String, facts: BundleFacts, caseDirectory: String, warcFiles: [String], ledger: [UInt8],
        publicKeys: [(String, String)], signingKeyPEM: String, created: String
    ) throws(ExhibitError) {
        var files: [(path: String, bytes: [UInt8]?, source: String?)] = []
        for warc in warcFiles {
            var source = caseDirectory + "/" + warc
            if !FileManager.default.fileExists(atPath: source) { source += ".tmp" }
            files.append(("archive/" + (warc as NSString).lastPathComponent, nil, source))
        }
        let index = try CDXJIndex.lines(of: zip(warcFiles, files).map { ($0.1.source!, ($0.0 as NSString).lastPathComponent) })
        files.append(("indexes/index.cdx", Array(index.joined().utf8), nil))
        files.append(("pages/pages.jsonl", pages(facts), nil))
        files.append(("exhibit/ledger.jsonl", ledger, nil))
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
    /// for, when its response began).
    static func pages(_ facts: BundleFacts) -> [UInt8] {
        var lines = [#"{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}"#]
        for artifact in facts.artifacts where artifact.role == "page" {
            var page: [String: Any] = ["id": artifact.id, "url": artifact.url, "ts": rfc3339(artifact.started ?? artifact.ended)]
            if let title = artifact.title { page["title"] = title }
            if let data = try? JSONSerialization.data(withJSONObject: page, options: [.sortedKeys, .withoutEscapingSlashes]) {
                lines.append(String(decoding: data, as: UTF8.self))
            }
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// A ledger time as RFC 3339 to the second (`2026-12-01T10:42:55Z`).
    static func rfc3339(_ time: String) -> String {
        String(time.prefix(19)) + "Z"
    }


}
