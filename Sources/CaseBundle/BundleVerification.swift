public import CaseManagement
public import ChainOfCustody
import Foundation
import WARC

/// `exhibit verify` on an exported bundle — a bag directory or a bag zip — as
/// thoroughly as on a case: the BagIt manifests and Payload-Oxum, the tag
/// manifest, bag-info's Ledger-Head, then the ledger inside (chain, signatures
/// against the bundled public keys, timestamps) and every WARC record and file
/// against it. Findings and exit codes are those of a case.
public enum BundleVerification {
    /// Whether `path` looks like a bundle rather than a case: a directory with
    /// bagit.txt, or a `.zip` file.
    /// Known by content, not by name: a zip starts with a local file header (or
    /// an empty archive's end record), whatever it is called.
    public static func isBundle(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
        if isDirectory.boolValue {
            return FileManager.default.fileExists(atPath: path + "/bagit.txt") || CourtVerification.isCourtFolder(path)
        }
        return isZip(path)
    }

    static func isZip(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic = [UInt8](repeating: 0, count: 4)
        guard magic.withUnsafeMutableBytes({ read(fd, $0.baseAddress, 4) }) == 4 else { return false }
        return magic == [0x50, 0x4B, 0x03, 0x04] || magic == [0x50, 0x4B, 0x05, 0x06]
    }

    /// Verifies the bundle at `path`. A zip is extracted, defensively, into a
    /// private temporary folder that is removed afterwards.
    public static func verify(_ path: String) throws(ExhibitError) -> CaseVerification.Report {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue {
            if !FileManager.default.fileExists(atPath: path + "/bagit.txt"), CourtVerification.isCourtFolder(path) {
                return try CourtVerification.verifyFolder(path)
            }
            return try verifyBag(path)
        }
        let temporary = NSTemporaryDirectory() + "/exhibit-verify-" + Hex.encode(OpenSSL.randomBytes(8))
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try ZipContainer.extract(path, into: temporary)
        if FileManager.default.fileExists(atPath: temporary + "/datapackage.json") {
            return try verifyWACZ(temporary, reportedAs: path)
        }
        let top = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        guard top.count == 1, FileManager.default.fileExists(atPath: temporary + "/" + top[0] + "/bagit.txt") else {
            throw ExhibitError(.storage, "\(path) is not a bag zip: it should hold one folder with bagit.txt in it.")
        }
        var report = try verifyBag(temporary + "/" + top[0])
        report.directory = path
        return report
    }

