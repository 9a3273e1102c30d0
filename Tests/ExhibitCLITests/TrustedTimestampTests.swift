import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// RFC 3161 timestamps from a local authority on loopback, checked by Exhibit and
/// independently by `openssl ts -verify`.
@Suite("trusted timestamps")
struct TrustedTimestampTests {
    let exhibit = ExhibitProcess()

    @Test("a token over the ledger head is stored, recorded, verifies with openssl ts, and is re-checked by verify")
    func timestamp() async throws {
        let ws = try TestWorkspace()
        try await withStopping(try await LocalTSA.start(directory: ws.directory.child("tsa-ca")), stop: { await $0.stop() }) { tsa in
            let caseID = try ws.openCase()
            _ = try ws.session().note(caseID, text: "before the timestamp")

            let arguments = ["timestamp", caseID, "--tsa", tsa.url, "--ca-file", tsa.caCertificatePath, "--workspace", ws.root]
            let refused = try await Blocking.run { try ExhibitProcess().run(arguments + ["--actor", ws.investigatorID]) }
            #expect(refused.status == 4)
            // The refusal is itself recorded, so the head to stamp is that entry.
            let head = try #require(try ws.entries(caseID).last)
            #expect(head.action == "refusal")

            let result = try await Blocking.run { try ExhibitProcess().run(arguments + ["--actor", ws.supervisorID, "--json"]) }
            #expect(result.status == 0, "\(result.stderr)")
            let json = try JSONValue(parsing: result.stdout)
            #expect(json["ledger_head"]?.stringValue == head.hash)
            #expect(json["covers_seq"]?.intValue == head.seq)
            #expect(tsa.requestCount() == 1)

            let entry = try #require(try ws.entries(caseID).last)
            #expect(entry.action == "timestamp")
            let directory = ws.caseDirectory(caseID)
            let token = "\(directory)/timestamps/\(head.seq).tsr"
            let query = "\(directory)/timestamps/\(head.seq).tsq"
            let byQuery = try Command.run("/usr/bin/openssl", ["ts", "-verify", "-in", token, "-queryfile", query, "-CAfile", tsa.caCertificatePath])
            #expect(byQuery.output.contains("Verification: OK"), "\(byQuery.output)")
            let byDigest = try Command.run("/usr/bin/openssl", ["ts", "-verify", "-in", token, "-digest", head.hash, "-CAfile", tsa.caCertificatePath])
            #expect(byDigest.output.contains("Verification: OK"), "\(byDigest.output)")
            let otherDigest = try Command.run("/usr/bin/openssl", ["ts", "-verify", "-in", token, "-digest", String(repeating: "ab", count: 32), "-CAfile", tsa.caCertificatePath])
            #expect(!otherDigest.output.contains("Verification: OK"))

            #expect(try exhibit.run(["verify", caseID, "--workspace", ws.root]).status == 0)

            // A corrupted token is found.
            let copy = ws.directory.child("copy")
            try FileManager.default.copyItem(atPath: ws.root, toPath: copy)
            let copied = "\(copy)/cases/\(caseID)/timestamps/\(head.seq).tsr"
            var bytes = try AtomicFile.read(copied)
            bytes[bytes.count - 30] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: copied))
            let broken = try exhibit.run(["verify", caseID, "--workspace", copy])
            #expect(broken.status == 1)
            #expect(broken.stdout.contains("BAD-TIMESTAMP timestamps/\(head.seq).tsr"), "\(broken.stdout)")
        }
    }

    @Test("a reply that does not chain to the CA file records nothing (exit 5)")
    func wrongCA() async throws {
        let ws = try TestWorkspace()
        try await withStopping(try await LocalTSA.start(directory: ws.directory.child("tsa-a")), stop: { await $0.stop() }) { tsa in
            try await withStopping(try await LocalTSA.start(directory: ws.directory.child("tsa-b")), stop: { await $0.stop() }) { other in
                let caseID = try ws.openCase()
                let before = try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl")
                let result = try await Blocking.run {
                    try ExhibitProcess().run(["timestamp", caseID, "--tsa", tsa.url, "--ca-file", other.caCertificatePath,
                                              "--workspace", ws.root, "--actor", ws.supervisorID])
                }
                #expect(result.status == 5)
                #expect(result.stderr.split(separator: "\n").count == 1)
                #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl") == before)
                #expect(!FileManager.default.fileExists(atPath: ws.caseDirectory(caseID) + "/timestamps/1.tsr"))
            }
        }
    }
}
