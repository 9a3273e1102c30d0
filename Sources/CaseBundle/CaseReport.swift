import Foundation

/// The bundle's human report, `data/report.html` (DESIGN §9): what an analyst hands to
/// prosecutors, defence or a review board who do not have Exhibit.
///
/// The report is a reading aid, not evidence: every figure in it is derived from the
/// ledger and the evidence files in the same bag, and its last section tells the
/// reader how to check those files with common tools (bagit, sha256sum, warcio,
/// openssl, case_validate) without trusting Exhibit or this page.
///
/// Three properties matter more than looks:
/// - **Hostile input.** URLs, titles, summaries and findings come from captured pages
///   and are attacker-controlled. Every such value is HTML-escaped (`&`, `<`, `>`, `"`,
///   `'`), control and direction-changing characters are shown as visible `U+XXXX`
///   marks (so a right-to-left override cannot make a URL read differently from what it
///   is), and URLs are shown as text, never as links.
/// - **No network.** The page has no script, no external style sheet, font or image; the
///   only pictures are `data:` URIs, and a Content-Security-Policy forbids everything
///   else, so opening the report contacts nobody (a request to a suspect's server would
///   tip them off and would itself be a record of the reader).
/// - **Deterministic.** Same facts, same bytes: there is no time of generation, the case
///   fields are sorted, and numbers are formatted without the locale, so two exports of
///   one case can be compared with `cmp`.
///
/// ```swift
/// let bytes = CaseReport.html(for: facts) { path in try? readFile(bagRoot + "/" + path) }
/// ```
public enum CaseReport {
    /// The report, UTF-8 HTML5, self-contained (inline CSS, no scripts, no external
    /// requests), printable on A4 or Letter.
    ///
    /// - Parameters:
    ///   - facts: what the bundle says about the case.
    ///   - image: returns the bytes of a file by its path in the bag (for example
    ///     `"data/blobs/sha256/ab/ab…"`), or nil when it cannot be read. It is asked
    ///     for captured images (content type `image/…` with a blob path) and page
    ///     screenshots; those of at most ``thumbnailLimit`` bytes are embedded as
    ///     `data:` URIs. When `facts.renders` is empty it is also asked for
    ///     `data/ledger.jsonl`, whose `render` entries name the screenshots.
    /// - Returns: the bytes of `data/report.html`.
    public static func html(for facts: BundleFacts, image: (String) -> [UInt8]?) -> [UInt8] {
        var facts = facts
        if facts.renders.isEmpty, let ledger = image("data/ledger.jsonl") {
            // The bag's ledger is the one the facts were gathered from: same bag, same renders.
            facts.renders = BundleFacts.renders(inLedger: ledger, artifacts: facts.artifacts)
        }
        var page = ""
        page.reserveCapacity(32_768 + facts.timeline.count * 400 + facts.artifacts.count * 2_000)
        page += head(facts)
        page += "<body>\n"
        page += header(facts)
        page += actorsSection(facts)
        page += verificationSection(facts)
        page += artifactsSection(facts, image: image)
        page += timelineSection(facts)
        page += filesSection(facts)
        page += howToVerifySection(facts)
        page += "<footer><p>Made by \(text(facts.toolName)) \(text(facts.toolVersion)) from the ledger and evidence files of "
        page += "this bundle. The report carries no time of its own: the same evidence always gives the same report.</p></footer>\n"
        page += "</body>\n</html>\n"
        return Array(page.utf8)
    }

    /// Images larger than this (512 KiB) are named, not embedded: the report must stay
    /// small enough to mail and print, and the full image is in the bag anyway.
    public static let thumbnailLimit = 512 * 1024

    /// At most this many bytes of images (16 MiB) are embedded in one report, in
    /// artifact order; later images are named. A case of 2,000 photographs made a
    /// 344 MB report that every recipient had to hash and no one could open.
    public static let imageBudget = 16 << 20

