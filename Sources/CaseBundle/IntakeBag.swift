import CaseManagement
import ChainOfCustody
import Foundation
import WARC
import ZIPFoundation

/// Intake of a BagIt bag (RFC 8493, BagIt 1.0) from another agency or lab, as a
/// directory or a zip: validated by the rules a conforming validator (bagit.py)
/// enforces, then each payload file taken in as a blob, its manifest digests
/// checked in the same pass that copies it, and bag-info.txt recorded.
///
/// Refused: no or malformed bagit.txt (version, encoding, byte-order mark), a tag
/// file encoding other than UTF-8, no payload manifest, a manifest line that
/// names a path outside data/ (or escapes the bag), a payload file missing from a
/// manifest or listed but absent, any digest that differs, a tag manifest that
/// does not hold, a Payload-Oxum that disagrees, a fetch.txt (Exhibit takes in
/// only what it was handed, and fetches nothing).
enum BagIntake {
    static func prepare(_ path: String, _ context: IntakeContext, zipped: Bool) throws(ExhibitError) -> EvidenceIntake.Prepared {
        var root = path
        var packageFile: (staged: String, sha256: String, size: Int64)?
        if zipped {
            let staged = context.staging + "/bag.zip"
            let (digests, size) = try IntakeCopy.copy(from: path, to: staged)
            packageFile = (staged, digests[.sha256]!, size)
            let unpacked = context.staging + "/unpacked"
            do {
                try ZipContainer.extract(staged, into: unpacked)
            } catch {
                throw ExhibitError(error.code, refusal(path, error.message.replacingOccurrences(of: staged, with: "the zip")))
            }
            root = try bagRoot(in: unpacked, path: path)
        }
        var bag = try BagReader(root: root, display: path)
        try bag.validateStructure()

        // Payload: copied into staging with every manifest algorithm computed on the way.
        let algorithms = Array(Set([DigestAlgorithm.sha256] + bag.manifests.keys)).sorted { $0.rawValue < $1.rawValue }
        var files: [EvidenceIntake.Staged] = []
        var listed: [JSONValue] = []
        var artifacts: [JSONValue] = []
        var octets: Int64 = 0
        for (index, relative) in bag.payload.enumerated() {
            let staged = context.staging + "/p" + String(index)
            let (digests, size) = try IntakeCopy.copy(from: root + "/" + relative, to: staged, algorithms: algorithms)
            for (algorithm, manifest) in bag.manifests {
                guard let expected = manifest[relative] else {
                    throw ExhibitError(.verificationFailed, refusal(path, "\(relative) is not listed in manifest-\(algorithm.rawValue).txt"))
                }
                guard expected.lowercased() == digests[algorithm] else {
                    throw ExhibitError(.verificationFailed, refusal(path, "\(relative) hashes to \(algorithm.rawValue) \(digests[algorithm] ?? "?"), not the \(expected) manifest-\(algorithm.rawValue).txt lists"))
                }
            }
            octets += size
            let sha256 = digests[.sha256]!
            let blob = EvidenceFiles.blobPath(sha256: sha256)
            files.append(.init(path: staged, relative: blob, isBlob: true))
            listed.append(.object(["path": .string(blob), "sha256": .string(sha256), "size": .integer(size), "bag_path": .string(relative)]))
            artifacts.append(.object([
                "url": .string("urn:exhibit:import:\(context.importID)/\(FileIntake.uriEncoded(relative).replacingOccurrences(of: "%2F", with: "/"))"),
                "time": .string(LedgerTime.now()), "status": .null,
                "content_type": .string(FileIntake.mediaType(forName: relative)),
                "sha256": .string(sha256), "size": .integer(size), "blob": .string(blob), "bag_path": .string(relative),
            ]))
        }
        if let oxum = bag.payloadOxum, oxum != "\(octets).\(bag.payload.count)" {
            throw ExhibitError(.verificationFailed, refusal(path, "its Payload-Oxum is \(oxum), but the payload is \(octets) bytes in \(bag.payload.count) files"))
        }

        var subject: [String: JSONValue] = [
            "files": .array(listed),
            "artifacts": .array(artifacts),
            "bag": .object([
                "version": .string(bag.version),
                "encoding": .string(bag.encoding),
                "manifests": .array(bag.manifests.keys.map(\.rawValue).sorted().map { .string($0) }),
                "tag_manifests": .array(bag.tagManifests.keys.map(\.rawValue).sorted().map { .string($0) }),
                "payload_oxum": bag.payloadOxum.map { .string($0) } ?? .null,
                "payload_files": .integer(Int64(bag.payload.count)),
                "payload_bytes": .integer(octets),
                "info": .array(bag.info.map { .array([.string($0.0), .string($0.1)]) }),
            ]),
            "check": .object([
                "verdict": .string("passed"),
                "rules": .string("RFC 8493 (BagIt 1.0): bagit.txt, every payload and tag manifest, Payload-Oxum, no fetch.txt, no path outside the bag"),
            ]),
        ]
        if let exhibit = try exhibitBag(root, display: path, files: listed) { subject["exhibit_bag"] = exhibit }
        var sha256: String
        var size: Int64
        if let packageFile {
            // The zip as received is kept too: export carries it byte for byte.
            sha256 = packageFile.sha256
            size = packageFile.size
            subject["blob"] = .object(["path": .string(EvidenceFiles.blobPath(sha256: sha256)), "sha256": .string(sha256), "size": .integer(size)])
            files.append(.init(path: packageFile.staged, relative: EvidenceFiles.blobPath(sha256: sha256), isBlob: true))
        } else {
            // A directory has no bytes of its own: it is named by its tag manifest
            // (or first payload manifest), which names every other file's digest.
            let anchor = bag.anchorFile
            let found = try Digest.file(atPath: root + "/" + anchor)
            sha256 = found.digests[.sha256]!
            size = octets
            subject["identified_by"] = .string(anchor)
        }
        let exhibitSentence = subject["exhibit_bag"].map { "; an Exhibit bag of \($0["case"]?.stringValue ?? "?") whose seal, ledger chain and signatures verify (\($0["entries"]?.intValue ?? 0) entries, head \(($0["ledger_head"]?.stringValue ?? "").prefix(16))…), its ledger kept" } ?? ""
        let sentence = "valid BagIt \(bag.version) bag: \(bag.payload.count) payload files (\(octets) bytes) match \(bag.manifests.count) manifest\(bag.manifests.count == 1 ? "" : "s")"
            + (bag.tagManifests.isEmpty ? "" : " and \(bag.tagManifests.count) tag manifest\(bag.tagManifests.count == 1 ? "" : "s")")
            + (bag.payloadOxum == nil ? "; no Payload-Oxum" : "; Payload-Oxum agrees") + "; \(bag.info.count) bag-info fields recorded" + exhibitSentence
        return EvidenceIntake.Prepared(
            name: context.name, kind: "bag", sha256: sha256, size: size, subject: subject, files: files,
            artifactCount: artifacts.count, check: sentence)
    }

