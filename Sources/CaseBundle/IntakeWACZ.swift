import CaseManagement
import ChainOfCustody
import Foundation
import WARC

/// Intake of a WACZ (Webrecorder's ArchiveWeb.page and Browsertrix, py-wacz,
/// Exhibit's own export): unzipped defensively (``ZipContainer``: no path that
/// escapes, no link, no repeated name, a size budget), every resource checked
/// against datapackage.json (digest and size), datapackage.json against
/// datapackage-digest.json, and the signature there checked when there is one —
/// the anonymous form (ECDSA P-256 over the digest string, verified here) or
/// the authsign domain form (reported with its domain; its certificate chain is
/// not verified offline). Each WARC in archive/ is checked record by record like
/// an imported WARC and stored byte for byte as its own `import` entry (kind
/// `wacz-warc`); the WACZ itself is kept as a blob, so export carries the
/// package exactly as received. A WACZ whose own digests fail is refused whole.
enum WACZIntake {
    static func prepare(_ path: String, _ context: IntakeContext) throws(ExhibitError) -> EvidenceIntake.Prepared {
        let staged = context.staging + "/package.wacz"
        let (digests, size) = try IntakeCopy.copy(from: path, to: staged)
        let sha256 = digests[.sha256]!
        let unpacked = context.staging + "/unpacked"
        do {
            try ZipContainer.extract(staged, into: unpacked)
        } catch {
            throw ExhibitError(error.code, refusal(path, error.message.replacingOccurrences(of: staged, with: "the package")))
        }

        // datapackage.json: every resource present with its digest and size.
        guard let packageBytes = try? AtomicFile.read(unpacked + "/datapackage.json"),
              let package = try? JSONValue(parsing: packageBytes),
              let resources = package["resources"]?.arrayValue else {
            throw ExhibitError(.verificationFailed, refusal(path, "it has no readable datapackage.json listing its resources"))
        }
        var listed = Set<String>()
        var warcs: [String] = []
        for resource in resources {
            guard let relative = resource["path"]?.stringValue, let hash = resource["hash"]?.stringValue else {
                throw ExhibitError(.verificationFailed, refusal(path, "datapackage.json lists a resource without a path or hash"))
            }
            guard ZipContainer.refusal(name: relative, type: .file) == nil else {
                throw ExhibitError(.verificationFailed, refusal(path, "datapackage.json lists \(relative), a path outside the package"))
            }
            listed.insert(relative)
            let file = unpacked + "/" + relative
            var info = stat()
            guard lstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                throw ExhibitError(.verificationFailed, refusal(path, "datapackage.json lists \(relative), which the package does not hold"))
            }
            let declared = DeclaredDigest(hash)
            guard let algorithm = declared.algorithm else {
                throw ExhibitError(.verificationFailed, refusal(path, "datapackage.json gives \(relative) a digest Exhibit cannot compute (\(hash))"))
            }
            let found = try Digest.file(atPath: file, algorithms: [algorithm])
            guard declared.matches(Hex.decode(found.digests[algorithm] ?? "") ?? []) else {
                throw ExhibitError(.verificationFailed, refusal(path, "\(relative) hashes to \(algorithm.rawValue):\(found.digests[algorithm] ?? "?"), not the \(hash) datapackage.json lists"))
            }
            if let bytes = resource["bytes"]?.intValue, bytes != found.size {
                throw ExhibitError(.verificationFailed, refusal(path, "\(relative) is \(found.size) bytes, not the \(bytes) datapackage.json lists"))
            }
            let lower = relative.lowercased()
            if lower.hasPrefix("archive/"), lower.hasSuffix(".warc") || lower.hasSuffix(".warc.gz") { warcs.append(relative) }
        }
        let present = (try? ZipContainer.files(in: unpacked)) ?? []
        let unlisted = present.filter { !listed.contains($0) && $0 != "datapackage.json" && $0 != "datapackage-digest.json" }
        if let stray = unlisted.first(where: { $0.lowercased().hasPrefix("archive/") }) {
            throw ExhibitError(.verificationFailed, refusal(path, "it holds \(stray), which datapackage.json does not list, so no digest covers it"))
        }
        guard !warcs.isEmpty else {
            throw ExhibitError(.verificationFailed, refusal(path, "datapackage.json lists no WARC file under archive/"))
        }
        let signature = try checkSignature(path, unpacked: unpacked, packageBytes: packageBytes)

