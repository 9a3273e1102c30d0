import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit capture` end to end through the real binary.
@Suite("exhibit capture")
struct CaptureCommandTests {
    let exhibit = ExhibitProcess()

    func listing(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    @Test("exit codes: 0 captured, 3 refused, 6 failed; --json reports each URL")
    func exitCodes() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let common = ["--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"]
            let ok = try exhibit.run(["capture", caseID, site.baseURL + "/test/status/404", "--json"] + common)
            #expect(ok.status == 0, "\(ok.stderr)")
            let json = try JSONValue(parsing: ok.stdout)
            #expect(json["captured"]?.arrayValue?.first?["status"]?.intValue == 404)
            let failed = try exhibit.run(["capture", caseID, site.baseURL + "/test/bytes?n=5000", "--max-bytes", "100"] + common)
            #expect(failed.status == 6)
            let refused = try exhibit.run(["capture", caseID, "ftp://127.0.0.1/x", site.baseURL + "/test/bytes?n=5000", "--max-bytes", "100"] + common)
            #expect(refused.status == 3)
            let noReason = try exhibit.run(["capture", caseID, site.baseURL + "/", "--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32"])
            #expect(noReason.status == 2)
            #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
        }
    }

    @Test("--urls-file reads one URL per line, skipping blanks and comments")
    func urlsFile() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let list = ws.directory.child("urls.txt")
            try Data("# evidence list\n\(site.baseURL)/test/pages/1?count=3\n\n\(site.baseURL)/test/pages/2?count=3\n".utf8)
                .write(to: URL(fileURLWithPath: list))
            let result = try exhibit.run(["capture", caseID, "--urls-file", list, "--workspace", ws.root, "--actor", ws.investigatorID,
                                          "--allow-network", "127.0.0.1/32", "--reason", "fixture"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try ws.entries(caseID).filter { $0.action == "capture" }.count == 2)
            #expect(site.requests().count == 2)
        }
    }

    @Test("bad input: one sentence, the documented exit code, nothing written")
    func badInput() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let base = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let before = listing(ws.root)
        let ledgerBefore = try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl")
        for (arguments, status) in [
            (["capture", caseID, "not a url"], Int32(5)),
            (["capture", caseID, "http://"], 5),
            (["capture", "OC-2026-9999", "http://127.0.0.1/"], 5),
            (["capture", caseID], 2),
            (["capture", caseID, "http://127.0.0.1/", "--concurrency", "0"], 2),
            (["capture", caseID, "http://127.0.0.1/", "--allow-network", "10.0.0.0/99", "--reason", "x"], 2),
        ] {
            let result = try exhibit.run(arguments + base)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"))
        }
        #expect(listing(ws.root) == before)
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl") == ledgerBefore)
    }

    @Test("a closed case refuses capture with exit 4")
    func closedCase() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        _ = try ws.session(ws.supervisorID).close(caseID, reason: "done")
        let result = try exhibit.run(["capture", caseID, "http://127.0.0.1/", "--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "x"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("closed"))
    }

    @Test("an unwritable case directory fails with exit 5 and a clear sentence")
    func unwritable() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            // Tests run as root, which ignores permission bits: block the WARC folder with a file.
            try Data("x".utf8).write(to: URL(fileURLWithPath: ws.caseDirectory(caseID) + "/warc"))
            let result = try exhibit.run(["capture", caseID, site.baseURL + "/test/status/200", "--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "x"])
            #expect(result.status == 5)
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test("SIGKILL in the middle of a slow transfer leaves a case that verifies, without that URL")
    func killedMidTransfer() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let quick = site.baseURL + "/test/status/200"
            // About 50 s of body: the kill lands mid-transfer even on a loaded machine.
            let slow = site.baseURL + "/test/slow?bytes=4000000&interval_ms=50&chunk=4000"
            let process = try exhibit.command(["capture", caseID, quick, slow, "--workspace", ws.root, "--actor", ws.investigatorID,
                                               "--allow-network", "127.0.0.1/32", "--reason", "fixture"],
                                              stdout: .discard, stderr: .discard).start()
            // Wait until the slow body is streaming to its spool file, then kill.
            let warcDirectory = ws.caseDirectory(caseID) + "/warc"
            let spooling = await poll(until: {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: warcDirectory)) ?? []
                return names.contains(where: { $0.hasPrefix(".spool-") })
            }, timeout: .seconds(30), interval: .milliseconds(25))
            #expect(spooling)
            try await Blocking.run { process.killAndWait() }

            let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "\(verify.stdout)")
            let captured = try ws.entries(caseID).compactMap { $0.subject?["url"]?.stringValue }
            #expect(!captured.contains(slow))
            // The next command on the case removes the leftovers and says so.
            let note = try exhibit.run(["case", "note", caseID, "after the kill", "--workspace", ws.root, "--actor", ws.investigatorID])
            #expect(note.status == 0)
            #expect(note.stderr.contains("interrupted write"))
            #expect(CaseRecovery.temporaryFiles(in: ws.caseDirectory(caseID)).isEmpty)
            #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)
        }
    }
}
