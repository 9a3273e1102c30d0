import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// The custody ledger at library level (DESIGN §5): what each line holds, how its hash,
/// subject digest and signature are formed, and what Verifier.checkLedger finds.
@Suite("Custody ledger")
struct LedgerTests {
    static let caseID = "OC-2026-0001"
    static let zeros = String(repeating: "0", count: 64)

    /// A ledger of `count` entries (open, then notes) signed by a fresh key.
    private struct Fixture {
        let directory = TemporaryDirectory("ledger")
        let key: SigningKey
        let ledger: Ledger
        var signer: LedgerSigner { LedgerSigner(actorID: "a-0001", key: key) }

        init(notes: Int = 4) throws {
            key = try SigningKey.generate()
            ledger = Ledger(path: directory.child("ledger.jsonl"))
            try ledger.append(LedgerDraft(action: "open", subject: [
                "category": "online-crime", "title": "Threats", "fields": ["subtype": "cyberstalking"],
            ]), caseID: LedgerTests.caseID, signer: signer)
            for number in 1...max(1, notes) where notes > 0 {
                try ledger.append(LedgerDraft(action: "note", subject: ["text": .string("note \(number)")]),
                                  caseID: LedgerTests.caseID, signer: signer)
            }
        }

        func bytes() throws -> [UInt8] {
            Array(try Data(contentsOf: URL(fileURLWithPath: ledger.path)))
        }

