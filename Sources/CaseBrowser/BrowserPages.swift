public import CaseBundle
public import CaseManagement
public import ChainOfCustody
import Foundation

/// Where the artifact page's sandboxed replay frame points.
public enum ReplayLink {
    /// The artifact's own response record, alone: `/cases/<ID>/artifacts/<A>/replay`.
    public static func source(caseID: String, artifactID: String) -> String {
        "/cases/\(caseID)/artifacts/\(artifactID)/replay"
    }

    /// The route form the replay frame uses, `/cases/<ID>/artifacts/<A>/replay/<URL>`:
    /// the archived URL is in the path, so whatever the frame asks for under it
    /// (the page, and the images ``ReplayImageLinks`` points there) names the
    /// capture to answer from the WARC files, in the context of artifact `A`.
    public static func page(caseID: String, artifactID: String, url: String) -> String {
        source(caseID: caseID, artifactID: artifactID) + "/" + url
    }

    /// The frame's `src` for an artifact: the route form of the URL its response
    /// record was captured from (the record alone when that is no http(s) URL).
    public static func frame(caseID: String, artifact: BrowserArtifact) -> String {
        let url = artifact.responseRecord?.targetURI ?? artifact.finalURL ?? artifact.url
        let scheme = url.lowercased()
        guard scheme.hasPrefix("http://") || scheme.hasPrefix("https://") else {
            return source(caseID: caseID, artifactID: artifact.id)
        }
        return page(caseID: caseID, artifactID: artifact.id, url: url)
    }
}

