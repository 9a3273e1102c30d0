import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Issue 16, findings 1 and 2, through the real binary: an append is a
/// compare-and-swap on the head the workspace remembers; a ledger cut short is
/// TRUNCATED; a failed append leaves no trace; a torn tail is TORN-TAIL and
/// `exhibit recover` sets it aside under custody.
@Suite("ledger appends cannot be talked round")
struct LedgerIntegrityTests {
    /// A workspace (supervisor+custodian a-0001, investigator+analyst a-0002)
    /// with an online-crime case of one open and three notes.
    private struct Bench {
        let ws: TestWorkspace
        let caseID: String
        var ledgerPath: String { ws.caseDirectory(caseID) + "/ledger.jsonl" }
        var casePath: String { ws.caseDirectory(caseID) + "/case.json" }

        init() throws {
            ws = try TestWorkspace("exhibit-integrity")
            caseID = try ws.openCase()
            for number in 1...3 {
                let note = try run(["case", "note", caseID, "note \(number)"])
                try #require(note.status == 0, "\(note.stderr)")
            }
        }

        func run(_ arguments: [String], actor: String? = nil) throws -> ExhibitProcess.Result {
            try ExhibitProcess().run(arguments + ["--workspace", ws.root, "--actor", actor ?? ws.investigatorID])
        }

        func verify() throws -> ExhibitProcess.Result {
            try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
        }

        func bytes(_ path: String) throws -> [UInt8] { try AtomicFile.read(path) }

        /// `sed -i '$d' ledger.jsonl`: the last line gone.
        func dropLastLine() throws {
            var lines = String(decoding: try bytes(ledgerPath), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast(2)
            try AtomicFile.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: ledgerPath)
        }
    }

