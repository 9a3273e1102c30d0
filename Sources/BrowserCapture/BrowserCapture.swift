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
    /// Pages loading at once in the job's Chromium (each in its own tab and browser
    /// context), at most the job's transfer concurrency: the waits of one page (its
    /// settle time, its scrolling) overlap the work of the others.
    static let pagesAtOnce = 4

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
        var visits: [BrowserVisit] = []
        for address in addresses where seen.insert(address.withoutFragment).inserted {
            visits.append(BrowserVisit(address: address, depth: 0, parent: nil))
        }
        let loop = BrowserLoop(executable: executable, pagesAtOnce: min(options.concurrency, Self.pagesAtOnce), queue: visits)
        defer { loop.browser?.close() }
        do throws(ExhibitError) {
            while true {
                try step(loop, waiting: false)
                let hops = admitAll(loop)
                if !hops.isEmpty {
                    // While the engine fetches, every page moves on each time a request
                    // finishes, Chromium says something or 10 ms pass: a transfer that
                    // hangs holds only its own page, until that page's time is up.
                    engine.enqueue(hops)
                    try engine.run(wakingOn: { loop.browser?.process.messageDescriptor }, tickMilliseconds: 10, tick: { () throws(ExhibitError) -> [HopRequest] in
                        try self.step(loop, waiting: false)
                        return self.admitAll(loop)
                    }) { (request, outcome) throws(ExhibitError) -> [HopRequest] in
                        try self.answer(request, outcome, loop)
                        return []
                    }
                    continue
                }
                if loop.tabs.isEmpty {
                    // No page has records in the open file now: links are followed (their
                    // robots.txt is a plain capture) and the file sealed when due.
                    if !loop.toFollow.isEmpty {
                        let finished = loop.toFollow
                        loop.toFollow = []
                        for (page, visit) in finished { loop.queue += try links(of: page, from: visit, engine: engine, policy: policy) }
                        continue
                    }
                    if loop.next >= loop.queue.count { break }
                    try sealIfDue()
                }
                try step(loop, waiting: true)
            }
            try sealFile()
        } catch {
            writer?.discard()
            for item in pending { if let blob = item.blob { unlink(blob.temporary) } }
            throw error
        }
    }

    /// Whether the open WARC file is full: no page starts until it is sealed, since a
    /// page's records and its entry belong in one file.
    var sealDue: Bool {
        guard let writer else { return false }
        return writer.size >= options.rotateBytes || urlsInFile >= options.rotateURLs
    }

    /// Opens pages while there is room, reads what Chromium sent (waiting briefly when
    /// told to), moves every page on, and records the pages that are done.
    mutating func step(_ loop: BrowserLoop, waiting: Bool) throws(ExhibitError) {
        // A page whose records are being made has left Chromium (its context is disposed):
        // the next page takes its place there meanwhile.
        while loop.tabs.count(where: { $0.phase != .sealing }) < loop.pagesAtOnce, loop.next < loop.queue.count, !sealDue {
            if let browser = loop.browser, browser.retiring {
                guard browser.openTabs == 0 else { break }
                browser.close()
                loop.browser = nil
            }
            if loop.browser == nil { loop.browser = try BrowserSession(executable: loop.executable) }
            guard let browser = loop.browser else { break }
            let tab = BrowserTab(visit: loop.queue[loop.next], client: browser.client, seconds: options.timeout)
            loop.next += 1
            browser.openTabs += 1
            loop.tabs.append(tab)
            do throws(ExhibitError) {
                try tab.expect("Target.createBrowserContext", ["disposeOnDetach": true], until: min(tab.deadline, ChromiumProcess.now() + 30))
            } catch {
                abandon(tab, loop, problem: error.message)
            }
        }
        if let browser = loop.browser {
            do throws(ExhibitError) {
                if waiting { try browser.client.pump(until: ChromiumProcess.now() + 0.01) }
                try browser.client.drain()
            } catch {
                // Chromium exited or spoke nonsense: every page open in it ends here.
                for tab in loop.tabs where tab.phase != .done { abandon(tab, loop, problem: error.message) }
            }
        } else if waiting {
            usleep(10_000)
        }
        for tab in loop.tabs where tab.phase != .done { advance(tab, loop) }
        let done = loop.tabs.filter { $0.phase == .done }
        guard !done.isEmpty else { return }
        loop.tabs.removeAll { $0.phase == .done }
        for tab in done {
            loop.browser?.forget(tab)
            let analysed = try recordPage(tab, chromiumVersion: loop.browser?.chromiumVersion ?? "",
                                          remaining: loop.queue.count - loop.next + loop.tabs.count)
            urlsInFile += 1
            if let analysed, tab.visit.depth < options.depth { loop.toFollow.append((analysed, tab.visit)) }
        }
    }

    /// Ends a page Chromium failed on (what was fetched is still recorded, and the page
    /// is a failed capture that says why); its Chromium takes no new page.
    func abandon(_ tab: BrowserTab, _ loop: BrowserLoop, problem: String) {
        tab.problem = tab.problem ?? problem
        seal(tab, loop)
        tab.phase = .done
        loop.browser?.retiring = true
    }

    /// Stops serving a page: what still waits is failed in the browser and listed as
    /// not fetched; what the engine is still fetching for it is not recorded.
    func seal(_ tab: BrowserTab, _ loop: BrowserLoop) {
        tab.sealed = true
        for paused in tab.waiting {
            try? tab.fail(paused, reason: "Aborted")
            tab.log.append(BrowserRequest(url: WebAddress.redactingPassword(paused.url), method: paused.method, resourceType: paused.resourceType,
                                          outcome: .failed, reason: "still waiting when the page's time was up; not fetched"))
        }
        tab.waiting = []
        for (chain, paused) in tab.inFlight.sorted(by: { $0.key < $1.key }) {
            loop.byChain.removeValue(forKey: chain)
            try? tab.fail(paused, reason: "Aborted")
            tab.log.append(BrowserRequest(url: WebAddress.redactingPassword(paused.url), method: paused.method, resourceType: paused.resourceType,
                                          outcome: .failed, reason: "still being fetched when the page's time was up; not recorded"))
        }
        tab.inFlight = [:]
    }

    /// The waiting pauses of every open page, as engine hops.
    mutating func admitAll(_ loop: BrowserLoop) -> [HopRequest] {
        var hops: [HopRequest] = []
        for tab in loop.tabs where tab.phase != .done && !tab.sealed && !tab.waiting.isEmpty {
            do throws(ExhibitError) {
                hops += try admit(tab, loop)
            } catch {
                abandon(tab, loop, problem: error.message)
            }
        }
        return hops
    }

    /// Turns a page's waiting pauses into engine hops; answers at once those that need no
    /// network or that the policy refuses before any byte is sent.
    mutating func admit(_ page: BrowserTab, _ loop: BrowserLoop) throws(ExhibitError) -> [HopRequest] {
        var hops: [HopRequest] = []
        let waiting = page.waiting
        page.waiting = []
        for paused in waiting {
            let lower = paused.url.lowercased()
            func record(_ outcome: BrowserRequest.Outcome, _ reason: String?) {
                page.log.append(BrowserRequest(url: WebAddress.redactingPassword(paused.url), method: paused.method,
                                               resourceType: paused.resourceType, outcome: outcome, reason: reason,
                                               bodyLength: paused.body?.count, bodySHA256: paused.body.map(Digest.sha256Hex)))
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
                refusal = "a \(paused.method) request; Exhibit only reads pages (GET) and never sends a page's data or acts on a site, so it was not sent"
            }
            if refusal == nil, let network = paused.networkID, (page.redirects[network] ?? 0) > options.maxRedirects {
                failure = "more than \(options.maxRedirects) redirects"
            }
            if let refusal {
                try page.fail(paused, reason: "BlockedByClient")
                record(.refused, refusal)
                page.state.refusals.append((WebAddress.redactingPassword(paused.url), refusal))
                if isMainDocument(paused, page) { page.state.documentOutcome = ("policy-refusal", refusal) }
                continue
            }
            if let failure {
                try page.fail(paused, reason: "Failed")
                record(.failed, failure)
                if isMainDocument(paused, page) { page.state.documentOutcome = ("capture-failed", failure) }
                continue
            }
            let id = nextChain
            nextChain += 1
            page.inFlight[id] = paused
            loop.byChain[id] = page
            hops.append(HopRequest(url: address!, chain: id))
        }
        return hops
    }

    func isMainDocument(_ paused: PausedRequest, _ page: BrowserTab) -> Bool {
        paused.resourceType == "Document" && (paused.frameID == nil || paused.frameID == page.targetID)
    }

    /// Records what the engine did with one request and answers the browser. A request
    /// whose page has ended is not recorded (the page's list says so).
    mutating func answer(_ request: HopRequest, _ outcome: HopOutcome, _ loop: BrowserLoop) throws(ExhibitError) {
        guard let page = loop.byChain.removeValue(forKey: request.chain),
              let paused = page.inFlight.removeValue(forKey: request.chain) else {
            if case .completed(let hop) = outcome, let spool = hop.spoolPath { unlink(spool) }
            return
        }
        let main = isMainDocument(paused, page)
        let shown = WebAddress.redactingPassword(paused.url)
        let reply: (status: Int, headers: [(String, String)], body: [UInt8])?
        let failure: String
        switch outcome {
        case .completed(var hop):
            defer { if let spool = hop.spoolPath { unlink(spool) } }
            let writer = try currentWriter()
            var written: [WrittenRecord] = []
            for record in Self.records(for: hop, warcinfoID: warcinfoID) { written.append(try writer.write(record)) }
            if main { page.state.documentRecords += written } else { page.state.records += written }
            let responseID = written.first { $0.type == "response" }?.id
            page.log.append(BrowserRequest(url: shown, method: paused.method, resourceType: paused.resourceType,
                                           outcome: .fetched, status: hop.status, recordID: responseID))
            let redirect = (300...399).contains(hop.status) && hop.location != nil
            if redirect, let network = paused.networkID { page.redirects[network, default: 0] += 1 }
            page.state.bytes += hop.bodyLength
            let raw = hop.body ?? (hop.spoolPath.flatMap { try? AtomicFile.read($0) } ?? [])
            let (headers, body) = Self.fulfilment(hop, raw: raw, limit: Int(options.maxBytes))
            if main {
                hop.body = nil
                if !redirect {
                    page.state.documentBody = Array(body.prefix(ArchivedResponse.analysisLimit))
                    page.documentAnsweredAt = ChromiumProcess.now()
                }
                var kept = hop
                kept.spoolPath = nil
                page.state.documentHops.append(kept)
            }
            (reply, failure) = ((hop.status, headers, body), "")
        case .failed(_, let reason):
            page.log.append(BrowserRequest(url: shown, method: paused.method, resourceType: paused.resourceType, outcome: .failed, reason: reason))
            page.state.failures.append((shown, reason))
            if main { page.state.documentOutcome = ("capture-failed", reason) }
            (reply, failure) = (nil, "Failed")
        case .refused(_, let reason):
            page.log.append(BrowserRequest(url: shown, method: paused.method, resourceType: paused.resourceType, outcome: .refused, reason: reason))
            page.state.refusals.append((shown, reason))
            if main { page.state.documentOutcome = ("policy-refusal", reason) }
            (reply, failure) = (nil, "BlockedByClient")
        case .storageFailed(let url, let reason):
            throw ExhibitError(.storage, "Cannot store the body of \(WebAddress.redactingPassword(url.text)) on this machine (\(reason)); free disk space or raise the file-size limit, then capture it again.")
        }
        do throws(ExhibitError) {
            if let reply {
                try page.fulfil(paused, status: reply.status, headers: reply.headers, body: reply.body)
            } else {
                try page.fail(paused, reason: failure)
            }
        } catch {
            // Chromium did not take the answer: the page ends with what it has.
            abandon(page, loop, problem: error.message)
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

/// The page as sealed: where it ended up, its serialised DOM, PNG and PDF as
/// `resource` records compressed and ready to append, and the DOM's analysis.
struct BrowserSnapshot: Sendable {
    var location: String
    var records: [CompressedRecord]
    var analysed: AnalyzedPage

    /// Decodes and checks what Chromium returned (the DOM, the base64 PNG and PDF),
    /// then digests and compresses the three records and analyses the DOM: the costly
    /// part of sealing a page, done off the loop (``SnapshotWork``).
    static func make(html: String, location: String, png: String?, pdf: String?, url: String, date: String,
                     fields: [(String, String)], compressors: GzipCompressorPool) throws(ExhibitError) -> BrowserSnapshot {
        let dom = Array(html.utf8)
        let png = try BrowserTab.decoded(png, magic: [0x89, 0x50, 0x4E, 0x47], what: "PNG")
        let pdf = try BrowserTab.decoded(pdf, magic: Array("%PDF-".utf8), what: "PDF")
        var records: [CompressedRecord] = []
        for (kind, type, bytes) in [("dom", "text/html; charset=utf-8", dom), ("screenshot", "image/png", png),
                                    ("pdf", "application/pdf", pdf)] {
            records.append(try WARCWriter.compress(WARCRecord(
                type: "resource", date: date, targetURI: CaptureRun.snapshotURI(kind, url), contentType: type,
                fields: fields, payloadSHA256: Digest.sha256Hex(bytes), block: .init(bytes: bytes)), with: compressors))
        }
        return BrowserSnapshot(location: location, records: records,
                               analysed: AnalyzedPage(html: dom, url: location, contentType: "text/html; charset=utf-8"))
    }
}

/// One page's ``BrowserSnapshot`` being made on another thread, so that the loop keeps
/// serving the other pages meanwhile (it was ~60 ms a page on the loop: base64, sha256
/// and gzip of a PNG of a few hundred KiB, the PDF and the DOM, and the DOM's analysis).
final class SnapshotWork: @unchecked Sendable {
    // `outcome` is read and written only while `lock` is held.
    private let lock = NSLock()
    private var outcome: Result<BrowserSnapshot, ExhibitError>?

    init(_ make: @escaping @Sendable () throws(ExhibitError) -> BrowserSnapshot) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let made = Result { () throws(ExhibitError) in try make() }
            lock.lock()
            outcome = made
            lock.unlock()
        }
    }

    /// The snapshot once made (or why it could not be), nil before.
    var result: Result<BrowserSnapshot, ExhibitError>? {
        lock.lock()
        defer { lock.unlock() }
        return outcome
    }
}
