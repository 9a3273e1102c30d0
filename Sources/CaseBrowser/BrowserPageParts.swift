import CaseBundle
import CaseManagement
import ChainOfCustody

// The frame every page of the case browser shares, and the small pieces of HTML they are made of.

extension BrowserPages {
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
        CaseReport.row(heading, valueHTML)
    }

    static func casePath(_ caseID: String) -> String { "/cases/" + attr(caseID) }
    static func artifactPath(_ caseID: String, _ artifactID: String) -> String { casePath(caseID) + "/artifacts/" + attr(artifactID) }
    static func blobPath(_ caseID: String, _ sha256: String) -> String { casePath(caseID) + "/blobs/" + attr(sha256) }

    /// Text from evidence or people, escaped for element content.
    static func h(_ value: String) -> String { HTMLText.escape(value, marks: .boxed) }
    /// Escaped for a quoted attribute value.
    static func attr(_ value: String) -> String { HTMLText.escape(value, marks: .bracketed, url: true) }
    /// A URL from a capture, as text with invisible characters marked.
    static func url(_ value: String) -> String { HTMLText.escape(value, marks: .boxed, url: true) }
}
