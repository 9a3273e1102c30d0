import CaseManagement
import ChainOfCustody
import EvidenceServer
import ExhibitTestSupport
import Foundation
import Testing

/// The evidence server (DESIGN §22) with a real PostgreSQL (initdb + pg_ctl on loopback),
/// the real `exhibit` binary as server and as two workstations.
@Suite("evidence server", .serialized)
struct EvidenceServerTests {
    let exhibit = ExhibitProcess()

    /// Workspace A (TestWorkspace: a-0001 supervisor/custodian, a-0002 investigator/analyst)
    /// with a-0003 (investigator, custodian, analyst) provisioned to workspace B, and a-0004
    /// a decision-maker. B holds only a-0003's key, as a workstation the supervisor issued.
    struct Agency {
        let a: TestWorkspace
        let bDirectory: TemporaryDirectory
        let b: Workspace
        let bee = "a-0003"
        let decider = "a-0004"

        init() throws {
            a = try TestWorkspace("exhibit-ws-a")
            let registry = ActorRegistry(workspace: a.workspace)
            _ = try registry.add(name: "Bea Custodian", badge: "B-3", roles: [.investigator, .custodian, .analyst], actingActor: a.supervisorID)
            _ = try registry.add(name: "Dee Decider", badge: "D-4", roles: [.decisionMaker], actingActor: a.supervisorID)
            bDirectory = TemporaryDirectory("exhibit-ws-b")
            b = try Workspace.create(at: bDirectory.child("ws"), agency: "Test Police Department")
            for file in ["actors/a-0003.json", "keys/a-0003.key.pem"] {
                try FileManager.default.copyItem(atPath: a.root + "/" + file, toPath: b.root + "/" + file)
            }
        }
    }

    /// Starts `exhibit server` on a free loopback port; returns the process and its URL.
    func startServer(database: String, store: String) throws -> (RunningProcess, String) {
        let process = try ChildProcess(ExhibitProcess.binaryPath, ["server", "--database", database, "--store", store, "--port", "0"]).start()
        let line = process.firstLine(timeout: .seconds(60)) ?? ""
        guard line.hasPrefix("Serving "), let url = line.split(separator: " ").dropFirst().first.map(String.init) else {
            process.signal(SIGKILL)
            throw PostgresScopeError(description: "the server did not start: \(line) \(process.stderrTextSoFar)")
        }
        return (process, url)
    }

    func run(_ arguments: [String], in workspace: String, as actor: String) throws -> ExhibitProcess.Result {
        try exhibit.run(arguments + ["--workspace", workspace, "--actor", actor])
    }

    @Test("two workstations push different cases, pull each other's, search finds both, B's custodian verifies A's case; diverged push refused; roles enforced",
          .disabled("issue 24: passes up to the pull after clone, which exits 1; being fixed"))
    func twoWorkstations() async throws {
        try await withPostgres { postgres in
            let storage = TemporaryDirectory("exhibit-store")
            let (server, url) = try startServer(database: postgres.url, store: storage.child("store"))
            defer { server.signal(SIGTERM); _ = server.wait(timeout: .seconds(30)) }
            let agency = try Agency()
            let a = agency.a
            let b = agency.b.root

            // The first supervisor registers A's actors and is trusted on first use.
            let added = try run(["remote", "add", "hq", url, "--json"], in: a.root, as: a.supervisorID)
            #expect(added.status == 0, "\(added.stderr)")
            let addedJSON = try JSONValue(parsing: added.stdout)
            #expect(addedJSON["trusted_on_first_use"]?.boolValue == true)
            #expect(addedJSON["registered"]?.arrayValue?.count == 4)
            let check = try exhibit.run(["server", "--check", "--database", postgres.url, "--store", storage.child("store")])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("schema version 1"))
            #expect(check.stdout.contains("first supervisor: a-0001 (Sol Supervisor), trusted on first use"))
            // B's custodian adds the same server: not a supervisor, so it only takes the server's actors.
            let addedB = try run(["remote", "add", "hq", url, "--json"], in: b, as: agency.bee)
            #expect(addedB.status == 0, "\(addedB.stderr)")
            #expect(Set(try JSONValue(parsing: addedB.stdout)["imported"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["a-0001", "a-0002", "a-0004"])

            // A: an online-crime case with a captured page and a note; B: a missing-person case with a note.
            let caseA = try a.openCase()
            try await withFixtureSite(siteDirectory: nil) { site in
                let captured = try run(["capture", caseA, site.baseURL + "/article.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture"],
                                       in: a.root, as: a.investigatorID)
                #expect(captured.status == 0, "\(captured.stderr)")
            }
            #expect(try run(["case", "note", caseA, "saw the lighthouse keeper"], in: a.root, as: a.investigatorID).status == 0)
            let opened = try run(["case", "open", "--category", "missing-person", "--title", "M", "--field", "subject_name=Ann",
                                  "--field", "last_seen_date=2026-01-02", "--field", "last_seen_place=Pier"], in: b, as: agency.bee)
            #expect(opened.status == 0, "\(opened.stderr)")
            let caseB = opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try run(["case", "note", caseB, "a harbourmaster remembers the boat"], in: b, as: agency.bee).status == 0)

