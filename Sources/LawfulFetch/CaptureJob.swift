public import CaseManagement
public import ChainOfCustody
import Foundation
import WARC
public import PageAnalysis

/// What `exhibit capture` was asked to do (DESIGN §6, §14).
public struct CaptureOptions: Sendable {
    public var urls: [String]
    /// nil: the case template's default (on for crime-imagery).
    public var media: Bool?
    public var depth: Int = 0
    /// Follow links to other hosts too when crawling (default: same host only).
    public var otherHosts = false
    public var concurrency = 4
    public var maxBytes: Int64 = 256 * 1024 * 1024
    public var timeout = 120
    public var connectTimeout = 15
    public var maxRedirects = 10
    /// Seconds between requests to one host; nil: 1 s for crawls, 0 for URL lists.
    public var delay: Double?
    public var allowNetworks: [String] = []
    public var allowReason: String?
    public var caFile: String?
    public var tlsInsecure = false
    public var tlsInsecureReason: String?
    /// A WARC file is sealed (and its entries committed) after this many bytes
    /// or URLs, so an interruption loses at most one batch (DESIGN §2).
    public var rotateBytes: Int64 = 512 * 1024 * 1024
    public var rotateURLs = 500

    public init(urls: [String]) {
        self.urls = urls
    }
}

/// The outcome of a capture job, URL by URL.
public struct CaptureReport: Sendable {
    public struct Captured: Sendable, Encodable {
        public var url: String
        public var finalURL: String
        public var status: Int
        public var accessRestricted: Bool
        public var role: String
        public var records: Int
        public var warc: String

        enum CodingKeys: String, CodingKey {
            case url, status, role, records, warc
            case finalURL = "final_url"
            case accessRestricted = "access_restricted"
        }
    }

    public struct Problem: Sendable, Encodable {
        public var url: String
        public var reason: String
    }

    public var caseID: String
    public var captured: [Captured] = []
    public var failed: [Problem] = []
    public var refused: [Problem] = []
    public var skippedByRobots: [String] = []
    public var warcFiles: [String] = []
    public var ledgerHead: String?

    /// DESIGN §12: refusals win (3), then failures (6), else success.
    public var exitCode: ExhibitError.Code? {
        if !refused.isEmpty { return .policyRefusal }
        if !failed.isEmpty { return .captureFailed }
        return nil
    }
}

/// One URL decided during a capture job, for a live display (`exhibit capture`
/// shows its line at once and keeps a status line of the counts).
public struct CaptureProgress: Sendable {
    public enum Outcome: Sendable, Equatable { case captured(status: Int), failed, refused }
    /// nil: a note on a URL already decided (a page that waited for the seal and
    /// turned out to be a login page).
    public var outcome: Outcome?
    /// The line `exhibit capture` prints for it ("captured 200 URL", "FAILED URL — reason").
    public var line: String
    /// Body bytes the URL brought in, every hop.
    public var bytes: Int64
    /// URLs known and not yet decided: in flight, queued, or waiting for robots.txt.
    public var queued: Int
    /// page, media or robots (a crawl's robots.txt, whose 404 means "no rules").
    public var role = "page"
}

/// A capture job: fetches the URLs under the lawful-capture policy, archives
/// every hop in a WARC file, stores media payloads as blobs, and seals it all
/// into the case's ledger following the commit protocol of DESIGN §2.
public struct CaptureJob: Sendable {
    public let session: ActingSession
    public let caseID: String
    public let options: CaptureOptions

    public init(session: ActingSession, caseID: String, options: CaptureOptions) {
        self.session = session
        self.caseID = caseID
        self.options = options
    }

    /// Runs the job on the calling thread (blocking: call it off the Swift
    /// concurrency pool). `progress` receives a line per finished URL.
    public func run(progress: ((String) -> Void)? = nil) throws(ExhibitError) -> CaptureReport {
        try run(events: progress.map { line in { line($0.line) } })
    }