    /// Verifies a bag directory.
    public static func verifyBag(_ root: String) throws(ExhibitError) -> CaseVerification.Report {
        var findings: [Verifier.Finding] = []
        guard let bagit = try? AtomicFile.read(root + "/bagit.txt"),
              String(decoding: bagit, as: UTF8.self).contains("BagIt-Version: 1.0") else {
            throw ExhibitError(.storage, "\(root) is not a BagIt 1.0 bag (bagit.txt is missing or not version 1.0).")
        }
        guard FileManager.default.fileExists(atPath: root + "/data/ledger.jsonl") else {
            throw ExhibitError(.storage, "\(root) is a bag but not an Exhibit bundle (it has no data/ledger.jsonl).")
        }

        // Payload manifests: every file listed matches, every payload file is listed.
        let payloadFiles = DirectoryWalk.files(in: root + "/data").map { "data/" + $0 }
        let payloadSet = Set(payloadFiles)
        let manifestNames = [DigestAlgorithm.sha256, .sha512].map { (algorithm: $0, name: "manifest-\($0.rawValue).txt") }
            .filter { access(root + "/" + $0.name, R_OK) == 0 }
        // Every payload file is read once, on every core, for all its digests: the
        // manifests' and the case check's (WARC files while their records are checked).
        let digests = FileDigestCache(algorithms: [.sha256] + manifestNames.map(\.algorithm))
        // Reading starts now, in the background, and overlaps with everything below.
        let queue = WorkQueue()
        defer { queue.cancel() }
        let scans = WARCScans(digests: digests)
        CaseVerification.schedule(payloadFiles.map { root + "/" + $0 }, digests: digests, scans: scans, on: queue)
        var manifests: [(algorithm: DigestAlgorithm, name: String, listed: [String: String])] = []
        for (algorithm, name) in manifestNames {
            if let listed = manifest(root + "/" + name, findings: &findings, name: name) {
                manifests.append((algorithm, name, listed))
            }
        }
        // What the manifest check needs but the digests, made now while the queue hashes
        // (after the last digest only the comparisons are left): each manifest's
        // unlisted payload files and its listing, in the order findings are reported.
        let manifestOrder = manifests.map { manifest in
            (unlisted: payloadSet.subtracting(manifest.listed.keys).sorted(),
             listed: manifest.listed.sorted(by: { $0.key < $1.key }))
        }
        // Payload-Oxum's size, also now: a stat of 6,000 files was the last thing done after the hashing.
        let payloadBytes = payloadFiles.reduce(Int64(0)) { $0 + fileSize(root + "/" + $1) }
        // "Derived" and "withheld" are read only from a seal whose signature holds.
        let sealRead = BagSeal.read(bagRoot: root)
        // The derived documents (case.json, the report, load file and provenance graph,
        // the court documents) are checked while the payload is hashed.
        // Each on a core of its own, the longest (the report and provenance graph) first:
        // one after another they outlasted the hashing.
        var documentFindings: [DocumentCheck: [Verifier.Finding]] = [:]
        var provenance: DerivedFactCheck.ProvenanceChecks?
        let derivedWARCs = sealRead?.seal.derivedWARCs ?? false
        let caseReport = try verifyCase(root, digests: digests, scans: scans, derived: derivedWARCs) { entries in
            let artifacts = entries.map { DerivedFactCheck.ledgerArtifacts($0, derivedWARCs: derivedWARCs) } ?? []
            // The case id verifyCase reports for a bag: the ledger's (data/ is no case id).
            let caseID = entries?.first?.caseID ?? "data"
            let longestFirst: [DocumentCheck] = [.report, .provenance, .court, .loadFile, .rederived]
            let found = Parallel.map(longestFirst) { check -> DocumentResult in
                switch check {
                case .rederived:
                    return .findings(rederived(root, entries: entries))
                case .loadFile, .report:
                    guard entries != nil else { return .findings([]) }
                    return .findings(DerivedFactCheck.findings(check == .report ? .report : .loadFile, root: root, caseID: caseID, artifacts: artifacts))
                case .provenance:
                    guard let entries else { return .findings([]) }
                    return .provenance(DerivedFactCheck.provenance(root: root, entries: entries, artifacts: artifacts))
                case .court:
                    return .findings(courtFindings(root, entries: entries, digests: digests))
                }
            }
            for (check, result) in zip(longestFirst, found) {
                switch result {
                case .findings(let findings): documentFindings[check] = findings
                case .provenance(let checks): provenance = checks
                }
            }
        }
        // Every payload file is hashed by now: the provenance graph's files are compared.
        let provenanceFindings = provenance?.findings { path in
            guard let (found, size) = try? digests.digests(atPath: root + "/" + path, algorithms: [.sha256]),
                  let sha256 = found[.sha256] else { return nil }
            return (sha256, size)
        } ?? []
        // Reported in this order: case.json, the load file, report and provenance graph, the court documents.
        let rederivedFindings = documentFindings[.rederived] ?? []
        let factFindings = (documentFindings[.loadFile] ?? []) + (documentFindings[.report] ?? []) + provenanceFindings
        let courtDocumentFindings = documentFindings[.court] ?? []
        var sealFindings = BagSeal.check(sealRead, bagRoot: root, ledgerHead: caseReport.head,
                                         ledgerSigners: caseReport.ledgerActors)
        if let seal = sealRead?.seal, sealFindings.isEmpty {
            if (seal.audience == "full") != (!seal.derivedWARCs && seal.withheldItems == 0 && caseReport.withheldCount == 0) {
                sealFindings.append(.init(.tampered, path: BagSeal.fileName, detail: "the seal's audience (\(seal.audience)) does not match what the bag withholds (\(caseReport.withheldCount) ledger entries)"))
            }
            if seal.caseID != caseReport.caseID {
                sealFindings.append(.init(.tampered, path: BagSeal.fileName, detail: "the seal names case \(seal.caseID), the ledger \(caseReport.caseID)"))
            }
        }
        findings += sealFindings
        findings += rederivedFindings
        findings += factFindings
        findings += courtDocumentFindings
        digests.prefetch(payloadFiles.map { root + "/" + $0 })
        for ((algorithm, name, _), order) in zip(manifests, manifestOrder) {
            for path in order.unlisted {
                findings.append(.init(.unexpected, path: path, detail: "a payload file \(name) does not list"))
            }
            for (path, expected) in order.listed {
                guard payloadSet.contains(path) else {
                    findings.append(.init(.missing, path: path, detail: "listed in \(name) but not in the bag"))
                    continue
                }
                guard let (found, _) = try? digests.digests(atPath: root + "/" + path, algorithms: [algorithm]) else {
                    findings.append(.init(.missing, path: path, detail: "cannot be read"))
                    continue
                }
                if found[algorithm] != expected {
                    findings.append(.init(.tampered, path: path, detail: "\(name): expected \(expected) found \(found[algorithm] ?? "")"))
                }
            }
        }
        if manifests.isEmpty {
            findings.append(.init(.missing, path: "manifest-sha256.txt", detail: "the bag has no payload manifest"))
        }

        // Tag manifest: every tag file listed matches; no tag file is unlisted.
        let tagFiles = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0 != "data" }
        if let listed = manifest(root + "/tagmanifest-sha256.txt", findings: &findings, name: "tagmanifest-sha256.txt") {
            for file in Set(tagFiles).subtracting(listed.keys).subtracting(["tagmanifest-sha256.txt"]).sorted() {
                findings.append(.init(.unexpected, path: file, detail: "a file at the top of the bag that tagmanifest-sha256.txt does not list"))
            }
            for (file, expected) in listed.sorted(by: { $0.key < $1.key }) {
                guard let bytes = try? AtomicFile.read(root + "/" + file) else {
                    findings.append(.init(.missing, path: file, detail: "listed in tagmanifest-sha256.txt but not in the bag"))
                    continue
                }
                let actual = Digest.sha256Hex(bytes)
                if actual != expected {
                    findings.append(.init(.tampered, path: file, detail: "tagmanifest-sha256.txt: expected \(expected) found \(actual)"))
                }
            }
        } else {
            findings.append(.init(.missing, path: "tagmanifest-sha256.txt", detail: "the bag has no tag manifest"))
        }

