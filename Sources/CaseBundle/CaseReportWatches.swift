public import CaseIndex

// The report's section on watched URLs (DESIGN §18): per URL, a timeline of what each
// re-capture found — captured, unchanged, changed (with the diff of its visible text),
// removed, unreachable. Shown between the artifacts and the custody timeline, only for
// cases that have watches.

extension CaseReport {
    static func watchesSection(_ facts: BundleFacts) -> String {
        guard !facts.watchTimelines.isEmpty else { return "" }
        var out = "<section id=\"watches\">\n<h2>3a. Watched URLs: what each re-capture found</h2>\n"
        out += """
            <p class="note">A watch captures a URL again on a schedule; each run is a capture like any other, followed by a \
            signed <code>change</code> entry comparing it with the previous capture of the URL: <em>unchanged</em> (same payload \
            digest, or the same visible text, title, selectors and media), <em>changed</em> (listed, with the line diff of the \
            visible text), <em>removed</em> (HTTP 404 or 410, a redirect to a login page, or a platform's notice that the \
            content is not available) or <em>unreachable</em> (no answer; tried again at the next run).</p>\n
            """
        out += watchTables(facts.watchTimelines) { "#" + anchor($0) }
        return out + "</section>\n"
    }

    /// Per watched URL, its address and a table of what each run found, the diff under
    /// each change: the report's section and the case browser's case page show the same.
    /// `href` gives the link of an artifact (an in-page fragment here, a page there).
    public static func watchTables(_ timelines: [WatchTimeline], href: (String) -> String) -> String {
        var out = ""
        for timeline in timelines {
            out += "<h3 class=\"wrap\">\(text(timeline.url, url: true))</h3>\n"
            var rows = ""
            for event in timeline.events {
                rows += "<tr><td class=\"mono nowrap\">\(text(event.time))</td><td class=\"nowrap\">\(text(event.result))</td>"
                rows += "<td class=\"mono nowrap\">\(event.artifact.map { "<a href=\"\(href($0))\">\(text($0))</a>" } ?? "—")</td>"
                rows += "<td class=\"mono nowrap\">\(event.previous.map { text($0) } ?? "—")</td>"
                rows += "<td class=\"wrap-words\">\(text(event.summary))"
                if let diff = event.diff { rows += "<pre>\(text(diff, multiline: true))</pre>" }
                rows += "</td></tr>\n"
            }
            out += table(["Time (UTC)", "Result", "Artifact", "Compared with", "What was found"], class: "watch-timeline", rows: rows)
        }
        return out
    }
}
