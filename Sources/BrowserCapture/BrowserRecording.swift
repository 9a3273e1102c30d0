import CaseManagement
import ChainOfCustody
import Foundation
import LawfulFetch
import PageAnalysis
import WARC

/// The records and ledger entries of one browser-captured page (DESIGN §17).
extension CaptureRun {
    /// Target URIs of the snapshot records: `urn:exhibit:dom:<url>` and its siblings.
    static func snapshotURI(_ kind: String, _ url: String) -> String { "urn:exhibit:\(kind):\(url)" }

    /// The WARC fields of a page's snapshot and request-list records: they refer to the
    /// document's `response` record.
    func snapshotFields(_ state: BrowserPageState) -> [(String, String)] {
        var fields: [(String, String)] = [("WARC-Warcinfo-ID", warcinfoID)]
        if let response = state.documentRecords.last(where: { $0.type == "response" })?.id { fields.append(("WARC-Refers-To", response)) }
        return fields
    }

    /// Writes the snapshot and request-list records, then queues the page's `capture`
    /// entry (or `capture-failed` / `policy-refusal` when its document never arrived)
    /// and a `policy-refusal` entry per request the policy refused, for the next seal.
    /// Returns the DOM's analysis when the page was captured (its links may be followed).
    mutating func recordPage(_ browser: BrowserTab, chromiumVersion: String, remaining: Int) throws(ExhibitError) -> AnalyzedPage? {
        let (visit, state, snapshot, started) = (browser.visit, browser.state, browser.snapshot, browser.started)
        let (settled, rounds, problem) = (browser.settled, browser.rounds, browser.problem)
        let address = visit.address
        let url = address.withoutFragment
        // WebSockets included: the browser reports them, the interception never sees them.
        let refusals = browser.log.filter { $0.outcome == .refused }.map { (url: $0.url, reason: $0.reason ?? "") }
        var records = state.records + state.documentRecords
        let writer = try currentWriter()
        let now = LedgerTime.now()
        let lastDocument = state.documentHops.last
        let fields = snapshotFields(state)
        var analysed: AnalyzedPage?
        if let snapshot {
            for record in snapshot.records { records.append(try writer.append(record)) }
            analysed = snapshot.analysed
        }
        // The request list: every request of the page, in the order it was answered.
        let finalURL = lastDocument?.url.text ?? url
        let list: [String: Any] = [
            "page": url, "final_url": finalURL, "location": snapshot?.location ?? finalURL,
            "settled": settled, "scroll_rounds": rounds, "chromium": chromiumVersion,
            "requests": browser.log.map(\.json),
        ]
        let listBytes = (try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .withoutEscapingSlashes])).map(Array.init) ?? []
        records.append(try writer.write(WARCRecord(
            type: "metadata", date: now, targetURI: Self.snapshotURI("requests", url), contentType: "application/json",
            fields: fields, block: .init(bytes: listBytes))))

        var subject: [String: JSONValue] = [
            "url": .string(address.text), "mode": .string("browser"), "role": .string("page"), "depth": .integer(Int64(visit.depth)),
            "started": .string(started), "ended": .string(LedgerTime.now()),
            "settled": .bool(settled), "scroll_rounds": .integer(Int64(rounds)),
            "requests": .integer(Int64(browser.log.count)),
            "refused": .array(refusals.map { .object(["url": .string($0.url), "reason": .string($0.reason)]) }),
            "failed": .array(state.failures.map { .object(["url": .string($0.url), "reason": .string($0.reason)]) }),
            "records": .array(records.map(\.json)),
        ]
        if !chromiumVersion.isEmpty { subject["chromium"] = .string(chromiumVersion) }
        if let snapshot { subject["location"] = .string(snapshot.location) }
        var action = "capture"
        var reason: String?
        if let outcome = state.documentOutcome {
            (action, reason) = (outcome.action, outcome.reason)
        } else if snapshot == nil {
            action = "capture-failed"
            reason = problem.map { "the browser did not finish the page: \($0)" }
                ?? "the page's document did not arrive within \(options.timeout) s"
        }
        if let reason { subject["reason"] = .string(reason) }
        if let parent = visit.parent { subject["parent"] = .string(parent) }
        if let last = lastDocument {
            subject["redirects"] = .integer(Int64(state.documentHops.count - 1))
            subject["network_decision"] = .string(last.networkDecision)
        }
        let line: String
        let outcome: CaptureProgress.Outcome
        if action == "capture", let last = lastDocument {
            let restricted = last.status == 401 || last.status == 403 || analysed?.hasPasswordField == true
            last.recordFinalHop(restricted: restricted, in: &subject)
            // Like a plain capture's entry (D-54), no analysis summary: the index analyses
            // the DOM record.
            if let title = analysed?.title { subject["title"] = .string(title) }
            report.captured.append(.init(
                url: address.text, finalURL: last.url.text, status: last.status, accessRestricted: restricted, role: "page",
                records: records.count, warc: Self.relative(writer.finalPath, to: caseDirectory)))
            outcome = .captured(status: last.status)
            let refusedNote = refusals.isEmpty ? "" : ", \(refusals.count) refused"
            line = Self.capturedLine(address, last: last, restricted: restricted)
                + " (browser: \(browser.log.count) requests\(refusedNote)\(settled ? "" : ", time limit reached before the page settled"))"
        } else if action == "policy-refusal" {
            report.refused.append(.init(url: address.text, reason: reason ?? ""))
            outcome = .refused
            line = "REFUSED \(address.text) — \(reason ?? "")"
        } else {
            report.failed.append(.init(url: address.text, reason: reason ?? ""))
            outcome = .failed
            line = "FAILED \(address.text) — \(reason ?? "")"
        }
        pending.append(Pending(action: action, subject: subject, records: records, blob: nil))
        // Each request the policy refused is a refusal of its own, naming the page.
        for refusal in refusals where !(action == "policy-refusal" && refusal.url == WebAddress.redactingPassword(address.text)) {
            pending.append(Pending(action: "policy-refusal", subject: [
                "url": .string(refusal.url), "reason": .string(refusal.reason), "page": .string(address.text),
                "mode": .string("browser"), "records": .array([]),
            ], records: [], blob: nil))
            progress?(CaptureProgress(outcome: nil, line: "refused (requested by the page) \(refusal.url) — \(refusal.reason)",
                                      bytes: 0, queued: remaining))
        }
        progress?(CaptureProgress(outcome: outcome, line: line, bytes: state.bytes, queued: remaining))
        return action == "capture" ? analysed : nil
    }
}
