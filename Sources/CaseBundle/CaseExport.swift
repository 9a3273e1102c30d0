public import CaseManagement
public import ChainOfCustody
import CaseIndex
import Foundation
import Screening
import WARC

/// `exhibit export CASE` (to an output path, a directory or a zip): the case as a BagIt bag that proves
/// itself to a recipient without Exhibit (DESIGN §9).
///
/// The bag holds the ledger as it stood when the export began and exactly the
/// evidence files that ledger records, copied and hashed in one pass, plus the
/// documents derived from them (CASE/UCO provenance, the human report, the
/// e-discovery load file) and the actors' public keys. It is built under a
/// temporary name beside PATH, checked like a case, and renamed into place;
/// only then is the export recorded in the case's ledger, with the bag's
/// tag-manifest digest (so the bag's own ledger ends with the entry before).
public struct CaseExport: Sendable {
    /// `court`: the court documents only, signed by a custodian (DESIGN §21, docs/court.md).
    public enum Format: String, Sendable { case bagit, wacz, court }
    /// `full`, or `decision-maker`: only what a hiring decision-maker may see (DESIGN §9, IV.B.6).
    public enum Audience: String, Sendable { case full, decisionMaker = "decision-maker" }

    public struct Options: Sendable {
        public var output: String
        public var format: Format = .bagit
        public var audience: Audience = .full
        public var zip = false
        /// The UTC date written as Bagging-Date (the only line that differs
        /// between two exports of the same ledger).
        public var baggingDate: String = CaseExport.today()
        /// Prints the court documents as a PDF (for `court`; a bag carries their HTML only).
        public var courtPrinter: CourtDocuments.Printer?

        public init(output: String) {
            self.output = output
        }
    }

    /// What was exported.
    public struct Result: Sendable, Encodable {
        public var `case`: String
        public var output: String
        public var format: String
        public var entries: Int
        public var ledgerHead: String
        public var payloadOxum: String
        public var tagManifestSHA256: String
        public var sha256: String?
        public var artifacts: Int
        public var audience: String = "full"
        /// Artifacts and findings withheld from a decision-maker bundle.
        public var withheldItems: Int?

        enum CodingKeys: String, CodingKey {
            case `case`, output, format, entries, ledgerHead = "ledger_head", payloadOxum = "payload_oxum"
            case tagManifestSHA256 = "tag_manifest_sha256", sha256, artifacts, audience, withheldItems = "withheld_items"
        }
    }

    public let session: ActingSession
    public let caseID: String
    public let options: Options

    public init(session: ActingSession, caseID: String, options: Options) {
        self.session = session
        self.caseID = caseID
        self.options = options
    }

    /// Files a bag adds beside the evidence: its manifests cover them; no ledger entry does.
    static func isBundleDocument(_ relative: String) -> Bool {
        ["provenance.jsonld", "report.html", "loadfile.csv", "findings.json"].contains(relative)
            || relative.hasPrefix(CourtDocuments.folder + "/")
            || (relative.hasPrefix("keys/") && relative.hasSuffix(".pem") && !relative.dropFirst(5).contains("/"))
    }

