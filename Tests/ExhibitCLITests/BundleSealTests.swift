import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 16, findings 3–5, through the real binary: a bag is a signed statement
/// (exhibit-seal.json) and a WACZ's signer, archive, index and pages are checked
/// against the ledger. Each attack here made `exhibit verify` say intact before.
@Suite("bundles are signed statements")
struct BundleSealTests {
    let exhibit = ExhibitProcess()

    /// A crime-imagery case with two pages, their media and a 404, exported by the
    /// investigator-analyst as a bag and as a WACZ.
    private struct Exported {
        let ws: TestWorkspace
        let caseID: String
        let bag: String
        let wacz: String
    }

    private func exported() async throws -> Exported {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace("exhibit-seal")
            let caseID = try ws.openCase(media: true)
            let common = ["--workspace", ws.root, "--actor", ws.investigatorID]
            let capture = try exhibit.run(["capture", caseID, site.baseURL + "/", site.baseURL + "/classifieds.html", site.baseURL + "/test/status/404",
                                           "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + common)
            try #require(capture.status == 0, "\(capture.stderr)")
            let bag = ws.directory.child("bag")
            let wacz = ws.directory.child("case.wacz")
            try #require(try exhibit.run(["export", caseID, "--out", bag] + common).status == 0)
            try #require(try exhibit.run(["export", caseID, "--format", "wacz", "--out", wacz] + common).status == 0)
            return Exported(ws: ws, caseID: caseID, bag: bag, wacz: wacz)
        }
    }

    private func copy(_ source: String, _ name: String, in ws: TestWorkspace) throws -> String {
        let target = ws.directory.child(name)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        return target
    }

    /// What an attacker without any key does after editing: recompute every BagIt manifest.
    private func rebag(_ bag: String) throws {
        let script = "import bagit,sys; b=bagit.Bag(sys.argv[1]); b.save(manifests=True)"
        let result = try Validators.run("python3", ["-c", script, bag])
        try #require(result.status == 0, "\(result.output)")
        let validate = try Validators.run("python3", ["-m", "bagit", "--validate", bag])
        try #require(validate.status == 0, "the tampered bag should still pass bagit.py: \(validate.output)")
    }

    /// Signs the seal again over the bag's current tag files, as a forger with `key`
    /// would (naming `signer` instead of the exporter when given), and recomputes
    /// the tag manifest.
    private func reseal(_ bag: String, with key: SigningKey, signer: JSONValue?) throws {
        let document = try JSONValue(parsing: try AtomicFile.read(bag + "/exhibit-seal.json"))
        guard case .object(var seal)? = document["seal"] else { Issue.record("no seal"); return }
        if let signer { seal["signer"] = signer }
        var files: [String: JSONValue] = [:]
        for name in ["bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"] {
            files[name] = .string(Digest.sha256Hex(try AtomicFile.read(bag + "/" + name)))
        }
        seal["files"] = .object(files)
        let statement = JSONValue.object(seal)
        let signature = Data(try key.sign(try statement.canonicalBytes())).base64EncodedString()
        try AtomicFile.write(try JSONValue.object(["seal": statement, "signature": .string(signature)]).canonicalBytes() + [10],
                             to: bag + "/exhibit-seal.json")
        let script = "import bagit,os,sys; bagit.Bag(sys.argv[1]).save(manifests=False); os.remove(sys.argv[1] + '/tagmanifest-sha512.txt')"
        #expect(try Validators.run("python3", ["-c", script, bag]).status == 0)
    }

    /// The docs' Python seal checker (docs/verification.md, after `<!-- seal-check -->`).
    private func sealScript() throws -> String {
        let doc = String(decoding: try AtomicFile.read(Validators.packageRoot + "/docs/verification.md"), as: UTF8.self)
        let after = try #require(doc.range(of: "<!-- seal-check -->\n```python\n"))
        let end = try #require(doc.range(of: "```", range: after.upperBound..<doc.endIndex))
        return String(doc[after.upperBound..<end.lowerBound])
    }

    @Test("an untouched bag: bagit.py accepts it, verify names the signer, and the docs' Python and OpenSSL checks pass")
    func sealedBagVerifies() async throws {
        let out = try await exported()
        let bagit = try Validators.run("python3", ["-m", "bagit", "--validate", out.bag])
        #expect(bagit.status == 0, "\(bagit.output)")
        let tagManifest = String(decoding: try AtomicFile.read(out.bag + "/tagmanifest-sha256.txt"), as: UTF8.self)
        #expect(tagManifest.contains("exhibit-seal.json"))
        let verify = try exhibit.run(["verify", out.bag])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("sealed by \(out.ws.investigatorID) (Ivy Investigator, I-2)"), "\(verify.stdout)")

        let script = ws(out).directory.child("check_seal.py")
        try AtomicFile.write(Array(try sealScript().utf8), to: script)
        let python = try Validators.run("python3", [script, out.bag])
        #expect(python.status == 0, "\(python.output)")
        #expect(python.output.contains("seal intact"), "\(python.output)")

        // By hand with OpenSSL, as the docs show.
        let seal = try JSONValue(parsing: try AtomicFile.read(out.bag + "/exhibit-seal.json"))
        let message = try #require(seal["seal"]).canonicalBytes()
        let signature = try #require(Data(base64Encoded: seal["signature"]?.stringValue ?? ""))
        try AtomicFile.write(message, to: ws(out).directory.child("seal.bin"))
        try AtomicFile.write(Array(signature), to: ws(out).directory.child("seal.sig"))
        let openssl = try Command.run("/usr/bin/openssl", [
            "pkeyutl", "-verify", "-pubin", "-inkey", out.bag + "/data/keys/\(out.ws.investigatorID).pem", "-rawin",
            "-in", ws(out).directory.child("seal.bin"), "-sigfile", ws(out).directory.child("seal.sig"),
        ])
        #expect(openssl.status == 0 && openssl.output.contains("Signature Verified Successfully"), "\(openssl.output)")
    }

