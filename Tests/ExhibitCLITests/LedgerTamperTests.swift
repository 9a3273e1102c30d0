import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// End to end through the real binary (issue 2 acceptance): every kind of tampering with a
/// case's ledger or its actors' keys makes `exhibit verify` exit 1 and name the entry; an
/// untouched case and a redacted copy that withholds subjects verify (exit 0).
@Suite("exhibit verify finds tampering")
struct LedgerTamperTests {
    /// A workspace with two actors and one online-crime case of 5 entries:
    /// seq 1 open (a-0001), 2 note (a-0002), 3 note (a-0001), 4 note (a-0002), 5 note (a-0001).
    private struct Bench {
        let temp = TemporaryDirectory("tamper")
        let exhibit = ExhibitProcess()
        let caseID: String
        var base: String { temp.child("base") }

        init() throws {
            let root = temp.child("base")
            let exhibit = ExhibitProcess()
            func ok(_ arguments: [String]) throws -> String {
                let result = try exhibit.run(arguments + ["--workspace", root])
                try #require(result.status == 0, "exhibit \(arguments.joined(separator: " ")) → \(result.status): \(result.stderr)")
                return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            _ = try ok(["init", "--agency", "Tamper Test PD"])
            #expect(try ok(["actor", "add", "--name", "Ada First", "--badge", "B-1", "--role", "investigator"]) == "a-0001")
            #expect(try ok(["actor", "add", "--name", "Ben Second", "--badge", "B-2", "--role", "investigator", "--actor", "a-0001"]) == "a-0002")
            caseID = try ok(["case", "open", "--category", "online-crime", "--title", "T",
                             "--field", "subtype=cyberstalking", "--field", "complainant_reference=R-1", "--actor", "a-0001"])
            for (number, actor) in [(2, "a-0002"), (3, "a-0001"), (4, "a-0002"), (5, "a-0001")] {
                #expect(try ok(["case", "note", caseID, "note number \(number)", "--actor", actor]) == "\(number)")
            }
        }

        /// A fresh copy of the whole workspace (actors/ stays beside cases/).
        func copy(_ name: String) throws -> String {
            let path = temp.child(name)
            try FileManager.default.copyItem(atPath: base, toPath: path)
            return path
        }

        func ledgerPath(in workspace: String) -> String {
            "\(workspace)/cases/\(caseID)/ledger.jsonl"
        }

        func lines(in workspace: String) throws -> [String] {
            let text = try String(contentsOfFile: ledgerPath(in: workspace), encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            return text.split(separator: "\n").map(String.init)
        }

        func write(_ lines: [String], in workspace: String) throws {
            try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: ledgerPath(in: workspace)))
        }

        /// `exhibit verify CASE --workspace W`, read-only (no acting actor).
        func verify(_ workspace: String, json: Bool = false) throws -> ExhibitProcess.Result {
            try exhibit.run(["verify", caseID, "--workspace", workspace] + (json ? ["--json"] : []))
        }

        /// `exhibit verify <case directory>`.
        func verifyDirectory(_ workspace: String) throws -> ExhibitProcess.Result {
            try exhibit.run(["verify", "\(workspace)/cases/\(caseID)"])
        }
    }

    private static func object(_ line: String) throws -> [String: JSONValue] {
        try #require(try JSONValue(parsing: line).objectValue)
    }

    private static func line(_ object: [String: JSONValue]) throws -> String {
        try JSONValue.object(object).canonicalString()
    }

    /// The seqs `verify --json` reports findings for.
    private static func reportedSeqs(_ result: ExhibitProcess.Result) throws -> Set<Int64> {
        let report = try JSONValue(parsing: result.stdout)
        let findings = try #require(report["findings"]?.arrayValue)
        return Set(findings.compactMap { $0["seq"]?.intValue })
    }

    /// Asserts a failed verification that names `seq` in text and JSON output.
    private func expectTampered(_ bench: Bench, _ workspace: String, seq: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = try bench.verify(workspace)
        #expect(text.status == 1, "stdout: \(text.stdout) stderr: \(text.stderr)", sourceLocation: sourceLocation)
        #expect(text.stdout.contains("seq \(seq) "), "verify does not name seq \(seq): \(text.stdout)", sourceLocation: sourceLocation)
        #expect(!text.stdout.contains(": intact"), sourceLocation: sourceLocation)

        let json = try bench.verify(workspace, json: true)
        #expect(json.status == 1, sourceLocation: sourceLocation)
        let report = try JSONValue(parsing: json.stdout)
        #expect(report["intact"] == false, sourceLocation: sourceLocation)
        #expect(try Self.reportedSeqs(json).contains(seq), "\(json.stdout)", sourceLocation: sourceLocation)

        let byDirectory = try bench.verifyDirectory(workspace)
        #expect(byDirectory.status == 1, sourceLocation: sourceLocation)
        #expect(byDirectory.stdout.contains("seq \(seq) "), sourceLocation: sourceLocation)
    }

    @Test func untouchedCaseVerifies() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        let text = try bench.verify(copy)
        #expect(text.status == 0, "\(text.stdout) \(text.stderr)")
        #expect(text.stdout.contains("intact"))
        #expect(text.stderr.isEmpty)

        let json = try bench.verify(copy, json: true)
        #expect(json.status == 0)
        let report = try JSONValue(parsing: json.stdout)
        #expect(report["intact"] == true)
        #expect(report["entries"] == 5)
        #expect(report["withheld"] == 0)
        #expect(report["findings"] == [])