        func lines() throws -> [String] {
            String(decoding: try bytes(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast().map(String.init)
        }

        func check(_ bytes: [UInt8]) throws -> Verifier.LedgerReport {
            let publicKey = try key.publicKey()
            return Verifier.checkLedger(bytes: bytes, caseID: LedgerTests.caseID) { actor in
                actor == "a-0001" ? publicKey : nil
            }
        }
    }

    private static func bytes(of lines: [String]) -> [UInt8] {
        Array(lines.map { $0 + "\n" }.joined().utf8)
    }

    private static func object(_ line: String) throws -> [String: JSONValue] {
        try #require(try JSONValue(parsing: line).objectValue)
    }

    private static func line(_ object: [String: JSONValue]) throws -> String {
        try JSONValue.object(object).canonicalString()
    }

    // MARK: Appending and reading

    @Test func appendThenReadBack() throws {
        let fixture = try Fixture(notes: 3)
        let entries = try fixture.ledger.entries()
        #expect(entries.map(\.seq) == [1, 2, 3, 4])
        #expect(entries.map(\.action) == ["open", "note", "note", "note"])
        #expect(entries.allSatisfy { $0.caseID == Self.caseID && $0.actor == "a-0001" && !$0.withheld })
        #expect(entries[2].subject == ["text": "note 2"])
        #expect(try fixture.ledger.head() == entries.last)
        #expect(try fixture.lines().count == 4, "one JSON object per line")

        // A batch appended together continues the same chain.
        let batch = try fixture.ledger.append(
            [LedgerDraft(action: "tag", subject: ["tag": "a"]), LedgerDraft(action: "tag", subject: ["tag": "b"])],
            caseID: Self.caseID, signer: fixture.signer)
        #expect(batch.map(\.seq) == [5, 6])
        #expect(batch[0].prev == entries.last?.hash)
        #expect(batch[1].prev == batch[0].hash)
        #expect(try fixture.ledger.entries().count == 6)
    }

    @Test func firstEntryPrevIsSixtyFourZeros() throws {
        let fixture = try Fixture(notes: 1)
        let entries = try fixture.ledger.entries()
        #expect(entries[0].prev == Self.zeros)
        #expect(LedgerEntry.genesisPrev == Self.zeros)
        #expect(entries[1].prev == entries[0].hash)
        #expect(entries[1].prev != Self.zeros)
    }

    @Test func lineHoldsExactlyTheDocumentedFields() throws {
        let fixture = try Fixture(notes: 1)
        for line in try fixture.lines() {
            let fields = try Self.object(line)
            #expect(Set(fields.keys) == ["seq", "time", "case", "actor", "action", "subject", "salt", "subject_digest", "prev", "hash", "sig"])
            let time = try #require(fields["time"]?.stringValue)
            // 2026-11-28T13:20:00.123456Z: six fractional digits and Z.
            #expect(time.count == 27)
            #expect(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil, "\(time)")
            let salt = try #require(fields["salt"]?.stringValue)
            #expect(salt.count == 64 && Hex.decode(salt)?.count == 32)
            for key in ["subject_digest", "prev", "hash"] {
                let hex = try #require(fields[key]?.stringValue)
                #expect(hex.wholeMatch(of: /[0-9a-f]{64}/) != nil, "\(key) is lowercase hex")
            }
        }
        // Salts are random per entry.
        let salts = try fixture.lines().map { try Self.object($0)["salt"] }
        #expect(Set(salts).count == salts.count)
    }

    // MARK: Hash, subject digest, signature

    @Test func hashIsSha256OfCanonicalChainedFields() throws {
        let fixture = try Fixture(notes: 2)
        for line in try fixture.lines() {
            let fields = try Self.object(line)
            let seq = try #require(fields["seq"]?.intValue)
            func text(_ key: String) throws -> String { try #require(fields[key]?.stringValue) }
            // The canonical form written out by hand: keys sorted, no spaces; ASCII content only.
            let canonical = "{\"action\":\"\(try text("action"))\",\"actor\":\"\(try text("actor"))\","
                + "\"case\":\"\(try text("case"))\",\"prev\":\"\(try text("prev"))\",\"seq\":\(seq),"
                + "\"subject_digest\":\"\(try text("subject_digest"))\",\"time\":\"\(try text("time"))\"}"
            #expect(Digest.sha256Hex(canonical) == (try text("hash")), "seq \(seq)")
        }
    }

    @Test func subjectDigestIsSha256OfSaltBytesThenCanonicalSubject() throws {
        let fixture = try Fixture(notes: 1)
        for line in try fixture.lines() {
            let fields = try Self.object(line)
            let saltText = try #require(fields["salt"]?.stringValue)
            let salt = try #require(Hex.decode(saltText))
            let subject = try #require(fields["subject"])
            let expected = Digest.sha256Hex(salt + (try subject.canonicalBytes()))
            #expect(fields["subject_digest"]?.stringValue == expected)
            // Not the digest of the hex text of the salt, nor of the subject alone.
            #expect(Digest.sha256Hex(try subject.canonicalBytes()) != expected)
        }
        // The open entry's subject canonicalises with sorted keys: check one by hand.
        let open = try Self.object(try fixture.lines()[0])
        #expect(try open["subject"]?.canonicalString() == #"{"category":"online-crime","fields":{"subtype":"cyberstalking"},"title":"Threats"}"#)
    }

    @Test func signatureVerifiesOverTheHashHexString() throws {
        let fixture = try Fixture(notes: 2)
        let publicKey = try fixture.key.publicKey()
        for line in try fixture.lines() {
            let fields = try Self.object(line)
            let hash = try #require(fields["hash"]?.stringValue)
            let signatureText = try #require(fields["sig"]?.stringValue)
            let signature = try #require(Data(base64Encoded: signatureText).map(Array.init))
            #expect(signature.count == 64)
            #expect(publicKey.isValidSignature(signature, for: Array(hash.utf8)))
            // Over the hex text, not the 32 raw bytes.
            #expect(!publicKey.isValidSignature(signature, for: try #require(Hex.decode(hash))))
        }
    }

    // MARK: Verification

    @Test func untouchedLedgerVerifies() throws {
        let fixture = try Fixture(notes: 4)
        let report = try fixture.check(try fixture.bytes())
        #expect(report.findings.isEmpty, "\(report.findings.map(\.line))")
        #expect(report.entries.count == 5)
        #expect(report.withheldCount == 0)
        #expect(report.head == (try fixture.ledger.head())?.hash)
    }

    /// A capture seals hundreds of entries at once; those are digested and signed
    /// on every core, and must chain, verify and read back exactly as entries
    /// appended one by one.
    @Test func aBatchPreparedOnEveryCoreChainsAndVerifies() throws {
        let fixture = try Fixture(notes: 1)
        let drafts = (0..<(Ledger.parallelBatch * 3 + 5)).map { number in
            LedgerDraft(action: "note", subject: ["text": .string("batch note \(number)"), "n": .integer(Int64(number))])
        }
        let written = try fixture.ledger.append(drafts, caseID: Self.caseID, signer: fixture.signer)
        #expect(written.count == drafts.count)
        #expect(written.map(\.seq) == Array(3...Int64(2 + drafts.count)))
        #expect(written.map(\.subject) == drafts.map(\.subject))
        #expect(zip(written.dropFirst(), written).allSatisfy { $0.prev == $1.hash && $0.time >= $1.time })
        let report = try fixture.check(try fixture.bytes())
        #expect(report.findings.isEmpty, "\(report.findings.map(\.line))")
        #expect(report.entries.count == 2 + drafts.count)
        #expect(report.head == written.last?.hash)
        // Appending after the batch continues its chain.
        let next = try fixture.ledger.append(LedgerDraft(action: "note", subject: ["text": "after"]), caseID: Self.caseID, signer: fixture.signer)
        #expect(next.prev == written.last?.hash)
        #expect(try fixture.check(try fixture.bytes()).findings.isEmpty)
    }

    @Test func withheldCopyStillVerifies() throws {
        let fixture = try Fixture(notes: 4)
        var lines = try fixture.lines()
        for index in [1, 3] {
            var fields = try Self.object(lines[index])
            fields["subject"] = nil
            fields["salt"] = nil
            fields["withheld"] = true
            lines[index] = try Self.line(fields)
        }
        let report = try fixture.check(Self.bytes(of: lines))
        #expect(report.findings.isEmpty, "\(report.findings.map(\.line))")
        #expect(report.withheldCount == 2)
        #expect(report.entries.count == 5)
        #expect(report.entries[1].withheld && report.entries[1].subject == nil)

        // LedgerEntry.withholding() produces the same line.
        let original = try fixture.ledger.entries()[3]
        #expect(try original.withholding().line() == Array(lines[3].utf8))
    }

    @Test func alteredWithheldDigestIsFound() throws {
        let fixture = try Fixture(notes: 3)
        var lines = try fixture.lines()
        var fields = try Self.object(lines[2])
        fields["subject"] = nil
        fields["salt"] = nil
        fields["withheld"] = true
        fields["subject_digest"] = .string(String(repeating: "ab", count: 32))
        lines[2] = try Self.line(fields)
        let report = try fixture.check(Self.bytes(of: lines))
        #expect(!report.findings.isEmpty)
        #expect(report.findings.contains { $0.seq == 3 && $0.kind == .tampered })
    }

    @Test func withheldEntryStillCarryingSubjectIsRejected() throws {
        let fixture = try Fixture(notes: 1)
        var lines = try fixture.lines()
        var fields = try Self.object(lines[1])
        fields["withheld"] = true
        lines[1] = try Self.line(fields)
        let report = try fixture.check(Self.bytes(of: lines))
        #expect(!report.findings.isEmpty)
    }

    @Test func changedSubjectIsFoundAtItsSeq() throws {
        let fixture = try Fixture(notes: 4)
        var lines = try fixture.lines()
        var fields = try Self.object(lines[2])
        fields["subject"] = ["text": "note 2, rewritten"]
        lines[2] = try Self.line(fields)
        let report = try fixture.check(Self.bytes(of: lines))
        let failures = report.findings.filter(\.isFailure)
        #expect(failures.map(\.seq) == [3], "\(report.findings.map(\.line))")
        #expect(failures.first?.kind == .tampered)
    }

    @Test func changedChainedFieldIsFoundAtItsSeq() throws {
        let fixture = try Fixture(notes: 4)
        var lines = try fixture.lines()
        var fields = try Self.object(lines[3])
        fields["action"] = "view"
        lines[3] = try Self.line(fields)
        let report = try fixture.check(Self.bytes(of: lines))
        #expect(report.findings.contains { $0.seq == 4 && $0.kind == .tampered })
        #expect(report.findings.allSatisfy { $0.seq == 4 })
    }

    @Test func rehashedEntryStillFailsOnItsSignatureAndTheNextLink() throws {
        // A forger who recomputes the hash cannot re-sign without the key, and the next
        // entry's prev no longer matches.
        let fixture = try Fixture(notes: 4)
        var entries = try fixture.ledger.entries()
        entries[1].time = "2020-01-01T00:00:00.000000Z"
        entries[1].hash = entries[1].computedHash()
        var lines = try fixture.lines()
        lines[1] = String(decoding: try entries[1].line(), as: UTF8.self)
        let report = try fixture.check(Self.bytes(of: lines))
        #expect(report.findings.contains { $0.seq == 2 && $0.kind == .badSignature })
        #expect(report.findings.contains { $0.seq == 3 && $0.kind == .chainBroken })
    }

    @Test func forgedSignatureWithAnotherKeyIsFound() throws {
        let fixture = try Fixture(notes: 2)
        var entries = try fixture.ledger.entries()
        let intruder = try SigningKey.generate()
        entries[2].signature = Data(try intruder.sign(Array(entries[2].hash.utf8))).base64EncodedString()
        var lines = try fixture.lines()
        lines[2] = String(decoding: try entries[2].line(), as: UTF8.self)
        let report = try fixture.check(Self.bytes(of: lines))
        #expect(report.findings.map(\.seq) == [3])
        #expect(report.findings.first?.kind == .badSignature)
    }

    @Test func deletedSwappedAndTruncatedLinesAreFound() throws {
        let fixture = try Fixture(notes: 4)
        let lines = try fixture.lines()

        var deleted = lines
        deleted.remove(at: 2)
        let afterDelete = try fixture.check(Self.bytes(of: deleted))
        #expect(afterDelete.findings.contains { $0.seq == 4 && $0.kind == .chainBroken }, "\(afterDelete.findings.map(\.line))")

        var swapped = lines
        swapped.swapAt(1, 2)
        let afterSwap = try fixture.check(Self.bytes(of: swapped))
        #expect(afterSwap.findings.contains { $0.seq == 3 })
        #expect(afterSwap.findings.contains { $0.seq == 2 })

        var truncated = Self.bytes(of: lines)
        truncated.removeLast(lines.last!.utf8.count / 2 + 1)
        let afterTruncate = try fixture.check(truncated)
        #expect(!afterTruncate.findings.filter(\.isFailure).isEmpty)
        #expect(afterTruncate.entries.count == 4)

        // Removing only the final newline is a torn write too.
        var unterminated = Self.bytes(of: lines)
        unterminated.removeLast()
        let afterNewline = try fixture.check(unterminated)
        #expect(afterNewline.findings.contains { $0.seq == 5 })
    }

    @Test func unknownActorOrWrongCaseIsFound() throws {
        let fixture = try Fixture(notes: 1)
        let noKeys = Verifier.checkLedger(bytes: try fixture.bytes(), caseID: Self.caseID) { _ in nil }
        #expect(noKeys.findings.filter { $0.kind == .badSignature }.map(\.seq) == [1, 2])
        let publicKey = try fixture.key.publicKey()
        let otherCase = Verifier.checkLedger(bytes: try fixture.bytes(), caseID: "OC-2026-0002") { _ in publicKey }
        #expect(otherCase.findings.count == 2)
    }

    @Test func emptyLedgerIsAFinding() {
        let report = Verifier.checkLedger(bytes: [], caseID: Self.caseID) { _ in nil }
        #expect(report.findings.contains { $0.kind == .missing })
    }

    @Test func appendingAfterATornLastLineIsRefused() throws {
        let fixture = try Fixture(notes: 1)
        var bytes = try fixture.bytes()
        bytes.removeLast(10)
        try Data(bytes).write(to: URL(fileURLWithPath: fixture.ledger.path))
        #expect(throws: ExhibitError.self) {
            try fixture.ledger.append(LedgerDraft(action: "note", subject: ["text": "x"]), caseID: Self.caseID, signer: fixture.signer)
        }
        #expect(try fixture.bytes() == bytes, "nothing was written")
    }
}
