import CaseBrowser
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Issues 20 and 22 in the case browser: photos taken in by the real `exhibit import`
/// (which analyses them with exiftool and PDQ), then shown by the real browser server
/// over loopback HTTP: the case page lists the imports with their source statement,
/// receiver and time; an artifact page shows the metadata panel and the same picture
/// in another case, and not an unrelated one.
@Suite("case browser: media metadata and imported evidence")
struct BrowserMediaTests {
    static let hostileSource = "USB stick from the complainant <script>alert('src')</script>"

    @Test("imports are listed with their receipt; the metadata panel and 'Same image elsewhere' come from the ledger and the PDQ index")
    func mediaPanelAndImports() async throws {
        let ws = try TestWorkspace("exhibit-browser-media")
        let first = try ws.openCase()
        let second = try ws.openCase()
        let inputs = TemporaryDirectory("exhibit-browser-media-in")
        try MediaSamples.photoSet(in: inputs.path)
        try MediaSamples.hostileSet(photo: inputs.child("photo.jpg"), in: inputs.path)
        let exhibit = ExhibitProcess()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let imports: [(String, [String], [String])] = [
            (first, ["photo.jpg"], ["--source", Self.hostileSource, "--received-from", "J. Witness", "--received-at", "2026-11-30T09:00:00Z"]),
            (first, ["bomb.jpg"], ["--source", "found on the suspect's laptop"]),
            (second, ["q40.jpg", "unrelated.jpg"], ["--source", "forum download by a colleague"]),
        ]
        for (caseID, files, receipt) in imports {
            let result = try await Blocking.run { try exhibit.run(["import", caseID] + files.map(inputs.child) + receipt + actor) }
            #expect(result.status == 0, "\(result.stderr)")
        }
        // `exhibit import` analysed the photos itself; find each file's artifact and its hash in the ledgers.
        func artifact(_ caseID: String, _ name: String) throws -> (id: String, pdq: String?) {
            let entries = try ws.entries(caseID)
            let entry = try #require(entries.first { $0.action == "import" && $0.subject?["file_name"]?.stringValue == name })
            let id = ArtifactID.forSeq(Int(entry.seq))
            let item = entries.filter { $0.action == "media-analysis" }.flatMap { $0.subject?["items"]?.arrayValue ?? [] }
                .first { $0["artifact"]?.stringValue == id }
            #expect(item != nil, "\(name) in \(caseID) was not analysed")
            return (id, item?["pdq"]?["hash"]?.stringValue)
        }
        let photo = try artifact(first, "photo.jpg")
        let bomb = try artifact(first, "bomb.jpg")
        let copy = try artifact(second, "q40.jpg")
        let unrelated = try artifact(second, "unrelated.jpg")
        let photoPDQ = try #require(photo.pdq)

        let server = try await BrowserServer.start(workspace: ws.workspace, actorID: ws.investigatorID, port: 0)
        try await withStopping(server, stop: { await $0.stop() }) { server in
            // The case page: each import with its statement (escaped), receiver, sender and time.
            let casePage = try await LoopbackHTTP.get(server.url + "cases/\(first)")
            #expect(casePage.status == 200)
            let caseHTML = casePage.text
            #expect(caseHTML.contains("Imported evidence (2)"), "\(caseHTML)")
            #expect(caseHTML.contains("USB stick from the complainant &lt;script&gt;alert(&#39;src&#39;)&lt;/script&gt;"), "statement escaped")
            #expect(!caseHTML.contains("<script>"))
            #expect(caseHTML.contains("J. Witness") && caseHTML.contains("2026-11-30T09:00:00Z") && caseHTML.contains(ws.investigatorID))
            #expect(caseHTML.contains("found on the suspect&#39;s laptop"))
            #expect(caseHTML.contains("<span class=\"flag imported\">imported</span>"))
            #expect(caseHTML.contains("href=\"/cases/\(first)/artifacts/\(photo.id)\""))

            // The photo's page: receipt rows, the metadata panel, and the copy in the other case.
            let before = try ws.entries(second).count
            let page = try await LoopbackHTTP.get(server.url + "cases/\(first)/artifacts/\(photo.id)")
            #expect(page.status == 200)
            let html = page.text
            for expected in ["Source statement", "J. Witness", "Media metadata", "48.858370", "2.294481", "ExhibitCam Model 22",
                             "ExhibitTest 1.0", "2026:11:28 13:20:00+01:00", "1,024 × 768 px", photoPDQ, "Same image elsewhere"] {
                #expect(html.contains(expected), "artifact page lacks \(expected)")
            }
            let similar = try #require(html.components(separatedBy: "id=\"similar\"").last)
            #expect(similar.contains("href=\"/cases/\(second)/artifacts/\(copy.id)\""), "the re-encoded copy in \(second)")
            #expect(!similar.contains("/artifacts/\(unrelated.id)\""), "the unrelated photo is not a match")
            // Showing the match is recorded in the case it comes from.
            let recorded = Array(try ws.entries(second).dropFirst(before))
            #expect(recorded.contains { $0.action == "view" && $0.subject?["command"]?.stringValue == "similar"
                && $0.subject?["artifacts"]?.arrayValue?.contains(.string(copy.id)) == true }, "\(recorded.map(\.action))")

            // A hostile file: its reason instead of metadata, and the page still answers.
            let bombPage = try await LoopbackHTTP.get(server.url + "cases/\(first)/artifacts/\(bomb.id)")
            #expect(bombPage.status == 200)
            #expect(bombPage.text.contains("metadata unavailable"), "\(bombPage.text)")
        }
    }
}
