import CaseManagement
import ChainOfCustody
import EvidenceServer
import ExhibitTestSupport
import Foundation
import Testing

extension EvidenceServerTests {
    /// The server's receipts and its pinned key in the workspace witness log (DESIGN §16,
    /// §22): what a text editor can change on the workstation, verify or push catches.
    @Suite("evidence server receipts")
    struct Receipts {
        typealias Fixture = EvidenceServerFixture

        /// A workspace with the server added and a pushed case of a few notes.
        func pushedCase(url: String) throws -> (ws: TestWorkspace, caseID: String, seq: Int64) {
            let ws = try TestWorkspace()
            let added = try Fixture.run(["remote", "add", "hq", url], in: ws.root, as: ws.supervisorID)
            #expect(added.status == 0, "\(added.stderr)")
            let caseID = try ws.openCase()
            try Fixture.addNotes(6, to: caseID, in: ws, as: ws.investigatorID)
            let pushed = try Fixture.run(["push", caseID, "--json"], in: ws.root, as: ws.investigatorID)
            #expect(pushed.status == 0, "\(pushed.stderr)")
            let seq = try JSONValue(parsing: pushed.stdout)["seq"]?.intValue ?? -1
            #expect(seq == Int64(try ws.entries(caseID).count))
            return (ws, caseID, seq)
        }

        func verify(_ caseID: String, _ ws: TestWorkspace) throws -> ExhibitProcess.Result {
            try Fixture.exhibit.run(["verify", caseID, "--workspace", ws.root])
        }

        @Test("a ledger cut short below the server's receipt fails verify naming the receipted seq; an edited or forged receipt signature is refused")
        func receiptsInWitnessLog() async throws {
            try await Fixture.withServer { _, url, _ in
                let (ws, caseID, seq) = try pushedCase(url: url)
                let registry = ActorRegistry(workspace: ws.workspace)
                // The pin and the receipt are witness records, signed and chained.
                let report = try ws.workspace.witness.check(caseID: nil, keyFor: registry.verifyingKey(for:))
                #expect(report.findings.isEmpty, "\(report.findings)")
                let pins = report.serverRecords.compactMap { record -> WitnessLog.ServerPin? in
                    if case .pin(let pin) = record.kind { return pin }
                    return nil
                }
                #expect(pins.map(\.serverKey) == [try Remote.named("hq", in: ws.workspace).serverKey])
                #expect(report.serverRecords.contains { $0.caseID == caseID && $0.seq == seq })
                let intact = try verify(caseID, ws)
                #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")

                // A text editor cuts the last three entries off the ledger.
                let ledgerPath = ws.caseDirectory(caseID) + "/ledger.jsonl"
                let original = try String(contentsOfFile: ledgerPath, encoding: .utf8)
                let kept = original.split(separator: "\n").dropLast(3).map { $0 + "\n" }.joined()
                try kept.write(toFile: ledgerPath, atomically: false, encoding: .utf8)
                let cut = try verify(caseID, ws)
                #expect(cut.status == 1, "\(cut.stdout)\(cut.stderr)")
                #expect(cut.stdout.contains("TAMPERED ledger.jsonl seq \(seq) — evidence server hq signed a receipt for entry \(seq) of this case"), "\(cut.stdout)")
                try original.write(toFile: ledgerPath, atomically: false, encoding: .utf8)
                #expect(try verify(caseID, ws).status == 0)

                // The receipt's server signature edited in the witness log: the line no longer
                // matches its hash, and the signature is not the pinned key's.
                let witnessPath = ws.root + "/witness.jsonl"
                let log = try String(contentsOfFile: witnessPath, encoding: .utf8)
                var lines = log.split(separator: "\n").map(String.init)
                let index = try #require(lines.lastIndex { $0.contains("\"kind\":\"receipt\"") })
                let edited = try JSONValue(parsing: Array(lines[index].utf8))
                guard case .object(var members) = edited, let signature = members["receipt_sig"]?.stringValue else {
                    Issue.record("no receipt_sig in \(lines[index])")
                    return
                }
                var bytes = Array(Data(base64Encoded: signature) ?? Data())
                bytes[0] ^= 1
                members["receipt_sig"] = .string(Data(bytes).base64EncodedString())
                lines[index] = String(decoding: try JSONValue.object(members).canonicalBytes(), as: UTF8.self)
                try (lines.joined(separator: "\n") + "\n").write(toFile: witnessPath, atomically: false, encoding: .utf8)
                let editedReport = try verify(caseID, ws)
                #expect(editedReport.status == 1)
                #expect(editedReport.stdout.contains("BAD-SIGNATURE ../../witness.jsonl seq \(seq) — the receipt of evidence server hq for entry \(seq)"), "\(editedReport.stdout)")
                try log.write(toFile: witnessPath, atomically: false, encoding: .utf8)
                #expect(try verify(caseID, ws).status == 0)

                // A receipt the workstation made up: chained and signed by one of its actors,
                // but not by the server's key. Only the server's signature gives it away.
                let forger = try SigningKey.generate()
                let time = LedgerTime.now()
                let head = try ws.entries(caseID).last?.hash ?? ""
                let forged = try forger.sign(try WitnessLog.ServerReceipt.signedFields(caseID: caseID, seq: seq, head: head, time: time).canonicalBytes())
                try ws.workspace.witness.receipt(.init(remote: "hq", time: time, signature: Data(forged).base64EncodedString()),
                                                 caseID: caseID, seq: seq, head: head, signer: try registry.signer(for: ws.supervisorID))
                let forgedReport = try verify(caseID, ws)
                #expect(forgedReport.status == 1)
                let failures = forgedReport.stdout.split(separator: "\n").filter { $0.hasPrefix("BAD-SIGNATURE") || $0.hasPrefix("TAMPERED") }
                #expect(failures.count == 1 && failures[0].contains("is not signed by the key pinned for it"), "\(forgedReport.stdout)")
            }
        }

