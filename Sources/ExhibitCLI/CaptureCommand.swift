import ArgumentParser
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

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The case id.") var caseID: String
    @Argument(help: "URLs to capture.") var urls: [String] = []
    @Option(name: .long, help: "A file with one URL per line (blank lines and # comments ignored).") var urlsFile: String?
    @Flag(name: .long, inversion: .prefixedNo, help: "Also fetch the pages' images, video, audio and og:image/og:video (default: the case category's setting).")
    var media: Bool?
    @Option(name: .long, help: "Follow links this many levels (0: only the URLs given).") var depth = 0
    @Flag(name: .long, help: "Accepted for clarity: crawls stay on the same host (the default).") var sameHost = false
    @Flag(name: .long, help: "Let crawls follow links to other hosts.") var otherHosts = false
    @Option(name: .long, help: "Transfers at once.") var concurrency = 4
    @Option(name: .long, help: "Largest body accepted, in bytes (default 256 MiB).") var maxBytes: Int64 = 256 * 1024 * 1024
    @Option(name: .long, help: "Seconds allowed per URL in total.") var timeout = 120
    @Option(name: .long, help: "Seconds allowed to connect.") var connectTimeout = 15
    @Option(name: .long, help: "Seconds between requests to one host (default 1 for crawls, 0 for URL lists).") var delay: Double?
    @Option(name: .long, help: "Open an address range (CIDR) for capture, e.g. an agency intranet: at most /8 for IPv4, /16 for IPv6 (repeatable; needs --reason).")
    var allowNetwork: [String] = []
    @Option(name: .long, help: "Why --allow-network or --tls-insecure is used (recorded in the ledger).") var reason: String?
    @Option(name: .long, help: "Extra trust anchors (PEM) for HTTPS.") var caFile: String?
    @Flag(name: .long, help: "Capture despite a certificate failure (needs --reason; recorded as a policy override).") var tlsInsecure = false
    @Flag(name: .long, help: "After the capture, render the HTML pages it captured from the sealed WARC (full-page PNG and PDF, as `exhibit render` does).")
    var screenshot = false

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
        default:
            return error.message + "."
        }
    }

    func run() throws {
        var list = urls
        if let urlsFile {
            guard let data = FileManager.default.contents(atPath: urlsFile) else {
                throw ExhibitError(.storage, "Cannot read the URL list \(urlsFile).")
            }
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
        let session = try options.session(notices: { Console.error($0) })
        let showProgress = !options.json && Console.isTerminal
        // Missing Chromium is found before anything is fetched.
        if screenshot { _ = try Renderer() }
        // The index is not updated here: it is a cache, and the next reading
        // command catches up with what the ledger gained (decision 116).
        let report = try CaptureJob(session: session, caseID: caseID, options: capture)
            .run(progress: showProgress ? { Console.line($0) } : nil)
        var render: RenderReport?
        if screenshot && !report.warcFiles.isEmpty {
            render = try RenderJob(session: session, caseID: caseID, options: RenderOptions(warcFiles: report.warcFiles)).run()
        }
        if options.json {
            var output = CaptureOutput(report)
            output.render = render.map(RenderOutput.init)
            try Console.json(output)
        } else {
            if !showProgress {
                for item in report.captured {
                    Console.line("captured \(item.status) \(item.url)\(item.finalURL != item.url ? " → \(item.finalURL)" : "")\(item.accessRestricted ? " (access-restricted)" : "")")
                }
                for item in report.failed { Console.line("FAILED \(item.url) — \(item.reason)") }
                for item in report.refused { Console.line("REFUSED \(item.url) — \(item.reason)") }
            }
            for url in report.skippedByRobots { Console.line("skipped (robots.txt) \(url)") }
            Console.line("\(report.captured.count) captured, \(report.failed.count) failed, \(report.refused.count) refused; WARC: \(report.warcFiles.joined(separator: ", ")); ledger head \(report.ledgerHead ?? "-")")
            if let render { try RenderOutput.print(render, json: false) }
        }
        if let code = report.exitCode ?? render?.exitCode { throw ExitCode(code.exitStatus) }
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
