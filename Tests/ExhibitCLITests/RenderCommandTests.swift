import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit render` and `exhibit capture --screenshot` end to end: real Chromium,
/// real replay server, the fixture site stopped before rendering.
@Suite("exhibit render", .serialized)
struct RenderCommandTests {
    let exhibit = ExhibitProcess()

    @Test("a captured page replays from the WARC alone: full-page PNG and PDF sealed, ledger entry, verify passes")
    func renderFromWARC() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        // The site serves the capture only; the site object outlives its stop so the
        // render below can show it was asked nothing more.
        let (site, pageURL, images, seenAtCapture) = try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let pageURL = site.baseURL + "/gallery.html"
            let images = ["/media/photo-small.png", "/media/photo-large.png", "/media/avatar.png"].map { site.baseURL + $0 }
            let capture = try await Blocking.run {
                try exhibit.run(["capture", caseID, pageURL, "--media", "--workspace", ws.root, "--actor", ws.investigatorID,
                                 "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            }
            #expect(capture.status == 0, "\(capture.stderr)")
            let seenAtCapture = site.requests()
            #expect(seenAtCapture.count == 4)
            #expect(Set(seenAtCapture.map(\.path)) == Set(["/gallery.html"] + images.map { String($0.dropFirst(site.baseURL.count)) }))
            return (site, pageURL, images, seenAtCapture)
        }

        let render = try await Blocking.run {
            try exhibit.run(["render", caseID, "--json", "--workspace", ws.root, "--actor", ws.investigatorID])
        }
        #expect(render.status == 0, "\(render.stderr)")
        #expect(site.requests().count == seenAtCapture.count)
        let json = try JSONValue(parsing: render.stdout)
        let page = try #require(json["rendered"]?.arrayValue?.first)
        #expect(json["rendered"]?.arrayValue?.count == 1)
        #expect(page["url"]?.stringValue == pageURL)

        // The replay server's own log: the page and every image answered from the WARC.
        let requests = page["requests"]?.arrayValue ?? []
        func answered(_ url: String) -> Bool {
            requests.contains { $0["url"]?.stringValue == url && $0["status"]?.intValue == 200 && $0["from_warc"]?.boolValue == true }
        }
        #expect(answered(pageURL), "\(requests)")
        for image in images {
            #expect(answered(image), "\(image) in \(requests)")
            #expect(!requests.contains { $0["url"]?.stringValue == image && $0["from_warc"]?.boolValue != true })
        }

        // The PNG: a real PNG, 1280 wide, the full page's height (taller than the viewport).
        let caseDirectory = ws.caseDirectory(caseID)
        let pngPath = caseDirectory + "/" + (page["png"]?.stringValue ?? "-")
        let png = try AtomicFile.read(pngPath)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[12..<16]) == Array("IHDR".utf8))
        func be32(_ at: Int) -> Int64 { png[at..<(at + 4)].reduce(0) { $0 << 8 | Int64($1) } }
        #expect(be32(16) == 1280)
        #expect(be32(20) == page["height"]?.intValue)
        #expect(be32(20) > 2000, "the gallery page is about 4,000 px tall")
        #expect(Digest.sha256Hex(png) == page["png_sha256"]?.stringValue)
        let pdf = try AtomicFile.read(caseDirectory + "/" + (page["pdf"]?.stringValue ?? "-"))
        #expect(pdf.starts(with: Array("%PDF-".utf8)))

        // The ledger's render entry names the source record and the PNG record's digest.
        let entry = try #require(try ws.entries(caseID).last { $0.action == "render" })
        let subject = try #require(entry.subject)
        let captureEntry = try #require(try ws.entries(caseID).first { $0.action == "capture" && $0.subject?["url"]?.stringValue == pageURL })
        let sourceRecord = captureEntry.subject?["records"]?.arrayValue?.last { $0["type"]?.stringValue == "response" }
        #expect(subject["source"]?["record_id"]?.stringValue == sourceRecord?["id"]?.stringValue)
        #expect(subject["source"]?["block_digest"]?.stringValue == sourceRecord?["block_digest"]?.stringValue)
        let records = subject["records"]?.arrayValue ?? []
        #expect(records.contains { $0["block_digest"]?.stringValue == "sha256:" + Digest.sha256Hex(png) && $0["type"]?.stringValue == "resource" })
        #expect(records.contains { $0["target_uri"]?.stringValue == "urn:exhibit:screenshot:" + pageURL })
        let files = subject["files"]?.arrayValue ?? []
        #expect(files.contains { $0["role"]?.stringValue == "screenshot" && $0["sha256"]?.stringValue == Digest.sha256Hex(png) && $0["height"]?.intValue == be32(20) })
        #expect(files.contains { $0["role"]?.stringValue == "pdf" && $0["media_type"]?.stringValue == "application/pdf" })
        #expect(subject["renderer"]?["name"]?.stringValue == "chromium")

        // The render WARC passes warcio with every digest checked.
        let warc = caseDirectory + "/" + (subject["warc"]?["file"]?.stringValue ?? "-")
        let check = try Validators.run("warcio", ["check", "-v", warc])
        #expect(check.status == 0, "warcio check failed: \(check.output)")
        #expect(!check.output.contains("no digest to check"))
        #expect(check.output.components(separatedBy: "digest pass").count - 1 == 3)

        // verify passes, and notices a changed screenshot.
        let verify = try await Blocking.run { try exhibit.run(["verify", caseID, "--workspace", ws.root]) }
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        var damaged = png
        damaged[damaged.count - 20] ^= 0xFF
        try Data(damaged).write(to: URL(fileURLWithPath: pngPath))
        let tampered = try await Blocking.run { try exhibit.run(["verify", caseID, "--workspace", ws.root]) }
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains(page["png"]?.stringValue ?? "-"))
    }

    @Test("capture --screenshot of an https page: rendered from the WARC through Fetch interception, the server asked once")
    func screenshotAfterHTTPSCapture() async throws {
        let pki = try HTTPSCaptureTests.TestPKI.make()
        let server = try await HTTPSCaptureTests.HTTPSTestServer.start(pki: pki)
        defer { server.stop() }
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let url = server.baseURL + "/"
        func served() -> Int { server.log().components(separatedBy: "\"GET ").count - 1 }
        let probes = served()
        let result = try await Blocking.run {
            try exhibit.run(["capture", caseID, url, "--screenshot", "--json", "--ca-file", pki.caPath, "--allow-network", "127.0.0.1/32",
                             "--reason", "test", "--workspace", ws.root, "--actor", ws.investigatorID])
        }
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try JSONValue(parsing: result.stdout)
        let page = try #require(json["render"]?["rendered"]?.arrayValue?.first, "\(result.stdout)")
        #expect(page["url"]?.stringValue == url)
        let requests = page["requests"]?.arrayValue ?? []
        #expect(requests.contains { $0["url"]?.stringValue == url && $0["status"]?.intValue == 200 && $0["from_warc"]?.boolValue == true && $0["form"]?.stringValue == "browser" }, "\(requests)")
        // The live server saw the capture's request and nothing else (before: its readiness probe).
        #expect(served() == probes + 1, "\(server.log())")
        #expect(try ws.entries(caseID).filter { $0.action == "render" }.count == 1)
        let verify = try await Blocking.run { try exhibit.run(["verify", caseID, "--workspace", ws.root]) }
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("missing Chromium: one sentence saying how to install it, exit 5, nothing written")
    func missingChromium() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let before = try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl")
        let missing = ExhibitProcess(environment: ["EXHIBIT_CHROMIUM": ws.directory.child("no-such-chromium")])
        for arguments in [["render", caseID], ["capture", caseID, "http://127.0.0.1:9/", "--screenshot", "--allow-network", "127.0.0.1/32", "--reason", "x"]] {
            let result = try await Blocking.run {
                try missing.run(arguments + ["--workspace", ws.root, "--actor", ws.investigatorID])
            }
            #expect(result.status == 5, "\(arguments): \(result.stderr)")
            // A path the user named is wrong, not the installation (issue 18 item 5).
            #expect(result.stderr == "exhibit: EXHIBIT_CHROMIUM names \(ws.directory.child("no-such-chromium")), which does not exist; point it at the Chromium binary (Debian's is /usr/bin/chromium) or unset it.\n")
        }
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl") == before)
    }

    @Test("refusals: no investigator role is exit 4 (recorded), a case without pages is exit 5, a bad artifact is exit 5")
    func refusals() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let common = ["--workspace", ws.root]
        let refused = try await Blocking.run { try exhibit.run(["render", caseID, "--actor", ws.supervisorID] + common) }
        #expect(refused.status == 4)
        #expect(try ws.entries(caseID).last?.action == "refusal")
        let empty = try await Blocking.run { try exhibit.run(["render", caseID, "--actor", ws.investigatorID] + common) }
        #expect(empty.status == 5)
        #expect(empty.stderr.contains("no captured HTML page"))
        let unknown = try await Blocking.run { try exhibit.run(["render", caseID, "A-9999", "--actor", ws.investigatorID] + common) }
        #expect(unknown.status == 5)
        let usage = try await Blocking.run { try exhibit.run(["render", "--actor", ws.investigatorID] + common) }
        #expect(usage.status == 2)
    }
}