        #expect(try bench.verifyDirectory(copy).status == 0)
        #expect(try bench.verify(bench.base).status == 0)
    }

    @Test func changedSubjectFieldIsNamed() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var lines = try bench.lines(in: copy)
        #expect(lines[2].contains("note number 3"))
        lines[2] = lines[2].replacingOccurrences(of: "note number 3", with: "note number 9")
        try bench.write(lines, in: copy)
        try expectTampered(bench, copy, seq: 3)
    }

    @Test func changedChainedFieldIsNamed() throws {
        let bench = try Bench()
        for (index, field, value) in [(1, "time", JSONValue.string("2001-01-01T00:00:00.000000Z")),
                                      (3, "actor", .string("a-0001")),
                                      (4, "action", .string("view"))] {
            let copy = try bench.copy("copy-\(field)")
            var lines = try bench.lines(in: copy)
            var fields = try Self.object(lines[index])
            #expect(fields[field] != value)
            fields[field] = value
            lines[index] = try Self.line(fields)
            try bench.write(lines, in: copy)
            try expectTampered(bench, copy, seq: Int64(index + 1))
        }
    }

    @Test func deletedLineIsNamed() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var lines = try bench.lines(in: copy)
        lines.remove(at: 2)  // seq 3
        try bench.write(lines, in: copy)
        // The entry after the gap no longer links: seq 4 is where the chain breaks.
        try expectTampered(bench, copy, seq: 4)
    }

    @Test func swappedLinesAreNamed() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var lines = try bench.lines(in: copy)
        lines.swapAt(1, 2)  // seq 2 and 3
        try bench.write(lines, in: copy)
        try expectTampered(bench, copy, seq: 2)
        try expectTampered(bench, copy, seq: 3)
    }

    @Test func truncatedLastLineIsNamed() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bench.ledgerPath(in: copy))))
        let lastLine = try bench.lines(in: copy).last!
        // Cut the last entry mid-way (its newline and the second half of its text).
        bytes.removeLast(lastLine.utf8.count / 2 + 1)
        try Data(bytes).write(to: URL(fileURLWithPath: bench.ledgerPath(in: copy)))
        try expectTampered(bench, copy, seq: 5)
    }

    @Test func droppedFinalNewlineIsNamed() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bench.ledgerPath(in: copy))))
        bytes.removeLast()
        try Data(bytes).write(to: URL(fileURLWithPath: bench.ledgerPath(in: copy)))
        try expectTampered(bench, copy, seq: 5)
    }

    @Test func replacedPublicKeyIsNamed() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        let firstPath = "\(copy)/actors/a-0001.json"
        let secondPath = "\(copy)/actors/a-0002.json"
        let first = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: firstPath))))
        var second = try #require(try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: secondPath)))).objectValue)
        let firstKey = try #require(first["public_key"])
        #expect(second["public_key"] != firstKey)
        second["public_key"] = firstKey
        try Data(try JSONValue.object(second).canonicalBytes()).write(to: URL(fileURLWithPath: secondPath))

        // a-0002 signed seq 2 and 4.
        try expectTampered(bench, copy, seq: 2)
        try expectTampered(bench, copy, seq: 4)
        let json = try bench.verify(copy, json: true)
        #expect(try Self.reportedSeqs(json) == [2, 4])
    }

    @Test func withheldCopyVerifiesAndReportsTheCount() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var lines = try bench.lines(in: copy)
        for index in [1, 2, 4] {
            var fields = try Self.object(lines[index])
            #expect(fields.removeValue(forKey: "subject") != nil)
            #expect(fields.removeValue(forKey: "salt") != nil)
            fields["withheld"] = true
            lines[index] = try Self.line(fields)
        }
        try bench.write(lines, in: copy)
        #expect(!(try String(contentsOfFile: bench.ledgerPath(in: copy), encoding: .utf8)).contains("note number 3"))

        let text = try bench.verify(copy)
        #expect(text.status == 0, "\(text.stdout) \(text.stderr)")
        #expect(text.stdout.contains("withheld"))
        #expect(text.stdout.contains("3 withheld"), "\(text.stdout)")

        let json = try bench.verify(copy, json: true)
        #expect(json.status == 0)
        let report = try JSONValue(parsing: json.stdout)
        #expect(report["withheld"] == 3)
        #expect(report["entries"] == 5)
        #expect(report["intact"] == true)
    }

    @Test func alteredWithheldDigestFails() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var lines = try bench.lines(in: copy)
        for index in [1, 3] {
            var fields = try Self.object(lines[index])
            fields["subject"] = nil
            fields["salt"] = nil
            fields["withheld"] = true
            if index == 3 {
                let digest = try #require(fields["subject_digest"]?.stringValue)
                let flipped = (digest.first == "0" ? "1" : "0") + digest.dropFirst()
                fields["subject_digest"] = .string(flipped)
            }
            lines[index] = try Self.line(fields)
        }
        try bench.write(lines, in: copy)
        try expectTampered(bench, copy, seq: 4)
        let json = try bench.verify(copy, json: true)
        #expect(try Self.reportedSeqs(json) == [4])
    }

    @Test func withheldLineKeepingItsSaltFails() throws {
        let bench = try Bench()
        let copy = try bench.copy("copy")
        var lines = try bench.lines(in: copy)
        var fields = try Self.object(lines[2])
        fields["subject"] = nil
        fields["withheld"] = true
        lines[2] = try Self.line(fields)
        try bench.write(lines, in: copy)
        let result = try bench.verify(copy)
        #expect(result.status == 1)
    }
}
