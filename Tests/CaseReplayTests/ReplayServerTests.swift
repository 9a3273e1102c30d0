import CaseManagement
import CaseReplay
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// The replay server: loopback only, answers from the WARC files only.
@Suite("replay server")
struct ReplayServerTests {
    struct Fetched {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// `curl` as a client: `-x` sends proxy-form requests; no proxy from the environment.
    static func curl(_ arguments: [String]) throws -> Fetched {
        let directory = TemporaryDirectory("replay-curl")
        let result = try Command.run("/usr/bin/curl", ["-s", "--noproxy", "", "--max-time", "30", "-D", directory.child("h"),
                                                      "-o", directory.child("b"), "-w", "%{http_code} %{http_connect}"] + arguments,
                                     environment: ["PATH": "/usr/bin:/bin"])
        let codes = result.output.split(separator: " ").compactMap { Int($0) }
        var headers: [String: String] = [:]
        let raw = (try? String(contentsOfFile: directory.child("h"), encoding: .isoLatin1)) ?? ""
        for line in raw.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = (try? String(contentsOfFile: directory.child("b"), encoding: .utf8)) ?? ""
        return Fetched(status: codes.first.flatMap { $0 == 0 ? codes.dropFirst().first : $0 } ?? 0, headers: headers, body: body)
    }

    @Test("refuses to bind to anything but loopback, with one clear sentence")
    func loopbackOnly() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let archive = try ReplayArchive(caseDirectory: ws.caseDirectory(caseID))
        for host in ["0.0.0.0", "192.168.1.10", "10.0.0.1", "::", "example.org", "128.0.0.1", "localhost"] {
            do throws(ExhibitError) {
                let server = try await ReplayServer.start(archive: archive, host: host)
                await server.stop()
                Issue.record("bound to \(host)")
            } catch {
                #expect(error.message.contains("replay binds to loopback only"), "\(error.message)")
                #expect(error.code == .usage)
            }
        }
        let server = try await ReplayServer.start(archive: archive, host: "127.0.0.9")
        #expect(server.port > 0)
        #expect(server.baseURL.hasPrefix("http://127.0.0.9:"))
        await server.stop()
    }

    @Test("captured URLs replay from the WARC in route and proxy form; anything else is 404 and never fetched live")
    func replaysOnlyWhatWasCaptured() async throws {
        try await withFixtureSite(host: "127.0.0.3", siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            var options = CaptureOptions(urls: [site.baseURL + "/article.html", site.baseURL + "/test/redirect/2", site.baseURL + "/test/chunked"])
            options.allowNetworks = ["127.0.0.3/32"]
            options.allowReason = "fixture"
            let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
            let report = try await Blocking.run { try job.run() }
            #expect(report.captured.count == 3)
            let fetchedAtCapture = site.requests().count

            let archive = try ReplayArchive(caseDirectory: ws.caseDirectory(caseID))
            let article = try #require(archive.lookup(site.baseURL + "/article.html", near: nil))
            try await withStopping(try await ReplayServer.start(archive: archive, defaultTimestamp: article.timestamp), stop: { await $0.stop() }) { server in
                let fixture = try String(contentsOfFile: try #require(FixtureSite.defaultSiteDirectory) + "/article.html", encoding: .utf8)

                // Route form: the archived bytes, with a policy that keeps the page on the replay server.
                let routed = try await Blocking.run { try Self.curl([server.replayURL(site.baseURL + "/article.html", timestamp: article.timestamp)]) }
                #expect(routed.status == 200)
                #expect(routed.body == fixture)
                #expect(routed.headers["content-security-policy"]?.contains("default-src 'self'") == true)
                #expect(routed.headers["x-exhibit-record-id"] == article.recordID)

                // Proxy form, as a browser sends to an HTTP proxy.
                let proxied = try await Blocking.run { try Self.curl(["-x", server.baseURL, site.baseURL + "/article.html"]) }
                #expect(proxied.status == 200)
                #expect(proxied.body == fixture)

                // A chunked body is served de-chunked, without Transfer-Encoding.
                let chunked = try await Blocking.run { try Self.curl(["-x", server.baseURL, site.baseURL + "/test/chunked"]) }
                #expect(chunked.status == 200)
                #expect(chunked.headers["transfer-encoding"] == nil)
                #expect(chunked.headers["content-length"] == String(chunked.body.utf8.count))

                // Redirect hops replay as the redirects they were.
                let hop = try await Blocking.run { try Self.curl([server.replayURL(site.baseURL + "/test/redirect/2", timestamp: article.timestamp)]) }
                #expect(hop.status == 302)
                #expect(hop.headers["location"] == "/replay/\(article.timestamp)/\(site.baseURL)/test/redirect/1")
                let followed = try await Blocking.run { try Self.curl(["-L", "-x", server.baseURL, site.baseURL + "/test/redirect/2"]) }
                #expect(followed.status == 200)
                #expect(followed.body.contains("end of chain"))

                // Not captured: 404 with a page saying so, in every form; the fixture site, still
                // running, sees nothing.
                for arguments in [[server.replayURL(site.baseURL + "/forum.html", timestamp: article.timestamp)],
                                  ["-x", server.baseURL, site.baseURL + "/forum.html"],
                                  ["-x", server.baseURL, site.baseURL + "/media/banner.png"],
                                  ["-x", server.baseURL, "-X", "POST", "-d", "x=1", site.baseURL + "/article.html"]] {
                    let missing = try await Blocking.run { try Self.curl(arguments) }
                    #expect(missing.status == 404, "\(arguments)")
                    #expect(missing.body.contains("not captured"), "\(arguments)")
                }
                // https through the proxy (CONNECT) is refused.
                let tunnel = try await Blocking.run { try Self.curl(["-x", server.baseURL, "https://127.0.0.3:\(site.port)/article.html"]) }
                #expect(tunnel.status == 403)
                #expect(site.requests().count == fetchedAtCapture)

                let log = server.requests()
                #expect(log.filter(\.answeredFromWARC).count == 7, "\(log)")
                #expect(log.contains { $0.form == .connect && $0.status == 403 })
                #expect(log.filter { $0.status == 404 }.allSatisfy { !$0.answeredFromWARC })
            }
        }
    }
}
