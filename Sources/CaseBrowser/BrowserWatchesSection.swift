import CaseBundle

// The case page's watched URLs (DESIGN §18): per URL, what each run of its watches found,
// with the diff of each change, above the custody timeline.

extension BrowserPages {
    static func watchesSection(_ view: CaseBrowsing.CaseView) -> String {
        guard !view.watchTimelines.isEmpty else { return "" }
        var body = "<h2 id=\"watches\">Watched URLs</h2>\n"
        body += "<p class=\"note\">Each run of a watch captures the URL again and records a <code>change</code> entry comparing it "
        body += "with the previous capture: captured, unchanged, changed, removed or unreachable (<code>exhibit watch list</code>).</p>\n"
        body += CaseReport.watchTables(view.watchTimelines) { artifactPath(view.state.id, $0) }
        return body
    }
}
