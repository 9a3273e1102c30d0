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
        page += watchesSection(facts)
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
}
