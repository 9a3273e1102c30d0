import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

/// Custody hand-over and the custodian's recorded verification.
@Suite("custody")
struct CustodyTransferTests {
    let exhibit = ExhibitProcess()

    @Test("transfer records the hand-over; case show prints the custody chain; a custodian's verify is recorded")
    func transfer() throws {
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let added = try exhibit.run(["actor", "add", "--name", "Cory Custodian", "--badge", "C-3", "--role", "custodian",
                                     "--workspace", ws.root, "--actor", ws.supervisorID])
        let custodian = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(custodian == "a-0003")
        let result = try exhibit.run(["transfer", caseID, "--to", custodian, "--reason", "evidence room intake",
                                      "--workspace", ws.root, "--actor", ws.supervisorID])
        #expect(result.status == 0, "\(result.stderr)")
        let entry = try #require(try ws.entries(caseID).last)
        #expect(entry.action == "transfer")
        #expect(entry.subject?["to"]?.stringValue == custodian)

        // Only to a custodian, and only by one.
        #expect(try exhibit.run(["transfer", caseID, "--to", ws.investigatorID, "--reason", "x", "--workspace", ws.root, "--actor", ws.supervisorID]).status == 5)
        #expect(try exhibit.run(["transfer", caseID, "--to", custodian, "--reason", "x", "--workspace", ws.root, "--actor", ws.investigatorID]).status == 4)

        let show = try exhibit.run(["case", "show", caseID, "--json", "--workspace", ws.root, "--actor", ws.investigatorID])
        let custody = try #require(try JSONValue(parsing: show.stdout)["custody"]?.arrayValue)
        #expect(custody.count == 2)
        #expect(custody.last?["actor"]?.stringValue == custodian)
        #expect(custody.first?["until"]?.stringValue == entry.time)

        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root, "--actor", custodian])
        #expect(verify.status == 0)
        let recorded = try #require(try ws.entries(caseID).last)
        #expect(recorded.action == "verify")
        #expect(recorded.actor == custodian)
        #expect(recorded.subject?["result"]?.stringValue == "intact")
    }
}
