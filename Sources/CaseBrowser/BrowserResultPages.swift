public import CaseBundle
public import CaseManagement
public import ChainOfCustody

// The pages the case browser answers after Verify and Export, and its error page.

extension BrowserPages {
    /// The page after Verify: each finding and the summary, as `exhibit verify` prints them.
    public static func verificationPage(caseID: String, report: CaseVerification.Report, entry: LedgerEntry?, actor: Actor, agency: String) -> String {
        var body = "<p class=\"note\"><a href=\"\(casePath(caseID))\">\(h(caseID))</a></p>\n"
        body += "<h1>Verification of <span class=\"mono\">\(h(caseID))</span></h1>\n"
        body += "<p class=\"result \(report.intact ? "intact" : "failed")\">\(h(WorkspaceCaseCheck.summary(report)))</p>\n"
        body += CaseReport.findingsList(report.findings.map(\.line), intro: "Findings:")
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
}
