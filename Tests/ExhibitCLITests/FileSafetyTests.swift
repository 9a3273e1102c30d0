import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Workspace files are private, keys are never printed or exported, and a key
/// others can read is refused (issue 9, item 6).
@Suite("file safety")
struct FileSafetyTests {
    let exhibit = ExhibitProcess()

    @Test("after a whole session every workspace directory is 0700 and every file 0600; no output or bundle holds a private key")
    func permissionsAndSecrets() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let directory = TemporaryDirectory("file-safety")
            let root = directory.child("ws")
            var outputs: [String] = []
            func run(_ arguments: [String]) throws -> ExhibitProcess.Result {
                let result = try exhibit.run(arguments + ["--workspace", root])
                outputs.append(result.stdout + result.stderr)
                return result
            }
            #expect(try run(["init", "--agency", "Test PD"]).status == 0)
            #expect(try run(["actor", "add", "--name", "Sol", "--badge", "S-1", "--role", "supervisor", "--role", "custodian"]).status == 0)
            #expect(try run(["actor", "add", "--actor", "a-0001", "--name", "Ivy", "--badge", "I-2", "--role", "investigator", "--role", "analyst"]).status == 0)
            let opened = try run(["case", "open", "--actor", "a-0002", "--category", "crime-imagery", "--title", "T", "--field", "incident_reference=I-1"])
            let caseID = opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try run(["capture", caseID, site.baseURL + "/", "--actor", "a-0002", "--allow-network", "127.0.0.1/32", "--reason", "fixture"]).status == 0)
            #expect(try run(["selectors", caseID, "--actor", "a-0002"]).status == 0)
            let bag = directory.child("bag")
            let wacz = directory.child("case.wacz")
            #expect(try run(["export", caseID, "--out", bag, "--actor", "a-0002"]).status == 0)
            #expect(try run(["export", caseID, "--format", "wacz", "--out", wacz, "--actor", "a-0002"]).status == 0)
            #expect(try run(["verify", caseID, "--actor", "a-0001"]).status == 0)
            #expect(try run(["actor", "list", "--json"]).status == 0)

            var checked = 0
            for relative in FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [] {
                var info = stat()
                #expect(lstat(root + "/" + relative, &info) == 0)
                let isDirectory = info.st_mode & S_IFMT == S_IFDIR
                #expect(info.st_mode & 0o077 == 0, "\(relative) is readable by others: mode \(String(info.st_mode & 0o777, radix: 8))")
                if !isDirectory { checked += 1 }
            }
            #expect(checked > 10)
            // Private keys stay in keys/: not in any output, bag file or the WACZ.
            for output in outputs { #expect(!output.contains("PRIVATE KEY")) }
            for file in FileManager.default.enumerator(atPath: bag)?.allObjects as? [String] ?? [] {
                let bytes = (try? AtomicFile.read(bag + "/" + file)) ?? []
                #expect(!String(decoding: bytes, as: UTF8.self).contains("PRIVATE KEY"), "\(file)")
            }
            let listing = try Command.run("/usr/bin/unzip", ["-p", wacz])
            #expect(!listing.output.contains("PRIVATE KEY"))

            // A signing key others can read is refused with one sentence, nothing exported.
            let key = root + "/keys/a-0002.wacz.key.pem"
            #expect(chmod(key, 0o644) == 0)
            let refused = try run(["export", caseID, "--format", "wacz", "--out", directory.child("again.wacz"), "--actor", "a-0002"])
            #expect(refused.status == 5)
            #expect(refused.stderr.contains("readable by other users") && refused.stderr.split(separator: "\n").count == 1)
            #expect(!FileManager.default.fileExists(atPath: directory.child("again.wacz")))
        }
    }

    @Test("a password in a refused URL is not written to the ledger or the output; proxy variables cannot redirect a capture")
    func secretsAndProxies() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let common = ["--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"]
            let port = site.baseURL.split(separator: ":").last.map(String.init) ?? ""
            let refused = try exhibit.run(["capture", caseID, "http://jane:s3cr3t-pw@127.0.0.1:\(port)/", "--json"] + common)
            #expect(refused.status == 3)
            #expect(!(refused.stdout + refused.stderr).contains("s3cr3t-pw"))
            let ledger = String(decoding: try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl"), as: UTF8.self)
            #expect(!ledger.contains("s3cr3t-pw"))
            #expect(ledger.contains("jane:***@127.0.0.1"))

            // A proxy in the environment (here one that does not exist) is ignored: the
            // capture connects directly, so the policy judges the real destination.
            let proxied = ExhibitProcess(environment: ["http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"])
            let direct = try proxied.run(["capture", caseID, site.baseURL + "/"] + common)
            #expect(direct.status == 0, "\(direct.stderr)")
            #expect(site.requests().contains { $0.path == "/" })
            #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
        }
    }
}
