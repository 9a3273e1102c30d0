import CaseBrowser
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// Issue 18, item 7: a case of more than a hundred captures, browsed as the
/// user would, over HTTP to the loopback browser. The case page pages its
/// artifacts (50 a page) and filters them by URL, type, HTTP status and the
/// words in the captured pages; a custodian opens the case page and verifies;
/// a replayed page shows the images that were captured, from the WARC.
@Suite("case browser at scale: paging, filters, search, custodians, replayed images")
struct CaseBrowserScaleTests {
    /// 112 generated pages, a 404 and a 410, the article, the forum and the
    /// gallery (with its three images): 120 artifacts, captured from the Fixtures site.
    struct BigCase {
        let ws: TestWorkspace
        let caseID: String
        let artifacts: [BrowserArtifact]
        /// The Fixtures site's address at capture time (it is stopped afterwards).
        let siteURL: String

        static let generatedPages = 112

        static func make() async throws -> BigCase {
            try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
                let ws = try TestWorkspace("exhibit-browser-scale")
                let caseID = try ws.session().openCase(
                    category: "online-crime", title: "Night market scams <b>and</b> fakes",
                    fields: ["subtype": "other", "complainant_reference": "R-118"]).id
                var urls = (0..<generatedPages).map { site.baseURL + "/test/pages/\($0)?count=\(generatedPages)" }
                urls += ["/test/status/404", "/test/status/410", "/article.html", "/forum.html"].map { site.baseURL + $0 }
                var options = CaptureOptions(urls: urls)
                options.allowNetworks = ["127.0.0.1/32"]
                options.allowReason = "fixture site on loopback"
                let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
                let report = try await Blocking.run { try job.run() }
                #expect(report.failed.isEmpty && report.refused.isEmpty, "\(report.failed) \(report.refused)")
                // The gallery with its images (--media).
                var media = CaptureOptions(urls: [site.baseURL + "/gallery.html"])
                media.media = true
                media.allowNetworks = options.allowNetworks
                media.allowReason = options.allowReason
                let gallery = CaptureJob(session: try ws.session(), caseID: caseID, options: media)
                _ = try await Blocking.run { try gallery.run() }
                await site.stop()
                let artifacts = BrowserArtifact.all(in: try ws.entries(caseID))
                #expect(artifacts.count == 120, "\(artifacts.count) artifacts")
                return BigCase(ws: ws, caseID: caseID, artifacts: artifacts, siteURL: site.baseURL)
            }
        }

        func start(_ actor: String? = nil) async throws -> BrowserServer {
            try await BrowserServer.start(workspace: ws.workspace, actorID: actor ?? ws.investigatorID, port: 0)
        }

