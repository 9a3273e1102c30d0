import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 18 item 1: the README's walkthrough runs as written. The block between
/// `<!-- readme-walkthrough -->` and its closing fence is run verbatim by bash,
/// with `exhibit` on PATH and SITE pointing at the bundled site served on loopback
/// (what `exhibit demo --serve-site` serves).
@Suite("the README walkthrough")
struct ReadmeWalkthroughTests {
    static func walkthrough() throws -> String {
        let readme = String(decoding: try AtomicFile.read(Validators.packageRoot + "/README.md"), as: UTF8.self)
        let marker = try #require(readme.range(of: "<!-- readme-walkthrough -->\n```sh\n"))
        let end = try #require(readme.range(of: "\n```", range: marker.upperBound..<readme.endIndex))
        return String(readme[marker.upperBound..<end.lowerBound])
    }

    @Test("every command of the README block succeeds in order, and what it made verifies")
    func runsAsWritten() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let directory = TemporaryDirectory("exhibit-readme")
            let script = "set -euo pipefail\n" + (try Self.walkthrough())
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = (ExhibitProcess.binaryPath as NSString).deletingLastPathComponent + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            environment["SITE"] = site.baseURL
            environment.removeValue(forKey: "EXHIBIT_WORKSPACE")
            environment.removeValue(forKey: "EXHIBIT_ACTOR")
            let result = try Command.run("/bin/bash", ["-c", script], directory: directory.path, environment: environment)
            #expect(result.status == 0, "the README walkthrough stopped (exit \(result.status)):\n\(result.output)")

            // What it made: one case, captured, recorded verify and export, a bag zip that verifies.
            let caseDirectories = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/ws/cases").filter { !$0.hasPrefix(".") }
            #expect(caseDirectories.count == 1)
            let caseID = try #require(caseDirectories.first)
            let ledger = try Ledger(path: directory.path + "/ws/cases/\(caseID)/ledger.jsonl").entries()
            let actions = ledger.map(\.action)
            #expect(actions.contains("capture") && actions.contains("policy-override") && actions.contains("verify") && actions.contains("export"), "\(actions)")
            #expect(ledger.filter { $0.action == "verify" }.count == 1, "only the custodian's verification is recorded: \(actions)")
            #expect(ledger.first { $0.action == "export" }?.actor == "a-0003")
            #expect(FileManager.default.fileExists(atPath: directory.path + "/\(caseID).zip"))
            let verify = try ExhibitProcess().run(["verify", directory.path + "/\(caseID).zip"])
            #expect(verify.status == 0, "\(verify.stdout)")
        }
    }

    @Test("exhibit demo --serve-site serves the bundled site on loopback until stopped")
    func serveSite() throws {
        let process = try ChildProcess(ExhibitProcess.binaryPath, ["demo", "--serve-site", "--port", "0"], stderr: .discard).start()
        defer { if process.isRunning { process.killAndWait() } }
        // The address is the first line on stdout.
        let base = process.firstLine() ?? ""
        #expect(base.hasPrefix("http://127.0.0.1:"), "\(base)")
        let page = try Validators.run("python3", ["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())", base + "/"])
        #expect(page.output.contains("Riverbend Courier"), "\(page.output.prefix(200))")
        process.signal(SIGTERM)
        let end = process.wait(timeout: .seconds(30))
        #expect(!end.timedOut, "exhibit demo --serve-site did not stop within 30 s of SIGTERM")
        #expect(!end.signalled || end.status == SIGTERM, "\(end.status)")
    }
}
