import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// DESIGN §16 "Containers" (issue 16): an export killed half-way leaves its
/// staging folder (`.<out>.partial-<hex>`, copies of the ledger and the WARC
/// files) beside `--out`; the next command removes it and says so on stderr.
@Suite("interrupted export")
struct InterruptedExportTests {
    let exhibit = ExhibitProcess()

    @Test("kill -9 during export --zip: the next command (case show, then another export) removes the .partial- folder and says so")
    func killedExportIsRemovedByTheNextCommand() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            // Three 8 MB bodies: the export copies, hashes and checks them, long enough to be killed in the middle.
            let urls = (0..<3).map { site.baseURL + "/test/bytes?n=8000000&copy=\($0)" }
            let captured = try exhibit.run(["capture", caseID] + urls + ["--workspace", ws.root, "--actor", ws.investigatorID,
                                                                          "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            #expect(captured.status == 0, "\(captured.stderr)")
            let outFolder = ws.directory.child("out")
            try FileManager.default.createDirectory(atPath: outFolder, withIntermediateDirectories: true)
            let records = ExportStaging.recordsDirectory(of: ws.workspace)

            let nextCommands = [["case", "show", caseID], ["export", caseID, "--out", outFolder + "/after.zip"]]
            for (round, next) in nextCommands.enumerated() {
                let out = outFolder + "/case-\(round).zip"
                let staging = try await killExport(caseID, out: out, workspace: ws)
                // What was left: a copy of the ledger (and the WARC files under way) that nothing records.
                #expect(FileManager.default.fileExists(atPath: staging + "/" + caseID + "/data/ledger.jsonl"))
                #expect(!FileManager.default.fileExists(atPath: out))

                let result = try exhibit.run(next + ["--workspace", ws.root, "--actor", ws.investigatorID])
                #expect(result.status == 0, "\(next): \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: staging), "\(next) left \(staging)")
                #expect(result.stderr.contains("Removed \(staging), the unfinished copy of case \(caseID)'s evidence left by an export that was interrupted"),
                        "\(next): \(result.stderr)")
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: outFolder).filter { $0.contains(".partial-") }
                #expect(leftovers == [])
                #expect((try? FileManager.default.contentsOfDirectory(atPath: records)) ?? [] == [])
            }
            // The export after the cleanup is whole and verifies; so does the case.
            #expect(try exhibit.run(["verify", outFolder + "/after.zip"]).status == 0)
            #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
        }
    }

    /// Starts `exhibit export CASE --out out`, waits (polling, with a deadline) until
    /// its staging folder holds the copy of the ledger, kills it with SIGKILL and
    /// returns the staging folder's path.
    func killExport(_ caseID: String, out: String, workspace ws: TestWorkspace) async throws -> String {
        let folder = (out as NSString).deletingLastPathComponent
        let prefix = "." + (out as NSString).lastPathComponent + ".partial-"
        let process = try exhibit.command(["export", caseID, "--out", out, "--workspace", ws.root, "--actor", ws.investigatorID],
                                          stdout: .discard, stderr: .discard).start()
        // Checked without pause between looks: the window between the ledger's copy and
        // the end of the export is short.
        let found: String? = try await Blocking.run {
            var found: String?
            _ = pollBlocking(until: {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                if let name = names.first(where: { $0.hasPrefix(prefix) }),
                   FileManager.default.fileExists(atPath: folder + "/" + name + "/" + caseID + "/data/ledger.jsonl") {
                    process.signal(SIGKILL)
                    found = folder + "/" + name
                }
                return found != nil || !process.isRunning
            }, timeout: .seconds(60), interval: .zero)
            return found
        }
        let end = try await process.waitAsync()
        let staging = try #require(found, "the export ended (status \(end.status)) before its staging folder held the ledger")
        #expect(end.signalled)
        return staging
    }
}
