import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit watch` and `exhibit diff` with the real binary against the fixture
/// site's /test/watched page, whose version the test advances (DESIGN §18, issue 21).
@Suite("exhibit watch: scheduled re-capture with change records")
struct WatchCommandTests {
    let exhibit = ExhibitProcess()

    struct Bench {
        let ws: TestWorkspace
        let caseID: String
        let exhibit: ExhibitProcess

        var investigator: [String] { ["--workspace", ws.root, "--actor", ws.investigatorID] }
        var supervisor: [String] { ["--workspace", ws.root, "--actor", ws.supervisorID] }

        func run(_ arguments: [String], as actor: [String]? = nil) throws -> ExhibitProcess.Result {
            try exhibit.run(arguments + (actor ?? investigator))
        }

        /// The subjects of the case's `change` entries, in order.
        func changes() throws -> [JSONValue] {
            try ws.entries(caseID).filter { $0.action == "change" }.compactMap(\.subject)
        }

        /// `exhibit verify CASE` as the custodian must pass.
        func expectVerifies(_ step: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let verify = try run(["verify", caseID], as: supervisor)
            #expect(verify.status == 0, "verify after \(step): \(verify.stdout) \(verify.stderr)", sourceLocation: sourceLocation)
        }

        /// One `watch run`, then the change entry it added (exactly one).
        func runOnce(_ step: String, expectStatus: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
            let before = try changes().count
            let result = try run(["watch", "run"])
            #expect(result.status == expectStatus, "\(step): \(result.status) \(result.stdout) \(result.stderr)", sourceLocation: sourceLocation)
            let after = try changes()
            #expect(after.count == before + 1, "\(step): \(after.count) change entries, \(before) before", sourceLocation: sourceLocation)
            try expectVerifies(step, sourceLocation: sourceLocation)
            return after.last ?? .null
        }
    }

    static func strings(_ value: JSONValue?) -> [String] {
        value?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test("v1–v6: captured, unchanged, changed (text and phone), changed (image), removed (404), removed (notice), unreachable twice; diff, list and report")
    func versions() async throws {
        let ws = try TestWorkspace("exhibit-watch")
        let bench = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        let caseID = bench.caseID
        try await withFixtureSite(siteDirectory: nil) { site in
            let url = site.baseURL + "/test/watched"
            let add = try bench.run(["watch", "add", caseID, url, "--every", "6h", "--allow-network", "127.0.0.1/32", "--reason", "fixture site on loopback"])
            #expect(add.status == 0, "\(add.stderr)")
            let watchID = add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(WatchLedger.parse(watchID)?.caseID == caseID, "\(watchID)")
            let watchEntry = try #require(try ws.entries(caseID).last)
            #expect(watchEntry.action == "watch")
            #expect(watchEntry.subject?["every_seconds"]?.intValue == 21_600)
            #expect(Self.strings(watchEntry.subject?["network_override"]?["ranges"]) == ["127.0.0.1/32"])

            // v1: the first capture; nothing to compare with.
            site.watchedPageVersion = 1
            let first = try bench.runOnce("v1")
            #expect(first["result"]?.stringValue == "captured", "\(first)")
            #expect(first["watch"]?.stringValue == watchID)
            // Every run applies the sealed override and records it.
            #expect(try ws.entries(caseID).filter { $0.action == "policy-override" }.count == 1)

            // Not due again for six hours: --due captures nothing.
            let notDue = try bench.run(["watch", "run", "--due"])
            #expect(notDue.status == 0, "\(notDue.stderr)")
            #expect(notDue.stdout.contains("0 watches ran") && notDue.stdout.contains("1 not due"), "\(notDue.stdout)")
            #expect(try bench.changes().count == 1)

            // v1 again, without --due: same bytes.
            let same = try bench.runOnce("v1 again")
            #expect(same["result"]?.stringValue == "unchanged", "\(same)")
            #expect(same["basis"]?.stringValue == "payload-digest", "\(same)")
            #expect(same["previous"]?["artifact"]?.stringValue == first["capture"]?["artifact"]?.stringValue)

            // v2: one sentence edited, a phone number added.
            site.watchedPageVersion = 2
            let edited = try bench.runOnce("v2")
            #expect(edited["result"]?.stringValue == "changed", "\(edited)")
            #expect(edited["text"]?["lines_removed"]?.intValue == 1, "\(edited)")
            #expect(edited["text"]?["lines_added"]?.intValue == 2, "\(edited)")
            #expect(Self.strings(edited["text"]?["removed"]) == ["Meet at the north gate of Riverside Park on Friday at noon."], "\(edited)")
            #expect(Self.strings(edited["text"]?["added"]) == [
                "Meet at the south gate of Riverside Park on Saturday at noon.", "Rides: call +1 202-555-0143 before Thursday.",
            ], "\(edited)")
            #expect(Self.strings(edited["selectors"]?["added"]) == ["phone +12025550143"], "\(edited)")
            #expect(Self.strings(edited["selectors"]?["removed"]) == [], "\(edited)")
            #expect(Self.strings(edited["media"]?["added"]) == [] && Self.strings(edited["media"]?["removed"]) == [], "\(edited)")
            #expect(edited["title"] == nil, "\(edited)")

            // exhibit diff shows the edited sentence.
            let before = try #require(edited["previous"]?["artifact"]?.stringValue)
            let after = try #require(edited["capture"]?["artifact"]?.stringValue)
            let diff = try bench.run(["diff", before, after])
            #expect(diff.status == 0, "\(diff.stderr)")
            #expect(diff.stdout.contains("\n-Meet at the north gate of Riverside Park on Friday at noon.\n"), "\(diff.stdout)")
            #expect(diff.stdout.contains("\n+Meet at the south gate of Riverside Park on Saturday at noon.\n"), "\(diff.stdout)")
            #expect(diff.stdout.contains("\n Bring the banners we painted last week.\n"), "\(diff.stdout)")
            #expect(diff.stdout.hasPrefix("--- \(before) "), "\(diff.stdout)")
            let diffJSON = try bench.run(["diff", before, after, "--case", caseID, "--json"])
            let structured = try JSONValue(parsing: diffJSON.stdout)
            #expect(structured["result"]?.stringValue == "changed")
            #expect(Self.strings(structured["selectors_added"]) == ["phone +12025550143"], "\(diffJSON.stdout)")
            #expect(try ws.entries(caseID).last?.action == "view")

            // v3: an image removed.
            site.watchedPageVersion = 3
            let image = try bench.runOnce("v3")
            #expect(image["result"]?.stringValue == "changed", "\(image)")
            #expect(Self.strings(image["media"]?["removed"]) == [site.baseURL + "/test/watched-media/banner.png"], "\(image)")
            #expect(Self.strings(image["media"]?["added"]) == [], "\(image)")
            #expect(image["text"]?["lines_added"]?.intValue == 0 && image["text"]?["lines_removed"]?.intValue == 0, "\(image)")

            // v4: a 404.
            site.watchedPageVersion = 4
            let gone = try bench.runOnce("v4")
            #expect(gone["result"]?.stringValue == "removed", "\(gone)")
            #expect(gone["removal"]?["reason"]?.stringValue == "http-status" && gone["removal"]?["status"]?.intValue == 404, "\(gone)")

            // v5: a platform's notice with status 200.
            site.watchedPageVersion = 5
            let notice = try bench.runOnce("v5")
            #expect(notice["result"]?.stringValue == "removed", "\(notice)")
            #expect(notice["removal"]?["reason"]?.stringValue == "removal-text", "\(notice)")
            #expect(notice["removal"]?["text"]?.stringValue == "This content isn't available", "\(notice)")
            #expect(notice["capture"]?["status"]?.intValue == 200, "\(notice)")

            // v6: connection refused, twice; each retried and counted.
            await site.stop()
            let down = try bench.runOnce("v6", expectStatus: 6)
            #expect(down["result"]?.stringValue == "unreachable", "\(down)")
            #expect(down["unreachable"]?["consecutive"]?.intValue == 1, "\(down)")
            let stillDown = try bench.runOnce("v6 again", expectStatus: 6)
            #expect(stillDown["unreachable"]?["consecutive"]?.intValue == 2, "\(stillDown)")
            #expect(stillDown["previous"]?["artifact"]?.stringValue == notice["capture"]?["artifact"]?.stringValue, "\(stillDown)")

            let results = try bench.changes().compactMap { $0["result"]?.stringValue }
            #expect(results == ["captured", "unchanged", "changed", "changed", "removed", "removed", "unreachable", "unreachable"])

            let list = try bench.run(["watch", "list", caseID])
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("\(watchID)  every 6h  active  runs 8  last unreachable (2 in a row)"), "\(list.stdout)")
            let listJSON = try JSONValue(parsing: try bench.run(["watch", "list", "--json"]).stdout)
            #expect(listJSON["watches"]?.arrayValue?.first?["watch"]?["consecutive_unreachable"]?.intValue == 2)

            // The export's report shows the timeline, with the diff of the edit.
            let out = ws.directory.child("bag")
            let export = try bench.run(["export", caseID, "--out", out])
            #expect(export.status == 0, "\(export.stderr)")
            let report = String(decoding: try AtomicFile.read(out + "/data/report.html"), as: UTF8.self)
            #expect(report.contains("Watched URLs"), "no timeline in the report")
            #expect(report.contains(url))
            for result in ["captured", "unchanged", "changed", "removed", "unreachable"] {
                #expect(report.contains(">\(result)<"), "\(result) missing from the timeline")
            }
            #expect(report.contains("-Meet at the north gate of Riverside Park on Friday at noon."), "no diff in the report")
            #expect(try exhibit.run(["verify", out]).status == 0)

            // Removing the watch ends it; a later run captures nothing.
            let remove = try bench.run(["watch", "remove", watchID, "--reason", "case work done"])
            #expect(remove.status == 0, "\(remove.stderr)")
            #expect(try ws.entries(caseID).last?.action == "watch-removed")
            let afterRemoval = try bench.run(["watch", "run"])
            #expect(afterRemoval.stdout.contains("0 watches ran"), "\(afterRemoval.stdout)")
            try bench.expectVerifies("removal")
        }
    }

    @Test("the same payload is unchanged without a new removal check only under the patterns it passed; a notice stays removed")
    func unchangedPayloadAndRemovalPatterns() async throws {
        let ws = try TestWorkspace("exhibit-watch-patterns")
        let bench = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        // An agency's templates whose removal patterns also call the v1 page's sentence a notice.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CaseTemplates").path
        let templates = ws.directory.child("templates")
        try FileManager.default.copyItem(atPath: source, toPath: templates)
        let patternsPath = templates + "/removal-patterns.json"
        let patterns = String(decoding: try AtomicFile.read(patternsPath), as: UTF8.self)
        let extended = patterns.replacingOccurrences(of: #""patterns": ["#, with: #""patterns": [{"platform": "agency", "hosts": [], "texts": ["north gate of Riverside Park"]},"#)
        #expect(extended != patterns)
        try Data(extended.utf8).write(to: URL(fileURLWithPath: patternsPath))
        let agency = Bench(ws: ws, caseID: bench.caseID, exhibit: ExhibitProcess(environment: ["EXHIBIT_TEMPLATES": templates]))
        try await withFixtureSite(siteDirectory: nil) { site in
            let add = try bench.run(["watch", "add", bench.caseID, site.baseURL + "/test/watched", "--every", "6h",
                                     "--allow-network", "127.0.0.1/32", "--reason", "fixture site on loopback"])
            #expect(add.status == 0, "\(add.stderr)")
            // A lock file of one watch, as earlier versions made them, is cleared away.
            let watchID = add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let oldLock = ws.root + "/watches/" + watchID + ".lock"
            try? FileManager.default.createDirectory(atPath: ws.root + "/watches", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: oldLock, contents: Data()))
            site.watchedPageVersion = 1
            #expect(try bench.runOnce("v1")["result"]?.stringValue == "captured")
            #expect(!FileManager.default.fileExists(atPath: oldLock))
            #expect(FileManager.default.fileExists(atPath: ws.root + "/watches/" + bench.caseID + ".lock"))
            let same = try bench.runOnce("v1 again")
            #expect(same["result"]?.stringValue == "unchanged" && same["basis"]?.stringValue == "payload-digest", "\(same)")
            // The same bytes under other patterns are checked again, and now match.
            let judged = try agency.runOnce("v1 under the agency's patterns")
            #expect(judged["result"]?.stringValue == "removed", "\(judged)")
            #expect(judged["removal"]?["platform"]?.stringValue == "agency", "\(judged)")
            #expect(judged["removal_patterns_sha256"] != same["removal_patterns_sha256"], "\(judged)")
            // A notice captured again with the same bytes is removed again, not unchanged.
            site.watchedPageVersion = 5
            #expect(try bench.runOnce("v5")["result"]?.stringValue == "removed")
            let again = try bench.runOnce("v5 again")
            #expect(again["result"]?.stringValue == "removed", "\(again)")
            #expect(again["removal"]?["reason"]?.stringValue == "removal-text", "\(again)")
        }
    }

    @Test("the case browser's case page shows the watched URL's timeline with the diff")
    func caseBrowserTimeline() async throws {
        let ws = try TestWorkspace("exhibit-watch-serve")
        let bench = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        try await withFixtureSite(siteDirectory: nil) { site in
            let add = try bench.run(["watch", "add", bench.caseID, site.baseURL + "/test/watched", "--every", "1h",
                                     "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            #expect(add.status == 0, "\(add.stderr)")
            site.watchedPageVersion = 1
            _ = try bench.runOnce("v1")
            site.watchedPageVersion = 2
            _ = try bench.runOnce("v2")
        }
        let serve = try exhibit.command(["serve", "--port", "0"] + bench.investigator, stderr: .discard).start()
        defer { if serve.isRunning { _ = serve.killAndWait() } }
        let line = try await Blocking.run { serve.firstLine() ?? "" }
        let base = try #require(line.firstMatch(of: /(http:\/\/127\.0\.0\.1:\d+\/)/)?.output.1, "first line: \(line)")
        let page = try Command.run("/usr/bin/curl", ["-sS", "--max-time", "30", "\(base)cases/\(bench.caseID)"])
        #expect(page.status == 0, "\(page.output.prefix(300))")
        #expect(page.output.contains("<h2 id=\"watches\">Watched URLs</h2>"), "\(page.output.prefix(2000))")
        // The report's watch table (CaseReport.watchTables), shared by the case page.
        #expect(page.output.contains("<td class=\"nowrap\">changed</td>") && page.output.contains("<td class=\"nowrap\">captured</td>"))
        #expect(page.output.contains("-Meet at the north gate of Riverside Park on Friday at noon."), "no diff on the case page")
        serve.signal(SIGINT)
        _ = try await serve.waitAsync(timeout: .seconds(15))
    }

    @Test("two watch run --due processes at once capture each due watch exactly once")
    func concurrentRuns() async throws {
        let ws = try TestWorkspace("exhibit-watch-lock")
        let bench = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        try await withFixtureSite(siteDirectory: nil) { site in
            // Slow answers, so the two runs overlap.
            let urls = (0..<6).map { site.baseURL + "/test/stall?seconds=0.4&n=\($0)" }
            for url in urls {
                let add = try bench.run(["watch", "add", bench.caseID, url, "--every", "1d", "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
                #expect(add.status == 0, "\(add.stderr)")
            }
            let command = ["watch", "run", "--due"] + bench.investigator
            let one = try exhibit.command(command).start()
            let two = try exhibit.command(command).start()
            let first = try await one.waitAsync(timeout: .seconds(120))
            let second = try await two.waitAsync(timeout: .seconds(120))
            #expect(first.status == 0, "\(first.stdoutText) \(first.stderrText)")
            #expect(second.status == 0, "\(second.stdoutText) \(second.stderrText)")
            let changes = try bench.changes()
            #expect(changes.count == urls.count, "\(changes.count) change entries for \(urls.count) watches")
            for url in urls {
                #expect(changes.filter { $0["url"]?.stringValue == url }.count == 1, "\(url)")
                let path = String(url.dropFirst(site.baseURL.count))
                #expect(site.requests().filter { $0.uri == path }.count == 1, "\(path) fetched more than once")
            }
            #expect(Set(changes.compactMap { $0["result"]?.stringValue }) == ["captured"])
            try bench.expectVerifies("two runs")
        }
    }

    @Test("a watch on a closed or held case stops with a clear line and captures nothing")
    func stoppedCases() async throws {
        let ws = try TestWorkspace("exhibit-watch-stop")
        let held = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        let closed = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        try await withFixtureSite(siteDirectory: nil) { site in
            for bench in [held, closed] {
                let add = try bench.run(["watch", "add", bench.caseID, site.baseURL + "/test/watched", "--every", "1h",
                                         "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
                #expect(add.status == 0, "\(add.stderr)")
            }
            #expect(try held.run(["hold", held.caseID, "--reason", "civil suit"], as: held.supervisor).status == 0)
            #expect(try closed.run(["case", "close", closed.caseID], as: closed.supervisor).status == 0)
            let run = try held.run(["watch", "run"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("stopped: case \(held.caseID) is on legal hold"), "\(run.stderr)")
            #expect(run.stderr.contains("stopped: case \(closed.caseID) is closed"), "\(run.stderr)")
            #expect(site.requests().isEmpty)
            #expect(try held.changes().isEmpty && closed.changes().isEmpty)
            let list = try held.run(["watch", "list"])
            #expect(list.stdout.contains("stopped (case on hold)") && list.stdout.contains("stopped (case closed)"), "\(list.stdout)")
            // Adding to a held case is refused (exit 4) and recorded.
            let refused = try held.run(["watch", "add", held.caseID, site.baseURL + "/", "--every", "1h"])
            #expect(refused.status == 4, "\(refused.stderr)")
            #expect(try ws.entries(held.caseID).last?.action == "refusal")
            try held.expectVerifies("held")
            try closed.expectVerifies("closed")
        }
    }

    @Test("bad input: an interval, an end in the past, a URL with credentials, an unknown watch")
    func badInput() throws {
        let ws = try TestWorkspace("exhibit-watch-input")
        let bench = Bench(ws: ws, caseID: try ws.openCase(), exhibit: exhibit)
        let before = try ws.entries(bench.caseID).count
        let interval = try bench.run(["watch", "add", bench.caseID, "https://example.org/", "--every", "soon"])
        #expect(interval.status == 2 && interval.stderr.contains("--every"), "\(interval.stderr)")
        let short = try bench.run(["watch", "add", bench.caseID, "https://example.org/", "--every", "30s"])
        #expect(short.status == 2 && short.stderr.contains("once a minute"), "\(short.stderr)")
        let past = try bench.run(["watch", "add", bench.caseID, "https://example.org/", "--every", "1h", "--until", "2001-01-01"])
        #expect(past.status == 2 && past.stderr.contains("--until"), "\(past.stderr)")
        let credentials = try bench.run(["watch", "add", bench.caseID, "https://user:pw@example.org/", "--every", "1h"])
        #expect(credentials.status == 3, "\(credentials.stderr)")
        let reasonOnly = try bench.run(["watch", "add", bench.caseID, "https://example.org/", "--every", "1h", "--reason", "x"])
        #expect(reasonOnly.status == 2, "\(reasonOnly.stderr)")
        #expect(try ws.entries(bench.caseID).count == before, "bad input wrote to the ledger")
        let unknown = try bench.run(["watch", "remove", bench.caseID + "-W0099"])
        #expect(unknown.status == 5 && unknown.stderr.contains("no watch"), "\(unknown.stderr)")
        let notAnID = try bench.run(["watch", "remove", "W1"])
        #expect(notAnID.status == 5, "\(notAnID.stderr)")
        for result in [interval, short, past, credentials, reasonOnly, unknown, notAnID] {
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }
}

/// `watch add --browser` (issue 21 with issue 19's browser capture): each run is a
/// browser capture, compared on its DOM, so text that a script fetched counts.
@Suite("exhibit watch --browser", .serialized)
struct BrowserWatchTests {
    @Test("a browser watch captures in browser mode and compares the DOM's text, not the HTML's digest")
    func browserWatch() async throws {
        let ws = try TestWorkspace("exhibit-watch-browser")
        let bench = WatchCommandTests.Bench(ws: ws, caseID: try ws.openCase(), exhibit: ExhibitProcess())
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let url = site.baseURL + "/js/fetch-text.html"
            let add = try bench.run(["watch", "add", bench.caseID, url, "--every", "1d", "--browser",
                                     "--allow-network", "127.0.0.2/32", "--reason", "fixture site"])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(try ws.entries(bench.caseID).last?.subject?["browser"]?.boolValue == true)
            let first = try await Blocking.run { try bench.runOnce("browser first") }
            #expect(first["result"]?.stringValue == "captured", "\(first)")
            let seq = try #require(first["capture"]?["seq"]?.intValue)
            let capture = try #require(try ws.entries(bench.caseID).first { $0.seq == seq })
            #expect(capture.subject?["mode"]?.stringValue == "browser", "\(String(describing: capture.subject))")
            let again = try await Blocking.run { try bench.runOnce("browser again") }
            #expect(again["result"]?.stringValue == "unchanged", "\(again)")
            #expect(again["basis"]?.stringValue == "visible-text", "\(again)")
        }
    }
}
