import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// The ledger verifies without Exhibit: hashes recomputed by Python's json module
/// (sorted keys, no spaces — RFC 8785 for this ASCII content) and every Ed25519
/// signature checked by the `openssl` command-line tool.
@Suite("ledger verifies with python3 and openssl alone")
struct IndependentLedgerCheckTests {
    static let script = #"""
    import hashlib, json, sys
    ledger, out = sys.argv[1], sys.argv[2]
    prev = "0" * 64
    for number, line in enumerate(open(ledger, encoding="utf-8"), 1):
        entry = json.loads(line)
        chained = {k: entry[k] for k in ("seq", "time", "case", "actor", "action", "subject_digest", "prev")}
        canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        assert entry["seq"] == number, f"seq {entry['seq']} at line {number}"
        assert entry["prev"] == prev, f"prev of seq {number}"
        assert digest == entry["hash"], f"hash of seq {number}"
        subject = json.dumps(entry["subject"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(bytes.fromhex(entry["salt"]) + subject.encode()).hexdigest() == entry["subject_digest"]
        prev = digest
        open(f"{out}/{number}.hash", "w").write(entry["hash"])
        open(f"{out}/{number}.actor", "w").write(entry["actor"])
        import base64
        open(f"{out}/{number}.sig", "wb").write(base64.b64decode(entry["sig"]))
    print(number)
    """#

    @Test("python3 recomputes the chain and openssl pkeyutl verifies every signature")
    func independent() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let session = try ws.session()
        for index in 1...4 { _ = try session.note(caseID, text: "note \(index)") }
        _ = try ws.session(ws.supervisorID).close(caseID, reason: "done")

        let out = ws.directory.child("check")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let scriptPath = ws.directory.child("check.py")
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        let ledger = ws.caseDirectory(caseID) + "/ledger.jsonl"
        let result = try Command.run("/usr/bin/env", ["python3", scriptPath, ledger, out])
        #expect(result.status == 0, "\(result.output)")
        let count = try #require(Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(count == 6)

        for seq in 1...count {
            let actor = try String(contentsOfFile: "\(out)/\(seq).actor", encoding: .utf8)
            let actorJSON = try JSONValue(parsing: try AtomicFile.read("\(ws.root)/actors/\(actor).json"))
            let pem = try #require(actorJSON["public_key"]?.stringValue)
            let pemPath = "\(out)/\(actor).pem"
            try Data(pem.utf8).write(to: URL(fileURLWithPath: pemPath))
            let verify = try Command.run("/usr/bin/openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", pemPath, "-rawin",
                                                              "-in", "\(out)/\(seq).hash", "-sigfile", "\(out)/\(seq).sig"])
            #expect(verify.status == 0, "seq \(seq): \(verify.output)")
            #expect(verify.output.contains("Signature Verified Successfully"))
        }
        // A changed hash no longer matches its signature.
        let hashPath = "\(out)/2.hash"
        var hash = try String(contentsOfFile: hashPath, encoding: .utf8)
        hash = (hash.first == "0" ? "1" : "0") + hash.dropFirst()
        try Data(hash.utf8).write(to: URL(fileURLWithPath: hashPath))
        let actor = try String(contentsOfFile: "\(out)/2.actor", encoding: .utf8)
        let forged = try Command.run("/usr/bin/openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", "\(out)/\(actor).pem", "-rawin",
                                                          "-in", hashPath, "-sigfile", "\(out)/2.sig"])
        #expect(forged.status != 0)
    }
}