            let pushA = try run(["push", caseA, "--json"], in: a.root, as: a.investigatorID)
            #expect(pushA.status == 0, "\(pushA.stderr)")
            let receiptA = try JSONValue(parsing: pushA.stdout)
            #expect(receiptA["seq"]?.intValue == Int64(try a.entries(caseA).count))
            #expect(receiptA["files_sent"]?.intValue ?? 0 >= 1)
            let pushB = try run(["push", caseB], in: b, as: agency.bee)
            #expect(pushB.status == 0, "\(pushB.stderr)")
            // The same entries again: a no-op.
            let again = try run(["push", caseA, "--json"], in: a.root, as: a.investigatorID)
            #expect(again.status == 0)
            #expect(try JSONValue(parsing: again.stdout)["unchanged"]?.boolValue == true)
            #expect(try postgres.psql("SELECT count(*) FROM ledger_entries WHERE case_id = '\(caseA)'") == "\(try a.entries(caseA).count)")
            // The receipts are kept on the workstation.
            let receipts = try String(contentsOfFile: a.root + "/receipts.jsonl", encoding: .utf8)
            #expect(receipts.split(separator: "\n").count == 2)

            // Each pulls the other's case; B's custodian verifies A's case.
            let cloneB = try run(["clone", caseA], in: b, as: agency.bee)
            #expect(cloneB.status == 0, "\(cloneB.stderr)")
            let verifyB = try run(["verify", caseA], in: b, as: agency.bee)
            #expect(verifyB.status == 0, "\(verifyB.stdout)\(verifyB.stderr)")
            let cloneA = try run(["clone", caseB], in: a.root, as: a.investigatorID)
            #expect(cloneA.status == 0, "\(cloneA.stderr)")
            #expect(try exhibit.run(["verify", caseB, "--workspace", a.root]).status == 0)
            // A adds to its case and pushes; B pulls the new entry.
            #expect(try run(["case", "note", caseA, "second visit"], in: a.root, as: a.investigatorID).status == 0)
            #expect(try run(["push", caseA], in: a.root, as: a.investigatorID).status == 0)
            let pull = try run(["pull", caseA, "--json"], in: b, as: agency.bee)
            #expect(pull.status == 0, "\(pull.stderr)")
            #expect(try JSONValue(parsing: pull.stdout)["added"]?.intValue == 1)
            #expect(try Ledger(path: b + "/cases/\(caseA)/ledger.jsonl").entries().last?.hash == a.entries(caseA).last?.hash)

            // Agency-wide search finds text from both workstations' cases (a page and notes).
            let search = try run(["search", "--remote", "hq", "fireworks", "--json"], in: a.root, as: a.investigatorID)
            #expect(search.status == 0, "\(search.stderr)")
            #expect(try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.first?["case"]?.stringValue == caseA)
            let harbour = try run(["search", "--remote", "hq", "harbourmaster"], in: a.root, as: a.investigatorID)
            #expect(harbour.stdout.contains(caseB), "\(harbour.stdout)\(harbour.stderr)")

