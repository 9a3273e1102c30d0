import CaseManagement
import ChainOfCustody
import Chromium
import Foundation
import LawfulFetch
import PageAnalysis
import WARC

/// Browser capture (DESIGN §17): each page loads in headless Chromium, but every
/// request it makes is paused over the DevTools pipe, fetched by this job's libcurl
/// engine under the same policy, limits and WARC records as a plain capture, and
/// handed back to the browser. When the page has settled and been scrolled, the
/// serialised DOM, a full-page PNG, a PDF and the list of every request are sealed
/// in the same WARC file, and one `capture` entry with `"mode":"browser"` names them.
extension CaptureRun {
    /// Time allowed for the snapshots once the page's own time is up.
    static let snapshotSeconds = 60.0

    mutating func captureInBrowser(_ addresses: [WebAddress], policy: NetworkPolicy, progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) {
        guard !addresses.isEmpty else { return }
        self.progress = progress
        // Missing Chromium is found before anything is fetched or written.
        let executable = try ChromiumProcess.locate()
        _ = try EvidenceFiles.prepareWARCDirectory(caseDirectory: caseDirectory)
        let engine = try TransferEngine(options: EngineOptions(
            policy: policy, userAgent: job.session.workspace.info.userAgent ?? ExhibitRelease.userAgent,
            connectTimeout: options.connectTimeout, totalTimeout: options.timeout, maxBytes: options.maxBytes,
            concurrency: options.concurrency, perHostConnections: options.concurrency,
            perHostDelay: options.delay ?? 0, caFile: options.caFile,
            tlsInsecure: options.tlsInsecure, spoolDirectory: warcDirectory,
            extraDigests: job.session.workspace.info.extraDigests ?? []))
        // Pages to load, in order: the URLs given, then (within the link depth) the links
        // found in their rendered DOM.
        var queue: [BrowserVisit] = []
        for address in addresses where seen.insert(address.withoutFragment).inserted {
            queue.append(BrowserVisit(address: address, depth: 0, parent: nil))
        }
        // One Chromium for the job; a new one after a page it failed on.
        var browser: BrowserPage?
        defer { browser?.close() }
        do throws(ExhibitError) {
            var index = 0
            while index < queue.count {
                let visit = queue[index]
                index += 1
                if browser == nil { browser = try BrowserPage(executable: executable) }
                let (healthy, analysed) = try capturePage(visit, page: browser!, engine: engine, remaining: queue.count - index)
                if !healthy {
                    browser?.close()
                    browser = nil
                }
                urlsInFile += 1
                try sealIfDue()
                if let analysed, visit.depth < options.depth {
                    queue += try links(of: analysed, from: visit, engine: engine, policy: policy)
                }
            }
            try sealFile()
        } catch {
            writer?.discard()
            for item in pending { if let blob = item.blob { unlink(blob.temporary) } }
            throw error
        }
    }

    /// Loads one page in a fresh browser context and records it; false when Chromium
    /// failed on it (it is then not used for the next page).
    mutating func capturePage(_ visit: BrowserVisit, page: BrowserPage, engine: TransferEngine, remaining: Int) throws(ExhibitError) -> (Bool, AnalyzedPage?) {
        let address = visit.address
        let started = LedgerTime.now()
        let deadline = ChromiumProcess.now() + Double(options.timeout)
        var state = BrowserPageState(address: address)
        var settled = false
        var rounds = 0
        var snapshot: BrowserSnapshot?
        var problem: String?
        do throws(ExhibitError) {
            try page.open(deadline: min(deadline, ChromiumProcess.now() + 30))
            try page.navigate(address.withoutFragment)
            settled = try drive(page, &state, engine: engine, until: deadline)
            // Scripts answer within moments; a page whose own time is up still gets these.
            func soon() -> Double { max(deadline, ChromiumProcess.now() + 10) }
            if state.documentOutcome == nil, ChromiumProcess.now() < deadline {
                var height = try page.height(deadline: soon())
                while rounds < options.scrolls, ChromiumProcess.now() < deadline {
                    rounds += 1
                    try page.scrollThrough(deadline: soon())
                    settled = try drive(page, &state, engine: engine, until: deadline, quietSince: ChromiumProcess.now()) && settled
                    let grown = try page.height(deadline: soon())
                    if grown <= height { break }
                    height = grown
                }
            }
            page.sealed = true
            for paused in page.waiting {
                try page.fail(paused, reason: "Aborted")
                page.log.append(BrowserRequest(url: paused.url, method: paused.method, resourceType: paused.resourceType, outcome: .failed,
                                               reason: "still waiting when the page's time was up; not fetched"))
            }
            page.waiting = []
            if state.documentOutcome == nil, !state.documentHops.isEmpty {
                let end = ChromiumProcess.now() + Self.snapshotSeconds
                let dom = try page.serializedDOM(deadline: end)
                let png = try page.screenshot(deadline: end)
                let pdf = try page.pdf(deadline: end)
                try page.client.drain()
                snapshot = BrowserSnapshot(dom: Array(dom.html.utf8), location: dom.location, png: png, pdf: pdf)
            }
        } catch {
            // Chromium failed or did not answer: what was fetched is still recorded,
            // and the page is a failed capture that says why.
            problem = error.message
        }
        if problem == nil { page.closePage(deadline: ChromiumProcess.now() + 10) }
        let analysed = try recordPage(visit, page: page, state: state, snapshot: snapshot, started: started,
                                      settled: settled, rounds: rounds, problem: problem, remaining: remaining)
        return (problem == nil, analysed)
    }

