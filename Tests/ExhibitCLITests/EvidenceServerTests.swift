import CaseManagement
import ChainOfCustody
import EvidenceServer
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// The evidence server (DESIGN §22) with a real PostgreSQL (initdb + pg_ctl on loopback),
/// the real `exhibit` binary as server and as workstations. One suite, serialised (the
/// fault and load suites are nested in it), so that at most one cluster runs at a time.
@Suite("evidence server", .serialized)
struct EvidenceServerTests {
    typealias Fixture = EvidenceServerFixture

    func run(_ arguments: [String], in workspace: String, as actor: String) throws -> ExhibitProcess.Result {
        try Fixture.run(arguments, in: workspace, as: actor)
    }

    @Test("two workstations push different cases, pull each other's, search finds both, B's custodian verifies A's case; diverged push refused; roles enforced")
    func twoWorkstations() async throws {
        try await Fixture.withServer { postgres, url, store in
            // A: the agency's supervisor workstation (a-0001 supervisor/custodian, a-0002
            // investigator/analyst, a-0003 investigator/custodian/analyst, a-0004 decision-maker).
            let a = try TestWorkspace("exhibit-ws-a")
            let registry = ActorRegistry(workspace: a.workspace)
            let bee = try registry.add(name: "Bea Custodian", badge: "B-3", roles: [.investigator, .custodian, .analyst], actingActor: a.supervisorID).id
            let decider = try registry.add(name: "Dee Decider", badge: "D-4", roles: [.decisionMaker], actingActor: a.supervisorID).id

            // The first supervisor registers A's actors and is trusted on first use.
            let added = try run(["remote", "add", "hq", url, "--json"], in: a.root, as: a.supervisorID)
            #expect(added.status == 0, "\(added.stderr)")
            let addedJSON = try JSONValue(parsing: added.stdout)
            #expect(addedJSON["trusted_on_first_use"]?.boolValue == true)
            #expect(addedJSON["registered"]?.arrayValue?.count == 4)
            let check = try Fixture.exhibit.run(["server", "--check", "--database", postgres.url, "--store", store])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("schema version 2 (latest 2)"), "\(check.stdout)")
            #expect(check.stdout.contains("first supervisor: a-0001 (Sol Supervisor), trusted on first use"))
            // B holds only a-0003's key, as a workstation the supervisor issued; not a
            // supervisor, its `remote add` only takes the server's actors.
            let bWorkstation = try Fixture.workstation(from: a, keys: [bee], label: "exhibit-ws-b")
            let b = bWorkstation.root
            try FileManager.default.removeItem(atPath: b + "/remotes.json")
            let addedB = try run(["remote", "add", "hq", url, "--json"], in: b, as: bee)
            #expect(addedB.status == 0, "\(addedB.stderr)")

            // A: an online-crime case with a captured page and a note; B: a missing-person case with a note.
            let caseA = try a.openCase()
            try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
                let captured = try run(["capture", caseA, site.baseURL + "/article.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture"],
                                       in: a.root, as: a.investigatorID)
                #expect(captured.status == 0, "\(captured.stderr)")
                #expect(captured.stdout.contains("captured 200"), "\(captured.stdout)")
            }
            #expect(try run(["case", "note", caseA, "saw the lighthouse keeper"], in: a.root, as: a.investigatorID).status == 0)
            let opened = try run(["case", "open", "--category", "missing-person", "--title", "M", "--field", "subject_name=Ann",
                                  "--field", "last_seen_date=2026-01-02", "--field", "last_seen_place=Pier"], in: b, as: bee)
            #expect(opened.status == 0, "\(opened.stderr)")
            let caseB = opened.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try run(["case", "note", caseB, "a harbourmaster remembers the boat"], in: b, as: bee).status == 0)

            let pushA = try run(["push", caseA, "--json"], in: a.root, as: a.investigatorID)
            #expect(pushA.status == 0, "\(pushA.stderr)")
            let receiptA = try JSONValue(parsing: pushA.stdout)
            #expect(receiptA["seq"]?.intValue == Int64(try a.entries(caseA).count))
            #expect(receiptA["files_sent"]?.intValue ?? 0 >= 1)
            // DESIGN §22 spells the server by address: the added remote at that address is used.
            let pushB = try run(["push", caseB, "--server", url], in: b, as: bee)
            #expect(pushB.status == 0, "\(pushB.stderr)")
            let unknown = try run(["push", caseB, "--server", "http://127.0.0.1:9"], in: b, as: bee)
            #expect(unknown.status == 2 && unknown.stderr.contains("remote add"), "\(unknown.status) \(unknown.stderr)")
            #expect(try run(["push", caseB, "--server", url, "--remote", "hq"], in: b, as: bee).status == 2)
            // The same entries again: a no-op.
            let again = try run(["push", caseA, "--json"], in: a.root, as: a.investigatorID)
            #expect(again.status == 0)
            #expect(try JSONValue(parsing: again.stdout)["unchanged"]?.boolValue == true)
            #expect(try postgres.psql("SELECT count(*) FROM ledger_entries WHERE case_id = '\(caseA)'") == "\(try a.entries(caseA).count)")
            // The receipt is kept in the witness log, checked against the pinned server key;
            // the no-op push answered with the same receipt, which is not kept twice.
            let report = try a.workspace.witness.check(caseID: caseA, keyFor: registry.verifyingKey(for:))
            #expect(report.findings.isEmpty, "\(report.findings)")
            let receipts = report.serverRecords.filter { $0.caseID == caseA }
            #expect(receipts.count == 1 && receipts.first?.seq == receiptA["seq"]?.intValue, "\(receipts)")
            #expect(!FileManager.default.fileExists(atPath: a.root + "/receipts.jsonl"))

            // Each clones the other's case; B's custodian verifies A's case and pushes the
            // verify entry (reads are custody entries too, and the server is fast-forward only).
            let cloneB = try run(["clone", caseA], in: b, as: bee)
            #expect(cloneB.status == 0, "\(cloneB.stderr)")
            let pullRightAfter = try run(["pull", caseA, "--json"], in: b, as: bee)
            #expect(pullRightAfter.status == 0, "\(pullRightAfter.stderr)")
            #expect(try JSONValue(parsing: pullRightAfter.stdout)["added"]?.intValue == 0)
            let verifyB = try run(["verify", caseA], in: b, as: bee)
            #expect(verifyB.status == 0, "\(verifyB.stdout)\(verifyB.stderr)")
            #expect(try run(["push", caseA], in: b, as: bee).status == 0)
            let cloneA = try run(["clone", caseB], in: a.root, as: a.investigatorID)
            #expect(cloneA.status == 0, "\(cloneA.stderr)")
            #expect(try Fixture.exhibit.run(["verify", caseB, "--workspace", a.root]).status == 0)
            // A pulls B's verify entry, adds to its case and pushes; B pulls the new entry.
            let pullVerify = try run(["pull", caseA, "--json"], in: a.root, as: a.investigatorID)
            #expect(pullVerify.status == 0, "\(pullVerify.stderr)")
            #expect(try JSONValue(parsing: pullVerify.stdout)["added"]?.intValue == 1)
            #expect(try run(["case", "note", caseA, "second visit"], in: a.root, as: a.investigatorID).status == 0)
            #expect(try run(["push", caseA], in: a.root, as: a.investigatorID).status == 0)
            let pull = try run(["pull", caseA, "--json"], in: b, as: bee)
            #expect(pull.status == 0, "\(pull.stderr)")
            #expect(try JSONValue(parsing: pull.stdout)["added"]?.intValue == 1)
            #expect(try Ledger(path: b + "/cases/\(caseA)/ledger.jsonl").entries().last?.hash == a.entries(caseA).last?.hash)
            // The pulled head is in B's witness log, and the pulled case verifies on B.
            #expect(try bWorkstation.workspace.witness.latest(for: caseA)?.head == a.entries(caseA).last?.hash)
            let verifyPulled = try Fixture.exhibit.run(["verify", caseA, "--workspace", b])
            #expect(verifyPulled.status == 0, "\(verifyPulled.stdout)\(verifyPulled.stderr)")

            // Agency-wide search finds text from both workstations' cases (a page and notes).
            let search = try run(["search", "--remote", "hq", "fireworks", "--json"], in: a.root, as: a.investigatorID)
            #expect(search.status == 0, "\(search.stderr)")
            #expect(try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.first?["case"]?.stringValue == caseA, "\(search.stdout)")
            let harbour = try run(["search", "--remote", "hq", "harbourmaster"], in: a.root, as: a.investigatorID)
            #expect(harbour.stdout.contains(caseB), "\(harbour.stdout)\(harbour.stderr)")
            let lighthouse = try run(["search", "--remote", "hq", "lighthouse", "--json"], in: b, as: bee)
            #expect(try JSONValue(parsing: lighthouse.stdout)["results"]?.arrayValue?.contains { $0["case"]?.stringValue == caseA } == true,
                    "\(lighthouse.stdout)\(lighthouse.stderr)")

            // Diverged: A and B both add an entry after the same head; B's push is refused, nothing stored.
            let divergedSeq = try a.entries(caseA).count + 1
            #expect(try run(["case", "note", caseA, "from A"], in: a.root, as: a.investigatorID).status == 0)
            #expect(try run(["case", "note", caseA, "from B"], in: b, as: bee).status == 0)
            #expect(try run(["push", caseA], in: a.root, as: a.investigatorID).status == 0)
            let headAfterA = try Fixture.serverHead(postgres, caseA)
            #expect(headAfterA == (try Fixture.localHead(a, caseA)))
            let diverged = try run(["push", caseA], in: b, as: bee)
            #expect(diverged.status == 1)
            #expect(diverged.stderr.contains("diverged from the evidence server's at entry \(divergedSeq)"), "\(diverged.stderr)")
            #expect(diverged.stderr.split(separator: "\n").count == 1)
            try Fixture.expectWhole(postgres, caseA, oneOf: [headAfterA])
            // B's pull says the same, and adds nothing.
            let divergedPull = try run(["pull", caseA], in: b, as: bee)
            #expect(divergedPull.status == 1)
            #expect(divergedPull.stderr.contains("at entry \(divergedSeq)"), "\(divergedPull.stderr)")

            // Roles: a decision-maker may neither push nor search; 403, one sentence, exit 4.
            let refused = try run(["push", caseA], in: a.root, as: decider)
            #expect(refused.status == 4)
            #expect(refused.stderr.contains("may not push \(caseA) on the evidence server"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
            let noSearch = try run(["search", "--remote", "hq", "fireworks"], in: a.root, as: decider)
            #expect(noSearch.status == 4)
            #expect(noSearch.stderr.contains("may not search on the evidence server"), "\(noSearch.stderr)")

            // The server's ledger table refuses UPDATE and DELETE.
            #expect(throws: (any Error).self) { try postgres.psql("DELETE FROM ledger_entries WHERE case_id = '\(caseA)'") }
            #expect(throws: (any Error).self) { try postgres.psql("UPDATE ledger_entries SET action = 'x' WHERE case_id = '\(caseA)'") }
            // ...and an INSERT statement with an entry whose prev is not its predecessor's hash,
            // alone or after one that chains (schema version 2 checks a statement's rows
            // together); two that chain are taken (and rolled back here).
            func append(_ secondPrev: String, count: Int) -> String {
                """
                BEGIN;
                INSERT INTO ledger_entries (case_id, seq, hash, prev, actor, action, time, line)
                SELECT case_id, seq + n, repeat('a', 64), CASE WHEN n = 1 AND \(count) = 2 THEN hash ELSE \(secondPrev) END, actor, 'note', 't', '{}'
                FROM (SELECT * FROM ledger_entries WHERE case_id = '\(caseA)' ORDER BY seq DESC LIMIT 1) AS last, generate_series(1, \(count)) AS n;
                ROLLBACK;
                """
            }
            for sql in [append("repeat('b', 64)", count: 1), append("repeat('b', 64)", count: 2)] {
                let refusal = #expect(throws: PostgresScopeError.self) { try postgres.psql(sql) }
                let text = refusal.map { String(describing: $0) } ?? ""
                #expect(text.contains("does not chain to entry"), "\(text)")
            }
            #expect(throws: Never.self) { try postgres.psql(append("repeat('a', 64)", count: 2)) }
            // An entry by an actor the server never registered is refused as well, and the
            // cases and actors that entries name are never deleted or renamed.
            let stranger = append("hash", count: 1).replacingOccurrences(of: "END, actor,", with: "END, 'a-9999',")
            let strangerRefusal = #expect(throws: PostgresScopeError.self) { try postgres.psql(stranger) }
            #expect(strangerRefusal.map { String(describing: $0) }?.contains("names actor a-9999, who is not registered") == true)
            #expect(throws: PostgresScopeError.self) { try postgres.psql("DELETE FROM actors WHERE id = '\(decider)'") }
            #expect(throws: PostgresScopeError.self) { try postgres.psql("UPDATE cases SET id = 'OC-2026-9999' WHERE id = '\(caseA)'") }
            #expect(throws: PostgresScopeError.self) { try postgres.psql("TRUNCATE cases CASCADE") }
            try Fixture.expectWhole(postgres, caseA, oneOf: [headAfterA])
        }
    }

    @Test("a replayed signed request, a stale one, an unsigned one and one for another address are refused (RFC 9421)")
    func replayRefused() async throws {
        try await Fixture.withServer { _, url, _ in
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

    @Test("over TLS the client verifies the server's certificate and host name: trusted through --ca-file, refused without it")
    func tlsWithCAFile() async throws {
        try await withPostgres { postgres in
            let scratch = TemporaryDirectory("exhibit-tls")
            let key = scratch.child("server.key"), certificate = scratch.child("server.crt")
            let made = try ChildProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                                            "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=evidence test",
                                                            "-addext", "subjectAltName=IP:127.0.0.1"]).run(timeout: .seconds(60))
            #expect(made.status == 0, "\(made.stderrText)")
            let server = try ChildProcess(ExhibitProcess.binaryPath, ["server", "--database", postgres.url, "--store", scratch.child("store"),
                                                                      "--port", "0", "--tls-cert", certificate, "--tls-key", key]).start()
            defer { server.signal(SIGTERM); if server.wait(timeout: .seconds(30)).timedOut { server.killAndWait() } }
            let line = server.firstLine(timeout: .seconds(60)) ?? ""
            let url = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            #expect(url.hasPrefix("https://127.0.0.1:"), "\(line) \(server.stderrTextSoFar)")
            let ws = try TestWorkspace()
            let untrusted = try run(["remote", "add", "hq", url], in: ws.root, as: ws.supervisorID)
            #expect(untrusted.status == 5, "\(untrusted.stdout)\(untrusted.stderr)")
            #expect(untrusted.stderr.split(separator: "\n").count == 1, "\(untrusted.stderr)")
            // The same certificate under another host name fails verification too.
            let wrongName = try run(["remote", "add", "hq", url.replacingOccurrences(of: "127.0.0.1", with: "localhost"), "--ca-file", certificate],
                                    in: ws.root, as: ws.supervisorID)
            #expect(wrongName.status == 5, "\(wrongName.stdout)\(wrongName.stderr)")
            let trusted = try run(["remote", "add", "hq", url, "--ca-file", certificate], in: ws.root, as: ws.supervisorID)
            #expect(trusted.status == 0, "\(trusted.stderr)")
            let caseID = try ws.openCase()
            let pushed = try run(["push", caseID], in: ws.root, as: ws.investigatorID)
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
    }
}