    @Test("tail removal: every appending command is refused, nothing changes, verify says TRUNCATED (failed before: the note healed case.json and verify said intact)",
          arguments: [["case", "note", "%CASE", "after the cut"], ["case", "show", "%CASE"]])
    func tailRemovalIsRefused(_ command: [String]) throws {
        let bench = try Bench()
        try bench.dropLastLine()
        let ledgerBefore = try bench.bytes(bench.ledgerPath)
        let caseBefore = try bench.bytes(bench.casePath)

        let refused = try bench.run(command.map { $0 == "%CASE" ? bench.caseID : $0 })
        #expect(refused.status == 1, "exit \(refused.status): \(refused.stderr)")
        #expect(refused.stderr.contains("no longer ends where it did"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(try bench.bytes(bench.ledgerPath) == ledgerBefore, "the ledger changed")
        #expect(try bench.bytes(bench.casePath) == caseBefore, "case.json was rewritten from the shortened ledger")

        let verify = try bench.verify()
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("TRUNCATED"), "\(verify.stdout)")
    }

    @Test("tail removal with case.json deleted too: the witness log alone refuses the append and verify says TRUNCATED")
    func witnessAloneCatchesTheCut() throws {
        let bench = try Bench()
        try bench.dropLastLine()
        try FileManager.default.removeItem(atPath: bench.casePath)
        let note = try bench.run(["case", "note", bench.caseID, "after the cut"])
        #expect(note.status == 1, "exit \(note.status): \(note.stderr)")
        #expect(note.stderr.contains("witness log"), "\(note.stderr)")
        let verify = try bench.verify()
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("TRUNCATED ledger.jsonl seq 4"), "\(verify.stdout)")
    }

    @Test("an edited witness line is found by verify; an untouched workspace verifies with its witness")
    func witnessIsChecked() throws {
        let bench = try Bench()
        let clean = try bench.verify()
        #expect(clean.status == 0, "\(clean.stdout)")
        let witnessPath = bench.ws.root + "/witness.jsonl"
        let lines = String(decoding: try bench.bytes(witnessPath), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 4, "one witness line per append: \(lines.count)")
        let edited = lines.map { $0.replacingOccurrences(of: "\"seq\":3", with: "\"seq\":2") }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Array(edited.utf8), to: witnessPath)
        let verify = try bench.verify()
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("witness.jsonl"), "\(verify.stdout)")
    }

    @Test("docs/ledger.md §12's Python check of witness.jsonl passes on a real workspace and fails on an edited line")
    func witnessCheckByHand() throws {
        let bench = try Bench()
        let doc = String(decoding: try AtomicFile.read(Validators.packageRoot + "/docs/ledger.md"), as: UTF8.self)
        let section = try #require(doc.range(of: "## 12. The workspace witness log"))
        let start = try #require(doc.range(of: "```python\n", range: section.upperBound..<doc.endIndex))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        let script = String(doc[start.upperBound..<end.lowerBound])
        let good = try Command.run(try Validators.path(of: "python3"), ["-c", script], directory: bench.ws.root)
        #expect(good.status == 0 && good.output.contains("witness chain intact"), "\(good.output)")
        let witnessPath = bench.ws.root + "/witness.jsonl"
        let edited = String(decoding: try bench.bytes(witnessPath), as: UTF8.self).replacingOccurrences(of: "\"seq\":2", with: "\"seq\":9")
        try AtomicFile.write(Array(edited.utf8), to: witnessPath)
        let bad = try Command.run(try Validators.path(of: "python3"), ["-c", script], directory: bench.ws.root)
        #expect(bad.status != 0, "\(bad.output)")
    }

    @Test("disk full during a note: exit 5, the ledger and witness unchanged, the next note succeeds and the case verifies (failed before: a torn line blocked every later append)",
          .enabled(if: ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil))
    func failedAppendLeavesNoTrace() async throws {
        let bench = try Bench()
        let ledgerBefore = try bench.bytes(bench.ledgerPath)
        let witnessBefore = try bench.bytes(bench.ws.root + "/witness.jsonl")
        // The limit falls inside the new line: write(2) stores part of it, then EFBIG.
        let limit = ledgerBefore.count + 300
        let long = String(repeating: "The disk filled up while this was written. ", count: 40)
        let run = try await FaultRun.limited(
            fileSize: limit, ignoreSIGXFSZ: true,
            ["case", "note", bench.caseID, long, "--workspace", bench.ws.root, "--actor", bench.ws.investigatorID])
        #expect(run.status == 5, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.lowercased().contains("too large"), "\(run.stderr)")
        #expect(try bench.bytes(bench.ledgerPath) == ledgerBefore, "the failed append left bytes behind")
        #expect(try bench.bytes(bench.ws.root + "/witness.jsonl") == witnessBefore)

        let next = try bench.run(["case", "note", bench.caseID, long])
        #expect(next.status == 0, "the next append after space is freed: \(next.stderr)")
        let verify = try bench.verify()
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("a torn tail (power loss) is TORN-TAIL; appends are refused; `exhibit recover` (custodian) keeps the bytes as a blob and records it")
    func tornTailIsRecovered() throws {
        let bench = try Bench()
        let torn = Array("{\"seq\":5,\"time\":\"2026-12-06T10:00:00.0000".utf8)
        let handle = try #require(FileHandle(forWritingAtPath: bench.ledgerPath))
        handle.seekToEndOfFile()
        handle.write(Data(torn))
        try handle.close()

        let verify = try bench.verify()
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("TORN-TAIL ledger.jsonl"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("TAMPERED"), "\(verify.stdout)")

        let note = try bench.run(["case", "note", bench.caseID, "blocked"])
        #expect(note.status == 5, "\(note.stderr)")
        #expect(note.stderr.contains("exhibit recover"), "\(note.stderr)")

        let notCustodian = try bench.run(["recover", bench.caseID])
        #expect(notCustodian.status == 4, "\(notCustodian.stderr)")

        let recovered = try bench.run(["recover", bench.caseID, "--json"], actor: bench.ws.supervisorID)
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let output = try JSONValue(parsing: Array(recovered.stdout.utf8))
        #expect(output["seq"]?.intValue == 5)
        let sha256 = Digest.sha256Hex(torn)
        #expect(output["sha256"]?.stringValue == sha256)
        let blob = bench.ws.caseDirectory(bench.caseID) + "/blobs/sha256/\(sha256.prefix(2))/\(sha256)"
        #expect(try bench.bytes(blob) == torn, "the torn bytes are kept under custody")
        let entries = try bench.ws.entries(bench.caseID)
        #expect(entries.last?.action == "recovery")
        #expect(entries.last?.subject?["blob"]?["sha256"]?.stringValue == sha256)

        let after = try bench.verify()
        #expect(after.status == 0, "\(after.stdout)")
        let again = try bench.run(["recover", bench.caseID], actor: bench.ws.supervisorID)
        #expect(again.status == 0 && again.stdout.isEmpty, "nothing left to recover: \(again.stdout)")
        #expect(try bench.run(["case", "note", bench.caseID, "appends again"]).status == 0)
    }
}
