import CaseManagement
package import ChainOfCustody
import Foundation
package import WARC
import PageAnalysis

/// The mutable state of one job's run.
package struct CaptureRun {
    package enum Role: String { case page, media, robots }

    struct Chain {
        var url: WebAddress
        var role: Role
        var depth: Int
        var parent: String?
        var hops: [HopResult] = []
    }

    /// A finished chain waiting for its WARC file to be sealed.
    package struct Pending {
        package var action: String
        package var subject: [String: JSONValue]
        package var records: [WrittenRecord]
        package var blob: (temporary: String, final: String)?

        package init(action: String, subject: [String: JSONValue], records: [WrittenRecord], blob: (temporary: String, final: String)?) {
            self.action = action
            self.subject = subject
            self.records = records
            self.blob = blob
        }
    }

    package let job: CaptureJob
    let signer: LedgerSigner
    package let caseDirectory: String
    let template: CaseTemplate?
    package var report: CaptureReport
    let captureID: String
    var chains: [Int: Chain] = [:]
    package var nextChain = 0
    package var seen = Set<String>()
    package var writer: WARCWriter?
    package var warcinfoID = ""
    var fileIndex = 0
    package var urlsInFile = 0
    package var pending: [Pending] = []
    package var robots: [String: RobotsRules] = [:]
    var waitingForRobots: [String: [(WebAddress, Int, String)]] = [:]
    var mediaEnabled: Bool
    /// Pages waiting for their records to be written (see `finish`), and how many body
    /// bytes the pages deferred since the last seal held (the seal comes at `deferredLimit`,
    /// however many of them are written by then, so that where files end does not
    /// depend on how fast the pages were prepared).
    var deferred: [Deferred] = []
    var deferredBytes: Int64 = 0
    /// Deferred pages whose records are in the open file: their entries follow the
    /// batch's other entries at the seal, where the ledger has always had them.
    var written: [Pending] = []
    /// Prepares the deferred pages while the transfers go on.
    var preparer: PagePreparer?
    /// Compressors for the deferred pages' records, reused from page to page.
    let compressors = GzipCompressorPool()
    /// Bounds the memory the waiting pages take.
    static let deferredLimit: Int64 = 64 << 20
    package var progress: ((CaptureProgress) -> Void)?
    /// URLs known and not yet decided, for `CaptureProgress.queued`.
    var undecided: Int { chains.count + waitingForRobots.values.reduce(0) { $0 + $1.count } }

    /// A finished page whose records and analysis are prepared at the seal.
    struct Deferred: Sendable {
        var chain: Chain
        var subject: [String: JSONValue]
    }

    init(job: CaptureJob, signer: LedgerSigner, caseDirectory: String, template: CaseTemplate?) {
        self.job = job
        self.signer = signer
        self.caseDirectory = caseDirectory
        self.template = template
        self.report = CaptureReport(caseID: job.caseID)
        self.captureID = EvidenceFiles.jobID(prefix: "cap")
        self.mediaEnabled = job.options.media ?? template?.captureDefaults.media ?? false
    }

    package var options: CaptureOptions { job.options }
    package var warcDirectory: String { caseDirectory + "/warc" }

    package static func urlRefusal(_ address: WebAddress) -> String? {
        if !address.isWeb {
            return "the scheme \(address.scheme): is not captured; Exhibit fetches only public http and https pages (policy IV.B.8)"
        }
        if address.hasUserInfo {
            return "the URL carries a user name or password; Exhibit never sends credentials (policy IV.B.8)"
        }
        if address.host.isEmpty {
            return "the URL has no host"
        }
        return nil
    }

    mutating func capture(_ addresses: [WebAddress], policy: NetworkPolicy, progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) {
        guard !addresses.isEmpty else { return }
        self.progress = progress
        defer { preparer?.stop() }
        _ = try EvidenceFiles.prepareWARCDirectory(caseDirectory: caseDirectory)
        let crawling = options.depth > 0
        let engine = try TransferEngine(options: EngineOptions(
            policy: policy, userAgent: job.session.workspace.info.userAgent ?? ExhibitRelease.userAgent,
            connectTimeout: options.connectTimeout, totalTimeout: options.timeout, maxBytes: options.maxBytes,
            concurrency: options.concurrency, perHostConnections: crawling ? 1 : options.concurrency,
            perHostDelay: options.delay ?? (crawling ? 1 : 0), caFile: options.caFile,
            tlsInsecure: options.tlsInsecure, spoolDirectory: warcDirectory,
            extraDigests: job.session.workspace.info.extraDigests ?? []))
        var initial: [HopRequest] = []
        for address in addresses where seen.insert(address.withoutFragment).inserted {
            initial.append(startChain(address, role: .page, depth: 0, parent: nil))
        }
        engine.enqueue(initial)
        // Pages that lead nowhere are prepared on a second thread (`finish`); this
        // thread takes some of that work too whenever the transfers leave it waiting.
        if !mediaEnabled, preparer == nil { preparer = PagePreparer() }
        let helper = preparer
        do throws(ExhibitError) {
            try engine.run(idle: helper.map { helper in { helper.helpOne() } }) { (request, outcome) throws(ExhibitError) -> [HopRequest] in
                try self.handle(request, outcome, policy: policy, progress: progress)
            }
            try sealFile()
        } catch {
            // Nothing of an unsealed file is evidence; remove it and its blobs.
            writer?.discard()
            for item in pending + written { if let blob = item.blob { unlink(blob.temporary) } }
            throw error
        }
    }

    package mutating func startChain(_ address: WebAddress, role: Role, depth: Int, parent: String?) -> HopRequest {
        let id = nextChain
        nextChain += 1
        chains[id] = Chain(url: address, role: role, depth: depth, parent: parent)
        return HopRequest(url: address, chain: id)
    }

    package mutating func handle(_ request: HopRequest, _ outcome: HopOutcome, policy: NetworkPolicy, progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) -> [HopRequest] {
        guard var chain = chains[request.chain] else { return [] }
        switch outcome {
        case .completed(let hop):
            chain.hops.append(hop)
            chains[request.chain] = chain
            if (300...399).contains(hop.status), let location = hop.location {
                guard let next = WebAddress(location, base: hop.url) else {
                    return try finish(request.chain, action: "capture", reason: nil, progress: progress)
                }
                if chain.hops.count > options.maxRedirects {
                    return try finish(request.chain, action: "capture-failed",
                                      reason: "more than \(options.maxRedirects) redirects (the last went to \(next.text))", progress: progress)
                }
                if let refusal = Self.urlRefusal(next) {
                    return try finish(request.chain, action: "policy-refusal", reason: "redirect to \(next.text) refused: \(refusal)", progress: progress)
                }
                return [HopRequest(url: next, chain: request.chain)]
            }
            return try finish(request.chain, action: "capture", reason: nil, progress: progress)
        case .failed(_, let reason):
            return try finish(request.chain, action: "capture-failed", reason: reason, progress: progress)
        case .storageFailed(let url, let reason):
            // Sealed batches stay recorded; the batch in flight is an interrupted write
            // that the next command on the case removes (DESIGN §2).
            throw ExhibitError(.storage, "Cannot store the body of \(WebAddress.redactingPassword(url.text)) on this machine (\(reason)); free disk space or raise the file-size limit, then capture it again.")
        case .refused(let url, let reason):
            let what = chain.hops.isEmpty ? reason : "redirect to \(WebAddress.redactingPassword(url.text)) refused: \(reason)"
            return try finish(request.chain, action: "policy-refusal", reason: what, progress: progress)
        }
    }

    /// Archives a finished chain's hops and decides what to fetch next.
    ///
    /// A page that leads nowhere (no media asked for, no deeper link depth) and arrived in
    /// memory is deferred instead: its records are compressed and its title and password
    /// field found on a second thread while this thread keeps the transfers going, and
    /// written (in arrival order) once ready; its entry waits for the seal like any other.
    mutating func finish(_ id: Int, action: String, reason: String?, progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) -> [HopRequest] {
        guard let chain = chains.removeValue(forKey: id) else { return [] }
        defer { for hop in chain.hops { if let spool = hop.spoolPath { unlink(spool) } } }
        var subject: [String: JSONValue] = [
            "url": .string(chain.url.text),
            "role": .string(chain.role.rawValue),
            "depth": .integer(Int64(chain.depth)),
        ]
        if let parent = chain.parent { subject["parent"] = .string(parent) }
        if let reason { subject["reason"] = .string(reason) }
        if let last = chain.hops.last {
            subject["started"] = .string(chain.hops[0].started)
            subject["ended"] = .string(last.ended)
            subject["redirects"] = .integer(Int64(chain.hops.count - 1))
            subject["network_decision"] = .string(last.networkDecision)
        }
        let leadsNowhere = chain.role == .page && !mediaEnabled && chain.depth >= options.depth
        if action == "capture", leadsNowhere, !chain.hops.isEmpty, chain.hops.allSatisfy({ $0.spoolPath == nil }) {
            _ = try currentWriter()
            let item = Deferred(chain: chain, subject: subject)
            let warcinfo = warcinfoID
            deferred.append(item)
            deferredBytes += chain.hops.reduce(0) { $0 + $1.bodyLength }
            if preparer == nil { preparer = PagePreparer() }
            let compressors = self.compressors
            let observer = options.sealObserver
            preparer?.submit { Self.prepare(item, warcinfoID: warcinfo, compressors: compressors, observer: observer) }
            urlsInFile += 1
            // Its line now, not at the seal: only a password field, which is
            // looked for when the page is written, can still add to it (a note
            // then). The line goes first: the page may already be prepared, and
            // writing it below emits that note.
            let last = chain.hops[chain.hops.count - 1]
            progress?(CaptureProgress(
                outcome: .captured(status: last.status),
                line: Self.capturedLine(chain.url, last: last, restricted: last.status == 401 || last.status == 403),
                bytes: chain.hops.reduce(0) { $0 + $1.bodyLength }, queued: undecided, role: chain.role.rawValue))
            try writeReadyPages()
            try sealIfDue()
            return []
        }

        var records: [WrittenRecord] = []
        if !chain.hops.isEmpty {
            let writer = try currentWriter()
            for hop in chain.hops {
                for record in Self.records(for: hop, warcinfoID: warcinfoID) {
                    records.append(try writer.write(record))
                }
            }
        }
        subject["records"] = .array(records.map(\.json))
        var next: [HopRequest] = []
        var blob: (String, String)?
        if action == "capture", let last = chain.hops.last {
            // Only a page whose links or media are followed is analysed now; the
            // others need just their title and password field (PageFacts).
            let followed = chain.role == .page && last.status == 200 && (mediaEnabled || chain.depth < options.depth)
            let page = followed ? Self.analyse(last) : nil
            let facts = page.map(PageFacts.init) ?? (followed ? nil : Self.facts(last))
            next = try complete(chain, last: last, facts: facts, page: page, records: records, subject: &subject, blob: &blob, progress: progress)
        } else if action == "capture-failed" {
            report.failed.append(.init(url: chain.url.text, reason: reason ?? ""))
            if chain.role == .robots { next += releaseWaiting(origin: chain.url.origin, rules: .disallowAll) }
            progress?(CaptureProgress(outcome: .failed, line: "FAILED \(chain.url.text) — \(reason ?? "")",
                                      bytes: chain.hops.reduce(0) { $0 + $1.bodyLength }, queued: undecided, role: chain.role.rawValue))
        } else {
            report.refused.append(.init(url: chain.url.text, reason: reason ?? ""))
            if chain.role == .robots { next += releaseWaiting(origin: chain.url.origin, rules: .disallowAll) }
            progress?(CaptureProgress(outcome: .refused, line: "REFUSED \(chain.url.text) — \(reason ?? "")",
                                      bytes: chain.hops.reduce(0) { $0 + $1.bodyLength }, queued: undecided, role: chain.role.rawValue))
        }
        pending.append(Pending(action: action, subject: subject, records: records, blob: blob))
        urlsInFile += 1
        try sealIfDue()
        return next
    }

    /// Seals the WARC file once it holds enough (DESIGN §2), or once the pages
    /// waiting for the seal hold enough bytes.
    package mutating func sealIfDue() throws(ExhibitError) {
        if (writer?.size ?? 0) >= options.rotateBytes || urlsInFile >= options.rotateURLs || deferredBytes >= Self.deferredLimit {
            try sealFile()
        }
    }

    /// The page analysis of an HTML response (at most 16 MiB of it), for a page
    /// whose links or media are followed.
    static func analyse(_ hop: HopResult) -> AnalyzedPage? {
        htmlBody(hop).map { AnalyzedPage(html: $0, url: hop.url.text, contentType: hop.contentType) }
    }

    /// The title and password field of an HTML response, without the full analysis.
    static func facts(_ hop: HopResult) -> PageFacts? {
        htmlBody(hop).map { PageFacts(html: $0, url: hop.url.text, contentType: hop.contentType) }
    }

    static func htmlBody(_ hop: HopResult) -> [UInt8]? {
        let isHTML = (hop.contentType ?? "").lowercased().contains("html")
        guard isHTML, hop.bodyLength <= Int64(ArchivedResponse.analysisLimit) else { return nil }
        return bodyForAnalysis(hop)
    }

    /// Fills in a capture's subject from its last hop and the page's facts, stores a
    /// media payload as a blob, and returns what to fetch next (from `page`, the
    /// analysis of a page that is followed).
    ///
    /// The subject holds what was fetched, not the analysis: text, selectors, links
    /// and media are derived from the WARC by the index (docs/ledger.md).
    mutating func complete(
        _ chain: Chain, last: HopResult, facts: PageFacts?, page: AnalyzedPage?, records: [WrittenRecord],
        subject: inout [String: JSONValue], blob: inout (String, String)?, progress: ((CaptureProgress) -> Void)?
    ) throws(ExhibitError) -> [HopRequest] {
        var next: [HopRequest] = []
        let restricted = last.status == 401 || last.status == 403 || facts?.passwordField == true
        last.recordFinalHop(restricted: restricted, in: &subject)
        if !last.extraDigests.isEmpty {
            // Legacy forensic tools quote these; computed in the same pass over the
            // payload as transferred.
            var digests: [String: JSONValue] = [:]
            for (algorithm, value) in last.extraDigests { digests[algorithm.rawValue] = .string(value) }
            subject["payload_digests"] = .object(digests)
        }
        if let title = facts?.title { subject["title"] = .string(title) }
        if !report.mayHoldMedia, Self.mayBeMedia(last) { report.mayHoldMedia = true }
        if chain.role == .media, last.status == 200, last.bodyLength > 0 {
            blob = try storeBlob(last, subject: &subject)
        }
        if chain.role == .robots {
            let rules: RobotsRules
            let body = Self.bodyForAnalysis(last)
            if last.status == 200, let body { rules = RobotsRules(text: String(decoding: body, as: UTF8.self)) }
            else if (400...499).contains(last.status) { rules = .allowAll }
            else { rules = .disallowAll }
            next += releaseWaiting(origin: chain.url.origin, rules: rules)
        }
        if chain.role == .page, last.status == 200, let page {
            next += follow(page, from: last.url, depth: chain.depth)
        }
        report.captured.append(.init(
            url: chain.url.text, finalURL: last.url.text, status: last.status, accessRestricted: restricted,
            role: chain.role.rawValue, records: records.count, warc: writer.map { Self.relative($0.finalPath, to: caseDirectory) } ?? ""))
        progress?(CaptureProgress(outcome: .captured(status: last.status), line: Self.capturedLine(chain.url, last: last, restricted: restricted),
                                  bytes: chain.hops.reduce(0) { $0 + $1.bodyLength }, queued: undecided, role: chain.role.rawValue))
        return next
    }

    /// Whether the media analysis could take this response for an image or a video:
    /// any 2xx answer except an HTML one (by Content-Type) whose body, as transferred,
    /// starts with `<` after white space. JPEG, PNG, WebP and Matroska signatures start
    /// with other bytes, and an ISO media `ftyp` box is looked for at offset 4.
    static func mayBeMedia(_ hop: HopResult) -> Bool {
        guard (200..<300).contains(hop.status) else { return false }
        let type = (hop.contentType ?? "").lowercased()
        guard type.contains("html"), !type.hasPrefix("image/"), !type.hasPrefix("video/"), let body = hop.body else { return true }
        guard let first = body.firstIndex(where: { !(UInt8(ascii: " ") == $0 || (0x09...0x0D).contains($0)) }),
              body[first] == UInt8(ascii: "<") else { return true }
        return body.count >= 8 && Array(body[4..<8]) == Array("ftyp".utf8)
    }

    /// "captured 200 URL[ → final URL][ (access-restricted)]".
    package static func capturedLine(_ url: WebAddress, last: HopResult, restricted: Bool) -> String {
        "captured \(last.status) \(url.text)\(last.url.text != url.text ? " → \(last.url.text)" : "")\(restricted ? " (access-restricted)" : "")"
    }

    /// Queues media (when asked for) and, within the link depth, links.
    mutating func follow(_ page: AnalyzedPage, from url: WebAddress, depth: Int) -> [HopRequest] {
        var next: [HopRequest] = []
        if mediaEnabled {
            for reference in page.media {
                guard let address = WebAddress(reference, base: url), address.isWeb, !address.hasUserInfo,
                      seen.insert(address.withoutFragment).inserted else { continue }
                next.append(startChain(address, role: .media, depth: depth, parent: url.text))
            }
        }
        guard depth < options.depth else { return next }
        for reference in page.links {
            guard let address = WebAddress(reference, base: url), address.isWeb, !address.hasUserInfo else { continue }
            if !options.otherHosts && address.origin != url.origin { continue }
            guard seen.insert(address.withoutFragment).inserted else { continue }
            // Beyond depth 0 robots.txt applies (DESIGN §14): wait for the host's rules.
            if let rules = robots[address.origin] {
                if rules.allows(path: Self.pathAndQuery(address)) {
                    next.append(startChain(address, role: .page, depth: depth + 1, parent: url.text))
                } else {
                    report.skippedByRobots.append(address.text)
                }
            } else {
                let first = waitingForRobots[address.origin] == nil
                waitingForRobots[address.origin, default: []].append((address, depth + 1, url.text))
                if first, let robotsURL = WebAddress("/robots.txt", base: address) {
                    seen.insert(robotsURL.withoutFragment)
                    next.append(startChain(robotsURL, role: .robots, depth: depth + 1, parent: url.text))
                }
            }
        }
        return next
    }

    mutating func releaseWaiting(origin: String, rules: RobotsRules) -> [HopRequest] {
        robots[origin] = rules
        var next: [HopRequest] = []
        for (address, depth, parent) in waitingForRobots.removeValue(forKey: origin) ?? [] {
            if rules.allows(path: Self.pathAndQuery(address)) {
                next.append(startChain(address, role: .page, depth: depth, parent: parent))
            } else {
                report.skippedByRobots.append(address.text)
            }
        }
        return next
    }

    package static func pathAndQuery(_ address: WebAddress) -> String {
        let text = address.withoutFragment
        guard let schemeEnd = text.range(of: "://") else { return "/" }
        let afterHost = text[schemeEnd.upperBound...]
        guard let slash = afterHost.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let path = String(afterHost[slash...])
        return path.hasPrefix("/") ? path : "/" + path
    }
}
