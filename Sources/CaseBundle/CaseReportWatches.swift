import CaseIndex

// The report's section on watched URLs (DESIGN §18): per URL, a timeline of what each
// re-capture found — captured, unchanged, changed (with the diff of its visible text),
// removed, unreachable. Shown between the artifacts and the custody timeline, only for
// cases that have watches.

extension CaseReport {
    static func watchesSection(_ facts: BundleFacts) -> String {
        guard !facts.watchTimelines.isEmpty else { return "" }
        var out = "<section id=\"watches\">\n<h2>3a. Watched URLs: what each re-capture found</h2>\n"
        out += "<p class=\"note\">A watch captures a URL again on a schedule; each run is a capture like any other, followed by a "
        out += "signed <code>change</code> entry comparing it with the previous capture of the URL: <em>unchanged</em> (same payload "
        out += "digest, or the same visible text, title, selectors and media), <em>changed</em> (listed, with the line diff of the "
        out += "visible text), <em>removed</em> (HTTP 404 or 410, a redirect to a login page, or a platform's notice that the "
        out += "content is not available) or <em>unreachable</em> (no answer; tried again at the next run).</p>\n"
        for timeline in facts.watchTimelines {
            out += "<h3 class=\"wrap\">\(text(timeline.url, url: true))</h3>\n"
            out += "<table class=\"watch-timeline\">\n<thead><tr><th>Time (UTC)</th><th>Result</th><th>Artifact</th><th>Compared with</th><th>What was found</th></tr></thead>\n<tbody>\n"
            for event in timeline.events {
                out += "<tr><td class=\"mono nowrap\">\(text(event.time))</td><td class=\"nowrap\">\(text(event.result))</td>"
                out += "<td class=\"mono nowrap\">\(event.artifact.map { "<a href=\"#\(anchor($0))\">\(text($0))</a>" } ?? "—")</td>"
                out += "<td class=\"mono nowrap\">\(event.previous.map { text($0) } ?? "—")</td>"
                out += "<td class=\"wrap-words\">\(text(event.summary))"
                if let diff = event.diff { out += "<pre>\(text(diff, multiline: true))</pre>" }
                out += "</td></tr>\n"
            }
            out += "</tbody>\n</table>\n"
        }
        return out + "</section>\n"
    }
}
