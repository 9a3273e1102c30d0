import CaseBundle
import CaseManagement

/// The browser's pages: plain HTML5 with one style sheet served by the binary,
/// no script, no external asset.
///
/// Everything shown comes from the evidence or from people (case titles,
/// captured page titles, URLs, finding text) and is escaped as in the bundle
/// report, with ``HTMLText``: the five HTML characters, and control and
/// direction-changing characters made visible. URLs from captures are text,
/// never links: following one would contact the suspect's server.
public enum BrowserPages {
    /// `/`: the cases by category.
    public static func caseList(_ list: CaseBrowsing.CaseList, agency: String) -> String {
        let groups = list.groups
        var body = "<h1>Cases</h1>\n"
        body += "<p class=\"note\">Case states from their ledgers. This list shows no evidence and is not recorded; "
        body += "opening a case, an artifact, a replay or a screenshot is recorded in that case's ledger as a <code>view</code> by you.</p>\n"
        if groups.isEmpty && list.unreadable.isEmpty { body += "<p class=\"muted\">No cases in this workspace.</p>\n" }
        for group in groups {
            let title = group.category?.title ?? group.id
            body += "<h2>\(h(title)) <span class=\"muted mono\">(\(h(group.id)))</span></h2>\n"
            var rows = ""
            for summary in group.cases {
                let state = summary.state
                rows += "<tr><td class=\"mono nowrap\"><a href=\"\(casePath(state.id))\">\(h(state.id))</a></td>"
                rows += "<td>\(h(state.title))</td><td>\(statusFlag(state.status))</td>"
                rows += "<td>\(state.onHold ? "<span class=\"flag hold\">on hold</span> \(h(state.holdReason ?? ""))" : "<span class=\"muted\">no</span>")</td>"
                rows += "<td>\(h(summary.retention))</td><td>\(summary.artifacts)</td>"
                rows += "<td class=\"mono\">\(h(state.openedAt))</td><td class=\"mono\">\(h(state.lastActivity))</td></tr>\n"
            }
            body += CaseReport.table(["Case", "Title", "Status", "Legal hold", "Retention", "Artifacts", "Opened (UTC)", "Last activity (UTC)"], rows: rows)
        }
        if !list.unreadable.isEmpty {
            body += "<h2>Cases that cannot be read</h2>\n<ul class=\"findings\">\n"
            for (id, problem) in list.unreadable { body += "<li>\(h(id)): \(h(problem))</li>\n" }
            body += "</ul>\n"
        }
        return page(title: "Cases", actor: list.actor, agency: agency, body: body)
    }

    /// `/cases/<ID>`.
    public static func casePage(_ view: CaseBrowsing.CaseView, agency: String, csrfToken: String) -> String {
        let state = view.state
        var body = "<h1><span class=\"mono\">\(h(state.id))</span> \(h(state.title))</h1>\n"
        body += "<table class=\"facts\">\n"
        body += row("Case id", "<span class=\"mono\">\(h(state.id))</span>")
        body += row("Category", "\(h(view.category?.title ?? state.category)) <span class=\"muted mono\">(\(h(state.category)))</span>")
        body += row("Status", statusFlag(state.status))
        body += row("Legal hold", state.onHold ? "<span class=\"flag hold\">on hold</span> \(h(state.holdReason ?? ""))" : "no")
        body += row("Retention", h(view.retention))
        body += row("Opened (UTC)", "<span class=\"mono\">\(h(state.openedAt))</span> by <span class=\"mono\">\(h(state.openedBy))</span>")
        if let closed = state.closedAt { body += row("Closed (UTC)", "<span class=\"mono\">\(h(closed))</span>") }
        for name in state.fields.keys.sorted() {
            body += "<tr><th>\(h(name))</th><td>\(h(state.fields[name] ?? ""))</td></tr>\n"
        }
        if let custodian = state.custody.last { body += row("Custodian", "<span class=\"mono\">\(h(custodian.actor))</span> since <span class=\"mono\">\(h(custodian.from))</span>") }
        body += row("Ledger", "\(view.entries.count) entries; head <span class=\"mono wrap\">\(h(state.ledgerHead))</span>")
        body += "</table>\n"

        body += "<h2>Verify and export</h2>\n<div class=\"actions\">\n"
        if Permission.verify.allows(view.actor) {
            body += "<form method=\"post\" action=\"\(casePath(state.id))/verify\">\(csrf(csrfToken))"
            body += "<button type=\"submit\">Verify the case</button></form>\n"
        } else {
            body += "<span class=\"note\">Verify needs the custodian role.</span>\n"
        }
        if Permission.export.allows(view.actor) {
            for (format, label) in [("bagit", "Export BagIt bag (.zip)"), ("wacz", "Export WACZ (.wacz)")] {
                body += "<form method=\"post\" action=\"\(casePath(state.id))/export\">\(csrf(csrfToken))"
                body += "<input type=\"hidden\" name=\"format\" value=\"\(format)\"><button type=\"submit\">\(label)</button></form>\n"
            }
        } else {
            body += "<span class=\"note\">Export needs the analyst role.</span>\n"
        }
        body += "</div>\n<p class=\"note\">Verify runs <code>exhibit verify \(h(state.id))</code> and records a <code>verify</code> entry; "
        body += "export writes a new file under the workspace's <code>exports/</code> folder and records an <code>export</code> entry.</p>\n"

        body += artifactsSection(view)

        // Screenshots of the artifacts listed above only: a page of 50 rows, not every render of the case.
        let shots = view.renderings.compactMap { rendering in
            rendering.files.isEmpty ? nil : view.shown.items.first { rendering.renders($0) }.map { (rendering, $0) }
        }
        if !shots.isEmpty {
            body += "<h2>Screenshots of the artifacts on this page</h2>\n"
            for (rendering, artifact) in shots {
                body += renderingBlock(rendering, caseID: state.id, artifact: artifact, thumbnail: true)
            }
        }

        body += importsSection(view)
        body += watchesSection(view)

        let timeline = view.timeline
        body += "<h2 id=\"timeline\">Custody timeline</h2>\n"
        body += "<p class=\"note\">Entries \(timeline.offset + 1)–\(timeline.offset + timeline.items.count) of \(timeline.total), "
        body += "in ledger order\(timeline.pageCount > 1 ? "; the newest are on the last page" : "").</p>\n"
        body += pager(timeline.page, of: timeline.pageCount, caseID: state.id, anchor: "timeline") { view.query.link(timelinePage: $0) }
        var rows = ""
        for entry in timeline.items {
            rows += "<tr><td>\(entry.seq)</td><td class=\"mono nowrap\">\(h(entry.time))</td><td class=\"mono\">\(h(entry.actor))</td>"
            rows += "<td>\(h(entry.action))</td><td class=\"wrap\">\(h(summary(entry)))</td></tr>\n"
        }
        body += CaseReport.table(["Seq", "Time (UTC)", "Actor", "Action", "Summary"], rows: rows)
        body += pager(timeline.page, of: timeline.pageCount, caseID: state.id, anchor: "timeline") { view.query.link(timelinePage: $0) }
        return page(title: state.id, actor: view.actor, agency: agency, body: body, viewSeq: view.view.seq)
    }

    /// The case page's artifacts: the filter form, one page of rows, and the
    /// links to the other pages.
    static func artifactsSection(_ view: CaseBrowsing.CaseView) -> String {
        let caseID = view.state.id
        let query = view.query
        let shown = view.shown
        var body = "<h2 id=\"artifacts\">Artifacts (\(view.artifacts.count))</h2>\n"
        guard !view.artifacts.isEmpty else { return body + "<p class=\"muted\">Nothing captured yet.</p>\n" }

        body += "<form class=\"filter\" method=\"get\" action=\"\(casePath(caseID))#artifacts\">\n"
        body += "<label>URL contains<input type=\"search\" name=\"url\" value=\"\(attr(query.url))\"></label>\n"
        body += "<label>Type<select name=\"type\"><option value=\"\">any</option>"
        for type in view.mediaTypes {
            body += "<option value=\"\(attr(type))\"\(type == query.type ? " selected" : "")>\(h(type))</option>"
        }
        body += "</select></label>\n<label>HTTP status<select name=\"status\"><option value=\"\">any</option>"
        let classes = Set(view.statuses.map { $0 / 100 }).sorted().map { "\($0)xx" }
        for status in classes + view.statuses.map(String.init) {
            body += "<option value=\"\(attr(status))\"\(status == query.status ? " selected" : "")>\(h(status))</option>"
        }
        body += "</select></label>\n"
        if view.readsEvidence {
            body += "<label>Words in the page<input type=\"search\" name=\"q\" value=\"\(attr(query.text))\"></label>\n"
        }
        body += "<button type=\"submit\">Show</button>"
        if query.isFiltered { body += " <a href=\"\(casePath(caseID))#artifacts\">Show all</a>" }
        body += "\n</form>\n"

        var described: [String] = []
        if !query.url.isEmpty { described.append("URL contains “\(h(query.url))”") }
        if !query.type.isEmpty { described.append("type \(h(query.type))") }
        if !query.status.isEmpty { described.append("HTTP status \(h(query.status))") }
        if !query.text.isEmpty { described.append("pages holding the words “\(h(query.text))”") }
        let range = shown.items.isEmpty ? "none" : "\(shown.offset + 1)–\(shown.offset + shown.items.count)"
        if query.isFiltered {
            body += "<p class=\"note\">\(shown.total) of \(view.artifacts.count) artifacts match (\(described.joined(separator: ", "))); showing \(range).</p>\n"
        } else {
            body += "<p class=\"note\">Showing \(range) of \(shown.total), \(CasePageQuery.pageSize) per page, in capture order.</p>\n"
        }
        if !view.readsEvidence {
            body += "<p class=\"note\">You hold the custodian role without a reading role: this page shows the digests and the "
            body += "custody of the evidence for verification, not its content (artifact pages, replays, screenshots and text search need "
            body += "the investigator, analyst or supervisor role).</p>\n"
        }
        guard !shown.items.isEmpty else { return body + "<p class=\"muted\">No artifact matches.</p>\n" }

        body += pager(shown.page, of: shown.pageCount, caseID: caseID, anchor: "artifacts") { query.link(page: $0) }
        let searching = !query.text.isEmpty
        var headings = ["Artifact", "URL", "Type", "Captured (UTC)", "HTTP status", "SHA-256"]
        if view.readsEvidence { headings.append("Selectors") }
        if searching { headings.append("Found in the text") }
        var rows = ""
        for artifact in shown.items {
            let id = view.readsEvidence ? "<a href=\"\(artifactPath(caseID, artifact.id))\">\(h(artifact.id))</a>" : h(artifact.id)
            let imported = artifact.imported == nil ? "" : "<br><span class=\"flag imported\">imported</span>"
            rows += "<tr><td class=\"mono nowrap\">\(id)\(imported)</td>"
            rows += "<td class=\"mono wrap\">\(url(artifact.url))\(artifact.title.map { "<br><span class=\"muted\">\(h($0))</span>" } ?? "")</td>"
            rows += "<td class=\"mono\">\(h(CasePageQuery.essence(artifact.contentType)))</td>"
            rows += "<td class=\"mono\">\(h(artifact.time))</td><td>\(artifact.status == 0 ? "-" : "\(artifact.status)")</td>"
            rows += "<td class=\"mono wrap\">\(h(artifact.sha256 ?? "-"))</td>"
            if view.readsEvidence { rows += "<td>\(view.selectorCounts[artifact.id] ?? 0)</td>" }
            if searching {
                // The snippet is page text: its line breaks are layout, not content worth a mark.
                let snippet = (view.snippets[artifact.id] ?? "").split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" }).joined(separator: " ")
                rows += "<td class=\"snippet\">\(h(snippet))</td>"
            }
            rows += "</tr>\n"
        }
        body += CaseReport.table(headings, rows: rows)
        body += pager(shown.page, of: shown.pageCount, caseID: caseID, anchor: "artifacts") { query.link(page: $0) }
        return body
    }

    /// Links to the first, previous, nearby, next and last pages; nothing when
    /// there is one page. `link` gives the query string of a page.
    static func pager(_ current: Int, of count: Int, caseID: String, anchor: String, link: (Int) -> String) -> String {
        guard count > 1 else { return "" }
        func item(_ page: Int, _ label: String) -> String {
            page == current ? "<span class=\"current\">\(label)</span>"
                : "<a href=\"\(casePath(caseID))\(attr(link(page)))#\(anchor)\">\(label)</a>"
        }
        var items: [String] = []
        if current > 1 { items.append(item(1, "« First")); items.append(item(current - 1, "‹ Previous")) }
        for page in max(1, current - 3)...min(count, current + 3) { items.append(item(page, "\(page)")) }
        if current < count { items.append(item(current + 1, "Next ›")); items.append(item(count, "Last »")) }
        return "<nav class=\"pages\" aria-label=\"\(anchor) pages\">Page \(current) of \(count): \(items.joined(separator: " "))</nav>\n"
    }
}
