import ArgumentParser
import BrowserCapture
import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation
import CaseReplay
import LawfulFetch

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture public web pages into the case: WARC, blobs and a signed ledger entry per URL.",
        discussion: """
        Refuses non-http(s) URLs, URLs with credentials, and any destination whose \
        connected address is not public (exit 3), unless a range is opened with \
        --allow-network CIDR --reason TEXT. Exit 6 when some URLs failed (network \
        error or a limit); an HTTP error status is a successful capture.
        """)

    @OptionGroup var options: CaseOptions
    @Argument(help: "URLs to capture.") var urls: [String] = []
    @Option(name: .long, help: "A file with one URL per line (blank lines and # comments ignored).") var urlsFile: String?
    @Flag(name: .long, inversion: .prefixedNo, help: "Also fetch the pages' images, video, audio and og:image/og:video (default: the case category's setting).")
    var media: Bool?
    // Unconditional, so that `--depth -1` is a value to refuse, not a missing one.
    @Option(name: .long, parsing: .unconditional, help: "Follow links this many levels (0: only the URLs given).") var depth = 0
    @Flag(name: .long, help: "Accepted for clarity: crawls stay on the same host (the default).") var sameHost = false
    @Flag(name: .long, help: "Let crawls follow links to other hosts.") var otherHosts = false
    @Option(name: .long, help: "Transfers at once.") var concurrency = 4
    @Option(name: .long, help: "Largest body accepted, in bytes.") var maxBytes: Int64 = 256 * 1024 * 1024
    @Option(name: .long, help: "Seconds allowed per URL in total.") var timeout = 120
    @Option(name: .long, help: "Seconds allowed to connect.") var connectTimeout = 15
    @Option(name: .long, help: "Seconds between requests to one host (default 1 for crawls, 0 for URL lists).") var delay: Double?
    @Option(name: .long, help: "Open an address range (CIDR) for capture, e.g. an agency intranet: at most /8 for IPv4, /16 for IPv6 (repeatable; needs --reason).")
    var allowNetwork: [String] = []
    @Option(name: .long, help: "Why --allow-network or --tls-insecure is used (recorded in the ledger).") var reason: String?
    @Option(name: .long, help: "Extra trust anchors (PEM) for HTTPS.") var caFile: String?
    @Flag(name: .long, help: "Capture despite a certificate failure (needs --reason; recorded as a policy override).") var tlsInsecure = false
    @Flag(name: .long, help: "After the capture, render the HTML pages it captured from the sealed WARC (full-page PNG and PDF, as `exhibit render` does). With --browser the live page's PNG and PDF are sealed anyway.")
    var screenshot = false
    @Flag(name: .long, help: "Load each page in headless Chromium, whose every request Exhibit fetches under the same policy and records; seals the rendered DOM, a PNG, a PDF and the page's request list (docs/capture.md).")
    var browser = false
    @Option(name: .long, help: "With --browser: scroll rounds at most, ending early when the page stops growing.") var scroll = 20
    @Option(name: .long, help: "With --browser: seconds without a request before the page counts as settled (bounded by --timeout).") var wait = 2.0

    func validate() throws {
        if !allowNetwork.isEmpty {
            do {
                _ = try NetworkOverride(ranges: allowNetwork, reason: reason)
            } catch {
                throw ValidationError(sentence(for: error))
            }
        }
        if tlsInsecure && (reason ?? "").isEmpty {
            throw ValidationError("--tls-insecure needs --reason TEXT saying why certificate checks are skipped.")
        }
        if urls.isEmpty && urlsFile == nil {
            throw ValidationError("Give at least one URL, or --urls-file FILE.")
        }
        if depth < 0 {
            throw ValidationError("--depth must be 0 or more (0: only the URLs given), not \(depth).")
        }
        if !browser && (scroll != 20 || wait != 2.0) {
            throw ValidationError("--scroll and --wait apply to --browser captures only.")
        }
        if scroll < 0 {
            throw ValidationError("--scroll must be 0 or more, not \(scroll).")
        }
        if !(wait >= 0) || wait > Double(timeout) {
            throw ValidationError("--wait must be between 0 and --timeout (\(timeout) s).")
        }
        if sameHost && otherHosts {
            throw ValidationError("--same-host and --other-hosts contradict each other.")
        }
    }

    /// The library's network-override error, told in this command's flags.
    func sentence(for error: NetworkOverrideError) -> String {
        let range = error.range ?? ""
        switch error.code {
        case .notARange:
            return "--allow-network takes an address range such as 127.0.0.2/32 or fd12:3456:789a::/48, not \"\(range)\"."
        case .tooWide:
            if let reach = error.reach {
                return "--allow-network \(range) reaches \(reach.ipv4) through \(reach.embedding.rawValue) addresses, wider than /\(NetworkOverride.widestIPv4Prefix) of IPv4; give the IPv4 range itself, which opens its IPv6 spellings too."
            }
            return "--allow-network \(range) is wider than /\(error.widest ?? 0); give the intranet's own ranges, at most /\(NetworkOverride.widestIPv4Prefix) for IPv4 and /\(NetworkOverride.widestIPv6Prefix) for IPv6."
        case .opensOnlyTeredo:
            return "--allow-network \(range) lies inside Teredo (2001::/32), which Exhibit never connects to, so it would open nothing."
        case .emptyReason where !(reason ?? "").isEmpty:
            return "--reason needs text saying why the range is opened; white space alone is not a reason."
        case .emptyReason:
            return "--allow-network needs --reason TEXT saying why the range is opened."
        case .controlInReason:
            return "--reason is one line of text; it holds a line break or control character."
        default:
            return error.message + "."
        }
    }

    /// The bytes of `--urls-file`; a failure names the operating system's reason.
    static func readURLList(_ path: String) throws(ExhibitError) -> [UInt8] {
        func failure(_ code: Int32) -> ExhibitError {
            ExhibitError(.storage, "Cannot read the URL list \(path): \(String(cString: strerror(code))).")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            bytes += buffer[0..<count]
        }
    }

    func run() throws {
        Curl.preload()  // libcurl loads while the workspace is read (LawfulFetch/Curl.swift)
        var list = urls
        if let urlsFile {
            let data = try Self.readURLList(urlsFile)
            for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let text = line.trimmingCharacters(in: .whitespaces)
                if !text.isEmpty && !text.hasPrefix("#") { list.append(text) }
            }
        }
        var capture = CaptureOptions(urls: list)
        capture.media = media
        capture.depth = depth
        capture.otherHosts = otherHosts
        capture.concurrency = concurrency
        capture.maxBytes = maxBytes
        capture.timeout = timeout
        capture.connectTimeout = connectTimeout
        capture.delay = delay
        capture.allowNetworks = allowNetwork
        capture.allowReason = reason
        capture.caFile = caFile
        capture.tlsInsecure = tlsInsecure
        capture.tlsInsecureReason = tlsInsecure ? reason : nil
        capture.browser = browser
        capture.scrolls = scroll
        capture.settleSeconds = wait
        let session = try options.session(notices: { Console.error($0) })
        // Missing Chromium is found before anything is fetched.
        if screenshot || browser { _ = try Renderer() }
        let politeness = delay ?? (depth > 0 ? 1 : 0)
        if politeness > 0 {
            Console.error("\(ProgressText.seconds(politeness)) s between requests to the same host\(depth > 0 ? " while crawling" : ""); --delay S to change it, --delay 0 for none.")
        }
        // Each URL's line as soon as it is decided (DESIGN §12): under a status line
        // on a terminal, flushed line by line into a pipe.
        let mode = ProgressMode.current(json: options.json)
        let caseID = options.caseID
        let progress = LiveProgress(mode: mode, counts: WorkCounts(queued: list.count)) { counts, elapsed in
            ProgressText.capture(caseID, counts, elapsed: elapsed)
        }
        defer { progress.finish() }
        // The index is not updated here: it is a cache, and the next reading
        // command catches up with what the ledger gained (decision 116).
        let report = try CaptureJob(session: session, caseID: caseID, options: capture).loadingPagesInChromium().run(events: { event in
            progress.update { counts in
                counts.queued = event.queued
                counts.bytes += event.bytes
                switch event.outcome {
                case .captured(let status)?:
                    counts.done += 1
                    if status >= 400 && event.role != "robots" { counts.httpErrors += 1 }
                case .failed?:
                    counts.done += 1
                    counts.failed += 1
                case .refused?:
                    counts.done += 1
                    counts.refused += 1
                case nil:
                    break
                }
            }
            progress.line(event.line)
        })
        progress.finish()
        var render: RenderReport?
        if screenshot && !browser && !report.warcFiles.isEmpty {
            render = try RenderProgressDisplay.run(RenderJob(session: session, caseID: caseID, options: RenderOptions(warcFiles: report.warcFiles)), mode: mode)
        }
        if options.json {
            var output = CaptureOutput(report)
            output.render = render.map(RenderOutput.init)
            try Console.json(output)
        } else {
            for url in report.skippedByRobots { Console.line("skipped (robots.txt) \(url)") }
            Console.line(Self.summary(report))
            if let render { try RenderOutput.print(render, json: false, pageLines: false) }
        }
        Self.explainProblems(report)
        // A job of HTML pages only (the usual URL list) leaves the media analysis nothing
        // to find; it reads the whole ledger, so it is not run for nothing.
        if !report.warcFiles.isEmpty && (report.mayHoldMedia || browser) {
            MediaLines.afterIntake(session, caseID: caseID, quiet: options.json)
        }
        if let code = report.exitCode ?? render?.exitCode { throw ExitCode(code.exitStatus) }
    }

    /// "11 captured (2 with HTTP errors: 404, 410), 0 failed, 0 refused; WARC: warc/…; ledger head …".
    /// An HTTP error is a successful capture (the server's answer is the evidence, DESIGN §12),
    /// but the investigator should see it without reading every line. A crawl's robots.txt
    /// is left out: its 404 only says the site has no rules.
    static func summary(_ report: CaptureReport) -> String {
        let errors = report.captured.filter { $0.status >= 400 && $0.role != "robots" }
        var text = "\(report.captured.count) captured"
        if !errors.isEmpty {
            let codes = Set(errors.map(\.status)).sorted().map(String.init).joined(separator: ", ")
            text += " (\(errors.count) with HTTP error\(errors.count == 1 ? "" : "s"): \(codes))"
        }
        text += ", \(report.failed.count) failed, \(report.refused.count) refused; "
        text += report.warcFiles.isEmpty ? "no WARC file written" : "WARC: \(report.warcFiles.joined(separator: ", "))"
        return text + "; ledger head \(report.ledgerHead ?? "-")"
    }

    /// DESIGN §12: a capture that exits 3 or 6 says why on stderr too — one line per
    /// refused or failed URL, then a sentence on what it means and what to do.
    static func explainProblems(_ report: CaptureReport) {
        guard !report.refused.isEmpty || !report.failed.isEmpty else { return }
        func sentence(_ text: String) -> String { text.hasSuffix(".") ? text : text + "." }
        for item in report.refused { Console.error(sentence("REFUSED \(item.url) — \(item.reason)")) }
        for item in report.failed { Console.error(sentence("FAILED \(item.url) — \(item.reason)")) }
        let total = report.captured.count + report.failed.count + report.refused.count
        var parts: [String] = []
        if !report.refused.isEmpty { parts.append("\(report.refused.count) refused") }
        if !report.failed.isEmpty { parts.append("\(report.failed.count) failed") }
        var sentence = "\(parts.joined(separator: " and ")) of \(total) URL\(total == 1 ? "" : "s"); "
        sentence += report.captured.isEmpty ? "nothing was captured" : "\(report.captured.count) captured and recorded"
        if !report.refused.isEmpty {
            sentence += ". A refusal is the lawful-capture policy: only public http(s) addresses, no credentials (docs/capture.md); an agency's own range needs --allow-network CIDR --reason TEXT"
        }
        if !report.failed.isEmpty {
            sentence += ". Capture the failed URLs again later, or with a larger --timeout or --max-bytes if a limit stopped them"
        }
        Console.error(sentence + ".")
    }
}

struct CaptureOutput: Encodable {
    var `case`: String
    var captured: [CaptureReport.Captured]
    var failed: [CaptureReport.Problem]
    var refused: [CaptureReport.Problem]
    var skipped_by_robots: [String]
    var warc_files: [String]
    var ledger_head: String?
    /// With --screenshot: the render job that followed.
    var render: RenderOutput?

    init(_ report: CaptureReport) {
        self.case = report.caseID
        captured = report.captured
        failed = report.failed
        refused = report.refused
        skipped_by_robots = report.skippedByRobots
        warc_files = report.warcFiles
        ledger_head = report.ledgerHead
    }
}
