// The report's sections about the case: its header, the people, the verification at export,
// the custody timeline and the evidence files (sections 1, 2, 4 and 5 of data/report.html).

extension CaseReport {
    static func header(_ facts: BundleFacts) -> String {
        var out = "<header>\n"
        out += "<p class=\"agency\">\(text(facts.agency))</p>\n"
        out += "<h1>Case report <span class=\"mono\">\(text(facts.caseID))</span></h1>\n"
        out += "<p class=\"case-title\">\(text(facts.title))</p>\n"
        out += "<table class=\"facts\">\n"
        out += row("Category", "\(text(facts.categoryTitle)) <span class=\"muted\">(<code>\(text(facts.category))</code>)</span>")
        out += row("Policy sections", text(facts.policySections))
        out += row("Status", text(facts.status))
        out += row("Opened (UTC)", "<span class=\"mono\">\(text(facts.openedAt))</span>")
        out += row("Closed (UTC)", facts.closedAt.map { "<span class=\"mono\">\(text($0))</span>" } ?? notRecorded("not closed"))
        // Sorted so that the dictionary's random order never changes the bytes.
        for name in facts.fields.keys.sorted() {
            out += row(text(name), text(facts.fields[name] ?? "", multiline: true), headingIsHTML: true)
        }
        out += row("Artifacts", "\(facts.artifacts.count)")
        if !facts.renders.isEmpty {
            let shots = facts.renders.filter { $0.screenshot != nil }.count
            out += row("Page screenshots", "\(shots) (made by <code>exhibit render</code> from the WARC files; shown with their artifacts)")
        }
        out += row("Ledger entries", "\(facts.timeline.count)")
        if let withheld = facts.withheldItems {
            out += row("Audience", "decision-maker (IV.B.6): only corroborated findings and their artifacts not tagged protected-class")
            out += row("Withheld items", "\(withheld) (artifacts and findings not disclosed to this audience; their ledger entries keep only their digests)")
        }
        out += "</table>\n"
        for finding in facts.disclosedFindings {
            out += "<p class=\"note\"><strong>Finding \(text(finding.id)) (\(text(finding.status))):</strong> \(text(finding.text)) — artifacts \(text(finding.artifacts.joined(separator: ", ")))</p>\n"
        }
        // Why the page exists and what it is not: the recipient may never have seen Exhibit.
        out += """
            <p class="note">This report describes the evidence in this bundle. The bundle's files are the evidence; \
            the report only summarises them, and the last section shows how to check them by hand without Exhibit. \
            All times are UTC, as recorded in the custody ledger. Web addresses are shown as text and are not links; \
            invisible or control characters in them are shown as boxed <span class="cc">U+XXXX</span> marks.</p>\n
            """
        out += "</header>\n"
        return out
    }

    static func actorsSection(_ facts: BundleFacts) -> String {
        section("actors", "1. People who acted on the case", empty: facts.actors.isEmpty ? "No actors are recorded." : nil) {
            var rows = ""
            for person in facts.actors {
                rows += "<tr><td class=\"mono nowrap\">\(text(person.id))</td><td>\(text(person.name))</td>"
                rows += "<td>\(text(person.badge))</td><td>\(text(person.roles.joined(separator: ", ")))</td></tr>\n"
            }
            return table(["Id", "Name", "Badge", "Roles"], rows: rows)
        }
    }

    static func verificationSection(_ facts: BundleFacts) -> String {
        let result = facts.verification
        var out = "<section id=\"verification\">\n<h2>2. Verification at export</h2>\n"
        if result.intact {
            out += """
                <p class="result intact">INTACT: <code>exhibit verify</code> checked \(result.entries) ledger \
                \(result.entries == 1 ? "entry" : "entries"), their signatures, the evidence files and the WARC records, \
                and found no problem.</p>\n
                """
        } else {
            out += """
                <p class="result failed">NOT INTACT: <code>exhibit verify</code> checked \(result.entries) ledger \
                \(result.entries == 1 ? "entry" : "entries") and reported \(result.findings.count) \
                \(result.findings.count == 1 ? "finding" : "findings"). Do not rely on this evidence before the \
                findings are explained.</p>\n
                """
        }
        out += findingsList(result.findings, intro: "Findings, as reported:")
        out += "<table class=\"facts\">\n"
        out += row("Ledger head", "<span class=\"mono wrap\">\(text(facts.ledgerHead))</span>")
        if let last = facts.timeline.last {
            out += row("Last entry", "seq \(last.seq), \(text(last.action)) by <span class=\"mono\">\(text(last.actor))</span>, "
                + "<span class=\"mono\">\(text(last.time))</span>")
        }
        out += "</table>\n"
        out += """
            <p class="note">The ledger head is the hash of the last entry of <code>data/ledger.jsonl</code>; it is also \
            <code>Ledger-Head</code> in <code>bag-info.txt</code>. Each entry's hash covers the previous one, so a ledger \
            that ends with this hash is the ledger this report describes, entry for entry.</p>\n
            """
        // The two come from different places in the facts; if they disagree the reader must know.
        if let last = facts.timeline.last, last.hash != facts.ledgerHead {
            out += "<p class=\"result failed\">The hash of the last timeline entry (seq \(last.seq)) is not the ledger head "
            out += "above: the timeline shown below is not the whole ledger this head covers.</p>\n"
        }
        out += "</section>\n"
        return out
    }