    /// A zip whose top, or one top-level folder, holds bagit.txt (how bags are zipped).
    static func isZippedBag(_ path: String) -> Bool {
        guard let archive = try? Archive(url: URL(fileURLWithPath: path), accessMode: .read) else { return false }
        for entry in archive {
            let parts = entry.path.split(separator: "/")
            if parts.last == "bagit.txt", parts.count <= 2 { return true }
        }
        return false
    }

    /// A bag that carries `exhibit-seal.json` is another workspace's Exhibit export:
    /// it is verified as `exhibit verify` verifies a bag (seal and its signer, ledger
    /// chain, every signature, WARC records against the ledger). One that does not
    /// verify is refused like a file that fails its own digests; one that does keeps
    /// its ledger (`data/ledger.jsonl`, a payload blob) as a verified attachment.
    static func exhibitBag(_ root: String, display: String, files: [JSONValue]) throws(ExhibitError) -> JSONValue? {
        guard FileManager.default.fileExists(atPath: root + "/" + BagSeal.fileName) else { return nil }
        let report: CaseVerification.Report
        do {
            report = try BundleVerification.verifyBag(root)
        } catch {
            throw ExhibitError(.verificationFailed, refusal(display, "it carries an Exhibit seal but is not an Exhibit bag that can be verified (\(error.message))"))
        }
        if let first = report.findings.first(where: \.isFailure) {
            let more = report.findings.filter(\.isFailure).count - 1
            throw ExhibitError(.verificationFailed, refusal(display, "it is an Exhibit bag that fails verification: \(first.line)\(more > 0 ? " (and \(more) more)" : "")"))
        }
        let ledger = files.first { $0["bag_path"]?.stringValue == "data/ledger.jsonl" }
        return .object([
            "verdict": .string("verified"), "case": .string(report.caseID), "entries": .integer(Int64(report.entryCount)),
            "withheld": .integer(Int64(report.withheldCount)), "ledger_head": report.head.map { .string($0) } ?? .null,
            "signer": report.signer.map { .string($0) } ?? .null,
            "ledger": ledger.map { .object(["path": $0["path"] ?? .null, "sha256": $0["sha256"] ?? .null, "size": $0["size"] ?? .null]) } ?? .null,
        ])
    }