        @Test("an edited server key in remotes.json, or a remote no pin covers, is refused by push and pull in one sentence; nothing is sent")
        func pinnedKey() async throws {
            try await Fixture.withServer { postgres, url, _ in
                let (ws, caseID, _) = try pushedCase(url: url)
                let serverHead = try Fixture.serverHead(postgres, caseID)
                try Fixture.addNotes(2, to: caseID, in: ws, as: ws.investigatorID)
                let path = ws.root + "/remotes.json"
                let original = try String(contentsOfFile: path, encoding: .utf8)
                guard case .object(var remotes) = try JSONValue(parsing: Array(original.utf8)), case .object(var hq) = remotes["hq"] else {
                    Issue.record("no remote hq in \(original)")
                    return
                }
                // An editor re-pins the server to another key (as one would for a server of one's own).
                hq["server_key"] = .string(try SigningKey.generate().publicKeyPEM())
                remotes["hq"] = .object(hq)
                try Data(try JSONValue.object(remotes).canonicalBytes()).write(to: URL(fileURLWithPath: path))
                for command in ["push", "pull"] {
                    let refused = try Fixture.run([command, caseID], in: ws.root, as: ws.investigatorID)
                    #expect(refused.status == 1, "\(command): \(refused.status) \(refused.stderr)")
                    #expect(refused.stderr.contains("remotes.json gives evidence server hq the receipt key sha256:"), "\(refused.stderr)")
                    #expect(refused.stderr.contains("remotes.json was edited"), "\(refused.stderr)")
                    #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
                }
                #expect(try Fixture.serverHead(postgres, caseID) == serverHead)

                // A remote written into remotes.json by hand: no pin covers it.
                remotes["hq"] = nil
                hq["name"] = .string("other")
                remotes["other"] = .object(hq)
                try Data(try JSONValue.object(remotes).canonicalBytes()).write(to: URL(fileURLWithPath: path))
                let unpinned = try Fixture.run(["push", caseID, "--remote", "other"], in: ws.root, as: ws.investigatorID)
                #expect(unpinned.status == 1 && unpinned.stderr.contains("has no signed pin of evidence server other"), "\(unpinned.stderr)")
                #expect(try Fixture.serverHead(postgres, caseID) == serverHead)

                // The file as remote add wrote it: the push goes through.
                try original.write(toFile: path, atomically: false, encoding: .utf8)
                let pushed = try Fixture.run(["push", caseID], in: ws.root, as: ws.investigatorID)
                #expect(pushed.status == 0, "\(pushed.stderr)")
                #expect(try Fixture.serverHead(postgres, caseID) == (try Fixture.localHead(ws, caseID)))
            }
        }
    }
}
