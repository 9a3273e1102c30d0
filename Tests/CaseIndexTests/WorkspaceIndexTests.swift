import CaseIndex
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import PageAnalysis
import Testing

/// The index is rebuilt from the WARC files and ledgers alone: it analyses the
/// pages from the archived bytes (the capture entries hold no analysis, issue 25).
@Suite("Workspace index")
struct WorkspaceIndexTests {
    func capture(_ ws: TestWorkspace, _ caseID: String, _ urls: [String]) async throws -> CaptureReport {
        var options = CaptureOptions(urls: urls)
        options.allowNetworks = ["127.0.0.1/32"]
        options.allowReason = "test fixture on loopback"
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        return try await Blocking.run { try job.run() }
    }

    @Test("chunked, gzip and windows-1252 pages are analysed from the WARC; the capture entry holds no analysis")
    func reanalysisFromTheWARC() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let report = try await capture(ws, caseID, ["/test/chunked", "/test/gzip", "/legacy-1252.html", "/forum.html", "/media/banner.png"].map { site.baseURL + $0 })
            #expect(report.failed.isEmpty && report.refused.isEmpty)

            let index = try WorkspaceIndex(workspace: ws.workspace)
            let store = CaseStore(workspace: ws.workspace, templates: try CaseTemplates.load())
            try index.refresh(caseID: caseID, store: store)
            let artifacts = try index.artifacts(caseID: caseID)
            #expect(artifacts.count == 5)
            let captures = try ws.entries(caseID).filter { $0.action == "capture" }
            var analysed = 0
            for entry in captures {
                // Issue 25: the analysis is derived data, kept in the index, not in custody.
                #expect(entry.subject?["analysis"] == nil, "\(entry.seq)")
                let artifact = try #require(artifacts.first { $0.seq == Int(entry.seq) })
                let text = try index.text(caseID: caseID, artifactID: artifact.id)
                let isHTML = entry.subject?["content_type"]?.stringValue?.contains("html") == true
                #expect((text != nil) == isHTML, "\(artifact.url)")
                if text != nil { analysed += 1 }
            }
            #expect(analysed == 4)
            func text(_ path: String) throws -> String {
                let artifact = try #require(artifacts.first { $0.url == site.baseURL + path })
                return try #require(try index.text(caseID: caseID, artifactID: artifact.id))
            }
            #expect(try text("/test/chunked").contains("The second paragraph arrived in a chunk of its own."))
            #expect(try text("/test/gzip").contains("This page was sent with Content-Encoding: gzip."))
            #expect(try text("/legacy-1252.html").contains("Café Müller’s “Spring” menu — €5 specials"))
            // The files served as they are: the index's text is the analysis of their bytes,
            // and the capture entry's title the one that analysis finds.
            for path in ["/legacy-1252.html", "/forum.html"] {
                let entry = try #require(captures.first { $0.subject?["url"]?.stringValue == site.baseURL + path })
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try #require(FixtureSite.defaultSiteDirectory) + path)))
                let page = AnalyzedPage(html: bytes, url: site.baseURL + path, contentType: entry.subject?["content_type"]?.stringValue)
                #expect(try text(path) == page.text, "\(path)")
                #expect(page.title != nil && entry.subject?["title"]?.stringValue == page.title, "\(path)")
            }
        }
    }

    @Test("refresh indexes only new entries, and a second process's captures appear on the next refresh")
    func incrementalRefresh() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let store = CaseStore(workspace: ws.workspace, templates: try CaseTemplates.load())
            _ = try await capture(ws, caseID, [site.baseURL + "/classifieds.html"])
            let index = try WorkspaceIndex(workspace: ws.workspace)
            try index.refresh(store: store)
            #expect(try index.selectors(caseID: caseID).map(\.value).contains("+19725550147"))
            _ = try await capture(ws, caseID, [site.baseURL + "/report.html"])
            // A second handle on the same file, as another process would have.
            try WorkspaceIndex(workspace: ws.workspace).refresh(caseID: caseID, store: store)
            let phone = try #require(try index.selectors(caseID: caseID).first { $0.value == "+19725550147" })
            #expect(phone.occurrences.count == 3)
            #expect(Set(phone.occurrences.map(\.raw)) == ["(972) 555-0147", "972.555.0147", "+1 972 555 0147"])
            #expect(try index.artifacts(caseID: caseID).count == 2)
            // The index file is private, like the rest of the workspace.
            var info = stat()
            #expect(stat(ws.workspace.indexPath, &info) == 0 && info.st_mode & 0o077 == 0)
        }
    }
}