    /// Serves the page's paused requests through the engine until the network has been
    /// idle for the settle time (true) or `deadline` passes (false).
    /// After a scroll, `quietSince` is when it ended: what the scroll set off gets the
    /// settle time to start.
    mutating func drive(_ page: BrowserPage, _ state: inout BrowserPageState, engine: TransferEngine, until deadline: Double,
                        quietSince: Double = 0) throws(ExhibitError) -> Bool {
        while true {
            // Pauses Chromium already sent count before the page is called idle.
            try page.client.drain()
            let now = ChromiumProcess.now()
            if now >= deadline { return false }
            if state.documentOutcome != nil { return true }
            if page.waiting.isEmpty {
                if page.documentAnswered, now - max(page.lastActivity, quietSince) >= options.settleSeconds { return true }
                _ = try page.client.pump(until: min(deadline, now + 0.05))
                try page.client.drain()
                continue
            }
            let hops = try admit(page, &state)
            guard !hops.isEmpty else { continue }
            engine.enqueue(hops)
            try engine.run { (request, outcome) throws(ExhibitError) -> [HopRequest] in
                try self.answer(request, outcome, page: page, &state)
                try page.client.drain()
                return try self.admit(page, &state)
            }
        }
    }

    /// Turns the waiting pauses into engine hops; answers at once those that need no
    /// network or that the policy refuses before any byte is sent.
    mutating func admit(_ page: BrowserPage, _ state: inout BrowserPageState) throws(ExhibitError) -> [HopRequest] {
        var hops: [HopRequest] = []
        let waiting = page.waiting
        page.waiting = []
        for paused in waiting {
            let lower = paused.url.lowercased()
            func record(_ outcome: BrowserRequest.Outcome, _ reason: String?) {
                page.log.append(BrowserRequest(url: WebAddress.redactingPassword(paused.url), method: paused.method,
                                               resourceType: paused.resourceType, outcome: outcome, reason: reason))
            }
            if lower.hasPrefix("data:") || lower.hasPrefix("blob:") {
                try page.continueLocally(paused)
                record(.local, "answered inside the browser; no network")
                continue
            }
            var refusal: String?
            var failure: String?
            let address = WebAddress(paused.url)
            if let address {
                refusal = Self.urlRefusal(address)
            } else {
                refusal = "not an http or https URL; Exhibit fetches only public http and https pages (policy IV.B.8)"
            }
            if refusal == nil, paused.method != "GET" {
                refusal = "a \(paused.method) request; Exhibit only fetches (GET) and sends no data to the site"
            }
            if refusal == nil, let network = paused.networkID, (page.redirects[network] ?? 0) > options.maxRedirects {
                failure = "more than \(options.maxRedirects) redirects"
            }
            if let refusal {
                try page.fail(paused, reason: "BlockedByClient")
                record(.refused, refusal)
                state.refusals.append((WebAddress.redactingPassword(paused.url), refusal))
                if isMainDocument(paused, page) { state.documentOutcome = ("policy-refusal", refusal) }
                continue
            }
            if let failure {
                try page.fail(paused, reason: "Failed")
                record(.failed, failure)
                if isMainDocument(paused, page) { state.documentOutcome = ("capture-failed", failure) }
                continue
            }
            let id = nextChain
            nextChain += 1
            page.inFlight[id] = paused
            hops.append(HopRequest(url: address!, chain: id))
        }
        return hops
    }

    func isMainDocument(_ paused: PausedRequest, _ page: BrowserPage) -> Bool {
        paused.resourceType == "Document" && (paused.frameID == nil || paused.frameID == page.targetID)
    }

