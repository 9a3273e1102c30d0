public import CaseManagement
public import ChainOfCustody
import Foundation
import WARC
import PageAnalysis

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
    /// Load each page in headless Chromium whose every request is fetched by the
    /// engine under this policy (DESIGN §17).
    public var browser = false
    /// Browser capture: at most this many scroll rounds, ending early when the page stops growing.
    public var scrolls = 20
    /// Browser capture: seconds without a request before the page counts as settled.
    public var settleSeconds = 2.0
    /// Hears of each batch the job seals (a watch run compares its pages while the next is fetched).
    public var sealObserver: (any CaptureSealObserver)?
    /// The case's state as the caller has just folded it from the whole ledger (a watch
    /// run has read it): the job's checks use it instead of reading the ledger again.
    public var caseState: CaseState?

    public init(urls: [String]) {
        self.urls = urls
    }
}

/// Hears of each batch a capture job seals, on the job's thread (`CaptureOptions.sealObserver`).
public protocol CaptureSealObserver: Sendable {
    /// Just before a batch's entries are appended: returns once the observer has
    /// appended what it appends about earlier batches, so that those entries come first.
    func willSeal()
    /// Once the batch's entries are appended and its WARC file is in place.
    func sealed(_ entries: [LedgerEntry])
    /// A page whose records were just prepared, on the preparing thread (any thread);
    /// only pages whose decoded body reads back from the WARC file exactly as given
    /// here (`PreparedPage`). A watch run's removal check reads it instead of the record.
    func prepared(_ page: PreparedPage)
}

extension CaptureSealObserver {
    public func prepared(_ page: PreparedPage) {}
}

/// An HTML page of a plain capture as reading its response back from the WARC file
/// would give it (`ArchivedResponse`, `WorkspaceIndex.source`): the decoded body and
/// content type, with what its capture entry records to match it by.
public struct PreparedPage: Sendable {
    /// The URL as given (the entry's `url`), the URL of the last response (`final_url`)
    /// and that response's payload digest (`payload_sha256`).
    public var url: String
    public var finalURL: String
    public var payloadSHA256: String
    public var html: [UInt8]
    public var contentType: String?

    /// nil when a reading of the record could give other bytes: a body spooled to disk,
    /// a head with a blank line before its end, or a head naming the type, encoding or
    /// framing twice with different values (the hop keeps the last, a reader the first).
    init?(url: String, hop: HopResult, html: [UInt8]) {
        guard hop.spoolPath == nil, let raw = hop.body, raw.count <= ArchivedResponse.analysisLimit else { return nil }
        let head = hop.responseHead
        // The reader's head ends at the first CR LF CR LF: it must be this head's end.
        guard let end = (0...max(head.count - 4, 0)).first(where: {
            $0 + 4 <= head.count && head[$0] == 13 && head[$0 + 1] == 10 && head[$0 + 2] == 13 && head[$0 + 3] == 10
        }), end + 4 == head.count else { return nil }
        let fields = Array(head.dropLast(4))
        for name in ["content-type", "content-encoding", "transfer-encoding"]
        where HTTPHead.firstValue(of: name, in: fields) != HTTPHead.value(of: name, in: head) {
            return nil
        }
        self.url = url
        finalURL = hop.url.text
        payloadSHA256 = hop.dechunkedSHA256 ?? hop.payloadSHA256
        self.html = html
        contentType = hop.contentType
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

        package init(url: String, finalURL: String, status: Int, accessRestricted: Bool, role: String, records: Int, warc: String) {
            self.url = url
            self.finalURL = finalURL
            self.status = status
            self.accessRestricted = accessRestricted
            self.role = role
            self.records = records
            self.warc = warc
        }

        enum CodingKeys: String, CodingKey {
            case url, status, role, records, warc
            case finalURL = "final_url"
            case accessRestricted = "access_restricted"
        }
    }

    public struct Problem: Sendable, Encodable {
        public var url: String
        public var reason: String

        package init(url: String, reason: String) {
            self.url = url
            self.reason = reason
        }
    }

    public var caseID: String
    public var captured: [Captured] = []
    public var failed: [Problem] = []
    public var refused: [Problem] = []
    public var skippedByRobots: [String] = []
    public var warcFiles: [String] = []
    public var ledgerHead: String?
    /// Whether a response of the job could be an image or a video for the case's media
    /// analysis: false only when every 2xx response was HTML by its Content-Type and
    /// began with markup (no image or video signature can begin with `<`).
    public var mayHoldMedia = false

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

    package init(outcome: Outcome?, line: String, bytes: Int64, queued: Int, role: String = "page") {
        self.outcome = outcome
        self.line = line
        self.bytes = bytes
        self.queued = queued
        self.role = role
    }
}

/// A capture job: fetches the URLs under the lawful-capture policy, archives
/// every hop in a WARC file, stores media payloads as blobs, and seals it all
/// into the case's ledger following the commit protocol of DESIGN §2.
public struct CaptureJob: Sendable {
    public let session: ActingSession
    public let caseID: String
    public let options: CaptureOptions
    /// Loads the pages of a job with `browser` set: supplied by the BrowserCapture module
    /// (`loadingPagesInChromium()`), which sits above this one (DESIGN §15).
    package var browserPass: BrowserPass?

    /// Captures the given addresses in a browser through the run's engine, policy and WARC files.
    package typealias BrowserPass = @Sendable (
        inout CaptureRun, [WebAddress], NetworkPolicy, ((CaptureProgress) -> Void)?
    ) throws(ExhibitError) -> Void

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
        // libcurl loads while the case is read: the URLs are parsed with it next.
        Curl.preload()
        try session.authorize(.capture, caseID: caseID, command: "capture")
        // The case's state once for both checks: a watched case's ledger is long.
        let state: CaseState
        if let known = options.caseState { state = known } else { state = try session.store.state(of: caseID) }
        try BackgroundInvestigation.requireSearcher(session, caseID: caseID, command: "capture", known: state)
        try session.requireOpen(caseID, command: "capture", known: state)
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
        if options.browser {
            guard browserPass != nil else {
                throw ExhibitError(.usage, "This program was built without browser capture; pages cannot be loaded in Chromium.")
            }
            guard options.scrolls >= 0, options.settleSeconds >= 0, options.settleSeconds <= Double(options.timeout) else {
                throw ExhibitError(.usage, "The number of scroll rounds must be 0 or more, and the settle time between 0 and the per-page time limit.", input: .captureLimits)
            }
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
        if options.browser, let browserPass {
            try browserPass(&run, toFetch, NetworkPolicy(allowed: allowed), progress)
        } else {
            try run.capture(toFetch, policy: NetworkPolicy(allowed: allowed), progress: progress)
        }
        run.report.ledgerHead = try session.store.ledger(of: caseID).head()?.hash
        return run.report
    }
}
