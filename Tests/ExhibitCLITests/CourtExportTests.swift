import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 23 (DESIGN §21): `exhibit export CASE --format court`, through the real
/// binary, real Chromium, real openssl and poppler's pdftotext/pdftoppm.
@Suite("court documents (export --format court)", .serialized)
struct CourtExportTests {
    let exhibit = ExhibitProcess()

    static func requireTools() throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/pdftotext", "/usr/bin/pdftoppm", "/usr/bin/openssl"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: `make deps` installs it")
        }
    }

    static func json(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: try AtomicFile.read(path))
    }

    /// The exhibits of a certificate: number → (artifact, sha256).
    static func exhibits(_ certificate: JSONValue) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for item in certificate["exhibits"]?.arrayValue ?? [] {
            result[item["number"]?.stringValue ?? ""] = [item["artifact"]?.stringValue ?? "", item["sha256"]?.stringValue ?? ""]
        }
        return result
    }

    func capture(_ ws: TestWorkspace, _ caseID: String, _ paths: [String]) async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let urls = paths.map { site.baseURL + $0 }
            let result = try await Blocking.run {
                try exhibit.run(["capture", caseID] + urls + ["--workspace", ws.root, "--actor", ws.investigatorID,
                                                            "--allow-network", "127.0.0.1/32", "--reason", "fixture site on loopback"])
            }
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    @Test("custodian only; certificate facts match the ledger and its signature checks with openssl; the PDF holds every number and hash; numbers are stable; verify catches an edited fact or HTML")
    func courtExport() async throws {
        try Self.requireTools()
        let ws = try TestWorkspace("exhibit-court")
        // The agency's zone: capture times are shown in it beside UTC.
        let infoPath = ws.root + "/workspace.json"
        var info = try Self.json(infoPath).objectValue ?? [:]
        info["time_zone"] = .string("America/Chicago")
        try Data(try JSONValue.object(info).canonicalBytes()).write(to: URL(fileURLWithPath: infoPath))

        let caseID = try ws.openCase()
        try await capture(ws, caseID, ["/forum.html", "/classifieds.html"])
        let render = try await Blocking.run { try exhibit.run(["render", caseID, "--workspace", ws.root, "--actor", ws.investigatorID]) }
        #expect(render.status == 0, "\(render.stdout)\(render.stderr)")
        #expect(try ws.entries(caseID).contains { $0.action == "render" })

        // An import, when this build has `exhibit import` (issue 20).
        let witnessFile = ws.directory.child("witness-photo.txt")
        try Data("a witness's note, handed over on a USB stick\n".utf8).write(to: URL(fileURLWithPath: witnessFile))
        let hasImport = try exhibit.run(["import", "--help"]).status == 0
        if hasImport {
            let imported = try exhibit.run(["import", caseID, witnessFile, "--source", "USB stick from the complainant",
                                            "--received-from", "R. Complainant", "--workspace", ws.root, "--actor", ws.investigatorID])
            #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        }

        try await withStopping(try await LocalTSA.start(directory: ws.directory.child("tsa")), stop: { await $0.stop() }) { tsa in
            let stamp = try await Blocking.run {
                try ExhibitProcess().run(["timestamp", caseID, "--tsa", tsa.url, "--ca-file", tsa.caCertificatePath,
                                          "--workspace", ws.root, "--actor", ws.supervisorID])
            }
            #expect(stamp.status == 0, "\(stamp.stderr)")
        }

        // An analyst who is no custodian is refused, and the refusal is recorded.
        let refusedOut = ws.directory.child("court-refused")
        let refused = try exhibit.run(["export", caseID, "--format", "court", "--out", refusedOut, "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(refused.status == 4, "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: refusedOut))
        let refusal = try #require(try ws.entries(caseID).last)
        #expect(refusal.action == "refusal" && refusal.subject?["command"]?.stringValue == "export court")

        // The custodian's export.
        let out = ws.directory.child("court")
        let export = try await Blocking.run {
            try ExhibitProcess().run(["export", caseID, "--format", "court", "--out", out, "--workspace", ws.root, "--actor", ws.supervisorID, "--json"])
        }
        #expect(export.status == 0, "\(export.stdout)\(export.stderr)")
        for name in ["certificate.json", "certificate.sig", "certificate.html", "exhibit-list.html", "court.html", "court.pdf", "ledger.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name) missing")
        }
        let entries = try ws.entries(caseID)
        let exportEntry = try #require(entries.last)
        #expect(exportEntry.action == "export" && exportEntry.subject?["format"]?.stringValue == "court")
        let numbering = try #require(entries.first { $0.action == "exhibit-number" })
        #expect(numbering.actor == ws.supervisorID)

        // Facts against the ledger: the one the documents carry is the case's, up to the export entry.
        let ledger = Array(entries.dropLast())
        #expect(try Ledger(path: out + "/ledger.jsonl").entries() == ledger)
        let certificate = try Self.json(out + "/certificate.json")
        #expect(try certificate.canonicalBytes() == (try AtomicFile.read(out + "/certificate.json")))
        #expect(certificate["case"]?.stringValue == caseID)
        #expect(certificate["ledger"]?["head"]?.stringValue == ledger.last?.hash)
        #expect(certificate["ledger"]?["entries"]?.intValue == Int64(ledger.count))
        #expect(certificate["custodian"]?["name"]?.stringValue == "Sol Supervisor")
        #expect(certificate["custodian"]?["badge"]?.stringValue == "S-1")
        #expect(certificate["custodian"]?["roles"]?.arrayValue?.contains(.string("custodian")) == true)
        #expect(certificate["agency"]?.stringValue == "Test Police Department")
        #expect(certificate["verification"]?["intact"]?.boolValue == true)
        #expect(certificate["verification"]?["findings"]?.intValue == 0)
        let binary = try Digest.file(atPath: ExhibitProcess.binaryPath).digests[.sha256]
        #expect(certificate["system"]?["binary_sha256"]?.stringValue == binary)
        #expect(certificate["time_zone"]?["name"]?.stringValue == "America/Chicago")
        let stampEntry = try #require(ledger.first { $0.action == "timestamp" })
        let stamps = certificate["timestamps"]?.arrayValue ?? []
        #expect(stamps.count == 1)
        #expect(stamps.first?["ledger_head"] == stampEntry.subject?["ledger_head"])
        #expect(stamps.first?["entry_seq"]?.intValue == stampEntry.seq)
        let captures = ledger.filter { $0.action == "capture" && $0.subject?["status"]?.intValue != nil }
        let imports = ledger.filter { $0.action == "import" }
        let exhibits = Self.exhibits(certificate)
        #expect(exhibits.count == captures.count + imports.count)
        #expect(hasImport == !imports.isEmpty)
        for (index, entry) in (captures + imports).sorted(by: { $0.seq < $1.seq }).enumerated() {
            let number = String(format: "EX-%04d", index + 1)
            let expected = entry.action == "import" ? entry.subject?["sha256"]?.stringValue : entry.subject?["payload_sha256"]?.stringValue
            #expect(exhibits[number] == [ArtifactID.forSeq(Int(entry.seq)), expected ?? "-"], "\(number)")
        }
        // Every document's sha256 is stated, the PDF's included.
        let documents = certificate["documents"]?.objectValue ?? [:]
        #expect(documents["court.pdf"]?.stringValue == Digest.sha256Hex(try AtomicFile.read(out + "/court.pdf")))
        #expect(documents.keys.contains("exhibits/EX-0001.html"))

        // The signature, checked by openssl alone (docs/court.md).
        let signature = try #require(Data(base64Encoded: String(decoding: try AtomicFile.read(out + "/certificate.sig"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let sigPath = ws.directory.child("sig.bin")
        try signature.write(to: URL(fileURLWithPath: sigPath))
        let key = out + "/keys/\(ws.supervisorID).pem"
        let openssl = try Command.run("/usr/bin/openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin",
                                                          "-in", out + "/certificate.json", "-sigfile", sigPath])
        #expect(openssl.status == 0 && openssl.output.contains("Signature Verified Successfully"), "\(openssl.output)")

        // The sheets: the agency's zone, the screenshot, the intake statement.
        let first = String(decoding: try AtomicFile.read(out + "/exhibits/EX-0001.html"), as: UTF8.self)
        #expect(first.contains("America/Chicago"))
        #expect(first.contains("data:image/png;base64,"))
        #expect(first.contains("Chain of custody"))
        if hasImport, let importNumber = exhibits.first(where: { $0.value.first == ArtifactID.forSeq(Int(imports[0].seq)) })?.key {
            let sheet = String(decoding: try AtomicFile.read(out + "/exhibits/\(importNumber).html"), as: UTF8.self)
            #expect(sheet.contains("Intake statement") && sheet.contains("USB stick from the complainant") && sheet.contains("R. Complainant"))
        }

        // The PDF's text holds every exhibit number and hash; its pages render.
        let text = try Command.run("/usr/bin/pdftotext", [out + "/court.pdf", "-"])
        #expect(text.status == 0)
        let flat = text.output.filter { !$0.isWhitespace }
        for (number, value) in exhibits {
            #expect(flat.contains(number), "\(number) not in the PDF's text")
            #expect(flat.contains(value[1]), "\(value[1]) of \(number) not in the PDF's text")
        }
        #expect(text.output.contains(caseID) && text.output.contains("page 1 of"))
        let pages = ws.directory.child("pages")
        try FileManager.default.createDirectory(atPath: pages, withIntermediateDirectories: true)
        let ppm = try Command.run("/usr/bin/pdftoppm", ["-png", "-r", "50", out + "/court.pdf", pages + "/page"])
        #expect(ppm.status == 0, "\(ppm.output)")
        let images = try FileManager.default.contentsOfDirectory(atPath: pages).filter { $0.hasSuffix(".png") }.sorted()
        #expect(images.count >= 2 + exhibits.count)
        if let docs = ProcessInfo.processInfo.environment["EXHIBIT_DOCS_SCREENSHOTS"], !docs.isEmpty, images.count > 2 {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            for (index, name) in images.prefix(6).enumerated() {
                try? FileManager.default.removeItem(atPath: docs + "/court-page-\(index + 1).png")
                try FileManager.default.copyItem(atPath: pages + "/" + name, toPath: docs + "/court-page-\(index + 1).png")
            }
        }

        #expect(try exhibit.run(["verify", out]).status == 0)

        // Numbers are stable: a full bag (by the analyst) shows the same ones and adds none.
        let bag = ws.directory.child("bag")
        let bagged = try exhibit.run(["export", caseID, "--out", bag, "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(bagged.status == 0, "\(bagged.stderr)")
        #expect(try ws.entries(caseID).filter { $0.action == "exhibit-number" }.count == 1)
        let bagCertificate = try Self.json(bag + "/data/court/certificate.json")
        #expect(Self.exhibits(bagCertificate) == exhibits)
        let bagit = try Validators.run("python3", ["-m", "bagit", "--validate", bag])
        #expect(bagit.status == 0, "bagit.py: \(bagit.output)")
        let bagVerify = try exhibit.run(["verify", bag])
        #expect(bagVerify.status == 0, "\(bagVerify.stdout)")
        let loadFile = String(decoding: try AtomicFile.read(bag + "/data/loadfile.csv"), as: UTF8.self)
        #expect(loadFile.contains("ExhibitNumber,BegBates,EndBates"))
        #expect(loadFile.contains(",EX-0001,\(caseID)-EX-0001-0001,\(caseID)-EX-0001-0001"))

        // … and a new capture gets the next number at the next export; old ones keep theirs.
        try await capture(ws, caseID, ["/article.html"])
        let second = ws.directory.child("court-2")
        let again = try await Blocking.run {
            try ExhibitProcess().run(["export", caseID, "--format", "court", "--out", second, "--workspace", ws.root, "--actor", ws.supervisorID])
        }
        #expect(again.status == 0, "\(again.stderr)")
        let secondExhibits = Self.exhibits(try Self.json(second + "/certificate.json"))
        #expect(secondExhibits.count == exhibits.count + 1)
        for (number, value) in exhibits { #expect(secondExhibits[number] == value) }
        let newNumber = String(format: "EX-%04d", exhibits.count + 1)
        let newCapture = try #require(try ws.entries(caseID).last { $0.action == "capture" })
        #expect(secondExhibits[newNumber]?.first == ArtifactID.forSeq(Int(newCapture.seq)))

        // An edited fact is reported, whoever re-signs nothing; so is an edited document.
        let edited = ws.directory.child("court-edited-fact")
        try FileManager.default.copyItem(atPath: out, toPath: edited)
        let original = String(decoding: try AtomicFile.read(edited + "/certificate.json"), as: UTF8.self)
        let someHash = try #require(exhibits["EX-0001"]?[1])
        try Data(original.replacingOccurrences(of: someHash, with: String(repeating: "0", count: 64)).utf8)
            .write(to: URL(fileURLWithPath: edited + "/certificate.json"))
        let factCheck = try exhibit.run(["verify", edited])
        #expect(factCheck.status == 1)
        #expect(factCheck.stdout.contains("BAD-SIGNATURE certificate.sig"), "\(factCheck.stdout)")
        #expect(factCheck.stdout.contains("TAMPERED certificate.json") && factCheck.stdout.contains("exhibits"), "\(factCheck.stdout)")

        let editedHTML = ws.directory.child("court-edited-html")
        try FileManager.default.copyItem(atPath: out, toPath: editedHTML)
        let sheetPath = editedHTML + "/court.html"
        let html = String(decoding: try AtomicFile.read(sheetPath), as: UTF8.self)
        try Data(html.replacingOccurrences(of: "Sol Supervisor", with: "Someone Else").utf8).write(to: URL(fileURLWithPath: sheetPath))
        let htmlCheck = try exhibit.run(["verify", editedHTML])
        #expect(htmlCheck.status == 1)
        #expect(htmlCheck.stdout.contains("TAMPERED court.html"), "\(htmlCheck.stdout)")

        // In a bag: the court HTML edited and its manifest line fixed up is still caught by the signed facts.
        let bagEdited = ws.directory.child("bag-edited")
        try FileManager.default.copyItem(atPath: bag, toPath: bagEdited)
        let listPath = bagEdited + "/data/court/exhibit-list.html"
        let list = String(decoding: try AtomicFile.read(listPath), as: UTF8.self)
        try Data(list.replacingOccurrences(of: "EX-0002", with: "EX-0009").utf8).write(to: URL(fileURLWithPath: listPath))
        let bagCheck = try exhibit.run(["verify", bagEdited])
        #expect(bagCheck.status == 1)
        #expect(bagCheck.stdout.contains("TAMPERED data/court/exhibit-list.html — certificate.json states"), "\(bagCheck.stdout)")
    }

    @Test("a certificate template naming an unknown placeholder is refused with one sentence, and nothing is written")
    func unknownPlaceholder() async throws {
        try Self.requireTools()
        let ws = try TestWorkspace("exhibit-court-template")
        let caseID = try ws.openCase()
        // An agency's copy of the templates, with a typo in the certificate.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CaseTemplates").path
        let templates = ws.directory.child("templates")
        try FileManager.default.copyItem(atPath: source, toPath: templates)
        let certificate = templates + "/court/certificate.html"
        let text = String(decoding: try AtomicFile.read(certificate), as: UTF8.self)
        #expect(text.contains("{{custodian.name}}"))
        try Data(text.replacingOccurrences(of: "{{custodian.name}}", with: "{{custodian.nmae}}").utf8).write(to: URL(fileURLWithPath: certificate))

        let before = try ws.entries(caseID)
        let out = ws.directory.child("court")
        let refused = try ExhibitProcess(environment: ["EXHIBIT_TEMPLATES": templates]).run(
            ["export", caseID, "--format", "court", "--out", out, "--workspace", ws.root, "--actor", ws.supervisorID])
        #expect(refused.status == 5, "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
        #expect(refused.stderr.contains("{{custodian.nmae}}"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try ws.entries(caseID) == before)

    }
}
