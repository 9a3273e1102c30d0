import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Bad input gets one sentence on stderr and DESIGN §12's exit code, never a
/// backtrace, and nothing is written.
@Suite("bad input")
struct CommandInputErrorTests {
    let exhibit = ExhibitProcess()

    func snapshot(_ root: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for case let relative as String in FileManager.default.enumerator(atPath: root)?.allObjects ?? [] {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory)
            files[relative] = isDirectory.boolValue ? [] : try AtomicFile.read(root + "/" + relative)
        }
        return files
    }

    func expectOneSentence(_ result: ExhibitProcess.Result, _ status: Int32, _ what: String) {
        #expect(result.status == status, "\(what): exit \(result.status), stderr \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(what): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), "\(what)")
        #expect(result.stdout.isEmpty, "\(what): \(result.stdout)")
    }

    @Test("unknown category, missing field, unknown actor, bad flags, unreadable or exposed key: documented codes, nothing written")
    func inputErrors() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let root = ws.root
        let actor = ["--workspace", root, "--actor", ws.investigatorID]
        let before = try snapshot(root)
        let cases: [([String], Int32, String)] = [
            (["case", "open", "--category", "burglary", "--title", "T"] + actor, 5, "unknown category"),
            (["case", "open", "--category", "missing-person", "--title", "T", "--field", "subject_name=A"] + actor, 5, "missing required field"),
            (["case", "open", "--category", "online-crime", "--title", "T", "--field", "subtype"] + actor, 2, "field without ="),
            (["case", "note", caseID, "x", "--workspace", root, "--actor", "a-0099"], 5, "unknown actor"),
            (["case", "note", caseID, "x", "--workspace", root], 2, "no acting actor"),
            (["case", "note", "OC-2026-9999", "x"] + actor, 5, "unknown case"),
            (["case", "list", "--bogus"] + actor, 2, "unknown flag (not 64)"),
            (["frobnicate"], 2, "unknown subcommand"),
            (["verify", "OC-2026-9999", "--workspace", root], 5, "verify unknown case"),
        ]
        for (arguments, status, what) in cases {
            expectOneSentence(try exhibit.run(arguments), status, what)
        }
        #expect(try snapshot(root) == before)

        let empty = ws.directory.child("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        expectOneSentence(try exhibit.run(["case", "list", "--workspace", empty, "--actor", "a-0001"]), 5, "no workspace")
        expectOneSentence(try exhibit.run(["init", "--workspace", root, "--agency", "X"]), 5, "init over a workspace")
        #expect(try snapshot(root) == before)

        // A private key readable by others is refused, and so is a damaged one.
        let keyPath = "\(root)/keys/\(ws.investigatorID).key.pem"
        chmod(keyPath, 0o644)
        expectOneSentence(try exhibit.run(["case", "note", caseID, "x"] + actor), 5, "exposed key")
        chmod(keyPath, 0o600)
        let key = try AtomicFile.read(keyPath)
        try Data("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: keyPath))
        chmod(keyPath, 0o600)
        expectOneSentence(try exhibit.run(["case", "note", caseID, "x"] + actor), 5, "damaged key")
        try Data(key).write(to: URL(fileURLWithPath: keyPath))
        #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl") == (before["cases/\(caseID)/ledger.jsonl"] ?? []))
    }

    @Test("a role refusal exits 4, names the role, and is itself recorded")
    func refusal() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let result = try exhibit.run(["case", "close", caseID, "--workspace", ws.root, "--actor", ws.investigatorID])
        expectOneSentence(result, 4, "investigator closing a case")
        #expect(result.stderr.contains("supervisor"))
        let last = try #require(try ws.entries(caseID).last)
        #expect(last.action == "refusal")
        #expect(last.actor == ws.investigatorID)
    }
}
