import Foundation

// Section 3 of the report: one block per artifact, with its captured image or page screenshot
// embedded as a data: URI within the report's image limits.

extension CaseReport {
    static func artifactsSection(_ facts: BundleFacts, image: (String) -> [UInt8]?) -> String {
        section("artifacts", "3. Artifacts", empty: facts.artifacts.isEmpty ? "This bundle holds no artifacts." : nil) {
            var out = "<p class=\"note\">One block per captured response. The SHA-256 is the digest of the payload as the server "
            out += "sent it (de-chunked); the same value is in the WARC record and, for media files, in "
            out += "<code>manifest-sha256.txt</code>.</p>\n"
            let names = actorNames(facts)
            var budget = imageBudget
            for artifact in facts.artifacts {
                let renders = facts.renders.filter { $0.artifact == artifact.id }
                out += artifactBlock(artifact, renders: renders, names: names, image: image, budget: &budget)
            }
            return out
        }
    }

    private static func artifactBlock(_ artifact: BundleFacts.Artifact, renders: [BundleFacts.Render], names: [String: String],
                                      image: (String) -> [UInt8]?, budget: inout Int) -> String {
        var out = "<section class=\"artifact\" id=\"\(anchor(artifact.id))\">\n"
        let title = artifact.title.map { "<span class=\"title\">\(text($0))</span>" } ?? "<span class=\"title muted\">(no title)</span>"
        out += "<h3><span class=\"mono\">\(text(artifact.id))</span> \(title)</h3>\n"
        out += "<table class=\"facts\">\n"
        out += row("URL", url(artifact.url))
        if let finalURL = artifact.finalURL, finalURL != artifact.url {
            out += row("Final URL", url(finalURL) + " <span class=\"muted\">(after redirects)</span>")
        } else {
            out += row("Final URL", "<span class=\"muted\">same as the URL (no redirect)</span>")
        }
        var time = "<span class=\"mono\">\(text(artifact.ended))</span> <span class=\"muted\">(response complete)</span>"
        if let started = artifact.started {
            time = "<span class=\"mono\">\(text(started))</span> <span class=\"muted\">(request sent)</span><br>" + time
        }
        out += row("Capture time (UTC)", time)
        if let intake = artifact.intake {
            out += intakeRows(intake, receiver: actorLabel(artifact.actor, names: names))
        } else {
            out += row("Captured by", actorLabel(artifact.actor, names: names) + " <span class=\"muted\">(ledger entry seq \(artifact.seq))</span>")
        }
        out += row("IP address", artifact.ip.map { "<span class=\"mono\">\(text($0))</span>" } ?? notRecorded("not recorded"))
        let scheme = (artifact.finalURL ?? artifact.url).lowercased()
        out += row("Certificate subject", artifact.certificateSubject.map { "<span class=\"wrap\">\(text($0))</span>" }
            ?? notRecorded(scheme.hasPrefix("http:") ? "none (plain HTTP, no TLS)" : "not recorded"))
        out += row("HTTP status", statusLabel(artifact.status))
        out += row("Content type", artifact.contentType.map { "<span class=\"mono\">\(text($0))</span>" } ?? notRecorded("not recorded"))
        out += row("Size", artifact.size.map(sizeLabel) ?? notRecorded("not recorded"))
        out += row("SHA-256", artifact.sha256.map { "<span class=\"mono wrap\">\(text($0))</span>" } ?? notRecorded("not recorded"))
        if let md5 = artifact.md5 {
            out += row("MD5", "<span class=\"mono wrap\">\(text(md5))</span>")
        }
        out += row("Role", artifact.role.map { text($0) } ?? notRecorded("not recorded"))
        if !artifact.tags.isEmpty {
            out += row("Tags", text(artifact.tags.joined(separator: ", ")))
        }
        var places: [String] = []
        if let warc = artifact.warcPath {
            var place = "WARC file <span class=\"mono wrap\">\(text(warc))</span>"
            if let offset = artifact.responseOffset {
                place += ", response record at byte offset \(grouped(offset))"
            }
            places.append(place)
        }
        if let blob = artifact.blobPath {
            places.append("payload file <span class=\"mono wrap\">\(text(blob))</span>")
        }
        out += row("In the bag", places.isEmpty ? notRecorded("not recorded") : places.joined(separator: "<br>"))
        if !artifact.recordIDs.isEmpty {
            out += row("WARC record ids", artifact.recordIDs.map { "<span class=\"mono wrap\">\(text($0))</span>" }.joined(separator: "<br>"))
        }
        for render in renders {
            if let shot = render.screenshot { out += row("Screenshot (PNG)", renderedFile(shot, of: render, names: names)) }
            if let pdf = render.pdf { out += row("Page as PDF", renderedFile(pdf, of: render, names: names)) }
        }
        out += "</table>\n"
        if let media = artifact.media {
            out += "<h4>Media metadata</h4>\n<table class=\"facts\">\n" + mediaRows(media) + "</table>\n"
        }
        out += thumbnail(artifact, image: image, budget: &budget)
        // The latest render of the page is shown; earlier ones are named in the table above.
        if let render = renders.last(where: { $0.screenshot != nil }) {
            out += screenshot(render, artifact: artifact, image: image, budget: &budget)
        }
        out += "</section>\n"
        return out
    }