    private func ws(_ out: Exported) -> TestWorkspace { out.ws }

    @Test("finding 3: Withheld-Items added to bag-info no longer switches off file checks (a recompressed WARC with the same records is TAMPERED)")
    func withheldLineIsIgnored() async throws {
        let out = try await exported()
        let bag = try copy(out.bag, "withheld", in: out.ws)
        let info = bag + "/bag-info.txt"
        try AtomicFile.write(try AtomicFile.read(info) + Array("Withheld-Items: 0\n".utf8), to: info)
        // Every gzip member inflated and deflated again at another level: the records
        // and their block digests are unchanged, the file's sha256 is not.
        let recompress = """
            import sys, zlib, glob
            for path in glob.glob(sys.argv[1] + "/data/warc/*.warc.gz"):
                data = open(path, "rb").read(); out = b""
                while data:
                    d = zlib.decompressobj(31); raw = d.decompress(data)
                    c = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_FILTERED); out += c.compress(raw) + c.flush()
                    data = d.unused_data
                assert out != open(path, "rb").read(), "recompression changed nothing"
                open(path, "wb").write(out)
            """
        let result = try Validators.run("python3", ["-c", recompress, bag])
        try #require(result.status == 0, "\(result.output)")
        try rebag(bag)
        let verify = try exhibit.run(["verify", bag])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("TAMPERED data/warc/"), "the WARC file is checked against the ledger's sha256: \(verify.stdout)")
        #expect(verify.stdout.contains("TAMPERED bag-info.txt — the signed seal states"), "\(verify.stdout)")
    }

    @Test("finding 5: a derived file edited and the manifests recomputed fails the seal",
          arguments: ["data/report.html", "data/loadfile.csv", "data/provenance.jsonld", "data/case.json"])
    func editedDerivedFileFailsTheSeal(_ file: String) async throws {
        let out = try await exported()
        let bag = try copy(out.bag, "edited", in: out.ws)
        let path = bag + "/" + file
        var bytes = try AtomicFile.read(path)
        bytes.append(contentsOf: Array(" ".utf8))
        try AtomicFile.write(bytes, to: path)
        try rebag(bag)
        let verify = try exhibit.run(["verify", bag])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("TAMPERED manifest-sha256.txt — the signed seal states"), "\(verify.stdout)")
        let script = out.ws.directory.child("check_seal.py")
        try AtomicFile.write(Array(try sealScript().utf8), to: script)
        let python = try Validators.run("python3", [script, bag])
        #expect(python.status == 1, "the docs' checker must fail too: \(python.output)")
    }

    @Test("a bag without its seal, or re-sealed with a key the ledger does not know, does not verify")
    func missingOrForeignSeal() async throws {
        let out = try await exported()
        let unsealed = try copy(out.bag, "unsealed", in: out.ws)
        try FileManager.default.removeItem(atPath: unsealed + "/exhibit-seal.json")
        try rebag(unsealed)
        let missing = try exhibit.run(["verify", unsealed])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("MISSING exhibit-seal.json"), "\(missing.stdout)")

        // A fresh Ed25519 key, its public half planted as a new actor's key.
        let foreign = try copy(out.bag, "foreign", in: out.ws)
        let key = try SigningKey.generate()
        try AtomicFile.write(Array(key.publicKeyPEM().utf8), to: foreign + "/data/keys/a-0099.pem")
        try rebag(foreign)
        try reseal(foreign, with: key, signer: .object([
            "actor": .string("a-0099"), "name": .string("Mallory"), "badge": .string("X-1"),
            "roles": .array([.string("analyst")]), "public_key_sha256": .string(Digest.sha256Hex(Array(key.publicKeyPEM().utf8))),
        ]))
        let verify = try exhibit.run(["verify", foreign])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("signs no entry of the bag's ledger"), "\(verify.stdout)")
    }

    @Test("an insider who re-seals an edited case.json with the analyst's own key is still caught: case.json is derived again from the ledger")
    func caseJSONIsRederived() async throws {
        let out = try await exported()
        let bag = try copy(out.bag, "insider", in: out.ws)
        let path = bag + "/data/case.json"
        let original = String(decoding: try AtomicFile.read(path), as: UTF8.self)
        let edited = original.replacingOccurrences(of: "\"open\"", with: "\"closed\"")
        try #require(edited != original, "case.json: \(original)")
        try AtomicFile.write(Array(edited.utf8), to: path)
        try rebag(bag)
        let keyPEM = String(decoding: try AtomicFile.read(out.ws.root + "/keys/\(out.ws.investigatorID).key.pem"), as: UTF8.self)
        let key = try SigningKey(pem: keyPEM)
        try reseal(bag, with: key, signer: nil)
        let verify = try exhibit.run(["verify", bag])
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("TAMPERED data/case.json — is not the state the bag's ledger folds to"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("exhibit-seal.json"), "the insider's seal itself holds: \(verify.stdout)")
    }

    @Test("an insider who re-seals an edited report, load file or provenance graph is caught: each fact is checked against the ledger")
    func derivedDocumentsAreFactChecked() async throws {
        let out = try await exported()
        let keyPEM = String(decoding: try AtomicFile.read(out.ws.root + "/keys/\(out.ws.investigatorID).key.pem"), as: UTF8.self)
        let key = try SigningKey(pem: keyPEM)
        let untouched = try exhibit.run(["verify", out.bag])
        try #require(untouched.status == 0, "\(untouched.stdout)")
        let ledger = String(decoding: try AtomicFile.read(out.bag + "/data/ledger.jsonl"), as: UTF8.self)
        let digest = try #require(ledger.firstMatch(of: /"payload_sha256":"([0-9a-f]{64})"/)?.output.1)
        let forged = String(repeating: "0", count: 64)
        // One edit per document, each resealed with the exporter's own key: the manifests
        // and the seal hold, so only the facts can give the edit away.
        let edits: [(file: String, from: String, to: String, says: String)] = [
            ("loadfile.csv", "/classifieds.html", "/classifieds-edited.html", ", URL: the ledger records"),
            ("loadfile.csv", String(digest), forged, "SHA256: the ledger records"),
            ("report.html", String(digest), forged, "does not state its SHA-256 as the ledger records it"),
            ("report.html", "/classifieds.html</span>", "/elsewhere.html</span>", "does not state its URL as the ledger records it"),
            // A second, contradicting row beside the right one.
            ("report.html", "<tr><th>SHA-256</th>", "<tr><th>SHA-256</th><td>\(forged)</td></tr>\n<tr><th>SHA-256</th>",
             "does not state its SHA-256 as the ledger records it"),
            ("provenance.jsonld", "/classifieds.html\"", "/elsewhere.html\"", "TAMPERED data/provenance.jsonld — kb:url-"),
            ("provenance.jsonld", String(digest), forged, "states a SHA-256, \(forged), that no artifact of the ledger has"),
        ]
        for (number, edit) in edits.enumerated() {
            let bag = try copy(out.bag, "facts-\(number)", in: out.ws)
            let path = bag + "/data/" + edit.file
            let original = String(decoding: try AtomicFile.read(path), as: UTF8.self)
            let edited = original.replacingOccurrences(of: edit.from, with: edit.to)
            try #require(edited != original, "\(edit.file) has no \(edit.from)")
            try AtomicFile.write(Array(edited.utf8), to: path)
            try rebag(bag)
            try reseal(bag, with: key, signer: nil)
            let verify = try exhibit.run(["verify", bag])
            #expect(verify.status == 1, "\(edit.file): \(verify.stdout)")
            #expect(verify.stdout.contains("TAMPERED data/\(edit.file)"), "\(edit.file): \(verify.stdout)")
            #expect(verify.stdout.contains(edit.says), "\(edit.file): \(verify.stdout)")
            #expect(!verify.stdout.contains("exhibit-seal.json"), "the insider's seal itself holds: \(verify.stdout)")
        }
    }

    /// Rewrites a WACZ as an attacker would: `mode` changes its contents, then
    /// datapackage.json is recomputed and signed with `keyFile` (a P-256 PEM) or a fresh key.
    private func tamperWACZ(_ source: String, _ target: String, mode: String, keyFile: String?) throws {
        let script = """
            import base64, hashlib, json, sys, zipfile
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
            src, dst, mode, keyfile = sys.argv[1:5]
            z = zipfile.ZipFile(src); files = {n: z.read(n) for n in z.namelist()}
            if mode == "plant":
                first = sorted(n for n in files if n.startswith("archive/"))[0]
                files["archive/planted.warc.gz"] = files[first]
            elif mode == "index":
                lines = files["indexes/index.cdx"].decode().splitlines(True)
                a, b = json.loads(lines[0].split(" ", 2)[2]), json.loads(lines[1].split(" ", 2)[2])
                a["offset"], b["offset"] = b["offset"], a["offset"]
                lines[0] = " ".join(lines[0].split(" ", 2)[:2]) + " " + json.dumps(a) + "\\n"
                lines[1] = " ".join(lines[1].split(" ", 2)[:2]) + " " + json.dumps(b) + "\\n"
                files["indexes/index.cdx"] = "".join(lines).encode()
            elif mode == "pages":
                files["pages/pages.jsonl"] = files["pages/pages.jsonl"].replace(b"classifieds", b"classifiedz")
            package = json.loads(files["datapackage.json"])
            package["resources"] = [{"name": n.split("/")[-1].lower(), "path": n, "hash": "sha256:" + hashlib.sha256(files[n]).hexdigest(), "bytes": len(files[n])}
                                    for n in sorted(files) if n not in ("datapackage.json", "datapackage-digest.json")]
            files["datapackage.json"] = json.dumps(package, indent=2).encode()
            key = serialization.load_pem_private_key(open(keyfile, "rb").read(), None) if keyfile != "-" else ec.generate_private_key(ec.SECP256R1())
            digest = json.loads(files["datapackage-digest.json"])
            h = "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest()
            r, s = decode_dss_signature(key.sign(h.encode(), ec.ECDSA(hashes.SHA256())))
            digest["hash"] = digest["signedData"]["hash"] = h
            digest["signedData"]["signature"] = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
            digest["signedData"]["publicKey"] = base64.b64encode(key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
            files["datapackage-digest.json"] = json.dumps(digest, indent=2).encode()
            out = zipfile.ZipFile(dst, "w")
            for n, data in files.items():
                stored = n.startswith("archive/") or n.startswith("indexes/")
                out.writestr(n, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
            out.close()
            """
        let result = try Validators.run("python3", ["-c", script, source, target, mode, keyFile ?? "-"])
        try #require(result.status == 0, "\(result.output)")
    }

    @Test("finding 4: a WACZ re-signed with a fresh P-256 key, a planted WARC, a swapped index or edited pages does not verify")
    func waczIsCheckedAgainstItsSignerAndLedger() async throws {
        let out = try await exported()
        let clean = try exhibit.run(["verify", out.wacz])
        #expect(clean.status == 0, "\(clean.stdout)")
        #expect(clean.stdout.contains("sealed by \(out.ws.investigatorID)"), "\(clean.stdout)")
        let wacz = try Validators.run("wacz", ["validate", "-f", out.wacz])
        #expect(wacz.status == 0, "\(wacz.output)")

        let fresh = out.ws.directory.child("fresh.wacz")
        try tamperWACZ(out.wacz, fresh, mode: "plant", keyFile: nil)
        let freshVerify = try exhibit.run(["verify", fresh])
        #expect(freshVerify.status == 1, "\(freshVerify.stdout)")
        #expect(freshVerify.stdout.contains("signed with a P-256 key other than the one \(out.ws.investigatorID) registered"), "\(freshVerify.stdout)")

        // The actor's own key (an insider): the signature holds, the contents do not.
        let ownKey = out.ws.root + "/keys/\(out.ws.investigatorID).wacz.key.pem"
        for (mode, expected) in [("plant", "UNEXPECTED archive/planted.warc.gz"), ("index", "TAMPERED indexes/index.cdx"), ("pages", "TAMPERED pages/pages.jsonl")] {
            let target = out.ws.directory.child("\(mode).wacz")
            try tamperWACZ(out.wacz, target, mode: mode, keyFile: ownKey)
            let verify = try exhibit.run(["verify", target])
            #expect(verify.status == 1, "\(mode): \(verify.stdout)")
            #expect(verify.stdout.contains(expected), "\(mode): \(verify.stdout)")
            #expect(!verify.stdout.contains("P-256 key other than"), "\(mode): the insider's signature holds: \(verify.stdout)")
        }
    }
}