/// The browser's pages: plain HTML5 with one style sheet served by the binary,
/// no script, no external asset.
///
/// Everything shown comes from the evidence or from people (case titles,
/// captured page titles, URLs, finding text) and is escaped with the bundle
/// report's escaper: the five HTML characters, and control and
/// direction-changing characters made visible. URLs from captures are text,
/// never links: following one would contact the suspect's server.
public enum BrowserPages {
    /// The style sheet at `/assets/browser.css`: the report's sober look, with
    /// system font stacks only (a web font would be a network request).
    public static let styleSheet = """
        :root { color-scheme: light; }
        html { background: #fff; color: #111; }
        body { font: 15px/1.45 "Segoe UI", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; margin: 0; }
        code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
        header.bar { background: #1d2b3a; color: #fff; padding: 0.6rem 1.5rem; display: flex; gap: 1.2rem; align-items: baseline; flex-wrap: wrap; }
        header.bar a { color: #fff; font-weight: 700; text-decoration: none; }
        header.bar .who { margin-left: auto; font-size: 0.9rem; }
        main { max-width: 76rem; margin: 1.2rem auto 2rem; padding: 0 1.5rem; }
        h1 { font-size: 1.5rem; margin: 0.4rem 0 0.6rem; }
        h2 { font-size: 1.15rem; margin: 1.8rem 0 0.5rem; padding-bottom: 0.2rem; border-bottom: 1px solid #888; }
        table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 1rem; }
        th, td { text-align: left; vertical-align: top; padding: 0.25rem 0.5rem; border: 1px solid #c8c8c8; }
        thead th { background: #eee; }
        table.facts th { width: 13rem; background: #f5f5f5; font-weight: 600; }
        .wrap { overflow-wrap: anywhere; word-break: break-all; }
        .nowrap { white-space: nowrap; }
        .muted { color: #555; }
        .note { font-size: 0.88rem; color: #444; }
        .flag { display: inline-block; padding: 0 0.4em; border-radius: 3px; font-size: 0.85em; font-weight: 600; }
        .flag.open { background: #e6f0fa; color: #1d4f80; }
        .flag.closed { background: #eee; color: #333; }
        .flag.hold { background: #fdecc8; color: #7a4b00; }
        .result { border: 2px solid #111; padding: 0.5rem 0.8rem; font-weight: 600; margin: 0.6rem 0; overflow-wrap: anywhere; }
        .result.intact { border-color: #2d6a2d; background: #f1f8f1; }
        .result.failed { border-color: #a40000; background: #fbeeee; }
        .findings li { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em; overflow-wrap: anywhere; }
        .actions { display: flex; gap: 0.8rem; flex-wrap: wrap; align-items: center; margin: 0.4rem 0 1rem; }
        .actions form { margin: 0; }
        button { font: inherit; padding: 0.3rem 0.9rem; border: 1px solid #1d2b3a; background: #f3f6f9; border-radius: 3px; cursor: pointer; }
        figure.shot { margin: 0.6rem 0 1rem; }
        figure.shot .frame { max-height: 48rem; overflow: auto; border: 1px solid #888; display: inline-block; max-width: 100%; }
        figure.shot img { display: block; max-width: 100%; height: auto; }
        figure.thumb img { max-width: 320px; max-height: 240px; width: auto; height: auto; object-fit: contain; object-position: top; border: 1px solid #888; }
        figcaption { font-size: 0.85rem; color: #444; }
        form.filter { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: flex-end; margin: 0.4rem 0 0.8rem;
                      padding: 0.6rem 0.8rem; background: #f5f7f9; border: 1px solid #d5dbe1; }
        form.filter label { display: flex; flex-direction: column; font-size: 0.85rem; color: #333; gap: 0.15rem; }
        form.filter input, form.filter select { font: inherit; padding: 0.2rem 0.35rem; border: 1px solid #999; border-radius: 2px; }
        form.filter input[name=url], form.filter input[name=q] { width: 16rem; }
        nav.pages { display: flex; flex-wrap: wrap; gap: 0.35rem 0.8rem; align-items: baseline; margin: 0.3rem 0 0.8rem; font-size: 0.92rem; }
        nav.pages .current { font-weight: 700; }
        td.snippet { font-size: 0.88rem; color: #333; overflow-wrap: anywhere; }
        iframe.replay { width: 100%; height: 40rem; border: 2px solid #1d2b3a; background: #fff; }
        .cc { font-family: "DejaVu Sans Mono", monospace; font-size: 0.72em; border: 1px solid #a40000; color: #a40000; padding: 0 0.15em; border-radius: 2px; }
        footer { max-width: 76rem; margin: 0 auto 2rem; padding: 0.4rem 1.5rem 0; border-top: 1px solid #888; font-size: 0.85rem; color: #444; }
        """