    /// Records what the engine did with one request and answers the browser.
    mutating func answer(_ request: HopRequest, _ outcome: HopOutcome, page: BrowserPage, _ state: inout BrowserPageState) throws(ExhibitError) {
        guard let paused = page.inFlight.removeValue(forKey: request.chain) else { return }
        let main = isMainDocument(paused, page)
        let shown = WebAddress.redactingPassword(paused.url)
        switch outcome {
        case .completed(var hop):
            defer { if let spool = hop.spoolPath { unlink(spool) } }
            let writer = try currentWriter()
            var written: [WrittenRecord] = []
            for record in Self.records(for: hop, warcinfoID: warcinfoID) { written.append(try writer.write(record)) }
            if main { state.documentRecords += written } else { state.records += written }
            let responseID = written.first { $0.type == "response" }?.id
            page.log.append(BrowserRequest(url: shown, method: paused.method, resourceType: paused.resourceType,
                                           outcome: .fetched, status: hop.status, recordID: responseID))
            let redirect = (300...399).contains(hop.status) && hop.location != nil
            if redirect, let network = paused.networkID { page.redirects[network, default: 0] += 1 }
            state.bytes += hop.bodyLength
            let raw = hop.body ?? (hop.spoolPath.flatMap { try? AtomicFile.read($0) } ?? [])
            let (headers, body) = Self.fulfilment(hop, raw: raw, limit: Int(options.maxBytes))
            try page.fulfil(paused, status: hop.status, headers: headers, body: body)
            if main {
                hop.body = nil
                hop.spoolPath = nil
                if !redirect {
                    state.documentBody = Array(body.prefix(ArchivedResponse.analysisLimit))
                    page.documentAnswered = true
                }
                state.documentHops.append(hop)
                hop.spoolPath = nil
            }
        case .failed(_, let reason):
            try page.fail(paused, reason: "Failed")
            page.log.append(BrowserRequest(url: shown, method: paused.method, resourceType: paused.resourceType, outcome: .failed, reason: reason))
            state.failures.append((shown, reason))
            if main { state.documentOutcome = ("capture-failed", reason) }
        case .refused(_, let reason):
            try page.fail(paused, reason: "BlockedByClient")
            page.log.append(BrowserRequest(url: shown, method: paused.method, resourceType: paused.resourceType, outcome: .refused, reason: reason))
            state.refusals.append((shown, reason))
            if main { state.documentOutcome = ("policy-refusal", reason) }
        case .storageFailed(let url, let reason):
            throw ExhibitError(.storage, "Cannot store the body of \(WebAddress.redactingPassword(url.text)) on this machine (\(reason)); free disk space or raise the file-size limit, then capture it again.")
        }
    }

    /// The header fields and body handed to the browser: the body as the page's author
    /// wrote it (chunk framing and gzip/deflate undone), so the framing and coding
    /// fields that described the transferred bytes are left out.
    static func fulfilment(_ hop: HopResult, raw: [UInt8], limit: Int) -> ([(String, String)], [UInt8]) {
        let encoding = hop.contentEncoding?.lowercased() ?? ""
        let decodes = encoding.contains("gzip") || encoding.contains("deflate")
        let body = ContentDecoding.payload(raw, chunked: hop.chunked, contentEncoding: decodes ? encoding : nil, limit: max(limit, raw.count))
        var dropped: Set<String> = ["transfer-encoding", "content-length", "connection", "keep-alive"]
        if decodes { dropped.insert("content-encoding") }
        var headers: [(String, String)] = []
        let lines = String(decoding: hop.responseHead, as: UTF8.self).components(separatedBy: "\r\n").dropFirst()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if name.isEmpty || dropped.contains(name.lowercased()) { continue }
            headers.append((name, value))
        }
        return (headers, body)
    }
}

/// What one page of a browser capture gathered while it loaded.
struct BrowserPageState {
    let address: WebAddress
    /// The main document's hops (bodies dropped), redirects first.
    var documentHops: [HopResult] = []
    var documentBody: [UInt8] = []
    /// Set when the main document itself was refused or failed: the ledger action and reason.
    var documentOutcome: (action: String, reason: String)?
    /// Records of the page's other requests, in the order written.
    var records: [WrittenRecord] = []
    /// Records of the main document's hops: listed after the others in the ledger, so
    /// that the entry's last `response` is the page's own, as in a plain capture.
    var documentRecords: [WrittenRecord] = []
    var refusals: [(url: String, reason: String)] = []
    var failures: [(url: String, reason: String)] = []
    var bytes: Int64 = 0

    init(address: WebAddress) {
        self.address = address
    }
}

/// The page as sealed: serialised DOM, where it ended up, PNG and PDF.
struct BrowserSnapshot {
    var dom: [UInt8]
    var location: String
    var png: [UInt8]
    var pdf: [UInt8]
}
