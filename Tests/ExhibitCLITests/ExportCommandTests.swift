import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit export` and `exhibit verify` on bundles, through the real binary,
/// checked by the recipients' own tools (bagit.py, case_validate, unzip).
@Suite("exhibit export and bundle verification")
struct ExportCommandTests {
    let exhibit = ExhibitProcess()

    /// Runs `body` with a case holding pages and media captured from the Fixtures site,
    /// while the site still serves; the site is down before this returns.
    func withCapturedCase<Result>(_ body: (TestWorkspace, String, FixtureSite) async throws -> Result) async throws -> Result {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase(media: true)
            let result = try exhibit.run(["capture", caseID, site.baseURL + "/", site.baseURL + "/classifieds.html", site.baseURL + "/test/status/404",
                                          "--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            #expect(result.status == 0, "\(result.stderr)")
            return try await body(ws, caseID, site)
        }
    }

    /// Such a case, for a test that needs the site no more (it is down already).
    func capturedCase() async throws -> (TestWorkspace, String) {
        try await withCapturedCase { ws, caseID, _ in (ws, caseID) }
    }

    func files(_ root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    @Test("a bag that bagit.py and case_validate accept, that exhibit verify passes, recorded in the ledger")
    func bagExport() async throws {
        let (ws, caseID) = try await capturedCase()
        let out = ws.directory.child("bag")
        let captured = try ws.entries(caseID)
        let export = try exhibit.run(["export", caseID, "--out", out, "--workspace", ws.root, "--actor", ws.investigatorID, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        // A first export numbers the exhibits before it reads the ledger (issue 23, DESIGN §21):
        // the ledger it bags is the captured one plus that exhibit-number entry.
        let before = Array(try ws.entries(caseID).dropLast())
        #expect(before.count == captured.count + 1 && before.last?.action == "exhibit-number")

        let bagit = try Validators.run("python3", ["-m", "bagit", "--validate", out])
        #expect(bagit.status == 0, "bagit.py: \(bagit.output)")
        let provenance = try Validators.run("case_validate", ["--built-version", "case-1.4.0", out + "/data/provenance.jsonld"])
        #expect(provenance.status == 0 && provenance.output.contains("Conforms: True"), "case_validate: \(provenance.output)")
        let verify = try exhibit.run(["verify", out])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // The bag's ledger is the case's ledger as it was; the export entry follows it in the case.
        let after = try ws.entries(caseID)
        #expect(after.count == before.count + 1)
        let bagLedger = try Ledger(path: out + "/data/ledger.jsonl").entries()
        #expect(bagLedger == before)
        let entry = try #require(after.last)
        #expect(entry.action == "export" && entry.actor == ws.investigatorID)
        #expect(entry.subject?["tag_manifest_sha256"]?.stringValue == Digest.sha256Hex(try AtomicFile.read(out + "/tagmanifest-sha256.txt")))
        #expect(entry.subject?["ledger_head"]?.stringValue == before.last?.hash)
        let info = String(decoding: try AtomicFile.read(out + "/bag-info.txt"), as: UTF8.self)
        #expect(info.contains("External-Identifier: \(caseID)\n"))
        #expect(info.contains("Ledger-Head: \(before.last!.hash)\n"))

        // The load file has one row per artifact; the report lists every artifact's sha256.
        let artifacts = before.filter { $0.action == "capture" && $0.subject?["status"] != nil }
        let csv = String(decoding: try AtomicFile.read(out + "/data/loadfile.csv"), as: UTF8.self)
        #expect(csv.split(separator: "\r\n").count == artifacts.count + 1)
        let report = String(decoding: try AtomicFile.read(out + "/data/report.html"), as: UTF8.self)
        for artifact in artifacts {
            let sha = try #require(artifact.subject?["payload_sha256"]?.stringValue)
            #expect(report.contains(sha) && csv.contains(sha))
        }
        // Only the listed characters in payload names; public keys, never private ones.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-")
        let badNames = files(out).filter { name in !name.allSatisfy { allowed.contains($0) } }
        #expect(badNames == [])
        #expect(files(out + "/data/keys") == [ws.investigatorID + ".pem"])
        #expect(!files(out).contains { String(decoding: (try? AtomicFile.read(out + "/" + $0)) ?? [], as: UTF8.self).contains("PRIVATE KEY") })
    }

    @Test("two exports of the same ledger are the same bytes except Bagging-Date")
    func deterministic() async throws {
        let (ws, caseID) = try await capturedCase()
        // A first export numbers the exhibits (issue 23), which appends an entry; after it the
        // ledger changes no more than by its export entries.
        #expect(try exhibit.run(["export", caseID, "--out", ws.directory.child("numbering"), "--workspace", ws.root, "--actor", ws.investigatorID]).status == 0)
        // A copy of the workspace holds the same ledger when the second export runs.
        let copy = ws.directory.child("copy")
        #expect(try Command.run("/bin/cp", ["-a", ws.root, copy]).status == 0)
        let first = ws.directory.child("first")
        let second = ws.directory.child("second")
        #expect(try exhibit.run(["export", caseID, "--out", first, "--workspace", ws.root, "--actor", ws.investigatorID]).status == 0)
        #expect(try exhibit.run(["export", caseID, "--out", second, "--workspace", copy, "--actor", ws.investigatorID]).status == 0)
        #expect(files(first) == files(second))
        for file in files(first) {
            var a = String(decoding: try AtomicFile.read(first + "/" + file), as: UTF8.self)
            var b = String(decoding: try AtomicFile.read(second + "/" + file), as: UTF8.self)
            if file == "bag-info.txt" || file == "tagmanifest-sha256.txt" {
                a = a.split(separator: "\n").filter { !$0.hasPrefix("Bagging-Date") && !$0.hasSuffix("bag-info.txt") }.joined(separator: "\n")
                b = b.split(separator: "\n").filter { !$0.hasPrefix("Bagging-Date") && !$0.hasSuffix("bag-info.txt") }.joined(separator: "\n")
            }
            #expect(a == b, "\(file) differs")
        }
    }

    @Test("--zip: one top folder named after the case; bagit.py accepts it unzipped and exhibit verify accepts the zip")
    func zipExport() async throws {
        let (ws, caseID) = try await capturedCase()
        let zip = ws.directory.child("case.zip")
        let export = try exhibit.run(["export", caseID, "--out", zip, "--zip", "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(export.status == 0, "\(export.stderr)")
        let listing = try Command.run("/usr/bin/unzip", ["-Z1", zip])
        #expect(listing.status == 0)
        let topFolders: Set<String> = Set(listing.output.split(separator: "\n").map { line -> String in
            String(line.split(separator: "/").first ?? "")
        })
        #expect(topFolders == [caseID])
        let unzipped = ws.directory.child("unzipped")
        #expect(try Command.run("/usr/bin/unzip", ["-q", zip, "-d", unzipped]).status == 0)
        let bagit = try Validators.run("python3", ["-m", "bagit", "--validate", unzipped + "/" + caseID])
        #expect(bagit.status == 0, "bagit.py: \(bagit.output)")
        let verify = try exhibit.run(["verify", zip, "--json"])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(try JSONValue(parsing: verify.stdout)["case"]?.stringValue == caseID)
        #expect(try ws.entries(caseID).last?.subject?["sha256"]?.stringValue == Digest.sha256Hex(try AtomicFile.read(zip)))
    }

    @Test("a changed byte in any payload file, a removed manifest line, an edited tag file or an extra file → exit 1 naming it")
    func tamperedBags() async throws {
        let (ws, caseID) = try await capturedCase()
        let bag = ws.directory.child("bag")
        #expect(try exhibit.run(["export", caseID, "--out", bag, "--workspace", ws.root, "--actor", ws.investigatorID]).status == 0)
        var cases: [(String, (String) throws -> Void)] = []
        for file in files(bag) where file.hasPrefix("data/") {
            cases.append((file, { copy in
                var bytes = try AtomicFile.read(copy + "/" + file)
                bytes[bytes.count / 2] ^= 0x01
                try Data(bytes).write(to: URL(fileURLWithPath: copy + "/" + file))
            }))
        }
        cases.append(("data/report.html", { copy in
            let manifest = String(decoding: try AtomicFile.read(copy + "/manifest-sha256.txt"), as: UTF8.self)
            let kept = manifest.split(separator: "\n").filter { !$0.hasSuffix("data/report.html") }.joined(separator: "\n") + "\n"
            try Data(kept.utf8).write(to: URL(fileURLWithPath: copy + "/manifest-sha256.txt"))
        }))
        cases.append(("bag-info.txt", { copy in
            let info = String(decoding: try AtomicFile.read(copy + "/bag-info.txt"), as: UTF8.self)
            try Data(info.replacingOccurrences(of: "Source-Organization: ", with: "Source-Organization: Not ").utf8)
                .write(to: URL(fileURLWithPath: copy + "/bag-info.txt"))
        }))
        cases.append(("data/warc/extra.txt", { copy in
            try Data("added later".utf8).write(to: URL(fileURLWithPath: copy + "/data/warc/extra.txt"))
        }))
        #expect(cases.count > 8)
        for (index, (name, tamper)) in cases.enumerated() {
            let copy = ws.directory.child("tampered-\(index)")
            #expect(try Command.run("/bin/cp", ["-a", bag, copy]).status == 0)
            try tamper(copy)
            let result = try exhibit.run(["verify", copy])
            #expect(result.status == 1, "\(name): \(result.stdout)")
            #expect(result.stdout.split(separator: "\n").contains { $0.contains(name) && !$0.hasPrefix(caseID) }, "\(name) not named: \(result.stdout)")
        }
        #expect(try exhibit.run(["verify", bag]).status == 0)
    }

    @Test("--format wacz: wacz validate accepts it, archive/ and indexes/ are stored, the index is cdxj-indexer's, openssl checks the signature")
    func waczExport() async throws {
        try await withCapturedCase { ws, caseID, site in
            // A chunked page too: its record has no WARC-Payload-Digest, so the index computes one.
            let chunked = try exhibit.run(["capture", caseID, site.baseURL + "/test/chunked", "--workspace", ws.root, "--actor", ws.investigatorID,
                                           "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            #expect(chunked.status == 0)
            let wacz = ws.directory.child("case.wacz")
            let export = try exhibit.run(["export", caseID, "--format", "wacz", "--out", wacz, "--workspace", ws.root, "--actor", ws.investigatorID])
            #expect(export.status == 0, "\(export.stderr)")

            let validate = try Validators.run("wacz", ["validate", "-f", wacz])
            #expect(validate.status == 0 && validate.output.contains("Validation succeeded"), "wacz validate: \(validate.output)")
            let listing = try Command.run("/usr/bin/unzip", ["-v", wacz])
            let entries = listing.output.split(separator: "\n").filter { $0.contains("archive/") || $0.contains("indexes/") }
            #expect(entries.count >= 2)
            #expect(entries.allSatisfy { $0.contains(" Stored ") }, "\(listing.output)")

            // The index equals what cdxj-indexer makes of the captures' WARC files: it lists the
            // records a player replays (responses). The media analysis's WARC (issue 22) travels in
            // archive/ too, but its JSON metadata records describe images and are not replayed, so
            // the index leaves them out (docs/bundle.md), where cdxj-indexer would list them.
            let warcDirectory = ws.caseDirectory(caseID) + "/warc"
            let all = try FileManager.default.contentsOfDirectory(atPath: warcDirectory).filter { $0.hasSuffix(".warc.gz") }.sorted()
            let warcs = all.filter { $0.hasPrefix("cap-") }
            #expect(warcs.count == 2, "\(all)")
            #expect(all.contains { $0.hasPrefix("media-") }, "the media analysis sealed its WARC: \(all)")
            let reference = try Validators.run("cdxj-indexer", ["--sort"] + warcs.map { warcDirectory + "/" + $0 })
            #expect(reference.status == 0)
            let unzipped = ws.directory.child("wacz")
            #expect(try Command.run("/usr/bin/unzip", ["-q", wacz, "-d", unzipped]).status == 0)
            for name in all {
                #expect(FileManager.default.fileExists(atPath: unzipped + "/archive/" + name), "archive/\(name) is in the package")
            }
            let index = String(decoding: try AtomicFile.read(unzipped + "/indexes/index.cdx"), as: UTF8.self)
            #expect(index == reference.output)
            #expect(index.contains("\"digest\": \"sha1:"), "the chunked page's computed digest")

            // The anonymous signature, checked by openssl: SHA-256 ECDSA P-256 over the hash string.
            let digest = try JSONValue(parsing: try AtomicFile.read(unzipped + "/datapackage-digest.json"))
            let signed = try #require(digest["signedData"])
            #expect(signed["hash"]?.stringValue == "sha256:" + Digest.sha256Hex(try AtomicFile.read(unzipped + "/datapackage.json")))
            let check = """
                import base64, json, subprocess, sys
                d = json.load(open(sys.argv[1]))["signedData"]
                sig = base64.b64decode(d["signature"]); r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
                def integer(n):
                    b = n.to_bytes((n.bit_length() + 8) // 8, "big")
                    return b"\\x02" + bytes([len(b)]) + b
                body = integer(r) + integer(s)
                open(sys.argv[2] + "/sig.der", "wb").write(b"\\x30" + bytes([len(body)]) + body)
                open(sys.argv[2] + "/pub.der", "wb").write(base64.b64decode(d["publicKey"]))
                open(sys.argv[2] + "/msg", "wb").write(d["hash"].encode())
                """
            let scratch = ws.directory.child("sig")
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try Data(check.utf8).write(to: URL(fileURLWithPath: scratch + "/check.py"))
            #expect(try Command.run("/usr/bin/python3", [scratch + "/check.py", unzipped + "/datapackage-digest.json", scratch]).status == 0)
            #expect(try Command.run("/usr/bin/openssl", ["pkey", "-pubin", "-inform", "DER", "-in", scratch + "/pub.der", "-out", scratch + "/pub.pem"]).status == 0)
            let verified = try Command.run("/usr/bin/openssl", ["dgst", "-sha256", "-verify", scratch + "/pub.pem", "-signature", scratch + "/sig.der", scratch + "/msg"])
            #expect(verified.output.contains("Verified OK"), "\(verified.output)")
            let curve = try Command.run("/usr/bin/openssl", ["pkey", "-pubin", "-in", scratch + "/pub.pem", "-text", "-noout"])
            #expect(curve.output.contains("P-256") || curve.output.contains("prime256v1"))

            // exhibit verify checks it all; a changed WARC byte or a forged datapackage fails.
            #expect(try exhibit.run(["verify", wacz]).status == 0)
            let export2 = try ws.entries(caseID).last
            let waczSHA = Digest.sha256Hex(try AtomicFile.read(wacz))
            #expect(export2?.action == "export")
            #expect(export2?.subject?["sha256"]?.stringValue == waczSHA)
            let package = String(decoding: try AtomicFile.read(unzipped + "/datapackage.json"), as: UTF8.self)
            try Data(package.replacingOccurrences(of: "\"title\" : \"\(caseID)", with: "\"title\" : \"\(caseID) (edited)").utf8)
                .write(to: URL(fileURLWithPath: unzipped + "/datapackage.json"))
            let forged = ws.directory.child("forged.wacz")
            #expect(try Command.run("/usr/bin/zip", ["-q", "-r", "-0", forged, "."], directory: unzipped).status == 0)
            let rejected = try exhibit.run(["verify", forged])
            #expect(rejected.status == 1, "\(rejected.stderr)")
            #expect(rejected.stdout.contains("datapackage"), "\(rejected.stdout)")
        }
    }

    @Test("a zip with ../ entries, an absolute path, a symlink, a repeated name or 10 GB declared is refused (exit 5), nothing written outside")
    func hostileZips() throws {
        let directory = TemporaryDirectory("hostile-zips")
        let outside = directory.child("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let script = """
            import sys, zipfile, struct
            out, kind = sys.argv[1], sys.argv[2]
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("OC-2026-0001/bagit.txt", "BagIt-Version: 1.0\\n")
                if kind == "dotdot":
                    z.writestr("OC-2026-0001/../../outside/evil.txt", "escaped")
                elif kind == "absolute":
                    z.writestr("\(outside)/evil.txt", "escaped")
                elif kind == "symlink":
                    info = zipfile.ZipInfo("OC-2026-0001/data/link")
                    info.create_system = 3
                    info.external_attr = (0o120777 << 16)
                    z.writestr(info, "\(outside)")
                elif kind == "duplicate":
                    z.writestr("OC-2026-0001/data/ledger.jsonl", "{}")
                    z.writestr("OC-2026-0001/data/ledger.jsonl", "{}")
                elif kind == "bomb":
                    for i in range(3):
                        z.writestr("OC-2026-0001/data/big%d.bin" % i, b"\\0" * 1024)
            if kind == "bomb":
                data = bytearray(open(out, "rb").read())
                # Declare 3.5 GiB per entry in the local and central headers: 10.5 GB in all.
                for signature, offset in ((b"PK\\x03\\x04", 22), (b"PK\\x01\\x02", 24)):
                    start = 0
                    while (start := data.find(signature, start)) >= 0:
                        name_length = struct.unpack_from("<H", data, start + (26 if signature == b"PK\\x03\\x04" else 28))[0]
                        name_start = start + (30 if signature == b"PK\\x03\\x04" else 46)
                        if b"big" in data[name_start:name_start + name_length]:
                            struct.pack_into("<I", data, start + offset, 0xE0000000)
                        start += 4
                open(out, "wb").write(data)
            """
        let scriptPath = directory.child("make.py")
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        for kind in ["dotdot", "absolute", "symlink", "duplicate", "bomb"] {
            let zip = directory.child("\(kind).zip")
            let made = try Command.run("/usr/bin/python3", [scriptPath, zip, kind])
            #expect(made.status == 0, "\(made.output)")
            let result = try exhibit.run(["verify", zip])
            #expect(result.status == 5, "\(kind): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(kind): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal"))
            #expect((try? FileManager.default.contentsOfDirectory(atPath: outside)) == [], "\(kind) wrote outside")
        }
    }
}
