import CaseBrowser
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// What the case browser refuses: non-loopback addresses, cases and blobs
/// that do not exist or are not recorded, readers without the role, forged
/// posts and requests for another host; and what it must never do: run a
/// captured page's script or let its markup out of the text.
@Suite("case browser guards")
struct BrowserGuardTests {
    @Test("only 127.0.0.0/8 and ::1 are accepted for binding; anything else is a usage error before binding")
    func loopbackOnly() async throws {
        for accepted in ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1"] {
            #expect(throws: Never.self, "\(accepted)") { try LoopbackAddress(accepted) }
        }
        for refused in ["0.0.0.0", "192.168.1.10", "10.0.0.1", "128.0.0.1", "::", "::ffff:127.0.0.1", "fe80::1", "localhost",
                        "example.org", "", "127.0.0.1 ", "127.0.0.1/8"] {
            do {
                _ = try LoopbackAddress(refused)
                Issue.record("\(refused) was accepted")
            } catch {
                #expect(error.code == .usage, "\(refused)")
                #expect(error.message.contains("loopback only"))
                #expect(!error.message.dropLast().contains("\n"), "one sentence")
            }
        }
        let ws = try TestWorkspace("exhibit-browser-bind")
        do {
            _ = try await BrowserServer.start(workspace: ws.workspace, actorID: ws.investigatorID, bind: "0.0.0.0", port: 0)
            Issue.record("the server started on 0.0.0.0")
        } catch {
            #expect(error.code.exitStatus == 2)
        }
        // A loopback address other than 127.0.0.1 works and the URL names it.
        let server = try await BrowserServer.start(workspace: ws.workspace, actorID: ws.investigatorID, bind: "127.0.0.2", port: 0)
        #expect(server.url.hasPrefix("http://127.0.0.2:"))
        #expect(try await LoopbackHTTP.get(server.url.replacingOccurrences(of: "127.0.0.2", with: "127.0.0.2")).status == 200)
        // A port in use: one sentence, storage error (exit 5), nothing else listening.
        do {
            _ = try await BrowserServer.start(workspace: ws.workspace, actorID: ws.investigatorID, bind: "127.0.0.2", port: server.port)
            Issue.record("a second server started on the same port")
        } catch {
            #expect(error.code.exitStatus == 5)
            #expect(error.message.hasPrefix("Cannot listen on 127.0.0.2:\(server.port)"), "\(error.message)")
        }
        await server.stop()
        // An unknown actor is refused before anything listens.
        await #expect(throws: ExhibitError.self) { _ = try await BrowserServer.start(workspace: ws.workspace, actorID: "a-9999", port: 0) }
    }

    @Test("unknown case 404, unrecorded blob 404, replay carries the sandbox CSP, hostile text escaped, pages carry the strict CSP")
    func notFoundReplayAndEscaping() async throws {
        let fixture = try await BrowserFixture.make()
        let caseID = fixture.caseID
        try await withStopping(try await fixture.start(), stop: { await $0.stop() }) { server in
            let before = try fixture.ws.entries(caseID).count

            for path in ["cases/OC-2026-9999", "cases/..%2F..%2Fkeys", "cases/OC-2026-9999/artifacts/A-0002", "nowhere",
                         "cases/\(caseID)/artifacts/A-9999", "cases/\(caseID)/artifacts/A-9999/replay"] {
                let reply = try await LoopbackHTTP.get(server.url + path)
                #expect(reply.status == 404, "\(path): \(reply.status)")
            }
            // A blob that is on disk but not recorded by the ledger is not served.
            let stray = Array("not evidence".utf8)
            let straySHA = Digest.sha256Hex(stray)
            let strayPath = fixture.ws.caseDirectory(caseID) + "/blobs/sha256/\(straySHA.prefix(2))/\(straySHA)"
            try FileManager.default.createDirectory(atPath: (strayPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(stray, to: strayPath)
            for sha in [straySHA, String(repeating: "0", count: 64), "../../ledger.jsonl"] {
                let reply = try await LoopbackHTTP.get(server.url + "cases/\(caseID)/blobs/\(sha)")
                #expect(reply.status == 404, "\(sha): \(reply.status)")
            }
            try FileManager.default.removeItem(atPath: strayPath)
            #expect(try fixture.ws.entries(caseID).count == before, "nothing was viewed, nothing recorded")

            // A recorded blob is served with its media type and recorded as a view.
            let png = try await LoopbackHTTP.get(server.url + "cases/\(caseID)/blobs/\(fixture.screenshotSHA256)")
            #expect(png.status == 200)
            #expect(png.header("Content-Type") == "image/png")
            #expect(png.body == CheckerboardPNG.bytes)
            let pdf = try await LoopbackHTTP.get(server.url + "cases/\(caseID)/blobs/\(fixture.pdfSHA256)")
            #expect(pdf.status == 200 && pdf.header("Content-Type") == "application/pdf")

            // The replay: the archived body, under the sandbox policy.
            let replay = try await LoopbackHTTP.get(server.url + String(ReplayLink.source(caseID: caseID, artifactID: fixture.hostileArtifact).dropFirst()))
            #expect(replay.status == 200)
            #expect(replay.header("Content-Security-Policy") == "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
            #expect(replay.header("X-Content-Type-Options") == "nosniff")
            #expect(replay.text.contains("<title>\(BrowserFixture.hostileTitleSource)</title>"), "the archived bytes, unchanged")
            #expect(replay.header("Content-Type")?.hasPrefix("text/html") == true)

            // The hostile title and case title stay text on every page.
            for path in ["", "cases/\(caseID)", "cases/\(caseID)/artifacts/\(fixture.hostileArtifact)"] {
                let page = try await LoopbackHTTP.get(server.url + path)
                #expect(page.status == 200, "\(path)")
                #expect(!page.text.lowercased().contains("<script"), "\(path) holds no script element")
                #expect(page.text.contains("&lt;script&gt;"), "\(path) shows the markup as text")
                #expect(page.header("Content-Security-Policy")?.hasPrefix("default-src 'none'") == true)
                #expect(page.header("X-Frame-Options") == "DENY")
                #expect(page.header("Cache-Control") == "no-store")
            }
            let artifactPage = try await LoopbackHTTP.get(server.url + "cases/\(caseID)/artifacts/\(fixture.hostileArtifact)")
            #expect(artifactPage.text.contains("Wanted &lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &amp; more"))
            #expect(!artifactPage.text.contains("src=\"http"), "no remote source anywhere")
            #expect(!artifactPage.text.contains("<link rel=\"stylesheet\" href=\"http"))
            let css = try await LoopbackHTTP.get(server.url + "assets/browser.css")
            #expect(css.status == 200 && !css.text.contains("url("), "the style sheet loads nothing")

            // The views of this test: two blobs, the replay, the case page once and the artifact page twice (the case list is not recorded).
            let views = try fixture.entries(after: before).filter { $0.action == "view" }
            #expect(views.compactMap { $0.subject?["viewed"]?.stringValue }.sorted() == ["artifact", "artifact", "blob", "blob", "case", "replay"])
        }
    }

    @Test("forged posts and foreign Host headers are refused; no verify or export entry is written")
    func crossSiteGuards() async throws {
        let fixture = try await BrowserFixture.make()
        let caseID = fixture.caseID
        try await withStopping(try await fixture.start(), stop: { await $0.stop() }) { server in
            let casePage = try await LoopbackHTTP.get(server.url + "cases/\(caseID)")
            let token = String(try #require(casePage.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.output.1))
            let before = try fixture.ws.entries(caseID).count
            let verify = server.url + "cases/\(caseID)/verify"

            #expect(try await LoopbackHTTP.postForm(verify, []).status == 403, "no token")
            #expect(try await LoopbackHTTP.postForm(verify, [("csrf", String(repeating: "0", count: 64))]).status == 403, "wrong token")
            #expect(try await LoopbackHTTP.postForm(verify, [("csrf", token)], headers: [("Origin", "http://evil.example")]).status == 403)
            #expect(try await LoopbackHTTP.postForm(verify, [("csrf", token)], headers: [("Sec-Fetch-Site", "cross-site")]).status == 403)
            let port = server.port
            // DNS rebinding: the browser connects here, but the Host names the attacker's domain.
            let rebound = try await LoopbackHTTP.get(server.url + "cases/\(caseID)", headers: [("Host", "evil.example:\(port)")])
            #expect(rebound.status == 421)
            #expect(try await LoopbackHTTP.postForm(verify, [("csrf", token)], headers: [("Host", "evil.example:\(port)")]).status == 421)
            #expect(try fixture.ws.entries(caseID).count == before, "nothing recorded for refused requests")

            // The same post from the page itself works; the export writes a new file and records it.
            let same = [("Origin", "http://127.0.0.1:\(port)"), ("Sec-Fetch-Site", "same-origin")]
            #expect(try await LoopbackHTTP.postForm(verify, [("csrf", token)], headers: same).status == 303)
            var outputs: [String] = []
            for format in ["bagit", "wacz", "bagit"] {
                let exported = try await LoopbackHTTP.postForm(server.url + "cases/\(caseID)/export", [("csrf", token), ("format", format)], headers: same)
                #expect(exported.status == 303, "\(exported.text)")
                let page = try await LoopbackHTTP.get(server.url + String(try #require(exported.header("Location")).dropFirst()))
                let output = String(try #require(page.text.firstMatch(of: /(\/[^<]*\/exports\/[A-Z]+-\d{4}-\d{4}-\d{8}T\d{6}Z(-\d+)?\.(zip|wacz))/)?.output.1))
                outputs.append(output)
                let sha = try #require(try Digest.file(atPath: output).digests[.sha256])
                #expect(page.text.contains(sha), "the page shows the file's sha256")
            }
            #expect(Set(outputs).count == 3, "no export overwrote another: \(outputs)")
            #expect(outputs.allSatisfy { $0.hasPrefix(fixture.ws.root + "/exports/\(caseID)-") })
            let bad = try await LoopbackHTTP.postForm(server.url + "cases/\(caseID)/export", [("csrf", token), ("format", "tar")])
            #expect(bad.status == 400)
            let added = try fixture.entries(after: before)
            // The first export numbers the case's exhibits (issue 23, DESIGN §21).
            #expect(added.map(\.action) == ["verify", "exhibit-number", "export", "export", "export"])
            #expect(added.allSatisfy { $0.actor == fixture.actorID })
            // A bundle made in the browser verifies like any other.
            let check = try ExhibitProcess().run(["verify", outputs[0]])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        }
    }

    @Test("a decision-maker gets 403 on a background investigation (recorded) and never sees it listed; Verify needs a custodian")
    func permissions() async throws {
        let ws = try TestWorkspace("exhibit-browser-roles")
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Sam Searcher", badge: "S-9", roles: [.investigator], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let decider = try registry.add(name: "Dee Decider", badge: "D-4", roles: [.analyst, .decisionMaker], actingActor: ws.supervisorID).id
        let bi = try ws.session(searcher).openCase(
            category: "background-investigation", title: "Candidate 1",
            fields: ["candidate_name": "Jordan Vale", "cohort": "2026-academy-1", "position": "dispatcher"]).id
        let other = try ws.openCase()

        let server = try await BrowserServer.start(workspace: ws.workspace, actorID: decider, port: 0)
        let list = try await LoopbackHTTP.get(server.url)
        #expect(list.status == 200)
        #expect(list.text.contains(other))
        #expect(!list.text.contains(bi), "a decision-maker never sees a background investigation listed")
        for path in ["cases/\(bi)", "cases/\(bi)/artifacts/A-0001", "cases/\(bi)/blobs/\(String(repeating: "a", count: 64))"] {
            let reply = try await LoopbackHTTP.get(server.url + path)
            #expect(reply.status == 403, "\(path): \(reply.status)")
            #expect(reply.text.contains("decision-maker"))
        }
        let refusals = try ws.entries(bi).filter { $0.action == "refusal" && $0.actor == decider }
        #expect(refusals.count == 3, "each refusal is recorded in the case")
        #expect(try ws.entries(bi).allSatisfy { $0.action != "view" })
        #expect(try await LoopbackHTTP.get(server.url + "cases/\(other)").status == 200)
        await server.stop()

        // The investigator reads but is no custodian: Verify is refused (403, recorded).
        let reader = try await BrowserServer.start(workspace: ws.workspace, actorID: ws.investigatorID, port: 0)
        let page = try await LoopbackHTTP.get(reader.url + "cases/\(other)")
        #expect(page.text.contains("Verify needs the custodian role."))
        let token = String(try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.output.1))
        let refused = try await LoopbackHTTP.postForm(reader.url + "cases/\(other)/verify", [("csrf", token)])
        #expect(refused.status == 403)
        #expect(try ws.entries(other).last?.action == "refusal")
        #expect(try ws.entries(other).allSatisfy { $0.action != "verify" })
        await reader.stop()

        // A custodian without a reading role cannot list cases (403, nothing to record).
        let custodian = try registry.add(name: "Kit Keeper", badge: "K-1", roles: [.custodian], actingActor: ws.supervisorID).id
        let keeper = try await BrowserServer.start(workspace: ws.workspace, actorID: custodian, port: 0)
        #expect(try await LoopbackHTTP.get(keeper.url).status == 403)
        await keeper.stop()
    }
}
