import ArgumentParser
import CaseBundle
import CaseIndex
import CaseManagement
import ChainOfCustody
import FixtureServer
import Foundation
import LawfulFetch

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job end to end in a fresh workspace and print what happened.")

    @Option(name: .long, help: "Where to create the demo workspace (default: a new directory under the system's temporary folder).")
    var workspace: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Only serve the bundled Fixtures site on 127.0.0.1 until interrupted, for trying the commands of the README by hand.")
    var serveSite = false

    @Option(name: .long, help: "With --serve-site: the TCP port (default 8000; 0 picks a free one).")
    var port: Int = 8000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 to 65535, not \(port).") }
    }

    func run() throws {
        if serveSite {
            try DemoScenario.serveSite(port: port)
            return
        }
        let root = workspace.map { Workspace.resolvePath($0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("exhibit-demo-\(getpid())-\(Int(Date().timeIntervalSince1970))").path
        let result = try DemoScenario.run(workspacePath: root)
        if json {
            try Console.json(result)
        } else {
            for line in result.lines { print(line) }
        }
        if !result.intact { throw ExitCode(1) }
    }
}

/// The demo's steps, each a library call a user could make from the CLI:
/// serve the Fixtures site on loopback, open a case, capture the site, verify,
/// list the selectors found, export a bag and a WACZ and verify both.
enum DemoScenario {
    struct Result: Encodable {
        var workspace: String
        var caseID: String
        var supervisor: String
        var investigator: String
        var site: String
        var captured: Int
        var failed: Int
        var refused: Int
        var warcFiles: [String]
        var entries: Int
        var ledgerHead: String
        var selectors: Int
        var bag: String
        var wacz: String
        var bundleIntact: Bool
        var intact: Bool
        var lines: [String]

        enum CodingKeys: String, CodingKey {
            case workspace, supervisor, investigator, site, captured, failed, refused, entries, intact, lines, selectors, bag, wacz
            case bundleIntact = "bundle_intact"
            case caseID = "case"
            case warcFiles = "warc_files"
            case ledgerHead = "ledger_head"
        }
    }

    static func siteDirectory() throws -> String {
        guard let siteDirectory = FixtureSite.defaultSiteDirectory ?? bundledSite() else {
            throw ExhibitError(.storage, "The demo site (Fixtures/site) was not found; run `exhibit demo` from the source tree or set EXHIBIT_FIXTURES to its directory.")
        }
        return siteDirectory
    }

    /// `exhibit demo --serve-site`: the Fixtures site on loopback, in the
    /// foreground, until SIGINT or SIGTERM; its address is the only line on stdout.
    static func serveSite(port: Int) throws {
        let directory = try siteDirectory()
        let site = try FixtureSite.startBlocking(host: "127.0.0.1", port: port, siteDirectory: directory)
        defer { site.stopBlocking() }
        // Written at once, not through stdout's buffer: a script reads it from a pipe.
        FileHandle.standardOutput.write(Data((InertText.escape(site.baseURL) + "\n").utf8))
        Console.error("serving \(directory) on \(site.baseURL) (loopback only); Ctrl-C stops it")
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var received: Int32 = 0
        sigwait(&signals, &received)
    }

    static func run(workspacePath: String) throws -> Result {
        let siteDirectory = try siteDirectory()
        var lines: [String] = []
        let workspace = try Workspace.create(at: workspacePath, agency: "Exhibit Demo Police Department")
        lines.append("workspace   \(workspace.root)")
        let registry = ActorRegistry(workspace: workspace)
        let supervisor = try registry.add(name: "Dana Reyes", badge: "S-100", roles: [.supervisor, .custodian], actingActor: nil)
        let investigator = try registry.add(name: "Sam Okafor", badge: "D-214", roles: [.investigator, .analyst], actingActor: supervisor.id)
        lines.append("actors      \(supervisor.id) \(supervisor.name) (supervisor, custodian); \(investigator.id) \(investigator.name) (investigator, analyst)")
        let templates = try CaseTemplates.load()
        let session = try ActingSession(workspace: workspace, templates: templates, actorID: investigator.id)
        let opened = try session.openCase(
            category: "crime-imagery", title: "Images of an assault shared on a community news site",
            fields: ["incident_reference": "RPT-2026-0042"])
        lines.append("case        \(opened.id) (crime-imagery: media capture on) opened by \(investigator.id)")

        let site = try FixtureSite.startBlocking(host: "127.0.0.1", siteDirectory: siteDirectory)
        defer { site.stopBlocking() }
        lines.append("site        \(site.baseURL)/ serving \(siteDirectory) on loopback")
        var options = CaptureOptions(urls: [
            site.baseURL + "/", site.baseURL + "/profile.html", site.baseURL + "/article.html",
            site.baseURL + "/forum.html", site.baseURL + "/legacy-1252.html",
        ])
        options.allowNetworks = ["127.0.0.1/32"]
        options.allowReason = "exhibit demo: the bundled Fixtures site served on this machine"
        var progress: [String] = []
        let report = try CaptureJob(session: session, caseID: opened.id, options: options).run { progress.append($0) }
        for line in progress { lines.append("  " + line) }
        lines.append("capture     \(report.captured.count) captured, \(report.failed.count) failed, \(report.refused.count) refused")
        for file in report.warcFiles {
            lines.append("warc        \(session.store.directory(of: opened.id))/\(file)")
        }

        let custodian = try ActingSession(workspace: workspace, templates: templates, actorID: supervisor.id)
        let report2 = try WorkspaceCaseCheck.verify(directory: custodian.store.directory(of: opened.id))
        try custodian.authorize(.verify, caseID: opened.id, command: "verify")
        try WorkspaceCaseCheck.record(report2, session: custodian)
        for finding in report2.findings { lines.append(finding.line) }
        lines.append("verify      \(report2.intact ? "intact" : "NOT INTACT"): \(report2.entryCount) ledger entries, chain, signatures, WARC and blob digests checked by \(supervisor.id)")

        // The analyst's view: selectors found across the pages (recorded as a view).
        let selectors = try CaseReader(session: session).selectors(opened.id)
        lines.append("selectors   \(selectors.count) found: " + selectors.prefix(6).map { "\($0.kind) \($0.value)" }.joined(separator: ", ") + (selectors.count > 6 ? ", …" : ""))

        // Export for a recipient without Exhibit: a BagIt bag and a signed WACZ, each verified as a recipient would.
        let bag = workspace.root + "-bag"
        let wacz = workspace.root + ".wacz"
        _ = try CaseExport(session: session, caseID: opened.id, options: CaseExport.Options(output: bag)).run()
        var waczOptions = CaseExport.Options(output: wacz)
        waczOptions.format = .wacz
        _ = try CaseExport(session: session, caseID: opened.id, options: waczOptions).run()
        let bagCheck = try BundleVerification.verify(bag)
        let waczCheck = try BundleVerification.verify(wacz)
        for finding in bagCheck.findings + waczCheck.findings { lines.append(finding.line) }
        lines.append("export      \(bag) (BagIt: ledger, WARC, blobs, keys, provenance.jsonld, report.html, loadfile.csv)")
        lines.append("export      \(wacz) (WACZ, signed)")
        lines.append("bundles     \(bagCheck.intact && waczCheck.intact ? "intact" : "NOT INTACT"): manifests, signatures, ledger and WARC records checked")
        let state = try custodian.store.state(of: opened.id)
        lines.append("ledger      \(custodian.store.ledger(of: opened.id).path)")
        lines.append("head        \(state.ledgerHead) (\(state.entryCount) entries)")
        lines.append("next        exhibit verify \(bag)   (or: python3 -m bagit --validate \(bag))")
        return Result(
            workspace: workspace.root, caseID: opened.id, supervisor: supervisor.id, investigator: investigator.id,
            site: site.baseURL, captured: report.captured.count, failed: report.failed.count,
            refused: report.refused.count, warcFiles: report.warcFiles, entries: state.entryCount,
            ledgerHead: state.ledgerHead, selectors: selectors.count, bag: bag, wacz: wacz,
            bundleIntact: bagCheck.intact && waczCheck.intact,
            intact: report2.intact && report.exitCode == nil && bagCheck.intact && waczCheck.intact, lines: lines)
    }

    /// `$EXHIBIT_FIXTURES`, for a binary run outside the source tree.
    private static func bundledSite() -> String? {
        ProcessInfo.processInfo.environment["EXHIBIT_FIXTURES"]
    }
}
