import CaseBrowser
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Issue 10's acceptance test for `exhibit serve`: headless Chromium visits the
/// case list, a case page and an artifact page of a real server on loopback;
/// the pages hold the case id, every artifact's sha256 and, after Verify, the
/// verification result; every view of evidence is a `view` entry by the acting
/// actor; and `exhibit verify` still passes afterwards.
@Suite("case browser in headless Chromium")
struct CaseBrowserChromiumTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Screenshots go to a temporary folder, and also to $EXHIBIT_DOCS_SCREENSHOTS
    /// when it is set (how docs/images/browser-*.png are made).
    func keep(_ png: Data, as name: String, in directory: TemporaryDirectory) throws {
        try png.write(to: URL(fileURLWithPath: directory.child(name)))
        if let docs = ProcessInfo.processInfo.environment["EXHIBIT_DOCS_SCREENSHOTS"], !docs.isEmpty {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            try png.write(to: URL(fileURLWithPath: docs + "/" + name))
        }
    }

    /// Screenshot and DOM of one page.
    func visit(_ chromium: String, _ url: String, name: String, shots: TemporaryDirectory, height: Int = 2000) async throws -> String {
        let path = shots.child(name)
        let shot = try await HeadlessChromium.run(chromium, ["--screenshot=\(path)", "--window-size=1280,\(height)", "--hide-scrollbars", url])
        #expect(!shot.timedOut, "chromium --screenshot \(url) did not finish")
        #expect(shot.status == 0, "chromium --screenshot exited \(shot.status): \(shot.stderrTail)")
        let png = try #require(FileManager.default.contents(atPath: path), "no screenshot of \(url)")
        #expect(Array(png.prefix(8)) == Self.png, "\(name) is a PNG")
        #expect(png.count > 10_000, "\(name) shows something (\(png.count) bytes)")
        try keep(png, as: name, in: shots)
        let dump = try await HeadlessChromium.run(chromium, ["--dump-dom", url])
        #expect(!dump.timedOut && dump.status == 0, "chromium --dump-dom \(url): \(dump.stderrTail)")
        return String(decoding: dump.stdout, as: UTF8.self)
    }

    @Test("Chromium shows the case list, a case page and an artifact page; Verify shows the result; views are recorded")
    func browseInChromium() async throws {
        let chromium = try #require(HeadlessChromium.path, "Chromium is not installed: `make deps` installs it (Debian package chromium).")
        let fixture = try await BrowserFixture.make()
        let caseID = fixture.caseID
        let server = try await fixture.start()
        let shots = TemporaryDirectory("exhibit-browser-shots")
        let before = try fixture.ws.entries(caseID).count

        // The case list: grouped by category, with status, hold and artifact count; not recorded.
        let list = try await visit(chromium, server.url, name: "browser-cases.png", shots: shots, height: 900)
        #expect(list.contains(caseID))
        #expect(list.contains("Crime perpetrated online") || list.contains("online-crime"))
        #expect(list.contains("<td>4</td>"), "four artifacts")
        #expect(list.contains("Missing person") && list.contains("on hold"), "the held missing-person case in its own group")
        #expect(try #require(list.range(of: "MP-")).lowerBound < (try #require(list.range(of: caseID))).lowerBound, "categories in DESIGN §3 order")
        #expect(try fixture.ws.entries(caseID).count == before, "the case list shows no evidence and records nothing")

        // The case page: case id, every artifact's full sha256, the timeline, the screenshot.
        let casePage = try await visit(chromium, server.url + "cases/\(caseID)", name: "browser-case.png", shots: shots, height: 2600)
        #expect(casePage.contains(caseID))
        for artifact in fixture.artifacts {
            #expect(casePage.contains(try #require(artifact.sha256)), "sha256 of \(artifact.id) on the case page")
        }
        #expect(casePage.contains("/cases/\(caseID)/blobs/\(fixture.screenshotSHA256)"), "the screenshot is shown")
        #expect(casePage.contains("Custody timeline"))
        #expect(!casePage.contains("<script"), "hostile titles stayed text")
        #expect(casePage.contains("&lt;script&gt;alert('case')&lt;/script&gt;") || casePage.contains("&lt;script&gt;alert(&#39;case&#39;)"))

        // The artifact page: its sha256, record ids, selectors, screenshot, PDF link and sandboxed replay.
        let forum = try #require(fixture.artifacts.first { $0.id == fixture.renderedArtifact })
        let artifactPage = try await visit(
            chromium, server.url + "cases/\(caseID)/artifacts/\(forum.id)", name: "browser-artifact.png", shots: shots, height: 2400)
        #expect(artifactPage.contains(caseID))
        #expect(artifactPage.contains(try #require(forum.sha256)))
        #expect(artifactPage.contains(ReplayLink.source(caseID: caseID, artifactID: forum.id)))
        #expect(artifactPage.contains("sandbox=\"\""), "the replay frame is sandboxed without allowances")
        #expect(artifactPage.contains("/cases/\(caseID)/blobs/\(fixture.pdfSHA256)"), "the PDF is linked")
        for record in forum.records {
            #expect(artifactPage.contains(record.id.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")))
        }

        // Verify: a form post from the page (token taken from the page), then the result page in Chromium.
        let token = try #require(casePage.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.output.1)
        let posted = try await LoopbackHTTP.postForm(server.url + "cases/\(caseID)/verify", [("csrf", String(token))])
        #expect(posted.status == 303, "\(posted.text)")
        let location = try #require(posted.header("Location"))
        let result = try await visit(chromium, server.url + String(location.dropFirst()), name: "browser-verify.png", shots: shots, height: 900)
        #expect(result.contains("\(caseID): intact —"), "the verification result is shown")
        #expect(result.contains("Findings: none."))

        // Every view of evidence, and the verification, by the acting actor.
        let added = try fixture.entries(after: before)
        #expect(added.allSatisfy { $0.actor == fixture.actorID }, "\(added.map { ($0.actor, $0.action) })")
        let views = added.filter { $0.action == "view" }.compactMap { $0.subject?["viewed"]?.stringValue }
        // Two DOM dumps and two screenshots per page: each page and each of its sub-resources twice.
        #expect(views.filter { $0 == "case" }.count == 2, "\(views)")
        #expect(views.filter { $0 == "artifact" }.count == 2, "\(views)")
        #expect(views.contains("replay"), "the replay frame was loaded and recorded: \(views)")
        #expect(views.contains("blob"), "the screenshot image was loaded and recorded: \(views)")
        for entry in added where entry.action == "view" {
            #expect(entry.subject?["command"]?.stringValue == "serve")
        }
        let verify = try #require(added.last { $0.action == "verify" })
        #expect(verify.subject?["result"]?.stringValue == "intact")
        #expect(result.contains("entry seq \(verify.seq)"))

        await server.stop()
        // The evidence is as it was: `exhibit verify` (the real binary) passes.
        let check = try ExhibitProcess().run(["verify", caseID, "--workspace", fixture.ws.root])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("\(caseID): intact"))
    }
}
