import CaseBundle

// The case browser's artifact page: the capture's facts, its WARC records, selectors, screenshots and replay frame.

extension BrowserPages {
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
        body += row(artifact.imported == nil ? "Capture time (UTC)" : "Time (UTC)", time)
        body += row("HTTP status", artifact.status == 0 ? "-" : "\(artifact.status)")
        body += row("Content type", h(artifact.contentType ?? "not recorded"))
        body += row("Size", artifact.size.map { "\($0) bytes" } ?? "not recorded")
        body += row("SHA-256", "<span class=\"mono wrap\">\(h(artifact.sha256 ?? "not recorded"))</span>")
        if let receipt = artifact.imported {
            body += CaseReport.intakeRows(receipt, receiver: "<span class=\"mono\">\(h(artifact.actor))</span>")
        } else {
            body += row("Captured by", "<span class=\"mono\">\(h(artifact.actor))</span> <span class=\"muted\">(ledger entry seq \(artifact.seq))</span>")
        }
        if let ip = artifact.ip { body += row("IP address", "<span class=\"mono\">\(h(ip))</span>") }
        body += row("WARC file", "<span class=\"mono wrap\">\(h(artifact.warcFile ?? "not recorded"))</span>")
        if let blob = artifact.blobPath { body += row("Payload file", "<span class=\"mono wrap\">\(h(blob))</span>") }
        body += "</table>\n"
        body += mediaSection(view)

        body += "<h2>WARC records</h2>\n"
        var records = ""
        for record in artifact.records {
            records += "<tr><td class=\"mono wrap\">\(h(record.id))</td><td>\(h(record.type))</td>"
            records += "<td class=\"mono wrap\">\(url(record.targetURI ?? ""))</td><td>\(record.offset.map(String.init) ?? "-")</td>"
            records += "<td class=\"mono wrap\">\(h(record.blockDigest ?? "-"))</td></tr>\n"
        }
        body += CaseReport.table(["Record id", "Type", "Target URI", "Offset", "Block digest"], rows: records)

        body += "<h2>Selectors (\(view.selectors.count))</h2>\n"
        if view.selectors.isEmpty {
            body += "<p class=\"muted\">No selectors found in this artifact.</p>\n"
        } else {
            var rows = ""
            for selector in view.selectors {
                let here = selector.occurrences.filter { $0.artifact == artifact.id }
                let raw = Array(Set(here.map(\.raw))).sorted()
                rows += "<tr><td>\(h(selector.kind))</td><td class=\"mono wrap\">\(h(selector.value))</td>"
                rows += "<td class=\"wrap\">\(raw.map { h($0) }.joined(separator: "<br>"))</td>"
                rows += "<td class=\"mono\">\(h(selector.otherCases.joined(separator: ", ")))</td></tr>\n"
            }
            body += CaseReport.table(["Kind", "Value", "As written", "Other cases"], rows: rows)
        }

        if !view.renderings.isEmpty {
            body += "<h2>Screenshots</h2>\n"
            for rendering in view.renderings { body += renderingBlock(rendering, caseID: caseID, artifact: artifact, thumbnail: false) }
        }

        body += "<h2>Replay</h2>\n"
        body += """
            <p class="note">The archived response body from the WARC record, in a sandboxed frame: no scripts, no \
            same-origin access, and a Content-Security-Policy that lets it load nothing from the web. The page's images \
            are answered from the case's WARC files when they were captured (their addresses in the copy shown here point \
            at this server; the archived record is unchanged); an image that was not captured stays empty. Opening the \
            frame, and each image it shows, is recorded as a <code>view</code>.</p>\n
            """
        body += "<iframe class=\"replay\" sandbox src=\"\(attr(ReplayLink.frame(caseID: caseID, artifact: artifact)))\" "
        body += "title=\"Replay of \(attr(artifact.id))\" referrerpolicy=\"no-referrer\"></iframe>\n"
        return page(title: "\(caseID) \(artifact.id)", actor: view.actor, agency: agency, body: body, viewSeq: view.view.seq)
    }
}
