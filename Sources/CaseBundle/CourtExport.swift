import CaseManagement
import ChainOfCustody
import Foundation

/// The court export of a case into a folder of its own, and the court folder of every full
/// bag (DESIGN §21, docs/court.md).
extension CaseExport {
    /// The court folder's files for a bag being built at `bagRoot`, certified by the
    /// exporting actor; with a printer (court format) the PDF too.
    func courtDocuments(facts: BundleFacts, entries: [LedgerEntry], bagRoot: String) throws(ExhibitError) -> [(String, [UInt8])] {
        let template = try CourtTemplate.load(templatesOrigin: session.store.templates.origin)
        try CourtTemplate.check(template.text, origin: template.origin)
        let me = session.actor
        let certifier = CourtCertificate.Certifier(
            id: me.id, name: me.name, badge: me.badge, roles: me.roles.map(\.rawValue),
            publicKeySHA256: Digest.sha256Hex(Array(me.publicKey.utf8)))
        let input = CourtDocuments.Input(
            facts: facts, entries: entries, certifier: certifier, signer: try session.signer().key, template: template,
            zone: CourtZone.of(workspaceRoot: session.workspace.root),
            file: { path in try? AtomicFile.read(bagRoot + "/" + path) })
        return try CourtDocuments.make(input, printer: options.format == .court ? options.courtPrinter : nil)
    }

    /// The court documents alone: the case is gathered and verified as for a bag (in
    /// `staging`), then the court folder — with the PDF — the ledger it was made
    /// from and the actors' public keys go to `output`, a new directory.
    func exportCourt(output: String, staging: String) throws(ExhibitError) -> Result {
        guard options.audience == .full else {
            throw ExhibitError(.usage, "Court documents are made from the full case; a decision-maker export is a bag.", input: .exportFormat)
        }
        guard options.courtPrinter != nil else {
            throw ExhibitError(.storage, "Court documents need a PDF printer (headless Chromium), and none was given.")
        }
        // Checked before any work, so a bad template costs nothing and records nothing.
        let template = try CourtTemplate.load(templatesOrigin: session.store.templates.origin)
        try CourtTemplate.check(template.text, origin: template.origin)
        guard mkdir(staging, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(staging)") }
        let bagRoot = staging + "/bag"
        let (bagResult, _, _) = try buildBag(at: bagRoot)
        let folder = staging + "/court"
        guard mkdir(folder, 0o700) == 0 else { throw AtomicFile.posixError("Cannot create \(folder)") }
        var copied: [String] = []
        for name in (try? ZipContainer.files(in: bagRoot + "/data/" + CourtDocuments.folder)) ?? [] {
            try copy(bagRoot + "/data/" + CourtDocuments.folder + "/" + name, to: folder + "/" + name)
            copied.append(name)
        }
        try copy(bagRoot + "/data/ledger.jsonl", to: folder + "/ledger.jsonl")
        for name in (try? ZipContainer.files(in: bagRoot + "/data/keys")) ?? [] {
            try copy(bagRoot + "/data/keys/" + name, to: folder + "/keys/" + name)
        }
        guard copied.contains(CourtDocuments.pdf), copied.contains(CourtCertificate.factsFile) else {
            throw ExhibitError(.storage, "The court documents of \(caseID) were not all made; nothing was written.")
        }
        guard rename(folder, output) == 0 else { throw AtomicFile.posixError("Cannot move the court documents to \(output)") }
        AtomicFile.syncDirectory(containing: output)
        let certificate = Digest.sha256Hex(try AtomicFile.read(output + "/" + CourtCertificate.factsFile))
        let pdf = Digest.sha256Hex(try AtomicFile.read(output + "/" + CourtDocuments.pdf))
        var result = try recordExport(of: bagResult, format: "court", output: output, sha256: certificate,
                                      details: ["certificate_sha256": .string(certificate), "pdf_sha256": .string(pdf)])
        result.tagManifestSHA256 = ""
        result.payloadOxum = ""
        return result
    }

    private func copy(_ source: String, to destination: String) throws(ExhibitError) {
        let parent = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ExhibitError(.storage, "Cannot create \(parent): \(error.localizedDescription)")
        }
        try BagWriter.writeFile(try AtomicFile.read(source), to: destination)
    }
}