    /// Runs the job as `run(progress:)` does; `events` hears of each URL as soon as
    /// it is decided (a page that waits for the seal too), with the counts so far.
    public func run(events progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) -> CaptureReport {
        try session.authorize(.capture, caseID: caseID, command: "capture")
        try BackgroundInvestigation.requireSearcher(session, caseID: caseID, command: "capture")
        try session.requireOpen(caseID, command: "capture")
        let template = session.store.templates.template(forCaseID: caseID)

        // Everything that can be wrong with the request is found before any write.
        // An override no wider than an intranet, with a reason (DESIGN §16).
        var allowed: [CIDR] = []
        if !options.allowNetworks.isEmpty {
            do {
                allowed = try NetworkOverride(ranges: options.allowNetworks, reason: options.allowReason).ranges
            } catch {
                throw ExhibitError(.usage, error.message + ".", cause: error)
            }
        }
        if options.tlsInsecure && (options.tlsInsecureReason ?? "").allSatisfy(\.isWhitespace) {
            throw ExhibitError(.usage, "The reason for skipping certificate checks is empty; say why they are skipped.", input: .reason)
        }
        if options.tlsInsecure, NetworkOverride.hasControlCharacter(options.tlsInsecureReason ?? "") {
            throw ExhibitError(.usage, "The reason for skipping certificate checks holds a line break or control character; it is one line, recorded in the ledger and the warcinfo record.")
        }
        guard !options.urls.isEmpty else {
            throw ExhibitError(.usage, "There is nothing to capture; give at least one URL or a file of URLs.", input: .captureURLs)
        }
        guard (1...256).contains(options.concurrency) else {
            throw ExhibitError(.usage, "The number of transfers at once must be between 1 and 256.", input: .concurrency)
        }
        guard options.depth >= 0, options.maxBytes > 0, options.timeout > 0, options.connectTimeout > 0 else {
            throw ExhibitError(.usage, "The link depth, the body-size limit and the timeouts must be positive.", input: .captureLimits)
        }
        var addresses: [WebAddress] = []
        for text in options.urls {
            guard let address = WebAddress(text) else {
                throw ExhibitError(.storage, "\"\(text)\" is not a URL; give absolute http:// or https:// URLs.")
            }
            addresses.append(address)
        }

        let signer = try session.signer()
        let caseDirectory = session.store.directory(of: caseID)
        let lock = try CaseRecovery.WriterLock(caseDirectory: caseDirectory)
        defer { withExtendedLifetime(lock) {} }

        var run = CaptureRun(job: self, signer: signer, caseDirectory: caseDirectory, template: template)
        var opening: [LedgerDraft] = []
        if !allowed.isEmpty {
            opening.append(LedgerDraft(action: "policy-override", subject: .object([
                "override": .string("allow-network"),
                "ranges": .array(allowed.map { .string($0.description) }),
                "reason": .string(options.allowReason ?? ""),
                "urls": .array(options.urls.map { .string(WebAddress.redactingPassword($0)) }),
            ])))
        }
        if options.tlsInsecure {
            opening.append(LedgerDraft(action: "policy-override", subject: .object([
                "override": .string("tls-insecure"),
                "reason": .string(options.tlsInsecureReason ?? ""),
                "urls": .array(options.urls.map { .string(WebAddress.redactingPassword($0)) }),
            ])))
        }
        var toFetch: [WebAddress] = []
        for (index, address) in addresses.enumerated() {
            if let reason = CaptureRun.urlRefusal(address) {
                let shown = WebAddress.redactingPassword(address.text)
                run.report.refused.append(.init(url: shown, reason: reason))
                opening.append(LedgerDraft(action: "policy-refusal", subject: .object([
                    "url": .string(shown), "reason": .string(reason), "records": .array([]),
                ])))
                progress?(CaptureProgress(outcome: .refused, line: "REFUSED \(shown) — \(reason)", bytes: 0,
                                          queued: toFetch.count + addresses.count - index - 1))
            } else {
                toFetch.append(address)
            }
        }
        if !opening.isEmpty {
            try session.store.append(opening, to: caseID, signer: signer)
        }
        try run.capture(toFetch, policy: NetworkPolicy(allowed: allowed), progress: progress)
        run.report.ledgerHead = try session.store.ledger(of: caseID).head()?.hash
        return run.report
    }
}

/// The mutable state of one job's run.
struct CaptureRun {
    enum Role: String { case page, media, robots }

    struct Chain {
        var url: WebAddress
        var role: Role
        var depth: Int
        var parent: String?
        var hops: [HopResult] = []
    }