    // MARK: - Document head and style

    private static func head(_ facts: BundleFacts) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
        <meta name="referrer" content="no-referrer">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="\(plain(facts.toolName)) \(plain(facts.toolVersion))">
        <title>Case report \(plain(facts.caseID))</title>
        <style>
        \(style)
        </style>
        </head>

        """
    }

    /// Plain and sober: black on white, one sans-serif face, monospace for hashes and
    /// paths. No fonts are loaded (that would be a network request); the stacks name
    /// faces found on Windows, macOS and Linux.
    private static let style = """
        :root { color-scheme: light; }
        html { background: #fff; color: #111; }
        body { font: 15px/1.45 "Segoe UI", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif;
               max-width: 62rem; margin: 2rem auto; padding: 0 1.5rem; }
        code, pre, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
        h1 { font-size: 1.55rem; margin: 0.1rem 0 0.3rem; }
        h2 { font-size: 1.2rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.2rem; border-bottom: 1px solid #888;
             break-after: avoid; page-break-after: avoid; }
        h3 { font-size: 1.05rem; margin: 0 0 0.5rem; break-after: avoid; page-break-after: avoid; }
        p { margin: 0.4rem 0; }
        .agency { font-size: 0.95rem; text-transform: uppercase; letter-spacing: 0.06em; margin: 0; }
        .case-title { font-size: 1.15rem; margin: 0 0 0.8rem; }
        .muted { color: #555; }
        table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
        th, td { text-align: left; vertical-align: top; padding: 0.25rem 0.5rem; border: 1px solid #c8c8c8; }
        thead th { background: #eee; }
        table.facts th { width: 12rem; background: #f5f5f5; font-weight: 600; }
        td.num { text-align: right; white-space: nowrap; }
        .wrap { overflow-wrap: anywhere; word-break: break-all; }
        .wrap-words { overflow-wrap: anywhere; }
        .nowrap { white-space: nowrap; }
        pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.6rem 0.8rem; white-space: pre-wrap;
              overflow-wrap: anywhere; break-inside: avoid; page-break-inside: avoid; }
        .result { border: 2px solid #111; padding: 0.5rem 0.8rem; font-weight: 600; margin: 0.6rem 0; }
        .result.intact { border-color: #2d6a2d; background: #f1f8f1; }
        .result.failed { border-color: #a40000; background: #fbeeee; }
        .findings li { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.86em;
                       overflow-wrap: anywhere; }
        .artifact { border: 1px solid #aaa; padding: 0.8rem 1rem; margin: 1rem 0;
                    break-inside: avoid; page-break-inside: avoid; }
        .artifact table { margin-bottom: 0.5rem; }
        .artifact h3 .title { font-weight: normal; }
        figure.thumb { margin: 0.4rem 0 0; }
        figure.thumb img { display: block; max-width: 240px; max-height: 240px; width: auto; height: auto;
                           border: 1px solid #888; }
        figure.thumb figcaption, figure.shot figcaption, .note { font-size: 0.85rem; color: #444; }
        figure.shot { margin: 0.6rem 0 0; display: flex; gap: 0.9rem; align-items: flex-start; }
        figure.shot img { display: block; flex: none; width: 420px; max-height: 520px; height: auto; object-fit: cover;
                          object-position: top; border: 1px solid #888; }
        figure.shot figcaption { flex: 1; overflow-wrap: anywhere; }
        .cc { font-family: "DejaVu Sans Mono", monospace; font-size: 0.72em; border: 1px solid #a40000; color: #a40000;
              padding: 0 0.15em; margin: 0 0.05em; border-radius: 2px; }
        table.timeline td:nth-child(1) { text-align: right; }
        table.timeline td:nth-child(2), table.timeline td:nth-child(6) { white-space: nowrap; }
        a { color: inherit; }
        footer { margin-top: 2.5rem; border-top: 1px solid #888; padding-top: 0.4rem; font-size: 0.85rem; color: #444; }
        @page { margin: 15mm 12mm; }
        @media print {
          body { font-size: 10pt; max-width: none; margin: 0; padding: 0; }
          h2 { margin-top: 1.4rem; }
          thead { display: table-header-group; }
          tr, li { break-inside: avoid; page-break-inside: avoid; }
          .result, .artifact, pre, td, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          a { text-decoration: none; }
        }
        """

    // MARK: - Sections

    private static func header(_ facts: BundleFacts) -> String {
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
        out += "<p class=\"note\">This report describes the evidence in this bundle. The bundle's files are the evidence; "
        out += "the report only summarises them, and the last section shows how to check them by hand without Exhibit. "
        out += "All times are UTC, as recorded in the custody ledger. Web addresses are shown as text and are not links; "
        out += "invisible or control characters in them are shown as boxed <span class=\"cc\">U+XXXX</span> marks.</p>\n"
        out += "</header>\n"
        return out
    }

    private static func actorsSection(_ facts: BundleFacts) -> String {
        var out = "<section id=\"actors\">\n<h2>1. People who acted on the case</h2>\n"
        guard !facts.actors.isEmpty else {
            return out + "<p>\(notRecorded("No actors are recorded."))</p>\n</section>\n"
        }
        out += "<table>\n<thead><tr><th>Id</th><th>Name</th><th>Badge</th><th>Roles</th></tr></thead>\n<tbody>\n"
        for person in facts.actors {
            out += "<tr><td class=\"mono nowrap\">\(text(person.id))</td><td>\(text(person.name))</td>"
            out += "<td>\(text(person.badge))</td><td>\(text(person.roles.joined(separator: ", ")))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n</section>\n"
        return out
    }

    private static func verificationSection(_ facts: BundleFacts) -> String {
        let result = facts.verification
        var out = "<section id=\"verification\">\n<h2>2. Verification at export</h2>\n"
        if result.intact {
            out += "<p class=\"result intact\">INTACT: <code>exhibit verify</code> checked \(result.entries) ledger "
            out += "\(result.entries == 1 ? "entry" : "entries"), their signatures, the evidence files and the WARC records, "
            out += "and found no problem.</p>\n"
        } else {
            out += "<p class=\"result failed\">NOT INTACT: <code>exhibit verify</code> checked \(result.entries) ledger "
            out += "\(result.entries == 1 ? "entry" : "entries") and reported \(result.findings.count) "
            out += "\(result.findings.count == 1 ? "finding" : "findings"). Do not rely on this evidence before the "
            out += "findings are explained.</p>\n"
        }
        if result.findings.isEmpty {
            out += "<p>Findings: none.</p>\n"
        } else {
            out += "<p>Findings, as reported:</p>\n<ul class=\"findings\">\n"
            for finding in result.findings { out += "<li>\(text(finding))</li>\n" }
            out += "</ul>\n"
        }
        out += "<table class=\"facts\">\n"
        out += row("Ledger head", "<span class=\"mono wrap\">\(text(facts.ledgerHead))</span>")
        if let last = facts.timeline.last {
            out += row("Last entry", "seq \(last.seq), \(text(last.action)) by <span class=\"mono\">\(text(last.actor))</span>, "
                + "<span class=\"mono\">\(text(last.time))</span>")
        }
        out += "</table>\n"
        out += "<p class=\"note\">The ledger head is the hash of the last entry of <code>data/ledger.jsonl</code>; it is also "
        out += "<code>Ledger-Head</code> in <code>bag-info.txt</code>. Each entry's hash covers the previous one, so a ledger "
        out += "that ends with this hash is the ledger this report describes, entry for entry.</p>\n"
        // The two come from different places in the facts; if they disagree the reader must know.
        if let last = facts.timeline.last, last.hash != facts.ledgerHead {
            out += "<p class=\"result failed\">The hash of the last timeline entry (seq \(last.seq)) is not the ledger head "
            out += "above: the timeline shown below is not the whole ledger this head covers.</p>\n"
        }
        out += "</section>\n"
        return out
    }

    private static func artifactsSection(_ facts: BundleFacts, image: (String) -> [UInt8]?) -> String {
        var out = "<section id=\"artifacts\">\n<h2>3. Artifacts</h2>\n"
        guard !facts.artifacts.isEmpty else {
            return out + "<p>\(notRecorded("This bundle holds no artifacts."))</p>\n</section>\n"
        }
        out += "<p class=\"note\">One block per captured response. The SHA-256 is the digest of the payload as the server "
        out += "sent it (de-chunked); the same value is in the WARC record and, for media files, in "
        out += "<code>manifest-sha256.txt</code>.</p>\n"
        let names = actorNames(facts)
        var budget = imageBudget
        for artifact in facts.artifacts {
            let renders = facts.renders.filter { $0.artifact == artifact.id }
            out += artifactBlock(artifact, renders: renders, names: names, image: image, budget: &budget)
        }
        out += "</section>\n"
        return out
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
        out += row("Captured by", actorLabel(artifact.actor, names: names) + " <span class=\"muted\">(ledger entry seq \(artifact.seq))</span>")
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

    private static func timelineSection(_ facts: BundleFacts) -> String {
        var out = "<section id=\"timeline\">\n<h2>4. Timeline of the custody ledger</h2>\n"
        guard !facts.timeline.isEmpty else {
            return out + "<p>\(notRecorded("The ledger has no entries."))</p>\n</section>\n"
        }
        out += "<p class=\"note\">Every entry of <code>data/ledger.jsonl</code>, in order. The entry hash is shortened to its "
        out += "first 16 hex digits; the full hash is in the tooltip and in the ledger line.</p>\n"
        out += "<table class=\"timeline\">\n<thead><tr><th>Seq</th><th>Time (UTC)</th><th>Actor</th><th>Action</th>"
        out += "<th>Summary</th><th>Entry hash</th></tr></thead>\n<tbody>\n"
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
            out += "<tr><td>\(event.seq)</td><td class=\"mono\">\(text(event.time))</td><td>\(actor)</td>"
            out += "<td>\(text(event.action))</td><td class=\"wrap-words\">\(summary)</td>"
            out += "<td class=\"mono\" title=\"\(plain(event.hash))\">\(text(String(event.hash.prefix(16))))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n</section>\n"
        return out
    }

    private static func filesSection(_ facts: BundleFacts) -> String {
        var out = "<section id=\"files\">\n<h2>5. Evidence files in this bundle</h2>\n"
        guard !facts.files.isEmpty else {
            return out + "<p>\(notRecorded("No evidence files are listed."))</p>\n</section>\n"
        }
        out += "<p class=\"note\">The same digests are in <code>manifest-sha256.txt</code>, which the commands below check.</p>\n"
        out += "<table>\n<thead><tr><th>Path in the bag</th><th>What it holds</th><th>Size (bytes)</th><th>SHA-256</th></tr></thead>\n<tbody>\n"
        let holds = fileDescriptions(facts)
        for file in facts.files {
            out += "<tr><td class=\"mono wrap\">\(text(file.path))</td><td>\(holds[file.path].map { text($0) } ?? notRecorded("—"))</td>"
            out += "<td class=\"num\">\(grouped(file.size))</td><td class=\"mono wrap\">\(text(file.sha256))</td></tr>\n"
        }
        out += "</tbody>\n</table>\n</section>\n"
        return out
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

    private static func howToVerifySection(_ facts: BundleFacts) -> String {
        var out = "<section id=\"verify-by-hand\">\n<h2>6. How to verify this bundle by hand</h2>\n"
        out += "<p>None of these steps needs Exhibit. Replace <code>&lt;bag&gt;</code> with the full path of the unpacked "
        out += "bundle's folder (the one holding <code>bagit.txt</code>), so that every block can start with "
        out += "<code>cd &lt;bag&gt;</code> and be run on its own. Python tools install with <code>pip install</code> "
        out += "(in a virtual environment if the system asks for one); the signature steps need OpenSSL 3.0 or later.</p>\n"

        out += "<h3>a. Every file is complete and unchanged (BagIt, RFC 8493)</h3>\n"
        out += pre("""
            pip install bagit
            python3 -m bagit --validate <bag>
            """)
        out += "<p>The same check with coreutils alone (payload files, then the tag files such as "
        out += "<code>bag-info.txt</code>); every line must end in <code>OK</code>:</p>\n"
        out += pre("""
            cd <bag> && sha256sum -c manifest-sha256.txt
            sha256sum -c tagmanifest-sha256.txt
            """)

        out += "<h3>b. The web archive records are intact (WARC)</h3>\n"
        out += pre("""
            pip install warcio
            cd <bag> && warcio check -v data/warc/*.warc.gz
            """)

        out += "<h3>c. The ledger is one unbroken chain ending at the ledger head</h3>\n"
        out += "<p>Each entry's <code>hash</code> is the SHA-256 of its fields <code>action, actor, case, prev, seq, "
        out += "subject_digest, time</code> as canonical JSON (keys sorted, no spaces), and its <code>prev</code> is the hash "
        out += "of the entry before (64 zeros for the first). This prints one line per entry and the last hash, which must be "
        out += "<code class=\"wrap\">\(text(facts.ledgerHead))</code>. It also writes each entry's hash, signature and "
        out += "actor to a scratch folder for step d.</p>\n"
        out += pre(#"""
            cd <bag>
            W=$(mktemp -d)
            python3 - data/ledger.jsonl "$W" <<'EOF'
            import hashlib, json, sys
            prev = "0" * 64
            for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
                e = json.loads(line)
                chained = {k: e[k] for k in ("seq", "time", "case", "actor", "action", "subject_digest", "prev")}
                canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                ok = e["seq"] == n and e["prev"] == prev and hashlib.sha256(canonical.encode()).hexdigest() == e["hash"]
                print("seq", e["seq"], "chained" if ok else "BROKEN")
                for suffix, value in (("hash", e["hash"]), ("sig.b64", e["sig"]), ("actor", e["actor"])):
                    open(f"{sys.argv[2]}/{n}.{suffix}", "w").write(value)
                prev = e["hash"]
            print("last hash:", prev)
            EOF
            """#)

        out += "<h3>d. Each ledger entry was signed by its actor (Ed25519)</h3>\n"
        out += "<p>The signed message is the 64 hex characters of the entry's <code>hash</code>, with no newline; the "
        out += "signature is the entry's <code>sig</code>, base64-encoded; the actors' public keys are "
        out += "<code>data/keys/&lt;actor&gt;.pem</code>. "
        if let last = facts.timeline.last {
            out += "For the last entry (seq \(last.seq), by <code>\(text(last.actor))</code>), after step c:</p>\n"
            out += pre("""
                cd <bag>
                base64 -d "$W/\(last.seq).sig.b64" > "$W/\(last.seq).sig"
                openssl pkeyutl -verify -pubin -inkey data/keys/\(shellWord(last.actor)).pem -rawin -in "$W/\(last.seq).hash" -sigfile "$W/\(last.seq).sig"
                """)
        } else {
            out += "For entry N by actor A, after step c:</p>\n"
            out += pre("""
                cd <bag>
                base64 -d "$W/N.sig.b64" > "$W/N.sig"
                openssl pkeyutl -verify -pubin -inkey data/keys/A.pem -rawin -in "$W/N.hash" -sigfile "$W/N.sig"
                """)
        }
        out += "<p>OpenSSL prints <code>Signature Verified Successfully</code>. Every entry at once:</p>\n"
        out += pre(#"""
            cd <bag>
            for h in "$W"/*.hash; do
              n=$(basename "$h" .hash); actor=$(cat "$W/$n.actor")
              base64 -d "$W/$n.sig.b64" > "$W/$n.sig"
              printf 'seq %s (%s): ' "$n" "$actor"
              openssl pkeyutl -verify -pubin -inkey "data/keys/$actor.pem" -rawin -in "$h" -sigfile "$W/$n.sig"
            done
            """#)
        out += "<p class=\"note\">A valid signature shows that the holder of the actor's private key signed the entry, as far "
        out += "as the public key is trusted: compare the keys in <code>data/keys/</code> with copies obtained from the agency.</p>\n"

        out += "<h3>e. Trusted timestamps (RFC 3161)</h3>\n"
        // Only files that are in the bag: listing a command for a token that is absent
        // would send the reader looking for something that was never there.
        let tokens = facts.files.map(\.path).filter { $0.hasPrefix("data/timestamps/") && $0.hasSuffix(".tsr") }.sorted()
        if tokens.isEmpty {
            out += "<p>This bundle holds no timestamp tokens. Where a bundle has them, each "
            out += "<code>data/timestamps/N.tsr</code> is checked with:</p>\n"
            out += pre("""
                cd <bag> && openssl ts -verify -in data/timestamps/N.tsr -queryfile data/timestamps/N.tsq -CAfile data/timestamps/N.ca.pem
                """)
        } else {
            out += "<p>Each token is checked against its request and the authority's CA certificate stored beside it; "
            out += "OpenSSL prints <code>Verification: OK</code>:</p>\n"
            var commands = "cd <bag>\n"
            for token in tokens {
                let stem = String(token.dropLast(".tsr".count))
                commands += "openssl ts -verify -in \(shellWord(token)) -queryfile \(shellWord(stem + ".tsq")) "
                commands += "-CAfile \(shellWord(stem + ".ca.pem"))\n"
            }
            out += pre(commands)
        }
        out += "<p class=\"note\">A token proves that the ledger up to the head it covers existed at the time it states; "
        out += "<code>openssl ts -query -in data/timestamps/N.tsq -text</code> shows that head as the message imprint. "
        out += "Compare the stored CA certificate with the authority's published one before relying on it.</p>\n"

        out += "<h3>f. The provenance graph is valid CASE/UCO</h3>\n"
        out += pre("""
            pip install case-utils
            cd <bag> && case_validate --built-version case-1.4.0 data/provenance.jsonld
            """)
        out += "<p class=\"note\">It describes each capture as an investigative action with its performer, instrument, URL and "
        out += "the SHA-256 of every file it produced, and works offline.</p>\n"
        out += "</section>\n"
        return out
    }

    // MARK: - Pieces

    private static func row(_ heading: String, _ valueHTML: String, headingIsHTML: Bool = false) -> String {
        "<tr><th>\(headingIsHTML ? heading : text(heading))</th><td>\(valueHTML)</td></tr>\n"
    }

    private static func pre(_ commands: String) -> String {
        "<pre>\(text(commands, multiline: true))</pre>\n"
    }

    private static func notRecorded(_ words: String) -> String {
        "<span class=\"muted\">\(text(words))</span>"
    }

    private static func actorNames(_ facts: BundleFacts) -> [String: String] {
        Dictionary(facts.actors.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    private static func actorLabel(_ id: String, names: [String: String]) -> String {
        let code = "<span class=\"mono\">\(text(id))</span>"
        return names[id].map { "\(code) \(text($0))" } ?? code
    }

    /// The fragment id of an artifact's block: only letters, digits and `-` survive, so
    /// the id is valid and the same in the `id` and in the timeline's `href`.
    private static func anchor(_ artifactID: String) -> String {
        "artifact-" + String(artifactID.unicodeScalars.map { scalar -> Character in
            let value = scalar.value
            let plain = (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
            return plain ? Character(scalar) : "-"
        })
    }

    /// Reason phrases for the statuses a capture meets most; others show the number alone.
    private static let reasonPhrases: [Int: String] = [
        200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
        301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
        307: "Temporary Redirect", 308: "Permanent Redirect",
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        406: "Not Acceptable", 408: "Request Timeout", 410: "Gone", 429: "Too Many Requests",
        451: "Unavailable For Legal Reasons",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout",
    ]

    private static func statusLabel(_ status: Int) -> String {
        guard let phrase = reasonPhrases[status] else { return "\(status)" }
        return "\(status) <span class=\"muted\">\(phrase)</span>"
    }

    /// `12,345 bytes (12.1 KiB)`, computed with integers so that no locale or
    /// floating-point formatting can change the bytes of the report.
    private static func sizeLabel(_ size: Int64) -> String {
        var label = "\(grouped(size)) \(size == 1 ? "byte" : "bytes")"
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        if let (unit, name) = units.first(where: { size >= $0.0 }) {
            label += " (\(size / unit).\((size % unit) * 10 / unit) \(name))"
        }
        return label
    }

    /// Thousands separated by commas, whatever the machine's locale.
    private static func grouped(_ number: Int64) -> String {
        let digits = String(number.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return number < 0 ? "-" + out : out
    }

    /// A word for a shell command line: left bare when it is made of characters no shell
    /// treats specially, single-quoted otherwise, so a command copied from the report
    /// never runs anything hidden in a name.
    private static func shellWord(_ word: String) -> String {
        let safe = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
            let value = scalar.value
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
                || "._/-+:=@,".unicodeScalars.contains(scalar)
        }
        return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A URL, as text: never a link (following it would contact the server), in
    /// monospace, and with the invisible characters that could make it look like
    /// another address shown as marks.
    private static func url(_ value: String) -> String {
        "<span class=\"mono wrap\">\(text(value, url: true))</span>"
    }

    /// HTML-escapes a value from the evidence for use in text or in a quoted attribute.
    ///
    /// Beyond the five characters HTML gives meaning to, it makes visible what a reader
    /// could otherwise not see: C0 and C1 controls (except line breaks when `multiline`)
    /// and the bidirectional embeddings, overrides and isolates, which can reorder the
    /// text around them (a "right-to-left override" makes `evil.com/txt.exe` read
    /// differently). In URLs, zero-width and other invisible format characters are
    /// marked too; in titles they are left alone, because scripts such as Persian use
    /// them in ordinary text.
    public static func text(_ value: String, multiline: Bool = false, url: Bool = false) -> String {
        escape(value, multiline: multiline, url: url, markup: true)
    }

    /// ``text(_:multiline:url:)`` for places that cannot hold markup: attribute values
    /// and `<title>`. Marks are written as plain `[U+XXXX]` there, because a `<span>`
    /// inside a quoted attribute would end the attribute at its own quotes.
    public static func plain(_ value: String) -> String {
        escape(value, multiline: false, url: true, markup: false)
    }

    private static func escape(_ value: String, multiline: Bool, url: Bool, markup: Bool) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n" where multiline: out += "\n"
            case "\r" where multiline: continue  // CRLF and LF read alike
            default:
                if shownAsMark(scalar.value, url: url) {
                    out += markup ? "<span class=\"cc\">U+\(hex4(scalar.value))</span>" : "[U+\(hex4(scalar.value))]"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func shownAsMark(_ value: UInt32, url: Bool) -> Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F: return true          // C0 and C1 controls, DEL
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi embeddings, overrides, isolates
        case 0xFEFF: return true                            // byte order mark / zero-width no-break space
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B...0x200F, 0x2060...0x2064,
             0x3164, 0xFFA0, 0xFFF9...0xFFFB:
            return url                                      // invisible in print; spoofing aids in an address
        default: return false
        }
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