    static func timelineSection(_ facts: BundleFacts) -> String {
        section("timeline", "4. Timeline of the custody ledger", empty: facts.timeline.isEmpty ? "The ledger has no entries." : nil) {
            var out = "<p class=\"note\">Every entry of <code>data/ledger.jsonl</code>, in order. The entry hash is shortened to its "
            out += "first 16 hex digits; the full hash is in the tooltip and in the ledger line.</p>\n"
            var rows = ""
            let names = actorNames(facts)
            let artifactIDs = Set(facts.artifacts.map(\.id))
            let renders = Dictionary(facts.renders.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
            for event in facts.timeline {
                var summary = text(event.summary)
                var linked = event.artifact
                if event.action == "render", let render = renders[event.seq] {
                    summary = text(render.summary)
                    linked = render.artifact
                }
                if let artifact = linked {
                    // An in-page link only: the fragment never leaves the document.
                    let label = "<span class=\"mono\">\(text(artifact))</span>"
                    summary += artifactIDs.contains(artifact) ? " (<a href=\"#\(anchor(artifact))\">\(label)</a>)" : " (\(label))"
                }
                let actor = names[event.actor].map { "<span class=\"mono\">\(text(event.actor))</span><br><span class=\"muted\">\(text($0))</span>" }
                    ?? "<span class=\"mono\">\(text(event.actor))</span>"
                rows += "<tr><td>\(event.seq)</td><td class=\"mono\">\(text(event.time))</td><td>\(actor)</td>"
                rows += "<td>\(text(event.action))</td><td class=\"wrap-words\">\(summary)</td>"
                rows += "<td class=\"mono\" title=\"\(plain(event.hash))\">\(text(String(event.hash.prefix(16))))</td></tr>\n"
            }
            return out + table(["Seq", "Time (UTC)", "Actor", "Action", "Summary", "Entry hash"], class: "timeline", rows: rows)
        }
    }

    static func filesSection(_ facts: BundleFacts) -> String {
        section("files", "5. Evidence files in this bundle", empty: facts.files.isEmpty ? "No evidence files are listed." : nil) {
            let out = "<p class=\"note\">The same digests are in <code>manifest-sha256.txt</code>, which the commands below check.</p>\n"
            let holds = fileDescriptions(facts)
            var rows = ""
            for file in facts.files {
                rows += "<tr><td class=\"mono wrap\">\(text(file.path))</td><td>\(holds[file.path].map { text($0) } ?? notRecorded("—"))</td>"
                rows += "<td class=\"num\">\(grouped(file.size))</td><td class=\"mono wrap\">\(text(file.sha256))</td></tr>\n"
            }
            return out + table(["Path in the bag", "What it holds", "Size (bytes)", "SHA-256"], rows: rows)
        }
    }

    /// What each evidence file is, in words: blobs are named by their digest only,
    /// so without this a reader cannot tell a screenshot from a photograph.
    private static func fileDescriptions(_ facts: BundleFacts) -> [String: String] {
        var parts: [String: [String]] = [:]
        func add(_ path: String?, _ words: String) {
            guard let path, !(parts[path]?.contains(words) ?? false) else { return }
            parts[path, default: []].append(words)
        }
        var captures: [String: [String]] = [:]
        for artifact in facts.artifacts {
            if let warc = artifact.warcPath { captures[warc, default: []].append(artifact.id) }
            let type = artifact.contentType.map { ", " + (($0.split(separator: ";").first).map(String.init) ?? $0) } ?? ""
            add(artifact.blobPath, "payload of \(artifact.id)\(type)")
        }
        for (warc, ids) in captures { add(warc, "WARC records of \(idList(ids))") }
        var renderWARCs: [String: [Int]] = [:]
        for render in facts.renders {
            let of = render.artifact ?? "record \(render.sourceRecordID)"
            for output in render.outputs {
                add(output.path, output.role == "screenshot" ? "screenshot (PNG) of \(of), render seq \(render.seq)"
                    : output.role == "pdf" ? "page as PDF of \(of), render seq \(render.seq)"
                    : "\(output.role) of \(of), render seq \(render.seq)")
            }
            if let warc = render.warcPath { renderWARCs[warc, default: []].append(render.seq) }
        }
        for (warc, seqs) in renderWARCs {
            add(warc, "screenshots and PDFs as WARC resource records (render \(seqs.count == 1 ? "seq" : "seqs") \(seqs.map(String.init).joined(separator: ", ")))")
        }
        for file in facts.files where file.path.hasPrefix("data/timestamps/") {
            let name = file.path.dropFirst("data/timestamps/".count)
            guard let dot = name.firstIndex(of: ".") else { continue }
            let seq = name[..<dot]
            switch name[dot...] {
            case ".tsr": add(file.path, "trusted timestamp token (RFC 3161), ledger seq \(seq)")
            case ".tsq": add(file.path, "timestamp request, ledger seq \(seq)")
            case ".ca.pem": add(file.path, "timestamp authority's CA certificate, ledger seq \(seq)")
            default: break
            }
        }
        return parts.mapValues { $0.joined(separator: "; ") }
    }

    /// `A-0002`, `A-0002 and A-0003`, or `A-0002 … A-0120 (119 artifacts)` for long runs.
    private static func idList(_ ids: [String]) -> String {
        switch ids.count {
        case 1: return ids[0]
        case 2...4: return ids.dropLast().joined(separator: ", ") + " and " + ids[ids.count - 1]
        default: return "\(ids[0]) … \(ids[ids.count - 1]) (\(ids.count) artifacts)"
        }
    }
}
