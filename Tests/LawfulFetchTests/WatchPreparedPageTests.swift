import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import PageAnalysis
import Testing
import WARC

/// A watch run's removal check reads a new page's title and text from the body the
/// capture job prepared (`CaptureSealObserver.prepared(_:)`) instead of reading the
/// record back from the WARC file: that body and content type must be exactly what the
/// read-back gives (`ArchivedResponse`, as `WorkspaceIndex.source` reads it), for plain,
/// chunked, gzip, doubly encoded, redirected and non-UTF-8 pages.
@Suite("Capture: the pages a job prepares read back from the WARC file as handed over")
struct WatchPreparedPageTests {
    /// Records what the job hands over; appends nothing of its own.
    final class Recorder: CaptureSealObserver, @unchecked Sendable {
        private let lock = NSLock()
        private var pages: [String: PreparedPage] = [:]
        private(set) var seals = 0

        func willSeal() {}
        func sealed(_ entries: [LedgerEntry]) { lock.withLock { seals += 1 } }
        func prepared(_ page: PreparedPage) { lock.withLock { pages[page.url] = page } }
        var all: [String: PreparedPage] { lock.withLock { pages } }
    }

    @Test("each prepared page's body, type, final URL and digest are its record's as read back, and so are its title and text")
    func preparedIsReadBack() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let paths = ["/test/pages/0?count=3", "/test/chunked", "/test/gzip", "/test/redirect/2", "/legacy-1252.html",
                         "/article.html", "/test/screening/gzip-twice", "/test/screening/deflate-raw",
                         "/test/screening/no-content-type", "/test/status/404", "/test/login"]
            var options = CaptureOptions(urls: paths.map { site.baseURL + $0 })
            options.allowNetworks = ["127.0.0.1/32"]
            options.allowReason = "test"
            options.rotateURLs = 4
            let recorder = Recorder()
            options.sealObserver = recorder
            let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
            _ = try await Blocking.run { try job.run() }
            let prepared = recorder.all
            #expect(recorder.seals >= 3, "sealed in batches of 4")

            var compared = 0
            for entry in try ws.entries(caseID) where entry.action == "capture" {
                let subject = try #require(entry.subject)
                let url = try #require(subject["url"]?.stringValue)
                let isHTML = subject["content_type"]?.stringValue?.lowercased().contains("html") ?? false
                guard let page = prepared[url] else {
                    #expect(!isHTML, "an HTML page held in memory is handed over: \(url)")
                    continue
                }
                #expect(isHTML, "only HTML pages are handed over: \(url)")
                let response = try #require(subject["records"]?.arrayValue?.last { $0["type"]?.stringValue == "response" })
                let file = try #require(subject["warc"]?["file"]?.stringValue)
                let archived = try ArchivedResponse(warcPath: ws.caseDirectory(caseID) + "/" + file,
                                                    offset: try #require(response["offset"]?.intValue),
                                                    length: response["length"]?.intValue)
                #expect(page.html == archived.body, "\(url): the decoded body")
                #expect(page.contentType == (archived.contentType ?? subject["content_type"]?.stringValue), "\(url): the content type")
                #expect(page.finalURL == subject["final_url"]?.stringValue, "\(url): the final URL")
                #expect(page.payloadSHA256 == subject["payload_sha256"]?.stringValue, "\(url): the payload digest")
                for limit in [nil, 1, 40, 1001] as [Int?] {
                    let mine = AnalyzedPage.titleAndText(html: page.html, contentType: page.contentType, textLimit: limit)
                    let back = AnalyzedPage.titleAndText(html: archived.body, contentType: archived.contentType ?? subject["content_type"]?.stringValue,
                                                         textLimit: limit)
                    #expect(mine.title == back.title && mine.text == back.text, "\(url) at \(limit.map(String.init) ?? "no limit")")
                }
                compared += 1
            }
            #expect(compared >= 8, "most pages were handed over and compared: \(compared) of \(paths.count)")
        }
    }
}