    /// A render's file as the artifact table names it: where it is in the bag, what
    /// it is, its SHA-256 and the ledger entry that recorded it.
    private static func renderedFile(_ file: BundleFacts.Render.Output, of render: BundleFacts.Render, names: [String: String]) -> String {
        var facts: [String] = []
        if let width = file.width, let height = file.height { facts.append("\(grouped(width)) × \(grouped(height)) px") }
        if let size = file.size { facts.append(sizeLabel(size)) }
        var out = "<span class=\"mono wrap\">\(text(file.path))</span>"
        if !facts.isEmpty { out += "<br>\(facts.joined(separator: "; "))" }
        out += "<br>SHA-256 <span class=\"mono wrap\">\(text(file.sha256))</span>"
        out += "<br><span class=\"muted\">Rendered by \(actorLabel(render.actor, names: names)) at <span class=\"mono\">\(text(render.time))</span> "
        out += "(ledger entry seq \(render.seq)) from WARC record <span class=\"mono wrap\">\(text(render.sourceRecordID))</span>"
        if let warc = render.warcPath { out += "; also stored as a resource record in <span class=\"mono wrap\">\(text(warc))</span>" }
        out += "</span>"
        return out
    }

    /// The page's screenshot beside its artifact, from the same image budget as
    /// captured images: the top of the page, with the banner `exhibit render` puts
    /// there (URL, capture time, record digest); the whole page is the file named.
    private static func screenshot(_ render: BundleFacts.Render, artifact: BundleFacts.Artifact, image: (String) -> [UInt8]?, budget: inout Int) -> String {
        guard let shot = render.screenshot else { return "" }
        let file = "<span class=\"mono wrap\">\(text(shot.path))</span>"
        // Only a PNG goes into the data: URI; the entry's media type is not trusted for it.
        guard shot.mediaType.lowercased() == "image/png" else {
            return "<p class=\"note\">Screenshot not shown here (<span class=\"mono\">\(text(shot.mediaType))</span> is not a PNG); the file is \(file).</p>\n"
        }
        let base64: String
        switch embed(image(shot.path), file: file, budget: &budget) {
        case .success(let encoded): base64 = encoded
        case .failure(let reason): return "<p class=\"note\">Screenshot not shown here: \(reason.html)</p>\n"
        }
        var caption = "Screenshot of the page as captured, replayed from the WARC files alone by <code>exhibit render</code> "
        caption += "(ledger entry seq \(render.seq))"
        if let height = shot.height { caption += "; the top of a page \(grouped(height)) px tall is shown" }
        caption += ". The banner at its top names the URL, the capture time and the record digest. The whole page is \(file)"
        if let pdf = render.pdf { caption += ", and as a PDF <span class=\"mono wrap\">\(text(pdf.path))</span>" }
        caption += "."
        return "<figure class=\"shot\"><img src=\"data:image/png;base64,\(base64)\" alt=\"Screenshot of \(plain(artifact.id))\">"
            + "<figcaption>\(caption)</figcaption></figure>\n"
    }

    /// Why a picture is named instead of shown: one sentence end, HTML.
    private struct NotEmbedded: Error {
        var html: String
    }

    /// The base64 of a picture within the report's limits (``thumbnailLimit`` each,
    /// ``imageBudget`` in all, taken from `budget`), or why it is not embedded.
    /// Captured images and page screenshots share the one budget, in artifact order.
    private static func embed(_ bytes: [UInt8]?, file: String, budget: inout Int) -> Result<String, NotEmbedded> {
        guard let bytes else {
            return .failure(NotEmbedded(html: "the file \(file) could not be read when the report was made."))
        }
        guard bytes.count <= thumbnailLimit else {
            return .failure(NotEmbedded(html: "it is \(grouped(Int64(bytes.count))) bytes, more than the "
                + "\(thumbnailLimit / 1024) KiB a report embeds; the file is \(file)."))
        }
        guard bytes.count <= budget else {
            return .failure(NotEmbedded(html: "the report already embeds the \(imageBudget >> 20) MiB of images it may hold; the file is \(file)."))
        }
        budget -= bytes.count
        return .success(Data(bytes).base64EncodedString())
    }

    /// Raster formats every browser shows inside `<img>`. SVG is left out on purpose:
    /// it is a document that can carry scripts and references, and the report should not
    /// depend on the viewer sandboxing it.
    private static let embeddableImageTypes: Set<String> = [
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif",
        "image/x-icon", "image/vnd.microsoft.icon",
    ]

    private static func thumbnail(_ artifact: BundleFacts.Artifact, image: (String) -> [UInt8]?, budget: inout Int) -> String {
        guard let contentType = artifact.contentType, contentType.lowercased().hasPrefix("image/"),
              let blobPath = artifact.blobPath else { return "" }
        let file = "<span class=\"mono wrap\">\(text(blobPath))</span>"
        // The media type goes into the data: URI, so it is reduced to its essence and
        // checked against a fixed list: the server's header is attacker-controlled.
        let essence = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard embeddableImageTypes.contains(essence) else {
            return "<p class=\"note\">Image not shown here (<span class=\"mono\">\(text(contentType))</span> is not a "
                + "picture format this report embeds); the file is \(file).</p>\n"
        }
        let base64: String
        switch embed(image(blobPath), file: file, budget: &budget) {
        case .success(let encoded): base64 = encoded
        case .failure(let reason): return "<p class=\"note\">Image not shown here: \(reason.html)</p>\n"
        }
        return "<figure class=\"thumb\"><img src=\"data:\(essence);base64,\(base64)\" alt=\"Captured image \(plain(artifact.id))\">"
            + "<figcaption>Captured image, shown reduced; the file is \(file).</figcaption></figure>\n"
    }
}