        // bag-info.txt: Payload-Oxum and Ledger-Head.
        let info = bagInfo(root)
        let payloadCount = payloadFiles.count
        if let oxum = info["Payload-Oxum"] {
            let actual = "\(payloadBytes).\(payloadCount)"
            if oxum != actual {
                findings.append(.init(.tampered, path: "bag-info.txt", detail: "Payload-Oxum: expected \(oxum) found \(actual)"))
            }
        } else {
            findings.append(.init(.missing, path: "bag-info.txt", detail: "no Payload-Oxum"))
        }

        var report = caseReport
        report.signer = sealRead.map { "\($0.seal.signer.id) (\($0.seal.signer.name), \($0.seal.signer.badge))" }
        if let withheld = info["Withheld-Items"], Int(withheld) != sealRead?.seal.withheldItems {
            findings.append(.init(.tampered, path: "bag-info.txt", detail: "Withheld-Items: \(withheld), but the signed seal states \(sealRead.map { String($0.seal.withheldItems) } ?? "none")"))
        }
        report.caseID = info["External-Identifier"] ?? report.caseID
        report.directory = root
        if let head = info["Ledger-Head"], head != report.head {
            findings.append(.init(.tampered, path: "bag-info.txt", detail: "Ledger-Head: expected \(head) found \(report.head ?? "no ledger head")"))
        }
        // Paths inside the case are reported as paths inside the bag.
        report.findings = findings + report.findings.map { finding in
            var moved = finding
            if !moved.path.isEmpty { moved.path = "data/" + moved.path }
            return moved
        }
        return report
    }

    /// The checks of a bag's derived documents that verify runs while it hashes.
    private enum DocumentCheck: Hashable, Sendable {
        case rederived, loadFile, report, provenance, court
    }

    /// What one of them gives: findings, or the provenance graph's, some still to compare.
    private enum DocumentResult: Sendable {
        case findings([Verifier.Finding])
        case provenance(DerivedFactCheck.ProvenanceChecks)
    }

    /// The case inside a bag: ledger, signatures against the bundled keys, files,
    /// WARC records, timestamps. A decision-maker bundle's WARC files are derived
    /// copies: their records are matched by id and digest.
    /// `whileHashing` gets the ledger's entries (nil unless every line was read) before any digest is waited for.
    static func verifyCase(_ root: String, digests: FileDigestCache, scans: WARCScans, derived: Bool,
                           whileHashing: ([LedgerEntry]?) -> Void = { _ in }) throws(ExhibitError) -> CaseVerification.Report {
        return try CaseVerification.verify(
            directory: root + "/data", keyFor: CaseExport.keys(inFolder: root + "/data/keys"),
            derivedWARC: derived, alsoExpected: CaseExport.isBundleDocument,
            derivedFiles: { path in derived && path.hasPrefix("warc/") }, digests: digests, scans: scans,
            whileHashing: whileHashing)
    }

    /// Derived files are derived again and compared (DESIGN §16): the bag's
    /// case.json is the state its own ledger folds to, byte for byte. (report.html,
    /// loadfile.csv and provenance.jsonld also name the actors' registrations, which
    /// a bag does not carry; the seal covers them through the payload manifest.)
    /// `entries` is the bag's whole ledger, nil when a line of it is not a readable entry.
    static func rederived(_ root: String, entries: [LedgerEntry]?) -> [Verifier.Finding] {
        guard let entries else { return [] }
        guard let state = try? CaseState.fold(entries), let expected = try? encodeJSON(state) else { return [] }
        if (try? AtomicFile.read(root + "/data/case.json")) != expected {
            return [.init(.tampered, path: "data/case.json", detail: "is not the state the bag's ledger folds to")]
        }
        return []
    }

    /// The court documents a full bag carries in data/court/ (DESIGN §21), checked
    /// against the bag's ledger and keys; certified by whoever exported the bag.
    static func courtFindings(_ root: String, entries: [LedgerEntry]?, digests: FileDigestCache) -> [Verifier.Finding] {
        let folder = root + "/data/" + CourtDocuments.folder
        guard FileManager.default.fileExists(atPath: folder), let entries else { return [] }
        return CourtVerification.check(folder: folder, entries: entries, keysFolder: root + "/data/keys", requireCustodian: false, digests: digests)
            .map { var moved = $0; moved.path = "data/\(CourtDocuments.folder)/" + moved.path; return moved }
    }

    /// `path → digest` lines of a BagIt manifest; nil when the file is missing.
    static func manifest(_ file: String, findings: inout [Verifier.Finding], name: String) -> [String: String]? {
        guard let bytes = try? AtomicFile.read(file) else { return nil }
        var result: [String: String] = [:]
        // Split by bytes (a line per payload file, 6,000 in the bench's bag): String
        // splitting and percent-decoding every path were a tenth of a second.
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        for (number, line) in bytes.split(separator: UInt8(ascii: "\n")).enumerated() {
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            guard let gap = trimmed.firstIndex(where: { $0 == space || $0 == tab }) else {
                findings.append(.init(.tampered, path: name, detail: "line \(number + 1) is not `digest path`"))
                continue
            }
            let digest = String(decoding: trimmed[..<gap], as: UTF8.self).lowercased()
            let path = String(decoding: trimmed[gap...].drop { $0 == space || $0 == tab }, as: UTF8.self)
            result[path.contains("%") ? (path.removingPercentEncoding ?? path) : path] = digest
        }
        return result
    }

    static func bagInfo(_ root: String) -> [String: String] {
        guard let bytes = try? AtomicFile.read(root + "/bag-info.txt") else { return [:] }
        var result: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            if result[key] == nil { result[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return result
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