    /// A finished chain waiting for its WARC file to be sealed.
    struct Pending {
        var action: String
        var subject: [String: JSONValue]
        var records: [WrittenRecord]
        var blob: (temporary: String, final: String)?
    }

    let job: CaptureJob
    let signer: LedgerSigner
    let caseDirectory: String
    let template: CaseTemplate?
    var report: CaptureReport
    let captureID: String
    var chains: [Int: Chain] = [:]
    var nextChain = 0
    var seen = Set<String>()
    var writer: WARCWriter?
    var warcinfoID = ""
    var fileIndex = 0
    var urlsInFile = 0
    var pending: [Pending] = []
    var robots: [String: RobotsRules] = [:]
    var waitingForRobots: [String: [(WebAddress, Int, String)]] = [:]
    var mediaEnabled: Bool
    /// Pages waiting for the seal (see `finish`), and how many body bytes they hold.
    var deferred: [Deferred] = []
    var deferredBytes: Int64 = 0
    /// Prepares the deferred pages while the transfers go on.
    var preparer: PagePreparer?
    /// Compressors for the deferred pages' records, reused from page to page.
    let compressors = GzipCompressorPool()
    /// Bounds the memory the waiting pages take.
    static let deferredLimit: Int64 = 64 << 20
    var progress: ((CaptureProgress) -> Void)?
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

    var options: CaptureOptions { job.options }
    var warcDirectory: String { caseDirectory + "/warc" }

    static func urlRefusal(_ address: WebAddress) -> String? {
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
        do throws(ExhibitError) {
            try engine.run { (request, outcome) throws(ExhibitError) -> [HopRequest] in
                try self.handle(request, outcome, policy: policy, progress: progress)
            }
            try sealFile()
        } catch {
            // Nothing of an unsealed file is evidence; remove it and its blobs.
            writer?.discard()
            for item in pending { if let blob = item.blob { unlink(blob.temporary) } }
            throw error
        }
    }

    mutating func startChain(_ address: WebAddress, role: Role, depth: Int, parent: String?) -> HopRequest {
        let id = nextChain
        nextChain += 1
        chains[id] = Chain(url: address, role: role, depth: depth, parent: parent)
        return HopRequest(url: address, chain: id)
    }

