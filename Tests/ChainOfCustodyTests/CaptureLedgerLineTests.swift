import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// A capture's seal appends hundreds of entries at once; their lines are written around
/// the canonical subject already computed for the subject digest (issue 25). Each line
/// must still be exactly the canonical JSON of the entry, whatever the subject holds.
@Suite("Capture ledger lines")
struct CaptureLedgerLineTests {
    @Test("lines of a batch are the canonical JSON of their entries, and the ledger verifies", arguments: [1, 40])
    func linesAreCanonical(batch: Int) throws {
        let directory = TemporaryDirectory("capture-ledger")
        let key = try SigningKey.generate()
        let ledger = Ledger(path: directory.child("ledger.jsonl"))
        let signer = LedgerSigner(actorID: "a-0001", key: key)
        let awkward: [JSONValue] = [
            "plain", "quote \" backslash \\ slash / tab \t newline \n nul \u{0}", "é ü ß 日本 🙂 \u{FFFD}",
            .integer(-7), .number(1.5e300), .null, .bool(false), [:], [], ["z": 1, "a": ["\u{10000}": 2, "\u{FB33}": 3]],
        ]
        let drafts = (0..<batch).map { number in
            LedgerDraft(action: number % 2 == 0 ? "capture" : "capture-failed", subject: [
                "url": .string("http://127.0.0.2/p\(number).html"),
                "records": .array([["id": .string("<urn:uuid:\(number)>"), "offset": .integer(Int64(number) * 977)]]),
                "value": awkward[number % awkward.count],
                "subject_digest": "a member named like the entry's own",
                "time": .array(awkward),
            ])
        }
        let entries = try ledger.append(drafts, caseID: "OC-2026-0001", signer: signer)
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: ledger.path)), as: UTF8.self)
            .split(separator: "\n").map { Array($0.utf8) }
        #expect(lines.count == batch)
        for (entry, line) in zip(entries, lines) {
            #expect(line == (try entry.line()))
            #expect(try JSONValue(parsing: line).canonicalBytes() == line)
        }
        let publicKey = try key.publicKey()
        let report = Verifier.checkLedger(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: ledger.path))), caseID: "OC-2026-0001") {
            $0 == "a-0001" ? publicKey : nil
        }
        #expect(report.findings.isEmpty, "\(report.findings.map(\.line))")
        #expect(report.entries.count == batch)
    }
}
