import CaseManagement
import ChainOfCustody
import EvidenceServer
import ExhibitTestSupport
import Foundation
import Testing

/// What the evidence server tests share: an agency of workstations, the real `exhibit
/// server` on a real PostgreSQL, and a look at the server's copy of a case.
enum EvidenceServerFixture {
    static let exhibit = ExhibitProcess()

    /// Starts `exhibit server` on a free loopback port; returns the process and its URL.
    static func startServer(database: String, store: String) throws -> (RunningProcess, String) {
        let process = try ChildProcess(ExhibitProcess.binaryPath, ["server", "--database", database, "--store", store, "--port", "0"]).start()
        let line = process.firstLine(timeout: .seconds(60)) ?? ""
        guard line.hasPrefix("Serving "), let url = line.split(separator: " ").dropFirst().first.map(String.init) else {
            process.signal(SIGKILL)
            throw PostgresScopeError(description: "the server did not start: \(line) \(process.stderrTextSoFar)")
        }
        return (process, url)
    }

    /// Runs `body` with a server on a fresh cluster; the server is stopped (SIGTERM, then
    /// awaited) whatever happens.
    static func withServer<T>(_ body: (PostgresCluster, String, String) async throws -> T) async throws -> T {
        try await withPostgres { postgres in
            let storage = TemporaryDirectory("exhibit-store")
            let store = storage.child("store")
            let (server, url) = try startServer(database: postgres.url, store: store)
            defer {
                server.signal(SIGTERM)
                if server.wait(timeout: .seconds(30)).timedOut { server.killAndWait() }
            }
            return try await body(postgres, url, store)
        }
    }

    static func run(_ arguments: [String], in workspace: String, as actor: String) throws -> ExhibitProcess.Result {
        try exhibit.run(arguments + ["--workspace", workspace, "--actor", actor])
    }

    /// `count head` of the server's case, or "" when it holds none.
    static func serverHead(_ postgres: PostgresCluster, _ caseID: String) throws -> String {
        try postgres.psql("SELECT entry_count || ' ' || head FROM cases WHERE id = '\(caseID)'")
    }

    /// The server's case is at a head the workstation reached, with exactly that many
    /// ledger rows and page rows of no later entry: never between two heads.
    static func expectWhole(_ postgres: PostgresCluster, _ caseID: String, oneOf heads: [String]) throws {
        let head = try serverHead(postgres, caseID)
        #expect(heads.contains(head), "server head \(head), expected one of \(heads)")
        let count = head.split(separator: " ").first.map(String.init) ?? "0"
        #expect(try postgres.psql("SELECT count(*) FROM ledger_entries WHERE case_id = '\(caseID)'") == count)
        #expect(try postgres.psql("SELECT count(*) FROM page_text WHERE case_id = '\(caseID)' AND seq > \(count)") == "0")
    }

    /// `count head` of a workspace's ledger of the case.
    static func localHead(_ ws: TestWorkspace, _ caseID: String) throws -> String {
        let entries = try ws.entries(caseID)
        return "\(entries.count) \(entries.last?.hash ?? "")"
    }

    /// Appends `count` notes in one group commit, signed by `actor`: a case with many
    /// entries without a process per entry.
    static func addNotes(_ count: Int, to caseID: String, in ws: TestWorkspace, as actor: String, words: String = "note") throws {
        let drafts = (0..<count).map { LedgerDraft(action: "note", subject: .object(["text": .string("\(words) \($0)")])) }
        let store = CaseStore(workspace: ws.workspace, templates: try CaseTemplates.load())
        try store.append(drafts, to: caseID, signer: try ActorRegistry(workspace: ws.workspace).signer(for: actor))
    }

    /// A second workstation of the same agency: its own workspace holding the public
    /// records of `from`'s actors, the private keys of `keys` only, and `from`'s remotes.
    static func workstation(from ws: TestWorkspace, keys: [String], label: String) throws -> TestWorkspace {
        let other = try TestWorkspace(label)
        for file in (try FileManager.default.contentsOfDirectory(atPath: other.root + "/actors")) + (try FileManager.default.contentsOfDirectory(atPath: other.root + "/keys")) {
            let path = (file.hasSuffix(".key.pem") ? other.root + "/keys/" : other.root + "/actors/") + file
            try FileManager.default.removeItem(atPath: path)
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: ws.root + "/actors") {
            try FileManager.default.copyItem(atPath: ws.root + "/actors/" + file, toPath: other.root + "/actors/" + file)
        }
        for id in keys {
            try FileManager.default.copyItem(atPath: ws.root + "/keys/\(id).key.pem", toPath: other.root + "/keys/\(id).key.pem")
        }
        if FileManager.default.fileExists(atPath: ws.root + "/remotes.json"), let signerID = keys.first {
            try FileManager.default.copyItem(atPath: ws.root + "/remotes.json", toPath: other.root + "/remotes.json")
            // What `remote add` on that workstation writes: each server's key pinned in its
            // own witness log, signed by its actor (push and pull require the pin).
            let signer = try ActorRegistry(workspace: other.workspace).signer(for: signerID)
            for remote in try Remote.all(in: other.workspace).values {
                try other.workspace.witness.pin(.init(remote: remote.name, url: remote.url, serverKey: remote.serverKey), signer: signer)
            }
        }
        return other
    }

    /// Points the workspace's remote `name` at another URL (a restarted server, a proxy).
    static func repoint(_ ws: TestWorkspace, remote name: String = "hq", to url: String) throws {
        let path = ws.root + "/remotes.json"
        guard case .object(var remotes) = try JSONValue(parsing: Array(try String(contentsOfFile: path, encoding: .utf8).utf8)),
              case .object(var remote) = remotes[name] else { throw PostgresScopeError(description: "no remote \(name)") }
        remote["url"] = .string(url)
        remotes[name] = .object(remote)
        try Data(try JSONValue.object(remotes).canonicalBytes()).write(to: URL(fileURLWithPath: path))
    }
}