    public func run() throws(ExhibitError) -> Result {
        try session.authorize(options.format == .court ? .exportCourt : .export, caseID: caseID,
                              command: options.format == .court ? "export court" : "export")
        var output = URL(fileURLWithPath: options.output).standardizedFileURL.path
        let wantsZip = options.format == .bagit && (options.zip || output.lowercased().hasSuffix(".zip"))
        // A zip is named as one, so that the recipient (and verify) know it for what it is.
        if wantsZip, !output.lowercased().hasSuffix(".zip") { output += ".zip" }
        guard !FileManager.default.fileExists(atPath: output) else {
            throw ExhibitError(.storage, "The output path \(output) already exists; name a new bag directory or .zip file.", input: .outputPath)
        }
        let parent = (output as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExhibitError(.storage, "The folder \(parent) does not exist; create it or choose another output path.", input: .outputPath)
        }
        // Recorded in the workspace before it exists, so a killed export's copy is removed by the next command (DESIGN §16).
        let stagingArea = try ExportStaging(beside: output, caseID: caseID, workspace: session.workspace)
        defer { stagingArea.end() }
        let staging = stagingArea.path

        if options.format == .wacz {
            return try exportWACZ(output: output, staging: staging)
        }
        if options.format == .court {
            return try exportCourt(output: output, staging: staging)
        }
        let bagRoot = wantsZip ? staging + "/" + caseID : staging
        if wantsZip { guard mkdir(staging, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(staging)") } }
        let (result, _, _) = try buildBag(at: bagRoot)
        var sha256: String?
        if wantsZip {
            let zipPath = staging + "/bag.zip"
            try ZipContainer.write(directory: bagRoot, topFolder: caseID, to: zipPath)
            sha256 = try Digest.file(atPath: zipPath).digests[.sha256]
            guard rename(zipPath, output) == 0 else { throw AtomicFile.posixError("Cannot move the zip to \(output)") }
        } else {
            guard rename(staging, output) == 0 else { throw AtomicFile.posixError("Cannot move the bag to \(output)") }
        }
        AtomicFile.syncDirectory(containing: output)

        var details: [String: JSONValue] = [
            "payload_oxum": .string(result.payloadOxum),
            "tag_manifest_sha256": .string(result.tagManifestSHA256),
        ]
        if let sha256 { details["sha256"] = .string(sha256) }
        if let withheld = result.withheldItems { details["withheld_items"] = .integer(Int64(withheld)) }
        return try recordExport(of: result, format: wantsZip ? "bagit-zip" : "bagit", output: output, sha256: sha256, details: details)
    }

    /// Appends the `export` entry — what every export records (audience, format, the
    /// output's name, the bag's entry count and ledger head) and `details`, the
    /// format's own digests — and returns `bag` as the command reports the export.
    func recordExport(of bag: Result, format: String, output: String, sha256: String?,
                      details: [String: JSONValue]) throws(ExhibitError) -> Result {
        var subject: [String: JSONValue] = [
            "audience": .string(options.audience.rawValue),
            "format": .string(format),
            "output": .string((output as NSString).lastPathComponent),
            "entries": .integer(Int64(bag.entries)),
            "ledger_head": .string(bag.ledgerHead),
        ]
        subject.merge(details) { _, detail in detail }
        try session.store.append(LedgerDraft(action: "export", subject: .object(subject)), to: caseID, signer: try session.signer())
        var recorded = bag
        recorded.output = output
        recorded.format = format
        recorded.sha256 = sha256
        return recorded
    }

    /// A WACZ export: the evidence is gathered and checked as for a bag (in
    /// `staging`), then packaged; the export entry records the package's digests.
    func exportWACZ(output: String, staging: String) throws(ExhibitError) -> Result {
        guard options.audience == .full else {
            throw ExhibitError(.usage, "A decision-maker export is a bag (a directory or a zip file), not a WACZ.", input: .exportFormat)
        }
        guard output.lowercased().hasSuffix(".wacz") else {
            throw ExhibitError(.usage, "A WACZ export is one .wacz file; give an output path ending in .wacz.", input: .outputPath)
        }
        guard mkdir(staging, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(staging)") }
        let bagRoot = staging + "/bag"
        let (bagResult, facts, entries) = try buildBag(at: bagRoot)
        let warcFiles = Self.recordedFiles(entries).filter { $0.hasPrefix("warc/") }
        guard !warcFiles.isEmpty else {
            throw ExhibitError(.storage, "Case \(caseID) has no captures yet; a WACZ needs at least one WARC file.")
        }
        let (keyPEM, waczPublicKey) = try session.actors.waczSigningKey(for: session.actor.id)
        let exporter = session.actor
        let statement = WACZPackage.SignerStatement(
            caseID: caseID, ledgerHead: bagResult.ledgerHead,
            signer: .init(id: exporter.id, name: exporter.name, badge: exporter.badge, roles: exporter.roles.map(\.rawValue),
                          publicKeySHA256: Digest.sha256Hex(Array(exporter.publicKey.utf8))),
            waczPublicKey: waczPublicKey)
        var keys: [(String, String)] = []
        for person in facts.actors {
            keys.append((person.id, String(decoding: try AtomicFile.read(bagRoot + "/data/keys/\(person.id).pem"), as: UTF8.self)))
        }
        let packagePath = staging + "/package.wacz"
        try WACZPackage.write(
            to: packagePath, facts: facts, entries: entries, caseDirectory: bagRoot + "/data", warcFiles: warcFiles,
            ledger: try AtomicFile.read(bagRoot + "/data/ledger.jsonl"), publicKeys: keys, signingKeyPEM: keyPEM,
            signerStatement: try statement.signed(with: try session.signer().key),
            created: WACZPackage.rfc3339(entries.last?.time ?? LedgerTime.now()))
        let sha256 = try Digest.file(atPath: packagePath).digests[.sha256] ?? ""
        guard rename(packagePath, output) == 0 else { throw AtomicFile.posixError("Cannot move the WACZ file to \(output)") }
        AtomicFile.syncDirectory(containing: output)
        let signingKey = Digest.sha256Hex(try ECDSAP256.publicKeySPKI(privateKeyPEM: keyPEM))
        var result = try recordExport(of: bagResult, format: "wacz", output: output, sha256: sha256,
                                      details: ["sha256": .string(sha256), "signing_key_sha256": .string(signingKey)])
        result.tagManifestSHA256 = ""
        return result
    }

    /// Builds the bag in `root` and returns what it holds.
    func buildBag(at root: String) throws(ExhibitError) -> (Result, BundleFacts, [LedgerEntry]) {
        let caseDirectory = session.store.directory(of: caseID)
        if options.audience == .full { CourtCertificate.hashBinaryInBackground() }
        // The ledger is read and parsed once, and again only after an entry is appended
        // here (a first export by this actor, or new artifacts to number): parsing a
        // ledger of thousands of captures three times was 0.3 s of one core.
        let ledger = session.store.ledger(of: caseID)
        var ledgerBytes = try ledger.readLocked()
        var entries = try ledger.entries(of: ledgerBytes)
        if try bindExporter(entries) {
            ledgerBytes = try ledger.readLocked()
            entries = try ledger.entries(of: ledgerBytes)
        }
        // Exhibit numbers are given before the bag's ledger is read, so it holds them (DESIGN §21).
        if options.audience == .full, try ExhibitNumbers.assignPending(session: session, caseID: caseID, entries: entries) {
            ledgerBytes = try ledger.readLocked()
            entries = try ledger.entries(of: ledgerBytes)
        }
        guard let head = entries.last else { throw ExhibitError(.storage, "The case \(caseID) has an empty ledger.") }
        let fullState = try CaseState.fold(entries)
        var disclosure: Disclosure?
        if options.audience == .decisionMaker {
            guard fullState.category == BackgroundInvestigation.category else {
                throw ExhibitError(.usage, "An export for the decision-maker is for background investigations only; \(caseID) is a \(fullState.category) case.")
            }
            disclosure = try Disclosure(entries: entries, screening: try ProtectedClassScreening.load())
            try Self.requireScreened(disclosure!, entries: entries, caseID: caseID)
        }
        let bagEntries = disclosure?.entries ?? entries

        var bag = try BagWriter(root: root)
        try bag.write(try disclosure?.ledgerBytes() ?? ledgerBytes, to: "ledger.jsonl")
        let state = disclosure == nil ? fullState : try CaseState.fold(bagEntries)
        try bag.write(try encodeJSON(state), to: "case.json")
        var copies: [(source: String, relative: String)] = []
        for relative in Self.recordedFiles(bagEntries) {
            var source = caseDirectory + "/" + relative
            // Recorded but not yet renamed (commit step 3 pending): the bytes are the same.
            if !FileManager.default.fileExists(atPath: source), FileManager.default.fileExists(atPath: source + ".tmp") { source += ".tmp" }
            if let disclosure, relative.hasPrefix("warc/") {
                try bag.write(try disclosure.derivedWARC(source: source, relative: relative), to: relative)
            } else {
                copies.append((source, relative))
            }
        }
        try bag.copy(copies)
        let actorIDs = Set(bagEntries.map(\.actor)).union([session.actor.id])
        var people: [BundleFacts.Person] = []
        for id in actorIDs.sorted() {
            let actor = try session.actors.actor(id)
            try bag.write(Array(actor.publicKey.utf8), to: "keys/\(id).pem")
            people.append(.init(id: actor.id, name: actor.name, badge: actor.badge, roles: actor.roles.map(\.rawValue)))
        }

        // The bag's evidence is checked as a case before anything is derived from it.
        let derived = disclosure != nil
        // What the copy hashed is what the bag holds: the check reads each file again
        // only for its WARC records.
        let digests = FileDigestCache()
        for (path, file) in bag.payload {
            digests.record(([.sha256: file.sha256, .sha512: file.sha512], file.size), forPath: root + "/" + path)
        }
        let derivedFiles: (String) -> Bool = { path in derived && path.hasPrefix("warc/") }
        let report = try CaseVerification.verify(
            directory: root + "/data", keyFor: Self.keys(inFolder: root + "/data/keys"),
            derivedWARC: derived,
            alsoExpected: Self.isBundleDocument, derivedFiles: derivedFiles, digests: digests)
        guard report.intact else {
            let first = report.findings.first(where: \.isFailure)?.line ?? ""
            throw ExhibitError(.verificationFailed, "Case \(caseID) does not verify (\(first)); export refused. Run `exhibit verify \(caseID)` for every finding.")
        }

        let template = try? session.store.templates.template(state.category)
        var facts = FactsCollector(
            caseID: caseID, entries: bagEntries, state: state, bagData: root + "/data", caseDirectory: caseDirectory,
            derivedWARCs: derived, payload: bag.payload, people: people
        ).facts(
            categoryTitle: template?.title ?? state.category,
            policySections: template?.policySections.joined(separator: ", ") ?? "",
            agency: session.workspace.info.agency,
            verification: .init(intact: report.intact, entries: report.entryCount, findings: report.findings.map(\.line)))

        if let disclosure {
            facts.withheldItems = disclosure.withheldItems
            var disclosed: [BundleFacts.DisclosedFinding] = []
            var listed: [[String: Any]] = []
            for finding in disclosure.findings {
                disclosed.append(BundleFacts.DisclosedFinding(id: finding.id, text: finding.text, status: finding.status.rawValue, artifacts: finding.artifacts))
                listed.append(["id": finding.id, "text": finding.text, "status": finding.status.rawValue, "artifacts": finding.artifacts])
            }
            facts.disclosedFindings = disclosed
            let document: [String: Any] = ["findings": listed, "withheld_items": disclosure.withheldItems]
            try bag.write(try BundleJSON.pretty(document), to: "findings.json")
        }
        for part in try derivedDocuments(
            facts: facts, entries: bagEntries, custodian: state.custody.last?.actor ?? state.openedBy,
            court: disclosure == nil, bagRoot: root) { bag.add(part) }

        var info: [(String, String)] = [
            ("Source-Organization", session.workspace.info.agency),
            ("External-Identifier", caseID),
            ("External-Description", "\(facts.categoryTitle): \(state.title)"),
            ("Bagging-Date", options.baggingDate),
            ("Bag-Software-Agent", "Exhibit \(ExhibitRelease.version)"),
            ("Ledger-Head", head.hash),
        ]
        if let disclosure { info.append(("Withheld-Items", String(disclosure.withheldItems))) }
        let exporter = session.actor
        let signer = try session.signer()
        let keyDigest = Digest.sha256Hex(Array(exporter.publicKey.utf8))
        let audience = options.audience.rawValue
        let withheld = disclosure?.withheldItems ?? 0
        let tagManifest = try bag.finish(info: info) { (digests: [String: String]) throws(ExhibitError) -> [UInt8] in
            let seal = BagSeal(
                caseID: caseID, ledgerHead: head.hash, audience: audience, withheldItems: withheld,
                derivedWARCs: derived, software: "Exhibit \(ExhibitRelease.version)", files: digests,
                signer: .init(id: exporter.id, name: exporter.name, badge: exporter.badge,
                              roles: exporter.roles.map(\.rawValue), publicKeySHA256: keyDigest))
            return try seal.signed(with: signer.key)
        }
        var result = Result(
            case: caseID, output: root, format: "bagit", entries: entries.count, ledgerHead: head.hash,
            payloadOxum: bag.payloadOxum, tagManifestSHA256: tagManifest, sha256: nil, artifacts: facts.artifacts.count)
        result.audience = options.audience.rawValue
        result.withheldItems = disclosure?.withheldItems
        return (result, facts, entries)
    }

    /// The documents derived from the checked evidence, written into the bag's data/:
    /// the court documents, the provenance graph and the report are each seconds of string
    /// building for a case of thousands of artifacts, so they are made on every core, and
    /// each part's files are written, hashed and sent to the disk as soon as it is made,
    /// while the other cores still make theirs. The order balances two cores: the court
    /// documents (the most CPU, and thousands of files to create) beside the report, then
    /// the provenance graph; made the other way, the report was left alone at the end.
    func derivedDocuments(
        facts: BundleFacts, entries: [LedgerEntry], custodian: String, court: Bool, bagRoot root: String
    ) throws(ExhibitError) -> [BagWriter.Stored] {
        enum Part: CaseIterable { case court, report, provenance, loadFile }
        let parts = Part.allCases.filter { court || $0 != .court }
        let made = Parallel.map(parts) { part in
            Swift.Result { () throws(ExhibitError) -> BagWriter.Stored in
                let documents: [(relative: String, bytes: [UInt8])]
                switch part {
                case .court:
                    documents = try courtDocuments(facts: facts, entries: entries, bagRoot: root)
                        .map { (CourtDocuments.folder + "/" + $0.0, $0.1) }
                case .provenance:
                    documents = [("provenance.jsonld", ProvenanceGraph.document(for: facts))]
                case .report:
                    documents = [("report.html", CaseReport.html(for: facts) { path in try? AtomicFile.read(root + "/" + path) })]
                case .loadFile:
                    documents = [("loadfile.csv", LoadFile.csv(for: facts, custodian: custodian, exhibits: ExhibitNumbers.byArtifact(entries)))]
                }
                return try BagWriter.store(documents, in: root, width: Parallel.width, flushing: true)
            }
        }
        var stored: [BagWriter.Stored] = []
        for result in made { stored.append(try result.get()) }
        return stored
    }

    /// The bag's seal is signed by the exporting actor, whose key must be one the
    /// bag's own ledger knows (DESIGN §16). An exporter who never acted on the case
    /// first records the export as a read (`view`), which every read is anyway
    /// (§4); an exporter who already signs entries adds nothing, so two exports of
    /// the same ledger stay the same bytes.
    /// `entries` are the case's, as they stand; true when a `view` entry was appended.
    func bindExporter(_ entries: [LedgerEntry]) throws(ExhibitError) -> Bool {
        let me = session.actor.id
        guard !entries.contains(where: { $0.actor == me }) else { return false }
        try session.store.append(LedgerDraft(action: "view", subject: .object(["command": .string("export")])),
                                 to: caseID, signer: try session.signer())
        return true
    }

    /// A decision-maker bundle discloses nothing that was not screened and passed
    /// under the approved lexicon set in force, or reviewed clear and countersigned,
    /// and nothing while a flag is undecided (IV.B.6, DESIGN §23: default-deny).
    static func requireScreened(_ disclosure: Disclosure, entries: [LedgerEntry], caseID: String) throws(ExhibitError) {
        let inForce = LexiconSet.digest(try ProtectedClassScreening.load())
        try ScreeningGate.requirePassed(disclosure.artifacts, entries: entries, caseID: caseID, lexiconDigest: inForce)
    }

    /// Every evidence file the entries record (WARC files, blobs, timestamp files).
    static func recordedFiles(_ entries: [LedgerEntry]) -> [String] {
        var files = Set<String>()
        for entry in entries {
            guard let subject = entry.subject else { continue }
            if let file = subject["warc"]?["file"]?.stringValue { files.insert(file) }
            if let path = subject["blob"]?["path"]?.stringValue { files.insert(path) }
            for object in subject["files"]?.arrayValue ?? [] {
                if let path = object["path"]?.stringValue { files.insert(path) }
            }
        }
        return files.sorted()
    }

    /// Public keys a bundle carries as `<folder>/<actor-id>.pem` (a bag's data/keys,
    /// a WACZ's exhibit/).
    static func keys(inFolder folder: String) -> (String) -> VerifyingKey? {
        { id in
            guard ActorRegistry.isValidID(id), let bytes = try? AtomicFile.read("\(folder)/\(id).pem") else { return nil }
            return try? VerifyingKey(pem: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Today's date in UTC, as BagIt's Bagging-Date wants it.
    public static func today() -> String {
        String(LedgerTime.now().prefix(10))
    }
}