            // Diverged: A and B both add an entry after the same head; B's push is refused, nothing stored.
            let head = try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseA)'")
            #expect(try run(["case", "note", caseA, "from A"], in: a.root, as: a.investigatorID).status == 0)
            #expect(try run(["case", "note", caseA, "from B"], in: b, as: agency.bee).status == 0)
            #expect(try run(["push", caseA], in: a.root, as: a.investigatorID).status == 0)
            let headAfterA = try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseA)'")
            #expect(headAfterA != head)
            let diverged = try run(["push", caseA], in: b, as: agency.bee)
            #expect(diverged.status == 1)
            let divergedSeq = try a.entries(caseA).count
            #expect(diverged.stderr.contains("diverged from the evidence server's at entry \(divergedSeq)"), "\(diverged.stderr)")
            #expect(diverged.stderr.split(separator: "\n").count == 1)
            #expect(try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseA)'") == headAfterA)

            // Roles: a decision-maker may neither push nor clone; one sentence, exit 4.
            let refused = try run(["push", caseA], in: a.root, as: agency.decider)
            #expect(refused.status == 4)
            #expect(refused.stderr.contains("may not push \(caseA) on the evidence server"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
            let noSearch = try run(["search", "--remote", "hq", "fireworks"], in: a.root, as: agency.decider)
            #expect(noSearch.status == 4)

            // The server's ledger table refuses UPDATE and DELETE, and an entry that does not chain.
            #expect(throws: (any Error).self) { try postgres.psql("DELETE FROM ledger_entries WHERE case_id = '\(caseA)'") }
            #expect(throws: (any Error).self) { try postgres.psql("UPDATE ledger_entries SET action = 'x' WHERE case_id = '\(caseA)'") }
            #expect(try postgres.psql("SELECT count(*) FROM ledger_entries WHERE case_id = '\(caseA)'") == "\(try a.entries(caseA).count)")
        }
    }

    @Test("a replayed signed request, a stale one and an altered body are refused (RFC 9421)",
          .disabled("issue 24: under swift test the runner hangs once PostgreSQL has started (PostgresScope), so CI would hang"))
    func replayRefused() async throws {
        try await withPostgres { postgres in
            let storage = TemporaryDirectory("exhibit-store")
            let (server, url) = try startServer(database: postgres.url, store: storage.child("store"))
            defer { server.signal(SIGTERM); _ = server.wait(timeout: .seconds(30)) }
            let ws = try TestWorkspace()
            #expect(try run(["remote", "add", "hq", url], in: ws.root, as: ws.supervisorID).status == 0)
            let signer = try ActorRegistry(workspace: ws.workspace).signer(for: ws.supervisorID)
            func curl(_ headers: [(name: String, value: String)], target: String) throws -> (status: String, body: String) {
                let arguments = ["-s", "-o", "-", "-w", "\n%{http_code}"] + headers.flatMap { ["-H", "\($0.name): \($0.value)"] } + [target]
                let finished = try ChildProcess("/usr/bin/curl", arguments).run(timeout: .seconds(30))
                let lines = finished.stdoutText.split(separator: "\n", omittingEmptySubsequences: false)
                return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
            }
            let target = url + "/v1/actors"
            let headers = try MessageSignature.headers(method: "GET", targetURI: target, body: [], signer: signer)
            let first = try curl(headers, target: target)
            #expect(first.status == "200", "\(first.body)")
            let replayed = try curl(headers, target: target)
            #expect(replayed.status == "401")
            #expect(replayed.body.contains("sent before"), "\(replayed.body)")
            let stale = try MessageSignature.headers(method: "GET", targetURI: target, body: [], signer: signer,
                                                     now: Int(Date().timeIntervalSince1970) - 301)
            #expect(try curl(stale, target: target).body.contains("more than 5 minutes ago"))
            let unsigned = try curl([], target: target)
            #expect(unsigned.status == "401")
            // A signature for another address does not open this one.
            let other = try MessageSignature.headers(method: "GET", targetURI: url + "/v1/cases/OC-2026-0001", body: [], signer: signer)
            #expect(try curl(other, target: target).status == "401")
        }
    }

    @Test("the server SIGKILLed mid-push leaves the case at its old head or the new one; the retried push succeeds",
          .disabled("issue 24: not yet run to the end"))
    func killedMidPush() async throws {
        try await withPostgres { postgres in
            let storage = TemporaryDirectory("exhibit-store")
            let store = storage.child("store")
            var (server, url) = try startServer(database: postgres.url, store: store)
            let ws = try TestWorkspace()
            #expect(try run(["remote", "add", "hq", url], in: ws.root, as: ws.supervisorID).status == 0)
            let caseID = try ws.openCase()
            #expect(try run(["push", caseID], in: ws.root, as: ws.investigatorID).status == 0)
            let before = try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseID)'")
            // A push with many entries and a large imported file, so that it takes a while.
            let big = storage.child("big.bin")
            var generator = SeededRandom(seed: 24)
            FileManager.default.createFile(atPath: big, contents: Data(generator.bytes(48 << 20)))
            let imported = try run(["import", caseID, big, "--source", "test"], in: ws.root, as: ws.investigatorID)
            #expect(imported.status == 0, "\(imported.stderr)")
            for index in 0..<200 {
                _ = try run(["case", "note", caseID, "note \(index)"], in: ws.root, as: ws.investigatorID)
            }
            let push = try ChildProcess(ExhibitProcess.binaryPath, ["push", caseID, "--workspace", ws.root, "--actor", ws.investigatorID]).start()
            // Kill the server once the push is on its way: its staging copy or upload appears.
            _ = await poll(until: { ((try? FileManager.default.contentsOfDirectory(atPath: store + "/staging")) ?? []).contains { !$0.hasPrefix(".") } || !push.isRunning },
                           timeout: .seconds(60))
            server.signal(SIGKILL)
            _ = server.wait(timeout: .seconds(30))
            let interrupted = push.wait(timeout: .seconds(120))
            let after = try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseID)'")
            let newHead = "\(try ws.entries(caseID).count) \(try ws.entries(caseID).last!.hash)"
            #expect(after == before || after == newHead, "\(after)")
            #expect(try postgres.psql("SELECT count(*) FROM ledger_entries WHERE case_id = '\(caseID)'") == after.split(separator: " ").first.map(String.init))
            if interrupted.status == 0 { #expect(after == newHead) }
            // Restarted, the retried push succeeds and the server holds the new head.
            (server, url) = try startServer(database: postgres.url, store: store)
            defer { server.signal(SIGTERM); _ = server.wait(timeout: .seconds(30)) }
            let remotes = ws.root + "/remotes.json"
            let text = try String(contentsOfFile: remotes, encoding: .utf8)
            let oldURL = try JSONValue(parsing: text)["hq"]?["url"]?.stringValue ?? ""
            try text.replacingOccurrences(of: oldURL, with: url).write(toFile: remotes, atomically: true, encoding: .utf8)
            let retried = try run(["push", caseID], in: ws.root, as: ws.investigatorID)
            #expect(retried.status == 0, "\(retried.stderr)")
            #expect(try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseID)'") == newHead)
            // A fresh clone verifies.
            let other = try TestWorkspace()
            for file in ["actors/a-0001.json", "actors/a-0002.json", "keys/a-0001.key.pem", "keys/a-0002.key.pem"] {
                _ = try? FileManager.default.removeItem(atPath: other.root + "/" + file)
                try FileManager.default.copyItem(atPath: ws.root + "/" + file, toPath: other.root + "/" + file)
            }
            try FileManager.default.copyItem(atPath: remotes, toPath: other.root + "/remotes.json")
            let clone = try run(["clone", caseID], in: other.root, as: other.supervisorID)
            #expect(clone.status == 0, "\(clone.stderr)")
            #expect(try exhibit.run(["verify", caseID, "--workspace", other.root]).status == 0)
        }
    }
}