        // Each WARC: checked record by record, its own import entry.
        var companions: [EvidenceIntake.Prepared] = []
        for (index, relative) in warcs.sorted().enumerated() {
            let importID = context.importID + "-w" + String(index + 1)
            let compressed = relative.lowercased().hasSuffix(".gz")
            let storedName = importID + (compressed ? ".warc.gz" : ".warc")
            let stored = "warc/" + storedName
            let file = unpacked + "/" + relative
            let checked = try WARCIntake.check(file, relative: stored, displayName: "\(path) (\(relative))")
            let found = try Digest.file(atPath: file)
            let warcSHA256 = found.digests[.sha256]!
            companions.append(EvidenceIntake.Prepared(
                name: (relative as NSString).lastPathComponent, kind: "wacz-warc", sha256: warcSHA256, size: found.size,
                subject: [
                    "import_id": .string(importID),
                    "package": .object(["import_id": .string(context.importID), "sha256": .string(sha256), "path": .string(relative)]),
                    "warc": .object(["file": .string(stored), "sha256": .string(warcSHA256), "size": .integer(found.size)]),
                    "records": .array(checked.records), "artifacts": .array(checked.artifacts), "check": checked.check,
                ],
                files: [.init(path: file, relative: stored, isBlob: false)],
                artifactCount: checked.artifacts.count, check: checked.sentence))
        }