    // MARK: Pages

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
            body += "<table>\n<thead><tr><th>Case</th><th>Title</th><th>Status</th><th>Legal hold</th><th>Retention</th>"
            body += "<th>Artifacts</th><th>Opened (UTC)</th><th>Last activity (UTC)</th></tr></thead>\n<tbody>\n"
            for summary in group.cases {
                let state = summary.state
                body += "<tr><td class=\"mono nowrap\"><a href=\"\(casePath(state.id))\">\(h(state.id))</a></td>"
                body += "<td>\(h(state.title))</td><td>\(statusFlag(state.status))</td>"
                body += "<td>\(state.onHold ? "<span class=\"flag hold\">on hold</span> \(h(state.holdReason ?? ""))" : "<span class=\"muted\">no</span>")</td>"
                body += "<td>\(h(summary.retention))</td><td>\(summary.artifacts)</td>"
                body += "<td class=\"mono\">\(h(state.openedAt))</td><td class=\"mono\">\(h(state.lastActivity))</td></tr>\n"
            }
            body += "</tbody>\n</table>\n"
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

        let timeline = view.timeline
        body += "<h2 id=\"timeline\">Custody timeline</h2>\n"
        body += "<p class=\"note\">Entries \(timeline.offset + 1)–\(timeline.offset + timeline.items.count) of \(timeline.total), "
        body += "in ledger order\(timeline.pageCount > 1 ? "; the newest are on the last page" : "").</p>\n"
        body += pager(timeline.page, of: timeline.pageCount, caseID: state.id, anchor: "timeline") { view.query.link(timelinePage: $0) }
        body += "<table>\n<thead><tr><th>Seq</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>Summary</th></tr></thead>\n<tbody>\n"
        for entry in timeline.items {
            body += "<tr><td>\(entry.seq)</td><td class=\"mono nowrap\">\(h(entry.time))</td><td class=\"mono\">\(h(entry.actor))</td>"
            body += "<td>\(h(entry.action))</td><td class=\"wrap\">\(h(summary(entry)))</td></tr>\n"
        }
        body += "</tbody>\n</table>\n"
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
        body += "<table>\n<thead><tr><th>Artifact</th><th>URL</th><th>Type</th><th>Captured (UTC)</th><th>HTTP status</th><th>SHA-256</th>"
        if view.readsEvidence { body += "<th>Selectors</th>" }
        if searching { body += "<th>Found in the text</th>" }
        body += "</tr></thead>\n<tbody>\n"
        for artifact in shown.items {
            let id = view.readsEvidence ? "<a href=\"\(artifactPath(caseID, artifact.id))\">\(h(artifact.id))</a>" : h(artifact.id)
            body += "<tr><td class=\"mono nowrap\">\(id)</td>"
            body += "<td class=\"mono wrap\">\(url(artifact.url))\(artifact.title.map { "<br><span class=\"muted\">\(h($0))</span>" } ?? "")</td>"
            body += "<td class=\"mono\">\(h(CasePageQuery.essence(artifact.contentType)))</td>"
            body += "<td class=\"mono\">\(h(artifact.time))</td><td>\(artifact.status)</td>"
            body += "<td class=\"mono wrap\">\(h(artifact.sha256 ?? "-"))</td>"
            if view.readsEvidence { body += "<td>\(view.selectorCounts[artifact.id] ?? 0)</td>" }
            if searching {
                // The snippet is page text: its line breaks are layout, not content worth a mark.
                let snippet = (view.snippets[artifact.id] ?? "").split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" }).joined(separator: " ")
                body += "<td class=\"snippet\">\(h(snippet))</td>"
            }
            body += "</tr>\n"
        }
        body += "</tbody>\n</table>\n"
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

    /// `/cases/<ID>/artifacts/<ARTIFACT>`.
    public static func artifactPage(_ view: CaseBrowsing.ArtifactView, agency: String) -> String {
        let artifact = view.artifact
        let caseID = view.state.id
        var body = "<p class=\"note\"><a href=\"\(casePath(caseID))\">\(h(caseID))</a> · \(h(view.state.title))</p>\n"
        body += "<h1><span class=\"mono\">\(h(artifact.id))</span> \(h(artifact.title ?? ""))</h1>\n"
        body += "<table class=\"facts\">\n"
        body += row("Case id", "<span class=\"mono\">\(h(caseID))</span>")
        body += row("URL", "<span class=\"mono wrap\">\(url(artifact.url))</span>")
        body += row("Final URL", "<span class=\"mono wrap\">\(url(artifact.finalURL ?? artifact.url))</span>")
        var time = "<span class=\"mono\">\(h(artifact.time))</span> <span class=\"muted\">(response complete)</span>"
        if let started = artifact.started { time = "<span class=\"mono\">\(h(started))</span> <span class=\"muted\">(request sent)</span><br>" + time }
        body += row("Capture time (UTC)", time)
        body += row("HTTP status", "\(artifact.status)")
        body += row("Content type", h(artifact.contentType ?? "not recorded"))
        body += row("Size", artifact.size.map { "\($0) bytes" } ?? "not recorded")
        body += row("SHA-256", "<span class=\"mono wrap\">\(h(artifact.sha256 ?? "not recorded"))</span>")
        body += row("Captured by", "<span class=\"mono\">\(h(artifact.actor))</span> <span class=\"muted\">(ledger entry seq \(artifact.seq))</span>")
        if let ip = artifact.ip { body += row("IP address", "<span class=\"mono\">\(h(ip))</span>") }
        body += row("WARC file", "<span class=\"mono wrap\">\(h(artifact.warcFile ?? "not recorded"))</span>")
        if let blob = artifact.blobPath { body += row("Payload file", "<span class=\"mono wrap\">\(h(blob))</span>") }
        body += "</table>\n"

        body += "<h2>WARC records</h2>\n"
        body += "<table>\n<thead><tr><th>Record id</th><th>Type</th><th>Target URI</th><th>Offset</th><th>Block digest</th></tr></thead>\n<tbody>\n"
        for record in artifact.records {
            body += "<tr><td class=\"mono wrap\">\(h(record.id))</td><td>\(h(record.type))</td>"
            body += "<td class=\"mono wrap\">\(url(record.targetURI ?? ""))</td><td>\(record.offset.map(String.init) ?? "-")</td>"
            body += "<td class=\"mono wrap\">\(h(record.blockDigest ?? "-"))</td></tr>\n"
        }
        body += "</tbody>\n</table>\n"

        body += "<h2>Selectors (\(view.selectors.count))</h2>\n"
        if view.selectors.isEmpty {
            body += "<p class=\"muted\">No selectors found in this artifact.</p>\n"
        } else {
            body += "<table>\n<thead><tr><th>Kind</th><th>Value</th><th>As written</th><th>Other cases</th></tr></thead>\n<tbody>\n"
            for selector in view.selectors {
                let here = selector.occurrences.filter { $0.artifact == artifact.id }
                let raw = Array(Set(here.map(\.raw))).sorted()
                body += "<tr><td>\(h(selector.kind))</td><td class=\"mono wrap\">\(h(selector.value))</td>"
                body += "<td class=\"wrap\">\(raw.map { h($0) }.joined(separator: "<br>"))</td>"
                body += "<td class=\"mono\">\(h(selector.otherCases.joined(separator: ", ")))</td></tr>\n"
            }
            body += "</tbody>\n</table>\n"
        }

        if !view.renderings.isEmpty {
            body += "<h2>Screenshots</h2>\n"
            for rendering in view.renderings { body += renderingBlock(rendering, caseID: caseID, artifact: artifact, thumbnail: false) }
        }

        body += "<h2>Replay</h2>\n"
        body += "<p class=\"note\">The archived response body from the WARC record, in a sandboxed frame: no scripts, no "
        body += "same-origin access, and a Content-Security-Policy that lets it load nothing from the web. The page's images "
        body += "are answered from the case's WARC files when they were captured (their addresses in the copy shown here point "
        body += "at this server; the archived record is unchanged); an image that was not captured stays empty. Opening the "
        body += "frame, and each image it shows, is recorded as a <code>view</code>.</p>\n"
        body += "<iframe class=\"replay\" sandbox src=\"\(attr(ReplayLink.frame(caseID: caseID, artifact: artifact)))\" "
        body += "title=\"Replay of \(attr(artifact.id))\" referrerpolicy=\"no-referrer\"></iframe>\n"
        return page(title: "\(caseID) \(artifact.id)", actor: view.actor, agency: agency, body: body, viewSeq: view.view.seq)
    }

    /// The page after Verify: each finding and the summary, as `exhibit verify` prints them.
    public static func verificationPage(caseID: String, report: CaseVerification.Report, entry: LedgerEntry?, actor: Actor, agency: String) -> String {
        var body = "<p class=\"note\"><a href=\"\(casePath(caseID))\">\(h(caseID))</a></p>\n"
        body += "<h1>Verification of <span class=\"mono\">\(h(caseID))</span></h1>\n"
        body += "<p class=\"result \(report.intact ? "intact" : "failed")\">\(h(WorkspaceCaseCheck.summary(report)))</p>\n"
        if report.findings.isEmpty {
            body += "<p>Findings: none.</p>\n"
        } else {
            body += "<p>Findings:</p>\n<ul class=\"findings\">\n"
            for finding in report.findings { body += "<li>\(h(finding.line))</li>\n" }
            body += "</ul>\n"
        }
        if let entry {
            body += "<p class=\"note\">Recorded in the case's ledger as entry seq \(entry.seq) (<code>verify</code>) by "
            body += "<span class=\"mono\">\(h(entry.actor))</span> at <span class=\"mono\">\(h(entry.time))</span>.</p>\n"
        } else {
            body += "<p class=\"note\">The ledger refused the <code>verify</code> entry; the findings above say why.</p>\n"
        }
        return page(title: "Verification \(caseID)", actor: actor, agency: agency, body: body)
    }

    /// The page after Export: where the file is and its digest.
    public static func exportPage(caseID: String, result: CaseExport.Result, actor: Actor, agency: String) -> String {
        var body = "<p class=\"note\"><a href=\"\(casePath(caseID))\">\(h(caseID))</a></p>\n"
        body += "<h1>Export of <span class=\"mono\">\(h(caseID))</span></h1>\n"
        body += "<p class=\"result intact\">Exported \(result.artifacts) artifacts and \(result.entries) ledger entries.</p>\n"
        body += "<table class=\"facts\">\n"
        body += row("File", "<span class=\"mono wrap\">\(h(result.output))</span>")
        body += row("Format", h(result.format))
        body += row("SHA-256", "<span class=\"mono wrap\">\(h(result.sha256 ?? "-"))</span>")
        body += row("Ledger head", "<span class=\"mono wrap\">\(h(result.ledgerHead))</span>")
        if !result.tagManifestSHA256.isEmpty { body += row("Tag manifest SHA-256", "<span class=\"mono wrap\">\(h(result.tagManifestSHA256))</span>") }
        body += "</table>\n<p class=\"note\">Recorded in the case's ledger as an <code>export</code> entry. Check the file with "
        body += "<code>exhibit verify \(h(result.output))</code>.</p>\n"
        return page(title: "Export \(caseID)", actor: actor, agency: agency, body: body)
    }

    /// An error page: the status and one sentence.
    public static func errorPage(status: Int, reason: String, message: String) -> String {
        let body = "<h1>\(status) \(h(reason))</h1>\n<p>\(h(message))</p>\n<p><a href=\"/\">All cases</a></p>\n"
        return page(title: "\(status) \(reason)", actor: nil, agency: nil, body: body)
    }

    // MARK: Pieces

    static func page(title: String, actor: Actor?, agency: String?, body: String, viewSeq: Int64? = nil) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="referrer" content="no-referrer">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(attr(title)) · Exhibit</title>
            <link rel="stylesheet" href="/assets/browser.css">
            </head>
            <body>
            <header class="bar"><a href="/">Exhibit</a>
            """
        if let agency { out += "<span>\(h(agency))</span>" }
        if let actor {
            out += "<span class=\"who\">Acting as <span class=\"mono\">\(h(actor.id))</span> \(h(actor.name)) "
            out += "(\(h(actor.roles.map(\.rawValue).joined(separator: ", "))))</span>"
        }
        out += "</header>\n<main>\n" + body + "</main>\n<footer>"
        if let viewSeq {
            out += "This page view is recorded in the case's ledger as entry seq \(viewSeq) (<code>view</code>). "
        }
        out += "All times are UTC. Web addresses from captures are shown as text, not links.</footer>\n</body>\n</html>\n"
        return out
    }

    static func renderingBlock(_ rendering: Rendering, caseID: String, artifact: BrowserArtifact?, thumbnail: Bool) -> String {
        var out = ""
        let source = artifact.map { "<a href=\"\(artifactPath(caseID, $0.id))\" class=\"mono\">\(h($0.id))</a> " } ?? ""
        let what = "\(source)<span class=\"mono wrap\">\(url(rendering.sourceURL ?? artifact?.url ?? ""))</span>"
        let captured = rendering.captureTime.map { ", captured <span class=\"mono\">\(h($0))</span>" } ?? ""
        for shot in rendering.screenshots {
            let size = shot.width.flatMap { w in shot.height.map { " width=\"\(w)\" height=\"\($0)\"" } } ?? ""
            out += "<figure class=\"\(thumbnail ? "thumb" : "shot")\"><div class=\"frame\"><img src=\"\(blobPath(caseID, shot.sha256))\"\(size) "
            out += "alt=\"Screenshot of \(attr(artifact?.id ?? rendering.sourceRecordID))\"></div>"
            out += "<figcaption>Screenshot of \(what)\(captured); rendered by <span class=\"mono\">\(h(rendering.actor))</span> "
            out += "at <span class=\"mono\">\(h(rendering.time))</span> (ledger entry seq \(rendering.seq)); "
            out += "sha256 <span class=\"mono wrap\">\(h(shot.sha256))</span>"
            for pdf in rendering.pdfs {
                out += "; <a href=\"\(blobPath(caseID, pdf.sha256))\">PDF</a> (sha256 <span class=\"mono wrap\">\(h(pdf.sha256))</span>)"
            }
            out += "</figcaption></figure>\n"
        }
        if rendering.screenshots.isEmpty {
            for pdf in rendering.pdfs {
                out += "<p><a href=\"\(blobPath(caseID, pdf.sha256))\">PDF</a> of \(what) (sha256 <span class=\"mono wrap\">\(h(pdf.sha256))</span>)</p>\n"
            }
        }
        return out
    }

    /// The timeline's one-line summary: the report's, plus the render entries it does not know.
    static func summary(_ entry: LedgerEntry) -> String {
        guard let subject = entry.subject else { return "\(entry.action) (details withheld)" }
        switch entry.action {
        case "render":
            return BundleFacts.Render(entry, artifacts: [])?.summary ?? "rendered a capture"
        case "view" where subject["command"]?.stringValue == "serve":
            var text = "viewed the \(subject["viewed"]?.stringValue ?? "page") in the case browser"
            if let artifact = subject["artifact"]?.stringValue { text += " (\(artifact))" }
            if let page = subject["in_replay_of"]?.stringValue { text += " in the replay of \(page)" }
            if let filter = subject["filter"]?.objectValue, !filter.isEmpty {
                text += " filtered by " + filter.keys.sorted().map { "\($0)=\(filter[$0]?.stringValue ?? "")" }.joined(separator: ", ")
            }
            if let sha = subject["sha256"]?.stringValue { text += " (blob \(sha.prefix(16))…)" }
            return text
        default:
            return BundleFacts.timelineSummary(entry)
        }
    }

    static func csrf(_ token: String) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(attr(token))\">"
    }

    static func statusFlag(_ status: CaseState.Status) -> String {
        "<span class=\"flag \(status == .open ? "open" : "closed")\">\(h(status.rawValue))</span>"
    }

    static func row(_ heading: String, _ valueHTML: String) -> String {
        "<tr><th>\(h(heading))</th><td>\(valueHTML)</td></tr>\n"
    }

    static func casePath(_ caseID: String) -> String { "/cases/" + attr(caseID) }
    static func artifactPath(_ caseID: String, _ artifactID: String) -> String { casePath(caseID) + "/artifacts/" + attr(artifactID) }
    static func blobPath(_ caseID: String, _ sha256: String) -> String { casePath(caseID) + "/blobs/" + attr(sha256) }

    /// Text from evidence or people, escaped for element content.
    static func h(_ value: String) -> String { CaseReport.text(value) }
    /// Escaped for a quoted attribute value.
    static func attr(_ value: String) -> String { CaseReport.plain(value) }
    /// A URL from a capture, as text with invisible characters marked.
    static func url(_ value: String) -> String { CaseReport.text(value, url: true) }
}
