import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// `exhibit capture` skips the case's media analysis after a job of HTML pages only
/// (issue 25); the job says whether anything it fetched could be an image or a video.
@Suite("Capture: could the job hold media")
struct MediaHintTests {
    func capture(_ site: FixtureSite, _ paths: [String]) async throws -> CaptureReport {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        var options = CaptureOptions(urls: paths.map { site.baseURL + $0 })
        options.allowNetworks = ["127.0.0.1/32"]
        options.allowReason = "test fixture on loopback"
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        return try await Blocking.run { try job.run() }
    }

    @Test("a job of HTML pages holds no media; one with an image, or a body that does not start with markup, may")
    func hint() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let pages = try await capture(site, ["/forum.html", "/article.html", "/legacy-1252.html", "/test/status/404"])
            #expect(pages.captured.count == 4)
            #expect(!pages.mayHoldMedia)
            let image = try await capture(site, ["/forum.html", "/media/banner.png"])
            #expect(image.mayHoldMedia)
            // A chunked body starts with its chunk size, not markup: judged as possible media.
            let chunked = try await capture(site, ["/test/chunked"])
            #expect(chunked.mayHoldMedia)
        }
    }
}
