import CaseBundle
import Testing

/// A bundle with nothing in it still gets every numbered section, each with one muted
/// sentence instead of an empty table (issue 17: the sections share one helper).
@Suite("human report: empty sections")
struct CaseReportEmptySectionsTests {
    @Test("no actors, artifacts, entries or files: each section says so, as the report always wrote it")
    func emptySections() {
        let facts = BundleFacts(
            caseID: "OC-2026-0009", title: "Nothing yet", category: "online-crime", categoryTitle: "Crime perpetrated online",
            policySections: "IV.B.1.d", agency: "Riverside County Sheriff's Office", status: "open", fields: [:],
            openedAt: "2026-11-28T18:20:41.003000Z", closedAt: nil, actors: [], artifacts: [], timeline: [], files: [],
            verification: BundleFacts.Verification(intact: true, entries: 0, findings: []),
            ledgerHead: String(repeating: "0", count: 64), toolName: "Exhibit", toolVersion: "0.3.0")
        let html = String(decoding: CaseReport.html(for: facts) { _ in nil }, as: UTF8.self)
        for (id, heading, sentence) in [
            ("actors", "1. People who acted on the case", "No actors are recorded."),
            ("artifacts", "3. Artifacts", "This bundle holds no artifacts."),
            ("timeline", "4. Timeline of the custody ledger", "The ledger has no entries."),
            ("files", "5. Evidence files in this bundle", "No evidence files are listed."),
        ] {
            let section = "<section id=\"\(id)\">\n<h2>\(heading)</h2>\n<p><span class=\"muted\">\(sentence)</span></p>\n</section>\n"
            #expect(html.contains(section), "\(id)")
        }
        #expect(!html.contains("<tbody>"))
    }
}