    static func refusal(_ path: String, _ detail: String) -> String {
        var detail = detail
        if detail.hasSuffix(".") { detail.removeLast() }
        return "\(path) is refused as a BagIt bag: \(detail); nothing was imported."
    }

    /// The folder holding bagit.txt: the zip's top, or its one top-level folder.
    static func bagRoot(in unpacked: String, path: String) throws(ExhibitError) -> String {
        if FileManager.default.fileExists(atPath: unpacked + "/bagit.txt") { return unpacked }
        let top = ((try? FileManager.default.contentsOfDirectory(atPath: unpacked)) ?? []).filter { !$0.hasPrefix("__MACOSX") }
        if top.count == 1, FileManager.default.fileExists(atPath: unpacked + "/" + top[0] + "/bagit.txt") {
            return unpacked + "/" + top[0]
        }
        throw ExhibitError(.verificationFailed, refusal(path, "the zip holds no bagit.txt at its top or in its one top-level folder"))
    }
}

/// One bag's tag files, read and checked as RFC 8493 §2 describes them.
struct BagReader {
    let root: String
    let display: String
    var version = ""
    var encoding = ""
    var manifests: [DigestAlgorithm: [String: String]] = [:]
    var tagManifests: [DigestAlgorithm: [String: String]] = [:]
    var info: [(String, String)] = []
    var payload: [String] = []

    var payloadOxum: String? { info.first { $0.0.lowercased() == "payload-oxum" }?.1 }

    /// The file that names the bag when it is a directory: tagmanifest-sha256.txt,
    /// else manifest-sha256.txt, else the first manifest.
    var anchorFile: String {
        if tagManifests[.sha256] != nil { return "tagmanifest-sha256.txt" }
        if manifests[.sha256] != nil { return "manifest-sha256.txt" }
        return "manifest-\(manifests.keys.map(\.rawValue).sorted().first ?? "sha256").txt"
    }

    init(root: String, display: String) throws(ExhibitError) {
        self.root = root
        self.display = display
        // §2.1.1 bagit.txt: exactly the version and the encoding, no byte-order mark.
        guard let bytes = try? AtomicFile.read(root + "/bagit.txt") else { throw fail("it has no bagit.txt") }
        guard !bytes.starts(with: [0xef, 0xbb, 0xbf]) else { throw fail("bagit.txt begins with a byte-order mark, which RFC 8493 §2.1.1 forbids") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("bagit.txt is not UTF-8") }
        let fields = Self.fields(text)
        guard let version = fields.first(where: { $0.0 == "BagIt-Version" })?.1, version.split(separator: ".").count == 2,
              version.split(separator: ".").allSatisfy({ Int($0) != nil }) else {
            throw fail("bagit.txt has no valid BagIt-Version line")
        }
        guard let encoding = fields.first(where: { $0.0 == "Tag-File-Character-Encoding" })?.1 else {
            throw fail("bagit.txt has no Tag-File-Character-Encoding line")
        }
        guard ["utf-8", "utf8"].contains(encoding.lowercased()) else {
            throw fail("its tag files are declared \(encoding); Exhibit reads UTF-8 tag files only")
        }
        self.version = version
        self.encoding = encoding
    }

    func fail(_ detail: String) -> ExhibitError {
        ExhibitError(.verificationFailed, BagIntake.refusal(display, detail))
    }

