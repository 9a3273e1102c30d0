import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Two OS processes append to one case at once: the exclusive lock on the
/// ledger keeps the chain whole (no interleaving, no fork).
@Suite("concurrent appends")
struct ConcurrentLedgerAppendTests {
    @Test("two processes × 200 notes → 400 entries, seqs without gaps, chain intact")
    func twoProcesses() async throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let binary = ExhibitProcess.binaryPath
        func writer(_ label: String) throws -> RunningProcess {
            try ChildProcess("/bin/bash", ["-c", "for i in $(seq 200); do \"$0\" case note \"$1\" \"\(label) $i\" --workspace \"$2\" --actor \"$3\" >/dev/null || exit 1; done",
                                           binary, caseID, ws.root, ws.investigatorID],
                             stdout: .discard, stderr: .discard).start()
        }
        let first = try writer("p1")
        let second = try writer("p2")
        let firstEnd = try await first.waitAsync()
        let secondEnd = try await second.waitAsync()
        #expect(firstEnd.status == 0 && !firstEnd.signalled)
        #expect(secondEnd.status == 0 && !secondEnd.signalled)
        let entries = try ws.entries(caseID)
        #expect(entries.count == 401)
        #expect(entries.map(\.seq) == Array(1...401))
        #expect(entries.filter { $0.subject?["text"]?.stringValue?.hasPrefix("p1 ") == true }.count == 200)
        #expect(entries.filter { $0.subject?["text"]?.stringValue?.hasPrefix("p2 ") == true }.count == 200)
        let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
        #expect(verify.status == 0, "\(verify.stdout)")
    }
}
