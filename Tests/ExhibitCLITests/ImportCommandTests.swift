import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit import` (issue 20, DESIGN §20) through the real binary, with inputs
/// made by other people's tools in the test: wget's and warcio's WARCs,
/// Webrecorder's `wacz create`, bagit.py's bags.
@Suite("exhibit import")
struct ImportCommandTests {
    let exhibit = ExhibitProcess()

    func base(_ ws: TestWorkspace, _ actor: String? = nil) -> [String] {
        ["--workspace", ws.root, "--actor", actor ?? ws.investigatorID]
    }

    /// Every file of the case with its sha256: equal before and after means byte-identical.
    func tree(_ directory: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: directory)?.allObjects ?? [] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) else { continue }
            result[path] = isDirectory.boolValue ? "dir" : Digest.sha256Hex(try AtomicFile.read(directory + "/" + path))
        }
        return result
    }

    /// `wget --warc-file` of the fixture site's classified ad (a phone number, "tyres").
    func wgetWARC(_ site: FixtureSite, into directory: TemporaryDirectory, name: String = "colleague") throws -> String {
        let result = try Command.run("/usr/bin/wget", ["-q", "--warc-file=" + directory.child(name), "-O", "/dev/null", site.baseURL + "/classifieds.html"])
        #expect(result.status == 0, "wget: \(result.output)")
        return directory.child(name + ".warc.gz")
    }

    /// A WARC written by warcio holding a `resource` record (HTML notes) and a `revisit`.
    func warcioWARC(into directory: TemporaryDirectory) throws -> String {
        let script = """
        import io, sys
        from warcio.warcwriter import WARCWriter
        from warcio.statusandheaders import StatusAndHeaders
        with open(sys.argv[1], 'wb') as out:
            w = WARCWriter(out, gzip=True)
            body = b'<html><head><title>Witness notes</title></head><body><p>The blue kayak was seen at the pier. Write to kayak.witness@example.org</p></body></html>'
            w.write_record(w.create_warc_record('urn:example:witness-notes.html', 'resource', payload=io.BytesIO(body), warc_content_type='text/html'))
            headers = StatusAndHeaders('200 OK', [('Content-Type', 'text/html')], protocol='HTTP/1.1')
            w.write_record(w.create_revisit_record('http://example.org/kayak', 'sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'http://example.org/kayak', '2026-11-30T10:00:00Z', http_headers=headers))
        """
        let path = directory.child("warcio.warc.gz")
        let result = try Validators.run("python3", ["-c", script, path])
        #expect(result.status == 0, "warcio: \(result.output)")
        return path
    }

    func importJSON(_ ws: TestWorkspace, _ caseID: String, _ files: [String], source: String = "handed over on a USB stick", extra: [String] = []) throws -> (ExhibitProcess.Result, JSONValue?) {
        let result = try exhibit.run(["import", caseID] + files + ["--source", source, "--json"] + extra + base(ws))
        return (result, try? JSONValue(parsing: result.stdout))
    }

    @Test("a wget WARC: one import entry with the statement, receiver and digests; its page is an imported artifact found by search and selectors; verify re-checks it")
    func wgetWARCImport() async throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let (ws, caseID, warc) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            return (ws, try ws.openCase(), try wgetWARC(site, into: inputs))
        }
        let received = try AtomicFile.read(warc)
        let (result, json) = try importJSON(ws, caseID, [warc], extra: ["--received-from", "Det. Rivera, Metro PD", "--received-at", "2026-12-01T09:30:00Z"])
        #expect(result.status == 0, "\(result.stderr)")
        let item = try #require(json?["imported"]?.arrayValue?.first)
        #expect(item["kind"]?.stringValue == "warc")
        #expect(item["sha256"]?.stringValue == Digest.sha256Hex(received))

        let entry = try #require(try ws.entries(caseID).last { $0.action == "import" })
        let subject = try #require(entry.subject)
        #expect(entry.actor == ws.investigatorID && subject["receiver"]?.stringValue == ws.investigatorID)
        #expect(subject["source"]?.stringValue == "handed over on a USB stick")
        #expect(subject["received_from"]?.stringValue == "Det. Rivera, Metro PD")
        #expect(subject["received_at"]?.stringValue == "2026-12-01T09:30:00Z")
        #expect(subject["size"]?.intValue == Int64(received.count))
        #expect(subject["check"]?["verdict"]?.stringValue == "passed")
        // wget writes sha1 base32 block digests on every record, and a payload digest on the response.
        #expect(subject["check"]?["block_digest"]?["matched"]?.intValue == subject["check"]?["records"]?.intValue)
        #expect(subject["check"]?["payload_digest"]?["matched"]?.intValue == 1)
        // Stored byte for byte.
        let stored = try #require(subject["warc"]?["file"]?.stringValue)
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/" + stored) == received)
        // The HTTP response's block is held by its checked sha1 digest and the file's
        // sha256 (no sha256 of its own); every other record's block sha256 is recorded.
        let records = subject["records"]?.arrayValue ?? []
        #expect(records.contains { $0["type"]?.stringValue == "response" })
        for record in records {
            if record["type"]?.stringValue == "response" {
                #expect(record["block_digest"] == .null && record["declared_block_digest"]?.stringValue?.hasPrefix("sha1:") == true, "\(record)")
                #expect(record["payload_sha256"]?.stringValue == Digest.sha256Hex(try AtomicFile.read(try #require(FixtureSite.defaultSiteDirectory) + "/classifieds.html")))
            } else {
                #expect(record["block_digest"]?.stringValue?.hasPrefix("sha256:") == true, "\(record)")
            }
        }

        let listed = try exhibit.run(["artifacts", caseID, "--json"] + base(ws))
        let artifacts = try #require(try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue)
        let page = try #require(artifacts.first { $0["url"]?.stringValue?.hasSuffix("/classifieds.html") == true })
        #expect(page["imported"]?.boolValue == true && page["status"]?.intValue == 200)
        let served = try AtomicFile.read(try #require(FixtureSite.defaultSiteDirectory) + "/classifieds.html")
        #expect(page["sha256"]?.stringValue == Digest.sha256Hex(served))
        let text = try exhibit.run(["artifacts", caseID] + base(ws))
        #expect(text.stdout.split(separator: "\n").contains { $0.contains("classifieds.html") && $0.hasSuffix("(imported)") }, "\(text.stdout)")

        let search = try exhibit.run(["search", "tyres", "--case", caseID, "--json"] + base(ws))
        let hits = try JSONValue(parsing: search.stdout)["results"]?.arrayValue ?? []
        #expect(hits.contains { $0["artifact"]?.stringValue == page["id"]?.stringValue }, "\(search.stdout)")
        let selectors = try exhibit.run(["selectors", caseID, "--json"] + base(ws))
        #expect(selectors.stdout.contains("+19725550147"), "\(selectors.stdout)")

        let verify = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // One changed byte in the stored WARC is TAMPERED.
        let path = ws.caseDirectory(caseID) + "/" + stored
        var bytes = received
        bytes[bytes.count / 2] ^= 0x01
        try AtomicFile.write(bytes, to: path)
        let tampered = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("TAMPERED \(stored)"), "\(tampered.stdout)")
    }

    @Test("a WARC whose record no longer matches its own digest is refused with one sentence, exit 1, and the case is byte-identical")
    func tamperedWARCRefused() async throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let (ws, caseID, warc) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            return (ws, try ws.openCase(), try wgetWARC(site, into: inputs))
        }
        // The same WARC uncompressed (also a kind Exhibit takes in), one letter of the page changed.
        let plain = inputs.child("changed.warc")
        let unzip = try Command.run("/bin/sh", ["-c", "zcat '\(warc)' > '\(plain)'"])
        #expect(unzip.status == 0)
        var bytes = try AtomicFile.read(plain)
        let needle = Array("tyres".utf8)
        let at = try #require((0..<(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[at] = UInt8(ascii: "B")
        try AtomicFile.write(bytes, to: plain)

        let before = try tree(ws.caseDirectory(caseID))
        let good = inputs.child("good.warc")
        _ = try Command.run("/bin/sh", ["-c", "zcat '\(warc)' > '\(good)'"])
        // Whole or nothing: a good file named with it is not taken in either.
        let refused = try exhibit.run(["import", caseID, good, plain, "--source", "mailed"] + base(ws))
        #expect(refused.status == 1)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("fails its own digests") && lines[0].contains("nothing was imported"), "\(refused.stderr)")
        #expect(try tree(ws.caseDirectory(caseID)) == before)

        // A .warc.gz whose last gzip member's CRC-32 (in the file's last 8 bytes, with the
        // length) was changed: the record inflates, but the member is damaged.
        var compressed = try AtomicFile.read(warc)
        compressed[compressed.count - 8] ^= 0x01
        let badCRC = inputs.child("crc.warc.gz")
        try AtomicFile.write(compressed, to: badCRC)
        let crcRefused = try exhibit.run(["import", caseID, badCRC, "--source", "mailed"] + base(ws))
        #expect(crcRefused.status == 1)
        #expect(crcRefused.stderr.contains("damaged gzip member") && crcRefused.stderr.contains("nothing was imported"), "\(crcRefused.stderr)")
        #expect(try tree(ws.caseDirectory(caseID)) == before)

        // The unchanged uncompressed WARC is taken in, and verifies.
        let accepted = try exhibit.run(["import", caseID, good, "--source", "mailed"] + base(ws))
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let verify = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(verify.status == 0, "\(verify.stdout)")
        // The same letter changed in the stored copy (the response's payload, whose block
        // has no sha256 of its own in the ledger): the file's sha256 makes it TAMPERED.
        let entry = try #require(try ws.entries(caseID).last { $0.action == "import" }?.subject)
        let stored = try #require(entry["warc"]?["file"]?.stringValue)
        try AtomicFile.write(bytes, to: ws.caseDirectory(caseID) + "/" + stored)
        let tampered = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("TAMPERED \(stored)"), "\(tampered.stdout)")
    }

    @Test("a warcio WARC with a resource record and a revisit: the resource is an artifact whose text is searchable; the revisit's payload digest is reported as not checkable")
    func warcioResource() throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let warc = try warcioWARC(into: inputs)
        let (result, json) = try importJSON(ws, caseID, [warc])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(json?["imported"]?.arrayValue?.first?["artifacts"]?.arrayValue?.count == 1)
        let subject = try #require(try ws.entries(caseID).last { $0.action == "import" }?.subject)
        #expect(subject["check"]?["payload_digest"]?["not-applicable"]?.intValue == 1, "\(String(describing: subject["check"]))")
        #expect(subject["check"]?["block_digest"]?["matched"]?.intValue == 2)
        let search = try exhibit.run(["search", "kayak", "--case", caseID, "--json"] + base(ws))
        let hits = try JSONValue(parsing: search.stdout)["results"]?.arrayValue ?? []
        #expect(hits.first?["url"]?.stringValue == "urn:example:witness-notes.html", "\(search.stdout)")
        let selectors = try exhibit.run(["selectors", caseID] + base(ws))
        #expect(selectors.stdout.contains("kayak.witness@example.org"), "\(selectors.stdout)")
        let verify = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("any other file: a blob and a WARC resource record, the artifact marked imported; a changed byte in the blob is TAMPERED")
    func otherFile() throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let photo = inputs.child("witness photo.png")
        try AtomicFile.write(CheckerboardPNG.bytes, to: photo)
        let (result, json) = try importJSON(ws, caseID, [photo], extra: ["--received-from", "A. Witness"])
        #expect(result.status == 0, "\(result.stderr)")
        let id = try #require(json?["imported"]?.arrayValue?.first?["artifacts"]?.arrayValue?.first?.stringValue)
        let entry = try #require(try ws.entries(caseID).last { $0.action == "import" })
        #expect(id == ArtifactID.forSeq(Int(entry.seq)))
        let sha = Digest.sha256Hex(CheckerboardPNG.bytes)
        let blob = try #require(entry.subject?["blob"]?["path"]?.stringValue)
        #expect(blob == "blobs/sha256/\(sha.prefix(2))/\(sha)")
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/" + blob) == CheckerboardPNG.bytes)
        #expect(entry.subject?["records"]?.arrayValue?.last?["type"]?.stringValue == "resource")
        #expect(entry.subject?["file_name"]?.stringValue == "witness photo.png")

        let listed = try exhibit.run(["artifacts", caseID, "--json"] + base(ws))
        let artifact = try #require(try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue?.first { $0["id"]?.stringValue == id })
        #expect(artifact["imported"]?.boolValue == true && artifact["content_type"]?.stringValue == "image/png" && artifact["sha256"]?.stringValue == sha)

        // The WARC holding the resource record passes warcio's own check.
        let warc = try #require(entry.subject?["warc"]?["file"]?.stringValue)
        let check = try Validators.run("warcio", ["check", "-v", ws.caseDirectory(caseID) + "/" + warc])
        #expect(check.status == 0 && !check.output.contains("no digest"), "\(check.output)")

        var bytes = CheckerboardPNG.bytes
        bytes[40] ^= 0x01
        try AtomicFile.write(bytes, to: ws.caseDirectory(caseID) + "/" + blob)
        let verify = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(verify.status == 1 && verify.stdout.contains("TAMPERED \(blob)"), "\(verify.stdout)")
    }

    @Test("import needs the investigator role (refusal recorded), a source statement on one line, and a real time of receipt")
    func inputsAndRoles() throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let file = inputs.child("note.txt")
        try AtomicFile.write(Array("a note".utf8), to: file)
        let refused = try exhibit.run(["import", caseID, file, "--source", "x"] + base(ws, ws.supervisorID))
        #expect(refused.status == 4, "\(refused.stderr)")
        #expect(try ws.entries(caseID).last?.action == "refusal")

        let before = try tree(ws.caseDirectory(caseID))
        for (extra, flag) in [(["--source", " "], "--source"), (["--source", "a\nb"], "--source"),
                              (["--source", "x", "--received-at", "yesterday"], "--received-at"),
                              (["--source", "x", "--received-at", "2999-01-01"], "--received-at")] {
            let result = try exhibit.run(["import", caseID, file] + extra + base(ws))
            #expect(result.status == 2, "\(extra): \(result.stderr)")
            #expect(result.stderr.contains(flag) && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let missing = try exhibit.run(["import", caseID, inputs.child("nope.jpg"), "--source", "x"] + base(ws))
        #expect(missing.status == 5, "\(missing.stderr)")
        #expect(try tree(ws.caseDirectory(caseID)) == before)
    }

    @Test("the export of a case with imports passes bagit.py, case_validate, wacz validate and exhibit verify, and carries the original bytes")
    func exportWithImports() async throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let (ws, caseID, warc) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let capture = try exhibit.run(["capture", caseID, site.baseURL + "/forum.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + base(ws))
            #expect(capture.status == 0, "\(capture.stderr)")
            return (ws, caseID, try wgetWARC(site, into: inputs))
        }
        let photo = inputs.child("photo.png")
        try AtomicFile.write(CheckerboardPNG.bytes, to: photo)
        let imported = try exhibit.run(["import", caseID, warc, photo, try warcioWARC(into: inputs), "--source", "colleague's capture"] + base(ws))
        #expect(imported.status == 0, "\(imported.stderr)")
        let entries = try ws.entries(caseID).filter { $0.action == "import" }
        let storedWARC = try #require(entries.first?.subject?["warc"]?["file"]?.stringValue)

        let out = ws.directory.child("bag")
        let export = try exhibit.run(["export", caseID, "--out", out] + base(ws))
        #expect(export.status == 0, "\(export.stderr)")
        let bagit = try Validators.run("python3", ["-m", "bagit", "--validate", out])
        #expect(bagit.status == 0, "bagit.py: \(bagit.output)")
        let provenance = try Validators.run("case_validate", ["--built-version", "case-1.4.0", out + "/data/provenance.jsonld"])
        #expect(provenance.status == 0 && provenance.output.contains("Conforms: True"), "case_validate: \(provenance.output)")
        #expect(try AtomicFile.read(out + "/data/" + storedWARC) == (try AtomicFile.read(warc)))
        // The report's timeline and the provenance graph say who received what, from where.
        let report = String(decoding: try AtomicFile.read(out + "/data/report.html"), as: UTF8.self)
        #expect(report.contains("imported colleague.warc.gz (warc, sha256"), "report")
        let graph = try JSONValue(parsing: try AtomicFile.read(out + "/data/provenance.jsonld"))
        let imports = (graph["@graph"]?.arrayValue ?? []).filter { $0["uco-core:name"]?.stringValue == "import" }
        #expect(imports.count == 3)
        // Imported artifacts are rows of the load file and the report, marked imported, with the received hashes.
        let loadFile = String(decoding: try AtomicFile.read(out + "/data/loadfile.csv"), as: UTF8.self)
        let photoSHA = Digest.sha256Hex(CheckerboardPNG.bytes)
        #expect(loadFile.split(separator: "\r\n").contains { $0.contains(photoSHA) && $0.contains("image/png") }, "\(loadFile)")
        #expect(report.contains(photoSHA) && report.contains(">imported<"), "report rows")
        #expect(imports.allSatisfy { $0["uco-core:description"]?.stringValue?.contains("colleague's capture") == true && $0["uco-action:performer"] != nil })
        let verifyBag = try exhibit.run(["verify", out])
        #expect(verifyBag.status == 0, "\(verifyBag.stdout)\(verifyBag.stderr)")

        let wacz = ws.directory.child("case.wacz")
        let packaged = try exhibit.run(["export", caseID, "--format", "wacz", "--out", wacz] + base(ws))
        #expect(packaged.status == 0, "\(packaged.stderr)")
        let validate = try Validators.run("wacz", ["validate", "-f", wacz])
        #expect(validate.status == 0, "wacz validate: \(validate.output)")
        let verifyWACZ = try exhibit.run(["verify", wacz])
        #expect(verifyWACZ.status == 0, "\(verifyWACZ.stdout)\(verifyWACZ.stderr)")
        // Its page list names the imported page beside the captured one.
        let listed = try Validators.run("python3", ["-c", "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('pages/pages.jsonl').decode())", wacz])
        let pageLines = listed.output.split(separator: "\n")
        let importSeq = try #require(entries.first?.seq)
        #expect(pageLines.contains { $0.contains("/classifieds.html") && $0.contains("\"A-\(String(format: "%04d", Int(importSeq))).") }, "\(listed.output)")
        #expect(pageLines.contains { $0.contains("/forum.html") }, "\(listed.output)")
    }

    // MARK: WACZ

    /// `wacz create` (py-wacz) over a wget WARC, with a pages list.
    func waczOf(_ warc: String, pageURL: String, into directory: TemporaryDirectory) throws -> String {
        let pages = directory.child("pages.jsonl")
        try AtomicFile.write(Array(("{\"format\": \"json-pages-1.0\", \"id\": \"pages\", \"title\": \"All Pages\"}\n"
            + "{\"id\": \"p1\", \"url\": \"\(pageURL)\", \"ts\": \"2026-12-01T10:00:00Z\", \"title\": \"Mountain bike\"}\n").utf8), to: pages)
        let wacz = directory.child("colleague.wacz")
        // -c: the pages list is copied as given (py-wacz matches passed pages against
        // the URIs it detects, and wget writes WARC-Target-URI in angle brackets).
        let result = try Validators.run("wacz", ["create", "-o", wacz, "-c", "-p", pages, warc])
        #expect(result.status == 0, "wacz create: \(result.output)")
        return wacz
    }

    /// Rewrites a zip with Python's zipfile: `flip` changes one byte in the middle of the
    /// named member, `drop` leaves it out, `add` puts an extra entry with that name.
    func rewriteZip(_ input: String, _ output: String, flip: String? = nil, drop: String? = nil, add: String? = nil) throws {
        let script = """
        import sys, zipfile
        src, dst, flip, drop, add = sys.argv[1:6]
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_STORED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == drop:
                    continue
                if info.filename == flip:
                    b = bytearray(data); b[len(b) // 2] ^= 1; data = bytes(b)
                zout.writestr(info.filename, data)
            if add:
                zout.writestr(add, b'escaped')
        """
        let result = try Validators.run("python3", ["-c", script, input, output, flip ?? "", drop ?? "", add ?? ""])
        #expect(result.status == 0, "zipfile: \(result.output)")
    }

    @Test("a WACZ made by wacz create: resources checked against datapackage.json, marked unsigned, its WARC stored byte for byte and indexed, its pages listed")
    func waczFromWacz() async throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let (ws, caseID, warc, pageURL) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            return (ws, try ws.openCase(), try wgetWARC(site, into: inputs), site.baseURL + "/classifieds.html")
        }
        let wacz = try waczOf(warc, pageURL: pageURL, into: inputs)
        let (result, json) = try importJSON(ws, caseID, [wacz], extra: ["--received-from", "Browsertrix export by County Sheriff"])
        #expect(result.status == 0, "\(result.stderr)")
        let item = try #require(json?["imported"]?.arrayValue?.first)
        let received = try AtomicFile.read(wacz)
        #expect(item["kind"]?.stringValue == "wacz" && item["sha256"]?.stringValue == Digest.sha256Hex(received))
        #expect((item["artifacts"]?.arrayValue?.count ?? 0) >= 1)

        let imports = try ws.entries(caseID).filter { $0.action == "import" }
        #expect(imports.count == 2)
        let package = try #require(imports.first?.subject)
        #expect(package["kind"]?.stringValue == "wacz")
        #expect(package["signature"]?["verdict"]?.stringValue == "unsigned")
        #expect(package["pages"]?.arrayValue?.first?["url"]?.stringValue == pageURL)
        #expect(package["check"]?["verdict"]?.stringValue == "passed")
        // The package itself is kept as received.
        let blob = try #require(package["blob"]?["path"]?.stringValue)
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/" + blob) == (try AtomicFile.read(wacz)))
        let inner = try #require(imports.last?.subject)
        #expect(inner["kind"]?.stringValue == "wacz-warc" && inner["package"]?["path"]?.stringValue == "archive/colleague.warc.gz")
        let stored = try #require(inner["warc"]?["file"]?.stringValue)
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/" + stored) == (try AtomicFile.read(warc)))

        let search = try exhibit.run(["search", "tyres", "--case", caseID, "--json"] + base(ws))
        #expect((try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.count ?? 0) == 1, "\(search.stdout)")
        let verify = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("Exhibit's own signed WACZ: the anonymous P-256 signature is verified and the exporting case named")
    func exhibitSignedWACZ() async throws {
        let (ws, source) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            let source = try ws.openCase()
            let capture = try exhibit.run(["capture", source, site.baseURL + "/classifieds.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + base(ws))
            #expect(capture.status == 0, "\(capture.stderr)")
            return (ws, source)
        }
        let wacz = ws.directory.child("exhibit.wacz")
        let export = try exhibit.run(["export", source, "--format", "wacz", "--out", wacz] + base(ws))
        #expect(export.status == 0, "\(export.stderr)")
        let target = try ws.openCase()
        let (result, _) = try importJSON(ws, target, [wacz], source: "exported by the Riverbend unit")
        #expect(result.status == 0, "\(result.stderr)")
        let package = try #require(try ws.entries(target).first { $0.action == "import" }?.subject)
        #expect(package["signature"]?["form"]?.stringValue == "anonymous")
        #expect(package["signature"]?["verdict"]?.stringValue == "verified")
        #expect(package["signature"]?["exhibit_case"]?.stringValue == source)
        let search = try exhibit.run(["search", "tyres", "--case", target, "--json"] + base(ws))
        #expect((try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.count ?? 0) == 1, "\(search.stdout)")

        // The same package with its signature broken is refused.
        let forged = ws.directory.child("forged.wacz")
        try rewriteZip(wacz, forged, flip: "datapackage-digest.json")
        let refused = try exhibit.run(["import", target, forged, "--source", "x"] + base(ws))
        #expect(refused.status == 1, "\(refused.stderr)")
    }

    @Test("a WACZ with one byte changed in a WARC, one whose datapackage lists a missing file, and one with a zip-slip entry are refused; the case stays byte-identical")
    func waczRefusals() async throws {
        let inputs = TemporaryDirectory("exhibit-import-in")
        let (ws, caseID, warc, pageURL) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            return (ws, try ws.openCase(), try wgetWARC(site, into: inputs), site.baseURL + "/classifieds.html")
        }
        let wacz = try waczOf(warc, pageURL: pageURL, into: inputs)
        let changed = inputs.child("changed.wacz")
        try rewriteZip(wacz, changed, flip: "archive/colleague.warc.gz")
        let missing = inputs.child("missing.wacz")
        try rewriteZip(wacz, missing, drop: "archive/colleague.warc.gz")
        let slip = inputs.child("slip.wacz")
        try rewriteZip(wacz, slip, add: "../../escaped.txt")
        let before = try tree(ws.caseDirectory(caseID))
        for (file, status, words) in [(changed, Int32(1), "hashes to"), (missing, Int32(1), "does not hold"), (slip, Int32(5), "climbs out")] {
            let result = try exhibit.run(["import", caseID, file, "--source", "x"] + base(ws))
            #expect(result.status == status, "\(file): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(words) && lines[0].contains("nothing was imported"), "\(result.stderr)")
        }
        #expect(try tree(ws.caseDirectory(caseID)) == before)
        #expect(!FileManager.default.fileExists(atPath: inputs.path + "/../escaped.txt"))
    }

    // MARK: BagIt

    /// Bags made by bagit.py in the test, then spoiled one rule at a time (RFC 8493 §2–§4).
    static let bagScript = """
    import os, sys, re, subprocess, hashlib, zipfile
    base = sys.argv[1]
    def fresh(name):
        d = os.path.join(base, name)
        os.makedirs(os.path.join(d, 'notes'))
        open(os.path.join(d, 'photo.png'), 'wb').write(b'\\x89PNG fake image bytes')
        open(os.path.join(d, 'notes', 'statement.html'), 'w').write('<html><head><title>Lab report</title></head><body>The canoe was found near pier 7; write to lab.tech@example.org</body></html>')
        subprocess.run([sys.executable, '-m', 'bagit', '--sha256', '--sha512', '--source-organization', 'County Lab', '--contact-name', 'A. Tech', d], check=True, capture_output=True)
        return d
    def retag(d):
        for alg in ('sha256', 'sha512'):
            lines = []
            for name in sorted(os.listdir(d)):
                if name.startswith('tagmanifest-') or os.path.isdir(os.path.join(d, name)): continue
                lines.append('%s %s\\n' % (hashlib.new(alg, open(os.path.join(d, name), 'rb').read()).hexdigest(), name))
            open(os.path.join(d, 'tagmanifest-%s.txt' % alg), 'w').write(''.join(lines))
    d = fresh('valid')
    with zipfile.ZipFile(os.path.join(base, 'valid-zipped.zip'), 'w') as z:
        for root, dirs, files in os.walk(d):
            for f in files:
                full = os.path.join(root, f); z.write(full, os.path.join('lab-bag', os.path.relpath(full, d)))
    d = fresh('changed-payload'); open(os.path.join(d, 'data', 'photo.png'), 'ab').write(b'!')
    d = fresh('unlisted-file'); open(os.path.join(d, 'data', 'extra.txt'), 'w').write('x')
    d = fresh('missing-file'); os.remove(os.path.join(d, 'data', 'photo.png'))
    d = fresh('wrong-oxum'); p = os.path.join(d, 'bag-info.txt'); t = open(p).read()
    open(p, 'w').write(re.sub(r'Payload-Oxum: \\d+', 'Payload-Oxum: 1', t)); retag(d)
    d = fresh('escape')
    for alg in ('sha256', 'sha512'):
        open(os.path.join(d, 'manifest-%s.txt' % alg), 'a').write('%s data/../../outside.txt\\n' % hashlib.new(alg, b'').hexdigest())
    retag(d)
    d = fresh('bom'); p = os.path.join(d, 'bagit.txt'); open(p, 'wb').write(b'\\xef\\xbb\\xbf' + open(p, 'rb').read()); retag(d)
    d = fresh('no-version'); open(os.path.join(d, 'bagit.txt'), 'w').write('Tag-File-Character-Encoding: UTF-8\\n'); retag(d)
    d = fresh('tag-changed'); open(os.path.join(d, 'bag-info.txt'), 'a').write('Extra: field\\n')
    d = fresh('no-manifest')
    for alg in ('sha256', 'sha512'): os.remove(os.path.join(d, 'manifest-%s.txt' % alg))
    retag(d)
    d = fresh('bad-checksum'); p = os.path.join(d, 'manifest-sha256.txt'); t = open(p).read().splitlines()
    t[0] = '0' * 64 + ' ' + t[0].split(' ', 1)[1]; open(p, 'w').write('\\n'.join(t) + '\\n'); retag(d)
    d = fresh('fetch'); open(os.path.join(d, 'fetch.txt'), 'w').write('http://127.0.0.1:9/x.bin 10 data/x.bin\\n'); retag(d)
    """

    @Test("BagIt bags: exhibit import accepts and refuses exactly as bagit.py --validate does, except fetch.txt, which it always refuses; payload files become blobs with bag-info recorded")
    func bags() throws {
        let inputs = TemporaryDirectory("exhibit-import-bags")
        let made = try Validators.run("python3", ["-c", Self.bagScript, inputs.path])
        #expect(made.status == 0, "bag script: \(made.output)")
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let names = ["valid", "valid-zipped.zip", "changed-payload", "unlisted-file", "missing-file", "wrong-oxum", "escape", "bom",
                     "no-version", "tag-changed", "no-manifest", "bad-checksum", "fetch"]
        for name in names {
            let path = inputs.child(name)
            var reference: Int32
            if name.hasSuffix(".zip") {
                reference = try Validators.run("python3", ["-m", "bagit", "--validate", inputs.child("valid")]).status
            } else {
                reference = try Validators.run("python3", ["-m", "bagit", "--validate", path]).status
            }
            if name == "fetch" { reference = 1 }  // DESIGN §20: never fetched, always refused
            let before = try tree(ws.caseDirectory(caseID))
            let result = try exhibit.run(["import", caseID, path, "--source", "sent by the county lab"] + base(ws))
            #expect((result.status == 0) == (reference == 0), "\(name): exhibit \(result.status) (\(result.stderr)), bagit.py \(reference)")
            if result.status != 0 {
                #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("nothing was imported"), "\(name): \(result.stderr)")
                #expect(try tree(ws.caseDirectory(caseID)) == before, "\(name)")
            }
        }
        let bagEntries = try ws.entries(caseID).filter { $0.action == "import" }
        #expect(bagEntries.count == 2)
        let subject = try #require(bagEntries.first?.subject)
        #expect(subject["kind"]?.stringValue == "bag")
        let info = subject["bag"]?["info"]?.arrayValue?.compactMap { $0.arrayValue?.compactMap(\.stringValue) } ?? []
        #expect(info.contains(["Source-Organization", "County Lab"]), "\(info)")
        let files = subject["files"]?.arrayValue ?? []
        #expect(files.count == 2)
        for file in files {
            let stored = try AtomicFile.read(ws.caseDirectory(caseID) + "/" + (file["path"]?.stringValue ?? ""))
            let original = try AtomicFile.read(inputs.child("valid") + "/" + (file["bag_path"]?.stringValue ?? ""))
            #expect(stored == original)
        }
        // The lab's statement is searchable, its address a selector; verify re-checks every blob.
        // (The same statement came in twice: in the bag directory and in the zipped bag.)
        let search = try exhibit.run(["search", "canoe", "--case", caseID, "--json"] + base(ws))
        #expect((try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.count ?? 0) == 2, "\(search.stdout)")
        let selectors = try exhibit.run(["selectors", caseID] + base(ws))
        #expect(selectors.stdout.contains("lab.tech@example.org"), "\(selectors.stdout)")
        let verify = try exhibit.run(["verify", caseID] + base(ws, ws.supervisorID))
        #expect(verify.status == 0, "\(verify.stdout)")
    }
}