    /// Reads the manifests, bag-info.txt and the payload list, and checks the tag manifests.
    mutating func validateStructure() throws(ExhibitError) {
        let manager = FileManager.default
        if manager.fileExists(atPath: root + "/fetch.txt") {
            throw fail("it has a fetch.txt naming files to download; Exhibit takes in only files it is handed, so complete the bag first")
        }
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root + "/data", isDirectory: &isDirectory), isDirectory.boolValue else {
            throw fail("it has no data/ payload directory")
        }
        let top = (try? manager.contentsOfDirectory(atPath: root)) ?? []
        for name in top.sorted() {
            for (prefix, isTag) in [("manifest-", false), ("tagmanifest-", true)] where name.hasPrefix(prefix) && name.hasSuffix(".txt") {
                let algorithmName = String(name.dropFirst(prefix.count).dropLast(4))
                guard let algorithm = DigestAlgorithm(rawValue: algorithmName) else {
                    throw fail("it has \(name), a manifest in an algorithm Exhibit does not compute (md5, sha1, sha256 and sha512 are)")
                }
                let entries = try readManifest(name, payload: !isTag)
                if isTag { tagManifests[algorithm] = entries } else { manifests[algorithm] = entries }
            }
        }
        guard !manifests.isEmpty else { throw fail("it has no payload manifest (manifest-<algorithm>.txt)") }
        if manager.fileExists(atPath: root + "/bag-info.txt") {
            guard let bytes = try? AtomicFile.read(root + "/bag-info.txt"), let text = String(validating: bytes, as: UTF8.self) else {
                throw fail("bag-info.txt is not UTF-8 text")
            }
            info = Self.fields(text)
        }
        // Every file under data/, no links (a link could reach outside the bag).
        guard let enumerator = manager.enumerator(atPath: root + "/data") else { throw fail("data/ cannot be read") }
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            let full = root + "/data/" + relative
            guard lstat(full, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFREG: payload.append("data/" + relative)
            default: throw fail("data/\(relative) is not a regular file (a link or device)")
            }
        }
        payload.sort()
        let present = Set(payload)
        for (algorithm, entries) in manifests {
            if let absent = entries.keys.sorted().first(where: { !present.contains($0) }) {
                throw fail("manifest-\(algorithm.rawValue).txt lists \(absent), which the bag does not hold")
            }
            if let unlisted = payload.first(where: { entries[$0] == nil }) {
                throw fail("\(unlisted) is in the payload but not in manifest-\(algorithm.rawValue).txt")
            }
        }
        // Tag manifests: every tag file they list is present and matches.
        for (algorithm, entries) in tagManifests {
            for (relative, expected) in entries.sorted(by: { $0.key < $1.key }) {
                guard manager.fileExists(atPath: root + "/" + relative) else {
                    throw fail("tagmanifest-\(algorithm.rawValue).txt lists \(relative), which the bag does not hold")
                }
                let found = try Digest.file(atPath: root + "/" + relative, algorithms: [algorithm])
                guard found.digests[algorithm] == expected.lowercased() else {
                    throw fail("\(relative) does not match tagmanifest-\(algorithm.rawValue).txt")
                }
            }
        }
    }

    /// `<checksum> <path>` lines (§2.1.3, §2.2.1): paths relative to the bag, percent-
    /// encoded CR, LF and %; a payload manifest names only files under data/.
    func readManifest(_ name: String, payload: Bool) throws(ExhibitError) -> [String: String] {
        guard let bytes = try? AtomicFile.read(root + "/" + name), let text = String(validating: bytes, as: UTF8.self) else {
            throw fail("\(name) is not UTF-8 text")
        }
        var entries: [String: String] = [:]
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                throw fail("\(name) has a line without a path: \(line)")
            }
            let checksum = String(line[..<space])
            let encoded = line[space...].trimmingCharacters(in: .whitespaces)
            let path = encoded.replacingOccurrences(of: "%0A", with: "\n").replacingOccurrences(of: "%0D", with: "\r")
                .replacingOccurrences(of: "%0a", with: "\n").replacingOccurrences(of: "%0d", with: "\r")
                .replacingOccurrences(of: "%25", with: "%")
            let components = path.split(separator: "/", omittingEmptySubsequences: false)
            if path.hasPrefix("/") || path.hasPrefix("~") || components.contains("..") || path.contains("\0") {
                throw fail("\(name) names \(encoded), a path outside the bag")
            }
            if payload, !path.hasPrefix("data/") {
                throw fail("\(name) names \(encoded), which is not under data/")
            }
            guard checksum.allSatisfy(\.isHexDigit) else { throw fail("\(name) has a checksum that is not hexadecimal: \(checksum)") }
            entries[path] = checksum
        }
        return entries
    }

    /// `Label: value` lines with continuation lines indented (§2.2.2).
    static func fields(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            if let first = line.first, first == " " || first == "\t", !result.isEmpty {
                result[result.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            result.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                           String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        return result
    }
}