    mutating func handle(_ request: HopRequest, _ outcome: HopOutcome, policy: NetworkPolicy, progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) -> [HopRequest] {
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
    /// memory waits for the seal instead: its records are compressed and its page
    /// analysed there, on every core, while this thread keeps the transfers going.
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
            preparer?.submit { Self.prepare(item, warcinfoID: warcinfo, compressors: compressors) }
            urlsInFile += 1
            // Its line now, not at the seal: only a password field, which the
            // analysis finds there, can still add to it (a note then).
            let last = chain.hops[chain.hops.count - 1]
            progress?(CaptureProgress(
                outcome: .captured(status: last.status),
                line: Self.capturedLine(chain.url, last: last, restricted: last.status == 401 || last.status == 403),
                bytes: chain.hops.reduce(0) { $0 + $1.bodyLength }, queued: undecided, role: chain.role.rawValue))
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
            let page = Self.analyse(last)
            next = try complete(chain, last: last, page: page, records: records, subject: &subject, blob: &blob, progress: progress)
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
    mutating func sealIfDue() throws(ExhibitError) {
        if (writer?.size ?? 0) >= options.rotateBytes || urlsInFile >= options.rotateURLs || deferredBytes >= Self.deferredLimit {
            try sealFile()
        }
    }

    /// The page analysis of an HTML response (at most 16 MiB of it).
    static func analyse(_ hop: HopResult) -> AnalyzedPage? {
        let isHTML = (hop.contentType ?? "").lowercased().contains("html")
        guard isHTML, hop.bodyLength <= Int64(ArchivedResponse.analysisLimit), let body = bodyForAnalysis(hop) else { return nil }
        return AnalyzedPage(html: body, url: hop.url.text, contentType: hop.contentType)
    }

    /// Fills in a capture's subject from its last hop and its analysis, stores a
    /// media payload as a blob, and returns what to fetch next.
    mutating func complete(
        _ chain: Chain, last: HopResult, page: AnalyzedPage?, records: [WrittenRecord],
        subject: inout [String: JSONValue], blob: inout (String, String)?, progress: ((CaptureProgress) -> Void)?
    ) throws(ExhibitError) -> [HopRequest] {
        var next: [HopRequest] = []
        let restricted = last.status == 401 || last.status == 403 || page?.hasPasswordField == true
        subject["final_url"] = .string(last.url.text)
        subject["status"] = .integer(Int64(last.status))
        subject["access_restricted"] = .bool(restricted)
        subject["ip"] = last.ip.map { .string($0) } ?? .null
        subject["content_type"] = last.contentType.map { .string($0) } ?? .null
        subject["payload_sha256"] = .string(last.dechunkedSHA256 ?? last.payloadSHA256)
        subject["payload_length"] = .integer(last.bodyLength)
        if !last.extraDigests.isEmpty {
            // Legacy forensic tools quote these; computed in the same pass over the
            // payload as transferred.
            var digests: [String: JSONValue] = [:]
            for (algorithm, value) in last.extraDigests { digests[algorithm.rawValue] = .string(value) }
            subject["payload_digests"] = .object(digests)
        }
        if let tls = last.tls {
            subject["tls"] = .object([
                "version": tls.version.map { .string($0) } ?? .null,
                "cipher": tls.cipher.map { .string($0) } ?? .null,
                "chain_sha256": .array(tls.chainSHA256.map { .string($0) }),
            ])
        } else {
            subject["tls"] = .null
        }
        if let page {
            if let title = page.title { subject["title"] = .string(title) }
            subject["analysis"] = page.ledgerSummary
        }
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

    /// "captured 200 URL[ → final URL][ (access-restricted)]".
    static func capturedLine(_ url: WebAddress, last: HopResult, restricted: Bool) -> String {
        "captured \(last.status) \(url.text)\(last.url.text != url.text ? " → \(last.url.text)" : "")\(restricted ? " (access-restricted)" : "")"
    }

    /// One deferred page's records, compressed, and its analysis (on any thread).
    static func prepare(_ item: Deferred, warcinfoID: String, compressors: GzipCompressorPool) -> PagePreparer.Output {
        Result { () throws(ExhibitError) -> ([CompressedRecord], AnalyzedPage?) in
            var members: [CompressedRecord] = []
            for hop in item.chain.hops {
                for record in Self.records(for: hop, warcinfoID: warcinfoID) {
                    members.append(try WARCWriter.compress(record, with: compressors))
                }
            }
            return (members, item.chain.hops.last.flatMap(Self.analyse))
        }
    }

    /// The records and analysis of the pages waiting for the seal (prepared while
    /// the transfers went on, the rest now), written in order and recorded like
    /// any other capture.
    mutating func prepareDeferred(progress: ((CaptureProgress) -> Void)?) throws(ExhibitError) {
        guard !deferred.isEmpty else { return }
        let writer = try currentWriter()
        let items = deferred
        deferred = []
        deferredBytes = 0
        let prepared = preparer?.drain() ?? []
        for (item, result) in zip(items, prepared) {
            let (members, page) = try result.get()
            var records: [WrittenRecord] = []
            for member in members { records.append(try writer.append(member)) }
            var subject = item.subject
            subject["records"] = .array(records.map(\.json))
            var blob: (String, String)?
            if let last = item.chain.hops.last {
                // A page that leads nowhere has nothing to follow; its line went out when it arrived.
                _ = try complete(item.chain, last: last, page: page, records: records, subject: &subject, blob: &blob, progress: nil)
                if page?.hasPasswordField == true, last.status != 401, last.status != 403 {
                    progress?(CaptureProgress(outcome: nil, line: "access-restricted \(item.chain.url.text) — a login page (password field), captured as is",
                                              bytes: 0, queued: undecided))
                }
            }
            pending.append(Pending(action: "capture", subject: subject, records: records, blob: blob))
        }
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

    static func pathAndQuery(_ address: WebAddress) -> String {
        let text = address.withoutFragment
        guard let schemeEnd = text.range(of: "://") else { return "/" }
        let afterHost = text[schemeEnd.upperBound...]
        guard let slash = afterHost.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let path = String(afterHost[slash...])
        return path.hasPrefix("/") ? path : "/" + path
    }

    /// The body as the page's author wrote it (framing and gzip undone), for
    /// analysis only; at most 16 MiB.
    static func bodyForAnalysis(_ hop: HopResult) -> [UInt8]? {
        let limit = 16 << 20
        guard let raw = hop.body ?? hop.spoolPath.flatMap({ try? AtomicFile.read($0) }) else { return nil }
        return ContentDecoding.payload(raw, chunked: hop.chunked, contentEncoding: hop.contentEncoding, limit: limit)
    }

    /// Copies a media payload into the content-addressed blob store under a
    /// temporary name; renamed after the ledger records it.
    mutating func storeBlob(_ hop: HopResult, subject: inout [String: JSONValue]) throws(ExhibitError) -> (String, String)? {
        guard hop.spoolPath != nil || hop.body != nil else { return nil }
        let sha = hop.dechunkedSHA256 ?? hop.payloadSHA256
        let relative = EvidenceFiles.blobPath(sha256: sha)
        let chunked = hop.chunked
        let staged = try EvidenceFiles.stageBlob(caseDirectory: caseDirectory, sha256: sha, jobID: captureID) { (fd, temporary) throws(ExhibitError) -> Int64 in
            var decoder = chunked ? ChunkDecoder() : nil
            var written: Int64 = 0
            try Self.forEachBodyChunk(hop) { (chunk) throws(ExhibitError) in
                if decoder != nil {
                    var out: [UInt8] = []
                    decoder!.feed(chunk) { out.append(contentsOf: $0) }
                    try AtomicFile.writeAll(fd, out, path: temporary)
                    written += Int64(out.count)
                } else {
                    try AtomicFile.writeAll(fd, Array(chunk), path: temporary)
                    written += Int64(chunk.count)
                }
            }
            return written
        }
        subject["blob"] = .object(["path": .string(relative), "sha256": .string(sha), "size": .integer(staged?.size ?? hop.bodyLength)])
        return staged.map { ($0.temporary, $0.final) }
    }

    /// The body as transferred, in pieces, from memory or from its spool file.
    static func forEachBodyChunk(_ hop: HopResult, _ body: (UnsafeRawBufferPointer) throws(ExhibitError) -> Void) throws(ExhibitError) {
        if let bytes = hop.body {
            try withBytes(bytes, body)
        } else if let spool = hop.spoolPath {
            try WARCWriter.stream(spool, expectedLength: hop.bodyLength, body)
        }
    }

    /// The open WARC file, creating it (with its warcinfo record) when needed.
    mutating func currentWriter() throws(ExhibitError) -> WARCWriter {
        if let writer { return writer }
        fileIndex += 1
        let name = fileIndex == 1 ? "\(captureID).warc.gz" : "\(captureID)-\(fileIndex).warc.gz"
        let writer = try WARCWriter(finalPath: warcDirectory + "/" + name)
        var extra: [(String, String)] = [
            ("http-header-user-agent", job.session.workspace.info.userAgent ?? ExhibitRelease.userAgent),
            ("robots", options.depth > 0 ? "obey (beyond the URLs given)" : "not consulted (only the URLs given)"),
            ("policy", "lawful capture of public pages (IV.B.8): public addresses only, checked on the connected address; no credentials, cookies or Authorization sent; 401/403 and login pages recorded as access-restricted"),
        ]
        if !options.allowNetworks.isEmpty {
            extra.append(("policy-override", "allow-network \(options.allowNetworks.joined(separator: " ")) — \(options.allowReason ?? "")"))
        }
        if options.tlsInsecure {
            extra.append(("policy-override", "tls-insecure — \(options.tlsInsecureReason ?? "")"))
        }
        let info = EvidenceFiles.warcinfo(
            fileName: name, session: job.session, caseID: job.caseID, jobField: ("capture-id", captureID),
            software: "Exhibit/\(ExhibitRelease.version) (\(Curl.version))", extra: extra)
        try writer.write(info)
        warcinfoID = info.recordID
        self.writer = writer
        urlsInFile = 0
        return writer
    }

    /// A hop's request, response and metadata records.
    static func records(for hop: HopResult, warcinfoID: String) -> [WARCRecord] {
        let responseID = WARCRecord.newRecordID()
        var common: [(String, String)] = [("WARC-Warcinfo-ID", warcinfoID)]
        if let ip = hop.ip { common.append(("WARC-IP-Address", ip)) }
        let responseBlock: WARCRecord.Block = hop.spoolPath.map {
            .init(head: hop.responseHead, spoolPath: $0, spoolLength: hop.bodyLength, sha256: hop.blockSHA256)
        } ?? {
            var block = WARCRecord.Block(bytes: hop.responseHead + (hop.body ?? []))
            block.sha256 = hop.blockSHA256
            return block
        }()
        // The standard tools disagree on the payload digest of a chunked body, so
        // it is left out of the header there and the de-chunked digest goes in the
        // metadata record and the ledger.
        let response = WARCRecord(
            type: "response", recordID: responseID, date: hop.started, targetURI: hop.url.withoutFragment,
            contentType: "application/http;msgtype=response", fields: common,
            payloadSHA256: hop.dechunkedSHA256 ?? hop.payloadSHA256, payloadDigestInHeader: !hop.chunked, block: responseBlock)
        let request = WARCRecord(
            type: "request", date: hop.started, targetURI: hop.url.withoutFragment,
            contentType: "application/http;msgtype=request", fields: common + [("WARC-Concurrent-To", responseID)],
            block: .init(bytes: hop.requestBytes))
        var meta: [(String, String)] = []
        if let ip = hop.ip { meta.append(("ip", ip)) }
        if let port = hop.port { meta.append(("port", String(port))) }
        meta.append(("network-decision", hop.networkDecision))
        if let tls = hop.tls {
            if let version = tls.version { meta.append(("tls-version", version)) }
            if let cipher = tls.cipher { meta.append(("tls-cipher", cipher)) }
            for (index, pem) in tls.chainPEM.enumerated() {
                meta.append(("peer-certificate-sha256", tls.chainSHA256[index]))
                // PEM lines folded as continuation lines (leading space) of one field.
                let folded = pem.split(separator: "\n").map(String.init).filter { !$0.isEmpty }.joined(separator: "\r\n ")
                meta.append(("peer-certificate", folded))
            }
        }
        for (name, value) in hop.timingsMicroseconds { meta.append(("time-\(name)-us", String(value))) }
        if let location = hop.location { meta.append(("redirect-location", location)) }
        if let dechunked = hop.dechunkedSHA256 { meta.append(("payload-sha256-dechunked", dechunked)) }
        meta.append(("body-bytes", String(hop.bodyLength)))
        let metaBody = meta.map { "\($0.0): \($0.1)\r\n" }.joined()
        let metadata = WARCRecord(
            type: "metadata", date: hop.started, targetURI: hop.url.withoutFragment,
            contentType: "application/warc-fields",
            fields: [("WARC-Warcinfo-ID", warcinfoID), ("WARC-Concurrent-To", responseID)],
            block: .init(bytes: Array(metaBody.utf8)))
        return [request, response, metadata]
    }

    /// Seals the current WARC file: flush it, record every pending entry with the
    /// file's digest (group commit), then rename the file and blobs into place.
    mutating func sealFile() throws(ExhibitError) {
        try prepareDeferred(progress: progress)
        var drafts: [LedgerDraft] = []
        if let writer {
            if writer.recordCount <= 1 {
                writer.discard()
                for index in pending.indices { pending[index].subject.removeValue(forKey: "warc") }
            } else {
                let (sha, size) = try writer.seal()
                let file = Self.relative(writer.finalPath, to: caseDirectory)
                for index in pending.indices where !pending[index].records.isEmpty {
                    pending[index].subject["warc"] = .object(["file": .string(file), "sha256": .string(sha), "size": .integer(size)])
                }
            }
        }
        drafts = pending.map { LedgerDraft(action: $0.action, subject: .object($0.subject)) }
        if !drafts.isEmpty {
            _ = try job.session.store.append(drafts, to: job.caseID, signer: signer)
        }
        if let writer, writer.recordCount > 1 {
            try writer.commit()
            report.warcFiles.append(Self.relative(writer.finalPath, to: caseDirectory))
        }
        for item in pending {
            guard let blob = item.blob else { continue }
            EvidenceFiles.commitBlob(temporary: blob.temporary, final: blob.final)
        }
        pending = []
        writer = nil
    }

    static func relative(_ path: String, to directory: String) -> String {
        path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : path
    }
}
