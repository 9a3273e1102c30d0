import CaseIndex
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// The index is rebuilt from the WARC files and ledgers alone: the pages it
/// analyses again from the archived bytes must be the pages capture analysed.
@Suite("Workspace index")
struct WorkspaceIndexTests {
    func capture(_ ws: TestWorkspace, _ caseID: String, _ urls: [String]) async throws -> CaptureReport {
        var options = CaptureOptions(urls: urls)
        options.allowNetworks = ["127.0.0.1/32"]
        options.allowReason = "test fixture on loopback"
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        return try await Blocking.run { try job.run() }
    }

    @Test("chunked, gzip and windows-1252 pages are analysed from the WARC exactly as at capture")
    func reanalysisMatchesTheLedger() async throws {
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
                let artifact = try #require(artifacts.first { $0.seq == Int(entry.seq) })
                let text = try index.text(caseID: caseID, artifactID: artifact.id)
                guard let summary = entry.subject?["analysis"] else {
                    #expect(text == nil, "\(artifact.url) was not analysed at capture but is in the index")
                    continue
                }
                let indexed = try #require(text, "\(artifact.url)")
                #expect(Digest.sha256Hex(indexed) == summary["text_sha256"]?.stringValue, "\(artifact.url)")
                #expect(Int64(indexed.unicodeScalars.count) == summary["text_length"]?.intValue)
                analysed += 1
            }
            #expect(analysed == 4)
            func text(_ path: String) throws -> String {
                let artifact = try #require(artifacts.first { $0.url == site.baseURL + path })
                return try #require(try index.text(caseID: caseID, artifactID: artifact.id))
            }
            #expect(try text("/test/chunked").contains("The second paragraph arrived in a chunk of its own."))
            #expect(try text("/test/gzip").contains("This page was sent with Content-Encoding: gzip."))
            #expect(try text("/legacy-1252.html").contains("Café Müller’s “Spring” menu — €5 specials"))
            let legacy = try #require(captures.first { $0.subject?["url"]?.stringValue == site.baseURL + "/legacy-1252.html" })
            #expect(legacy.subject?["analysis"]?["charset"]?.stringValue == "windows-1252")
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
