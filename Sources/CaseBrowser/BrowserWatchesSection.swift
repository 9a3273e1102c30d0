import CaseBundle
import CaseIndex

// The case page's watched URLs (DESIGN §18): per URL, what each run of its watches found,
// with the diff of each change, above the custody timeline.

extension BrowserPages {
    static func watchesSection(_ view: CaseBrowsing.CaseView) -> String {
        guard !view.watchTimelines.isEmpty else { return "" }
        var body = "<h2 id=\"watches\">Watched URLs</h2>\n"
        body += "<p class=\"note\">Each run of a watch captures the URL again and records a <code>change</code> entry comparing it "
        body += "with the previous capture: captured, unchanged, changed, removed or unreachable (<code>exhibit watch list</code>).</p>\n"
        for timeline in view.watchTimelines {
            body += "<h3 class=\"wrap\">\(h(timeline.url))</h3>\n"
            body += "<table>\n<thead><tr><th>Time (UTC)</th><th>Result</th><th>Artifact</th><th>Compared with</th><th>What was found</th></tr></thead>\n<tbody>\n"
            for event in timeline.events {
                body += "<tr><td class=\"mono nowrap\">\(h(event.time))</td><td>\(h(event.result))</td>"
                body += "<td class=\"mono\">\(event.artifact.map { "<a href=\"\(artifactPath(view.state.id, $0))\">\(h($0))</a>" } ?? "—")</td>"
                body += "<td class=\"mono\">\(event.previous.map { h($0) } ?? "—")</td>"
                body += "<td class=\"wrap\">\(h(event.summary))"
                if let diff = event.diff { body += "<pre>\(CaseReport.text(diff, multiline: true))</pre>" }
                body += "</td></tr>\n"
            }
            body += "</tbody>\n</table>\n"
        }
        return body
    }
}
