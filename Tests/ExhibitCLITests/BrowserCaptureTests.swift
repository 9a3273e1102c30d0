import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit capture --browser` end to end (DESIGN §17, issue 19): the real binary,
/// real headless Chromium, the fixture site on 127.0.0.2 (the only range the
/// capture opens) and, where a page reaches elsewhere, a canary site on 127.0.0.1.
@Suite("exhibit capture --browser", .serialized)
struct BrowserCaptureTests {
    let exhibit = ExhibitProcess()

    struct Captured {
        var ws: TestWorkspace
        var caseID: String
        var result: ExhibitProcess.Result
        var seconds: Double

        var reader: [String] { ["--workspace", ws.root, "--actor", ws.investigatorID] }

        func entries(_ action: String) throws -> [LedgerEntry] { try ws.entries(caseID).filter { $0.action == action } }

        /// The page's one browser-mode capture entry.
        func page() throws -> JSONValue {
            let captures = try entries("capture")
            #expect(captures.count == 1, "\(captures.map(\.action))")
            let subject = try #require(captures.first?.subject)
            #expect(subject["mode"]?.stringValue == "browser")
            return subject
        }

        func warcPath() throws -> String {
            ws.caseDirectory(caseID) + "/" + (try page()["warc"]?["file"]?.stringValue ?? "-")
        }

        /// Target URIs of the page's response records.
        func responses() throws -> [String] {
            (try page()["records"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "response" }.compactMap { $0["target_uri"]?.stringValue }
        }

        func search(_ text: String) throws -> [JSONValue] {
            let result = try ExhibitProcess().run(["search", text, "--case", caseID, "--json"] + reader)
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONValue(parsing: result.stdout)["results"]?.arrayValue ?? []
        }

        func selectors() throws -> [String] {
            let result = try ExhibitProcess().run(["selectors", caseID, "--json"] + reader)
            #expect(result.status == 0, "\(result.stderr)")
            return (try JSONValue(parsing: result.stdout)["selectors"]?.arrayValue ?? []).map {
                "\($0["kind"]?.stringValue ?? "")=\($0["value"]?.stringValue ?? "")"
            }
        }

        /// `warcio check -v` (every digest checked) and `exhibit verify` both pass.
        func expectValid() throws {
            let check = try Validators.run("warcio", ["check", "-v", try warcPath()])
            #expect(check.status == 0, "\(check.output)")
            #expect(!check.output.contains("no digest to check"), "\(check.output)")
            let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        }
    }

    func capture(_ url: String, _ extra: [String] = [], browser: Bool = true) async throws -> Captured {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let arguments = ["capture", caseID, url, "--workspace", ws.root, "--actor", ws.investigatorID,
                         "--allow-network", "127.0.0.2/32", "--reason", "fixture site"] + (browser ? ["--browser", "--wait", "0.7"] : []) + extra
        let start = Date()
        let result = try await Blocking.run { try exhibit.run(arguments) }
        return Captured(ws: ws, caseID: caseID, result: result, seconds: Date().timeIntervalSince(start))
    }

    static var site: String { FixtureSite.defaultSiteDirectory ?? "" }

    @Test("text that arrives by fetch() from a JSON endpoint is in the DOM record, in search and in selectors")
    func fetchedText() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/fetch-text.html")
            #expect(page.result.status == 0, "\(page.result.stderr)")
            let subject = try page.page()
            #expect(subject["status"]?.intValue == 200)
            #expect(try page.responses().contains(site.baseURL + "/js/contacts.json"))
            let records = subject["records"]?.arrayValue ?? []
            for kind in ["dom", "screenshot", "pdf"] {
                #expect(records.contains { $0["type"]?.stringValue == "resource" && $0["target_uri"]?.stringValue == "urn:exhibit:\(kind):\(site.baseURL)/js/fetch-text.html" },
                        "\(kind) in \(records)")
            }
            #expect(records.contains { $0["type"]?.stringValue == "metadata" && $0["target_uri"]?.stringValue?.hasPrefix("urn:exhibit:requests:") == true })
            // The site saw the page and its JSON, each once: the browser has no network of its own.
            // (Chromium also asks for /favicon.ico, through the engine like any other request.)
            let paths = site.requests().map(\.path).filter { $0 != "/favicon.ico" }.sorted()
            #expect(paths == ["/js/contacts.json", "/js/fetch-text.html"], "\(paths)")

            let hits = try page.search("nightdesk")
            #expect(hits.contains { $0["url"]?.stringValue == site.baseURL + "/js/fetch-text.html" }, "\(hits)")
            let selectors = try page.selectors()
            #expect(selectors.contains("phone=+12025550186"), "\(selectors)")
            #expect(selectors.contains("email=nightdesk@rendered-by-script.example"), "\(selectors)")
            try page.expectValid()
        }
    }

    @Test("a plain capture of the same page has none of the script's text (the control)")
    func plainCaptureLacksScriptText() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/fetch-text.html", browser: false)
            #expect(page.result.status == 0, "\(page.result.stderr)")
            #expect(try page.search("nightdesk").isEmpty)
            #expect(!(try page.selectors().contains("phone=+12025550186")))
        }
    }

    @Test("an infinite-scroll feed: the three later batches are response records and their text is searchable")
    func feedBatches() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/feed.html")
            #expect(page.result.status == 0, "\(page.result.stderr)")
            let responses = try page.responses()
            for batch in 1...3 {
                #expect(responses.contains(site.baseURL + "/js/feed/batch-\(batch).json"), "\(responses)")
            }
            // Requests are answered while a round scrolls, so one round may load several
            // batches; the last round is the one that found the height no longer growing.
            #expect(try page.page()["scroll_rounds"]?.intValue ?? 0 >= 2)
            #expect(!(try page.search("feedmarker-batch-3")).isEmpty)
            try page.expectValid()
        }
    }

    @Test("lazy images (loading=lazy and an IntersectionObserver) are fetched while scrolling and recorded")
    func lazyImages() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/lazy-images.html")
            #expect(page.result.status == 0, "\(page.result.stderr)")
            let responses = try page.responses()
            #expect(responses.contains(site.baseURL + "/media/photo-small.png?lazy=native"), "\(responses)")
            #expect(responses.contains(site.baseURL + "/media/avatar.png?lazy=observer"), "\(responses)")
            #expect(!(try page.search("lazymarker-observer")).isEmpty)
            try page.expectValid()
        }
    }

    @Test("a single-page app rendered from its bundle, which moves the URL with pushState")
    func singlePageApp() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/spa.html")
            #expect(page.result.status == 0, "\(page.result.stderr)")
            let subject = try page.page()
            #expect(subject["location"]?.stringValue == site.baseURL + "/js/spa.html#/profile/rendered_handle")
            #expect(try page.responses().contains(site.baseURL + "/js/spa/app.js"))
            #expect(!(try page.search("spamarker-profile")).isEmpty)
            #expect(try page.selectors().contains("phone=+12025550191"))
            try page.expectValid()
        }
    }

    @Test("a script's request to a refused address and its WebSocket never leave the machine; both refusals are in the ledger")
    func canary() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: nil) { canary in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
                let probe = canary.baseURL + "/test/status/200?canary=1"
                let url = site.baseURL + "/js/canary.html?canary=" + (probe.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? probe)
                let page = try await capture(url)
                #expect(page.result.status == 0, "\(page.result.stderr)")
                #expect(canary.requests().isEmpty, "\(canary.requests().map(\.path))")
                #expect(!site.requests().contains { $0.path.contains("ws-canary") })
                let refusals = try page.entries("policy-refusal")
                #expect(refusals.contains { $0.subject?["url"]?.stringValue == probe && $0.subject?["page"]?.stringValue == url },
                        "\(refusals.map { $0.subject?["url"]?.stringValue ?? "" })")
                #expect(refusals.contains { $0.subject?["url"]?.stringValue?.hasPrefix("ws://") == true })
                let refused = try page.page()["refused"]?.arrayValue ?? []
                #expect(refused.count == 2, "\(refused)")
                #expect(!(try page.search("canarymarker-page")).isEmpty)
                try page.expectValid()
            }
        }
    }

    @Test("a page that never settles ends at the time limit with what it has")
    func neverSettles() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/restless.html", ["--timeout", "6"])
            #expect(page.result.status == 0, "\(page.result.stderr)")
            #expect(page.seconds < 6 + 40, "\(page.seconds)")
            let subject = try page.page()
            #expect(subject["settled"]?.boolValue == false)
            #expect(try page.responses().contains { $0.hasPrefix(site.baseURL + "/js/contacts.json?tick=") })
            #expect(!(try page.search("restlessmarker")).isEmpty)
            try page.expectValid()
        }
    }

    @Test("pywb replays the captured pages from the WARC in headless Chromium, the script-made text in the replayed DOM")
    func pywbReplay() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let (warc, feedURL, pageURL) = try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let feedURL = site.baseURL + "/js/feed.html", pageURL = site.baseURL + "/js/fetch-text.html"
            let result = try await Blocking.run {
                try exhibit.run(["capture", caseID, feedURL, pageURL, "--browser", "--wait", "0.7", "--workspace", ws.root, "--actor", ws.investigatorID,
                                 "--allow-network", "127.0.0.2/32", "--reason", "fixture site"])
            }
            #expect(result.status == 0, "\(result.stderr)")
            let file = try #require(try ws.entries(caseID).first { $0.action == "capture" }?.subject?["warc"]?["file"]?.stringValue)
            return (ws.caseDirectory(caseID) + "/" + file, feedURL, pageURL)
        }
        // The site is down: whatever the replay shows comes from the WARC.
        let directory = TemporaryDirectory("pywb-browser")
        #expect(try Validators.run("wb-manager", ["init", "evidence"], directory: directory.path).status == 0)
        #expect(try Validators.run("wb-manager", ["add", "evidence", warc], directory: directory.path).status == 0)
        // Unframed replay, so that the dumped DOM is the page's own (framed replay puts it in an iframe).
        try AtomicFile.write(Array("framed_replay: false\n".utf8), to: directory.path + "/config.yaml")
        let port = Int.random(in: 20000...40000)
        let wayback = try ChildProcess(try Validators.path(of: "wayback"), ["-p", String(port), "-b", "127.0.0.1"], directory: directory.path,
                                       stdout: .file(directory.path + "/wayback.log"), stderr: .sameAsStdout, clearsSignalMask: true).start()
        defer { _ = wayback.killAndWait() }
        let base = "http://127.0.0.1:\(port)/evidence/"
        // pywb takes a while to start on a loaded machine (the whole suite runs in parallel).
        let serving = try await poll(until: { try Command.run("/usr/bin/curl", ["-s", "-f", "-o", "/dev/null", base + feedURL]).status == 0 || !wayback.isRunning },
                                     timeout: .seconds(120), interval: .milliseconds(250))
        try #require(serving && wayback.isRunning, "pywb did not serve the feed page: \((try? String(contentsOfFile: directory.path + "/wayback.log", encoding: .utf8)) ?? "")")
        let chromium = ProcessInfo.processInfo.environment["EXHIBIT_CHROMIUM"] ?? "/usr/bin/chromium"
        let profile = TemporaryDirectory("pywb-chromium")
        func dumpDOM(_ url: String) throws -> String {
            var switches = ["--headless=new", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile.path,
                            "--virtual-time-budget=8000", "--dump-dom"]
            if geteuid() == 0 { switches.append("--no-sandbox") }
            let finished = try ChildProcess(chromium, switches + [base + url], stderr: .discard).run(timeout: .seconds(90))
            return finished.stdoutText
        }
        let feed = try dumpDOM(feedURL)
        #expect(feed.contains("feedmarker-batch-0"), "\(feed.prefix(2000))")
        let page = try dumpDOM(pageURL)
        // Written by the page's script from contacts.json, itself answered from the WARC.
        #expect(page.contains("nightdesk@rendered-by-script.example"), "\(page.prefix(3000))")
    }

    @Test("a browser capture exports to a bag and a WACZ that verify")
    func exportBrowserCapture() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/fetch-text.html")
            #expect(page.result.status == 0, "\(page.result.stderr)")
            let out = TemporaryDirectory("browser-export")
            for target in [out.path + "/bag", out.path + "/case.wacz"] {
                let export = try exhibit.run(["export", page.caseID, "--out", target, "--workspace", page.ws.root, "--actor", page.ws.investigatorID])
                #expect(export.status == 0, "\(export.stderr)")
                let verify = try exhibit.run(["verify", target])
                #expect(verify.status == 0, "\(target): \(verify.stdout) \(verify.stderr)")
            }
        }
    }

    @Test("--depth 1 follows the links of the rendered DOM, obeying robots.txt")
    func depthFollowsRenderedLinks() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let page = try await capture(site.baseURL + "/js/links.html", ["--depth", "1", "--delay", "0"])
            #expect(page.result.status == 0, "\(page.result.stderr)")
            let captures = try page.entries("capture")
            let pages = captures.filter { $0.subject?["mode"]?.stringValue == "browser" }.compactMap { $0.subject?["url"]?.stringValue }
            #expect(pages == [site.baseURL + "/js/links.html", site.baseURL + "/js/spa.html"], "\(pages)")
            let spa = try #require(captures.first { $0.subject?["url"]?.stringValue == site.baseURL + "/js/spa.html" })
            #expect(spa.subject?["depth"]?.intValue == 1)
            #expect(spa.subject?["parent"]?.stringValue == site.baseURL + "/js/links.html")
            #expect(captures.contains { $0.subject?["role"]?.stringValue == "robots" })
            #expect(!site.requests().contains { $0.path.hasPrefix("/private/") })
            #expect(page.result.stdout.contains("skipped (robots.txt) \(site.baseURL)/private/secret.html"), "\(page.result.stdout)")
            #expect(!(try page.search("spamarker-profile")).isEmpty)
            let verify = try exhibit.run(["verify", page.caseID, "--workspace", page.ws.root])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
    }

    @Test("a page whose image stalls holds only itself: the other page of the job is captured in its own time")
    func stalledSubresourceHoldsOnlyItsPage() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("exhibit-stall-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("""
        <!doctype html><html><head><title>Stalled</title></head><body><p>stallmarker</p>
        <img src="/test/stall?seconds=60" alt="never arrives"></body></html>
        """.utf8).write(to: URL(fileURLWithPath: folder + "/stalled.html"))
        try Data("""
        <!doctype html><html><head><title>Quick</title></head><body><p id="out">loading</p>
        <script>document.getElementById("out").textContent = "quickmarker written by script";</script></body></html>
        """.utf8).write(to: URL(fileURLWithPath: folder + "/quick.html"))
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: folder) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let pageSeconds = 20.0
            let result = try await Blocking.run {
                try exhibit.run(["capture", caseID, site.baseURL + "/stalled.html", site.baseURL + "/quick.html", "--browser", "--wait", "0.5",
                                 "--timeout", "\(Int(pageSeconds))", "--workspace", ws.root, "--actor", ws.investigatorID,
                                 "--allow-network", "127.0.0.2/32", "--reason", "stall test"])
            }
            #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
            #expect(site.requests().contains { $0.uri == "/test/stall?seconds=60" }, "\(site.requests())")
            let captures = try ws.entries(caseID).filter { $0.action == "capture" }
            func seconds(_ time: String?) -> Double {
                let clock = (time ?? "").split(separator: "T").last?.dropLast().split(separator: ":").compactMap { Double($0) } ?? []
                return clock.count == 3 ? clock[0] * 3600 + clock[1] * 60 + clock[2] : .nan
            }
            let quick = try #require(captures.first { $0.subject?["url"]?.stringValue == site.baseURL + "/quick.html" })
            let quickSeconds = seconds(quick.subject?["ended"]?.stringValue) - seconds(quick.subject?["started"]?.stringValue)
            // Its own load and settle time, far below the stalled page's limit it used to wait out.
            #expect(quickSeconds < pageSeconds / 2, "the quick page took \(quickSeconds) s")
            #expect(quick.subject?["settled"]?.boolValue == true)
            let stalled = try #require(captures.first { $0.subject?["url"]?.stringValue == site.baseURL + "/stalled.html" })
            #expect(stalled.subject?["settled"]?.boolValue == false)
            // Ended by its own time limit; the transfer still running then is not recorded.
            #expect(!(stalled.subject?["records"]?.arrayValue ?? []).contains { $0["target_uri"]?.stringValue == site.baseURL + "/test/stall?seconds=60" })
            let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
    }

    @Test("a kill -9 during a browser capture leaves a case that verifies")
    func killDuringBrowserCapture() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: Self.site) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            var random = SeededRandom()
            for round in 0..<4 {
                let delay = Int.random(in: 300...3000, using: &random)
                let process = try exhibit.command(["capture", caseID, site.baseURL + "/js/feed.html", site.baseURL + "/js/fetch-text.html",
                                                   "--browser", "--wait", "0.5", "--workspace", ws.root, "--actor", ws.investigatorID,
                                                   "--allow-network", "127.0.0.2/32", "--reason", "kill test \(round)"],
                                                  stdout: .discard, stderr: .discard).start()
                try await Task.sleep(for: .milliseconds(delay))
                try await Blocking.run { process.killAndWait() }
                let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
                #expect(verify.status == 0, "round \(round), kill after \(delay) ms, \(random.replay): \(verify.stdout)")
            }
        }
    }

    @Test("--scroll and --wait without --browser are usage errors")
    func flagsNeedBrowser() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let result = try exhibit.run(["capture", caseID, "http://127.0.0.2:9/", "--scroll", "3", "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--browser"), "\(result.stderr)")
    }
}