        func artifact(_ suffix: String) throws -> BrowserArtifact {
            try #require(artifacts.first { $0.url.hasSuffix(suffix) }, "no artifact ending \(suffix)")
        }
    }

    /// The artifact ids listed as rows (linked ids) of a case page.
    static func rows(_ html: String, caseID: String) -> [String] {
        html.matches(of: /<tr><td class="mono nowrap"><a href="\/cases\/[A-Z0-9-]+\/artifacts\/(A-\d{4})">/).map { String($0.output.1) }
    }

    @Test("50 artifacts a page with links to the others; filters by URL, type and status; full-text search; every value escaped")
    func pagingFiltersAndSearch() async throws {
        let big = try await BigCase.make()
        let caseID = big.caseID
        try await withStopping(try await big.start(), stop: { await $0.stop() }) { server in
            let base = server.url + "cases/\(caseID)"

            // Page 1: the first 50 artifacts in capture order, and where the others are.
            let first = try await LoopbackHTTP.get(base)
            #expect(first.status == 200)
            #expect(Self.rows(first.text, caseID: caseID) == big.artifacts.prefix(50).map(\.id))
            #expect(first.text.contains("Page 1 of 3"))
            #expect(first.text.contains("href=\"/cases/\(caseID)?page=2#artifacts\""))
            #expect(first.text.contains("href=\"/cases/\(caseID)?page=3#artifacts\""))
            #expect(first.body.count < 90_000, "one screenful, not the whole case: \(first.body.count) bytes")
            // The last page, and a page past the end, which shows the last.
            let third = try await LoopbackHTTP.get(base + "?page=3")
            #expect(Self.rows(third.text, caseID: caseID) == big.artifacts.dropFirst(100).map(\.id))
            #expect(Self.rows(try await LoopbackHTTP.get(base + "?page=99").text, caseID: caseID) == big.artifacts.dropFirst(100).map(\.id))

            // By a piece of the URL (case-insensitive), by type, by status and by status class.
            let byURL = try await LoopbackHTTP.get(base + "?url=PAGES%2F11")
            let expectedURL = big.artifacts.filter { $0.url.lowercased().contains("pages/11") }.map(\.id)
            #expect(expectedURL.count == 3)
            #expect(Self.rows(byURL.text, caseID: caseID) == expectedURL)
            #expect(byURL.text.contains("3 of 120 artifacts match"))
            let images = try await LoopbackHTTP.get(base + "?type=image%2Fpng")
            #expect(Self.rows(images.text, caseID: caseID) == big.artifacts.filter { $0.contentType == "image/png" }.map(\.id))
            #expect(Self.rows(images.text, caseID: caseID).count == 3)
            let notFound = try await LoopbackHTTP.get(base + "?status=404")
            #expect(Self.rows(notFound.text, caseID: caseID) == [try big.artifact("/test/status/404").id])
            let clientErrors = try await LoopbackHTTP.get(base + "?status=4xx")
            // Capture order, which concurrent transfers decide: 410 may be sealed before 404.
            let fourXX = [try big.artifact("/test/status/404").id, try big.artifact("/test/status/410").id]
            #expect(Self.rows(clientErrors.text, caseID: caseID) == big.artifacts.map(\.id).filter { fourXX.contains($0) })
            // Filters combine: html pages whose URL holds "pages/1", second page of 50 … there is only one page of 23.
            let combined = try await LoopbackHTTP.get(base + "?url=pages%2F1&type=text%2Fhtml&status=200")
            #expect(Self.rows(combined.text, caseID: caseID) == big.artifacts.filter { $0.url.contains("pages/1") }.map(\.id))

            // Words in the pages (the index's full text): one page says "fireworks"; 112 say "lantern", paged.
            let fireworks = try await LoopbackHTTP.get(base + "?q=fireworks")
            #expect(Self.rows(fireworks.text, caseID: caseID) == [try big.artifact("/article.html").id])
            #expect(fireworks.text.contains("[fireworks]"), "a snippet around the match")
            let lantern = try await LoopbackHTTP.get(base + "?q=lantern&page=3")
            #expect(lantern.text.contains("112 of 120 artifacts match"))
            #expect(Self.rows(lantern.text, caseID: caseID).count == 12)
            #expect(lantern.text.contains("href=\"/cases/\(caseID)?q=lantern&amp;page=2#artifacts\""), "page links keep the search")

            // Every value from the link is text on the page, in the inputs and in the sentence.
            let hostile = try await LoopbackHTTP.get(base + "?url=%3Cscript%3Ealert(1)%3C%2Fscript%3E&q=%22%3E%3Cimg%20src%3Dx%3E&status=%3Cb%3E")
            #expect(hostile.status == 200)
            #expect(!hostile.text.lowercased().contains("<script"))
            #expect(!hostile.text.contains("<img src=x>"))
            #expect(!hostile.text.contains("<b>"))
            #expect(hostile.text.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""))
            #expect(hostile.text.contains("value=\"&quot;&gt;&lt;img src=x&gt;\""))
            #expect(hostile.text.contains("No artifact matches."))
            #expect(hostile.header("Content-Security-Policy")?.hasPrefix("default-src 'none'") == true)

            // The guards still stand in front of the new queries.
            let rebound = try await LoopbackHTTP.get(base + "?q=lantern", headers: [("Host", "evil.example:\(server.port)")])
            #expect(rebound.status == 421)

            // Each page view is recorded, with what was searched for.
            let views = try big.ws.entries(caseID).filter { $0.action == "view" && $0.subject?["viewed"]?.stringValue == "case" }
            let filters = views.compactMap { $0.subject?["filter"]?["q"]?.stringValue }
            #expect(filters.contains("fireworks") && filters.contains("lantern"))
        }
    }

    @Test("a custodian without a reading role opens the case page, sees the digests and verifies; the content stays closed")
    func custodianVerifiesFromTheCasePage() async throws {
        let big = try await BigCase.make()
        let caseID = big.caseID
        let custodian = try ActorRegistry(workspace: big.ws.workspace).add(
            name: "Kit Keeper", badge: "K-1", roles: [.custodian], actingActor: big.ws.supervisorID).id
        try await withStopping(try await big.start(custodian), stop: { await $0.stop() }) { server in
            let page = try await LoopbackHTTP.get(server.url + "cases/\(caseID)")
            #expect(page.status == 200, "\(page.text)")
            #expect(page.text.contains("Verify the case"))
            for artifact in big.artifacts.prefix(50) { #expect(page.text.contains(try #require(artifact.sha256))) }
            #expect(!page.text.contains("/artifacts/"), "no link to the captured content")
            #expect(!page.text.contains("name=\"q\""), "no text search")
            #expect(try big.ws.entries(caseID).last?.action == "view")
            #expect(try big.ws.entries(caseID).last?.actor == custodian)

            // Verify from the page, as the browser posts it.
            let token = String(try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.output.1))
            let same = [("Origin", "http://127.0.0.1:\(server.port)"), ("Sec-Fetch-Site", "same-origin")]
            let posted = try await LoopbackHTTP.postForm(server.url + "cases/\(caseID)/verify", [("csrf", token)], headers: same)
            #expect(posted.status == 303, "\(posted.text)")
            let result = try await LoopbackHTTP.get(server.url + String(try #require(posted.header("Location")).dropFirst()))
            #expect(result.text.contains("\(caseID): intact —"))
            let verify = try #require(try big.ws.entries(caseID).last)
            #expect(verify.action == "verify" && verify.actor == custodian)

            // The content is still for readers: artifact pages, replays and blobs are refused and recorded.
            let artifact = big.artifacts[0].id
            for path in ["cases/\(caseID)/artifacts/\(artifact)", "cases/\(caseID)/artifacts/\(artifact)/replay"] {
                #expect(try await LoopbackHTTP.get(server.url + path).status == 403, "\(path)")
            }
            #expect(try big.ws.entries(caseID).last?.action == "refusal")
            // The list stays what `exhibit case list` allows, and says where to go.
            let list = try await LoopbackHTTP.get(server.url)
            #expect(list.status == 403)
            #expect(list.text.contains("/cases/&lt;CASE-ID&gt;"))
        }
    }

    @Test("a replayed page shows its captured images from the WARC, relative and root-relative, in Chromium; nothing else")
    func replayedImagesComeFromTheWARC() async throws {
        let chromium = try #require(HeadlessChromium.path, "Chromium is not installed: `make deps` installs it (Debian package chromium).")
        let big = try await BigCase.make()
        let caseID = big.caseID
        try await withStopping(try await big.start(), stop: { await $0.stop() }) { server in
            let gallery = try big.artifact("/gallery.html")
            let small = try big.artifact("/media/photo-small.png")
            let large = try big.artifact("/media/photo-large.png")
            let pageURL = big.siteURL + "/gallery.html"
            let frame = "/cases/\(caseID)/artifacts/\(gallery.id)/replay/\(pageURL)"

            let artifactPage = try await LoopbackHTTP.get(server.url + "cases/\(caseID)/artifacts/\(gallery.id)")
            #expect(artifactPage.text.contains("<iframe class=\"replay\" sandbox src=\"\(frame)\""), "the frame is in route form")
            // The page itself, its own record.
            let page = try await LoopbackHTTP.get(server.url + String(frame.dropFirst()))
            #expect(page.status == 200)
            // Images only from this frame's own replay prefix: a captured page cannot make the browser record other views.
            let policy = "sandbox; default-src 'none'; img-src http://127.0.0.1:\(server.port)/cases/\(caseID)/artifacts/\(gallery.id)/replay/ data:; style-src 'unsafe-inline'"
            #expect(page.header("Content-Security-Policy") == policy)
            #expect(page.text.contains("<title>Riverbend Courier — Photo walk gallery</title>"))
            // The copy shown points the page's images at the route form: relative, root-relative and absolute alike.
            let route = "/cases/\(caseID)/artifacts/\(gallery.id)/replay/\(big.siteURL)"
            #expect(page.text.contains("<img src=\"\(route)/media/photo-small.png\" alt=\"The riverside trail\""), "root-relative /media/photo-small.png")
            #expect(page.text.contains("<img src=\"\(route)/media/photo-large.png\" alt=\"The old mill\""), "relative media/photo-large.png")
            #expect(page.text.contains("<h1>Photo walk gallery</h1>"), "the rest of the page as archived")
            // The images come from the WARC, bytes as captured (the site is stopped).
            let site = try #require(FixtureSite.defaultSiteDirectory)
            for name in ["photo-small.png", "photo-large.png", "avatar.png"] {
                let reply = try await LoopbackHTTP.get(server.url + String(route.dropFirst()) + "/media/" + name)
                #expect(reply.status == 200, "\(name)")
                #expect(reply.header("Content-Type") == "image/png")
                #expect(reply.header("Content-Security-Policy") == policy)
                #expect(reply.body == [UInt8](try Data(contentsOf: URL(fileURLWithPath: site + "/media/" + name))), "\(name) as captured")
            }
            // What was not captured is not found, and nothing is fetched.
            #expect(try await LoopbackHTTP.get(server.url + String(route.dropFirst()) + "/media/nowhere.png").status == 404)
            #expect(try await LoopbackHTTP.get(server.url + "media/photo-small.png").status == 404, "the server's own root is no replay")
            // The untouched archived body stays at the artifact's own replay route.
            let archived = try await LoopbackHTTP.get(server.url + String(ReplayLink.source(caseID: caseID, artifactID: gallery.id).dropFirst()))
            #expect(archived.text.contains("<img src=\"/media/photo-small.png\""))

            // In Chromium: the artifact page's frame shows the gallery with both images, each a recorded view.
            let before = try big.ws.entries(caseID).count
            let shots = TemporaryDirectory("exhibit-browser-scale-shots")
            let screenshot = shots.child("browser-replay-images.png")
            let shot = try await HeadlessChromium.run(chromium, ["--screenshot=\(screenshot)", "--window-size=1280,1500", "--hide-scrollbars",
                                                                 server.url + "cases/\(caseID)/artifacts/\(gallery.id)"])
            #expect(!shot.timedOut && shot.status == 0, "\(shot.stderrTail)")
            let png = try #require(FileManager.default.contents(atPath: screenshot))
            #expect(Array(png.prefix(8)) == CaseBrowserChromiumTests.png)
            try Self.keep(png, as: "browser-replay-images.png", in: shots)
            let views = try big.ws.entries(caseID).dropFirst(before).filter { $0.action == "view" && $0.subject?["viewed"]?.stringValue == "replay" }
            let served = Set(views.compactMap { $0.subject?["record_id"]?.stringValue })
            #expect(served.contains(try #require(gallery.responseRecord?.id)), "the page: \(views.map { $0.subject as Any })")
            #expect(served.contains(try #require(large.responseRecord?.id)), "media/photo-large.png (relative) came from the WARC")
            #expect(served.contains(try #require(small.responseRecord?.id)), "/media/photo-small.png (root-relative) came from the WARC")
            #expect(served.contains(try #require(try big.artifact("/media/avatar.png").responseRecord?.id)))
            #expect(views.filter { $0.subject?["in_replay_of"]?.stringValue == gallery.id }.count >= 3)

            // The paged case page, as docs/browser.md shows it: the second page of the search for "lantern".
            let paged = shots.child("browser-case-paged.png")
            let pagedShot = try await HeadlessChromium.run(chromium, ["--screenshot=\(paged)", "--window-size=1280,1900", "--hide-scrollbars",
                                                                      server.url + "cases/\(caseID)?q=lantern&page=2"])
            #expect(!pagedShot.timedOut && pagedShot.status == 0, "\(pagedShot.stderrTail)")
            let pagedPNG = try #require(FileManager.default.contents(atPath: paged))
            #expect(Array(pagedPNG.prefix(8)) == CaseBrowserChromiumTests.png)
            #expect(pagedPNG.count > 20_000)
            try Self.keep(pagedPNG, as: "browser-case-paged.png", in: shots)
        }
    }

    /// Screenshots go to a temporary folder, and also to $EXHIBIT_DOCS_SCREENSHOTS
    /// when it is set (how docs/images/browser-case-paged.png and browser-replay-images.png are made).
    static func keep(_ png: Data, as name: String, in directory: TemporaryDirectory) throws {
        try png.write(to: URL(fileURLWithPath: directory.child(name)))
        if let docs = ProcessInfo.processInfo.environment["EXHIBIT_DOCS_SCREENSHOTS"], !docs.isEmpty {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            try png.write(to: URL(fileURLWithPath: docs + "/" + name))
        }
    }
}