        let pages = readPages(unpacked)
        let blob = EvidenceFiles.blobPath(sha256: sha256)
        let subject: [String: JSONValue] = [
            "blob": .object(["path": .string(blob), "sha256": .string(sha256), "size": .integer(size)]),
            "wacz": .object([
                "version": package["wacz_version"] ?? .null,
                "software": package["software"] ?? .null,
                "created": package["created"] ?? .null,
                "title": package["title"] ?? .null,
                "resources": .integer(Int64(resources.count)),
                "unlisted_files": .array(unlisted.map { .string($0) }),
                "warcs": .array(warcs.sorted().map { .string($0) }),
            ]),
            "signature": signature.json,
            "pages": .array(pages.listed),
            "page_count": .integer(Int64(pages.count)),
            "check": .object([
                "verdict": .string("passed"),
                "resources_checked": .integer(Int64(resources.count)),
                "signature": .string(signature.verdict),
            ]),
        ]
        let records = companions.reduce(0) { $0 + ($1.subject["records"]?.arrayValue?.count ?? 0) }
        let sentence = "\(resources.count) resources match datapackage.json; \(signature.sentence); \(warcs.count) WARC file\(warcs.count == 1 ? "" : "s") with \(records) records checked; \(pages.count) page\(pages.count == 1 ? "" : "s") listed"
        return EvidenceIntake.Prepared(
            name: context.name, kind: "wacz", sha256: sha256, size: size, subject: subject,
            files: [.init(path: staged, relative: blob, isBlob: true)],
            artifactCount: 0, check: sentence, companions: companions)
    }

    static func refusal(_ path: String, _ detail: String) -> String {
        var detail = detail
        if detail.hasSuffix(".") { detail.removeLast() }
        return "\(path) is refused as a WACZ: \(detail); nothing was imported."
    }

    struct Signature {
        var verdict: String
        var sentence: String
        var json: JSONValue
    }

    /// datapackage-digest.json (WACZ 1.1.1 and the WACZ signing spec): the digest of
    /// datapackage.json must hold; a signature, when present, is checked or reported.
    static func checkSignature(_ path: String, unpacked: String, packageBytes: [UInt8]) throws(ExhibitError) -> Signature {
        guard let bytes = try? AtomicFile.read(unpacked + "/datapackage-digest.json") else {
            return Signature(verdict: "unsigned", sentence: "no datapackage-digest.json: unsigned",
                             json: .object(["form": .string("none"), "verdict": .string("unsigned")]))
        }
        guard let digest = try? JSONValue(parsing: bytes), let hash = digest["hash"]?.stringValue else {
            throw ExhibitError(.verificationFailed, refusal(path, "its datapackage-digest.json cannot be read"))
        }
        let declared = DeclaredDigest(hash)
        let stream = declared.algorithm.map { DigestStream([$0]) }
        stream?.update(packageBytes)
        guard declared.algorithm != nil, let computed = stream?.finish()[declared.algorithm!], declared.matches(computed) else {
            throw ExhibitError(.verificationFailed, refusal(path, "datapackage.json does not hash to the \(hash) that datapackage-digest.json gives"))
        }
        guard let signed = digest["signedData"], signed.objectValue != nil else {
            return Signature(verdict: "unsigned", sentence: "datapackage.json matches its digest; unsigned",
                             json: .object(["form": .string("none"), "verdict": .string("unsigned")]))
        }
        if signed["hash"]?.stringValue != hash {
            throw ExhibitError(.verificationFailed, refusal(path, "the signed data names a different datapackage digest than datapackage-digest.json"))
        }
        let created = signed["created"] ?? .null
        let software = signed["software"] ?? .null
        if let domain = signed["domain"]?.stringValue {
            // The authsign form: a domain certificate (e.g. from Let's Encrypt) and an
            // RFC 3161 timestamp certificate; their chains need the issuers' roots and
            // revocation state as of signing time, which an offline check does not have.
            return Signature(
                verdict: "domain-signed-unverified",
                sentence: "signed by domain \(domain), certificate chain not verified offline",
                json: .object(["form": .string("domain"), "domain": .string(domain), "verdict": .string("not verified offline"),
                               "created": created, "software": software]))
        }
        guard let keyText = signed["publicKey"]?.stringValue, let key = Data(base64Encoded: keyText),
              let signatureText = signed["signature"]?.stringValue, let signature = Data(base64Encoded: signatureText) else {
            throw ExhibitError(.verificationFailed, refusal(path, "its signed data has neither a domain nor a public key and signature that can be read"))
        }
        let keyDigest = Digest.sha256Hex(Array(key))
        guard signature.count == 64 else {
            // P-384 (ArchiveWeb.page's WebCrypto default) gives 96 bytes; Exhibit verifies P-256 only.
            return Signature(
                verdict: "anonymous-unverified",
                sentence: "signed with an anonymous key (\(signature.count)-byte signature, not P-256): signature not verified here",
                json: .object(["form": .string("anonymous"), "public_key_sha256": .string(keyDigest), "verdict": .string("not verified"),
                               "created": created, "software": software]))
        }
        guard ECDSAP256.verify(Array(signature), over: Array(hash.utf8), publicKeySPKI: Array(key)) else {
            throw ExhibitError(.verificationFailed, refusal(path, "the anonymous ECDSA P-256 signature over its datapackage digest does not verify"))
        }
        var json: [String: JSONValue] = ["form": .string("anonymous"), "public_key_sha256": .string(keyDigest), "verdict": .string("verified"),
                                         "created": created, "software": software]
        var who = ""
        if let statement = try? AtomicFile.read(unpacked + "/" + WACZPackage.SignerStatement.path),
           let (parsed, _, _) = WACZPackage.SignerStatement.read(statement) {
            // Exhibit's own export names the actor whose key signed; recorded as the package says it.
            json["exhibit_signer"] = parsed.signer.json
            json["exhibit_case"] = .string(parsed.caseID)
            who = " (Exhibit export of case \(parsed.caseID))"
        }
        return Signature(verdict: "anonymous-verified",
                         sentence: "signed with an anonymous ECDSA P-256 key \(keyDigest.prefix(16))…, signature verified\(who)",
                         json: .object(json))
    }

    /// pages/pages.jsonl and pages/extraPages.jsonl: each page's URL, time and title
    /// (the first 1000 listed in the entry; the count is of all).
    static func readPages(_ unpacked: String) -> (listed: [JSONValue], count: Int) {
        var listed: [JSONValue] = []
        var count = 0
        for file in ["pages/pages.jsonl", "pages/extraPages.jsonl"] {
            guard let bytes = try? AtomicFile.read(unpacked + "/" + file) else { continue }
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                guard let json = try? JSONValue(parsing: Array(line.utf8)), let url = json["url"]?.stringValue else { continue }
                count += 1
                guard listed.count < 1000 else { continue }
                var page: [String: JSONValue] = ["url": .string(url), "list": .string(file)]
                if let ts = json["ts"]?.stringValue { page["ts"] = .string(ts) }
                if let title = json["title"]?.stringValue { page["title"] = .string(title) }
                listed.append(.object(page))
            }
        }
        return (listed, count)
    }
}
