import CaseBundle
import MediaEvidence

// The artifact page's metadata panel and "Same image elsewhere" (DESIGN §19), and the case
// page's list of evidence taken in by import (DESIGN §20). The rows are the bundle report's,
// so the browser and the report say the same thing in the same words.

extension BrowserPages {
    /// The metadata panel of an image or video, and its near-duplicates across the cases
    /// the actor may read; nothing for other artifacts.
    static func mediaSection(_ view: CaseBrowsing.ArtifactView) -> String {
        guard let media = view.media else { return "" }
        var body = "<h2 id=\"media\">Media metadata</h2>\n"
        body += "<p class=\"note\">From ExifTool and ffprobe run on the sealed copy, and Exhibit's PDQ perceptual hash; "
        body += "what the file says about itself, which its maker could have set to anything.</p>\n"
        body += "<table class=\"facts\">\n" + CaseReport.mediaRows(media) + "</table>\n"
        body += "<h2 id=\"similar\">Same image elsewhere</h2>\n"
        if let problem = view.similarProblem {
            return body + "<p class=\"muted\">Near-duplicates could not be looked up: \(h(problem))</p>\n"
        }
        guard let similar = view.similar else {
            return body + "<p class=\"muted\">No PDQ hash, so no near-duplicate search.</p>\n"
        }
        body += "<p class=\"note\">Images and video keyframes within PDQ distance \(similar.maxDistance) of 256 bits, in every case "
        body += "you may read (<code>exhibit similar \(h(view.artifact.id))</code>); 0 is the same picture, up to about 31 a re-encoded, "
        body += "resized or lightly cropped copy. Showing them is recorded as a <code>view</code> in each case they come from.</p>\n"
        guard !similar.matches.isEmpty else { return body + "<p class=\"muted\">No near-duplicate found.</p>\n" }
        var rows = ""
        for match in similar.matches {
            var place = ""
            if let frame = match.frame { place += "<br><span class=\"muted\">keyframe at \(h(frame)) s</span>" }
            if let frame = match.queryFrame { place += "<br><span class=\"muted\">matches this video at \(h(frame)) s</span>" }
            rows += "<tr><td class=\"num\">\(match.distance)</td><td class=\"mono nowrap\"><a href=\"\(casePath(match.case))\">\(h(match.case))</a></td>"
            rows += "<td class=\"mono nowrap\"><a href=\"\(artifactPath(match.case, match.artifact))\">\(h(match.artifact))</a>\(place)</td>"
            rows += "<td class=\"mono wrap\">\(url(match.url))</td><td class=\"mono\">\(h(match.firstSeen))</td>"
            rows += "<td class=\"mono wrap\">\(h(match.sha256))</td></tr>\n"
        }
        return body + CaseReport.table(["Distance", "Case", "Artifact", "URL", "First seen (UTC)", "SHA-256"], rows: rows)
    }

    /// The case page's imported evidence: one row per `import` entry, with the source
    /// statement, the receiver, from whom and when, and the artifacts it holds.
    static func importsSection(_ view: CaseBrowsing.CaseView) -> String {
        let receipts = ImportReceipt.all(in: view.entries)
        guard !receipts.isEmpty else { return "" }
        var body = "<h2 id=\"imported\">Imported evidence (\(receipts.count))</h2>\n"
        body += "<p class=\"note\">Files received from outside and taken under custody with <code>exhibit import</code>: "
        body += "not captured by Exhibit. Their artifacts are marked <span class=\"flag imported\">imported</span> in the list above.</p>\n"
        var rows = ""
        for receipt in receipts {
            let ids = receipt.items.map(\.id)
            let shown = ids.prefix(20).map { view.readsEvidence ? "<a href=\"\(artifactPath(view.state.id, $0))\">\(h($0))</a>" : h($0) }
            rows += "<tr><td>\(receipt.seq)</td><td class=\"wrap\"><span class=\"mono\">\(h(receipt.fileName))</span> (\(h(receipt.kind)))"
            rows += "<br><span class=\"mono wrap muted\">sha256 \(h(receipt.sha256))</span></td>"
            rows += "<td class=\"wrap\">\(h(receipt.source))</td><td class=\"mono\">\(h(receipt.receiver))</td>"
            rows += "<td>\(receipt.receivedFrom.map { h($0) } ?? "<span class=\"muted\">not stated</span>")</td>"
            rows += "<td class=\"mono\">\(h(receipt.receivedAt ?? receipt.time))\(receipt.receivedAt == nil ? " <span class=\"muted\">(recorded)</span>" : "")</td>"
            rows += "<td>\(h(receipt.verdict ?? "-"))</td>"
            rows += "<td class=\"mono\">\(shown.joined(separator: " "))\(ids.count > 20 ? " … (\(ids.count))" : "")</td></tr>\n"
        }
        let headings = ["Seq", "File", "Source statement", "Received by", "Received from", "Received at", "Check", "Artifacts"]
        return body + CaseReport.table(headings, rows: rows)
    }
}
