import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import Foundation
import Testing

extension EvidenceServerTests {
    @Suite("evidence server load")
    struct Load {
        typealias Fixture = EvidenceServerFixture

        @Test("8 workstations push 8 cases of 500 entries at once: all accepted, each verifies on a clone")
        func eightConcurrentPushes() async throws {
            try await Fixture.withServer { postgres, url, _ in
                let agency = try TestWorkspace("exhibit-ws-hq")
                #expect(try Fixture.run(["remote", "add", "hq", url], in: agency.root, as: agency.supervisorID).status == 0)
                // Workstation k holds the investigator's key and opens cases until it has
                // OC-…-000k (case ids are numbered per workspace), then adds 499 notes to it.
                var stations: [(ws: TestWorkspace, caseID: String)] = []
                for k in 1...8 {
                    let ws = try Fixture.workstation(from: agency, keys: [agency.investigatorID], label: "exhibit-ws-\(k)")
                    var caseID = ""
                    for _ in 1...k { caseID = try ws.openCase() }
                    try Fixture.addNotes(499, to: caseID, in: ws, as: ws.investigatorID, words: "station\(k) shipment")
                    #expect(try ws.entries(caseID).count == 500)
                    stations.append((ws, caseID))
                }
                #expect(Set(stations.map(\.caseID)).count == 8)
                let started = ContinuousClock.now
                let pushes = try stations.map { station in
                    try ChildProcess(ExhibitProcess.binaryPath, ["push", station.caseID, "--workspace", station.ws.root, "--actor", station.ws.investigatorID]).start()
                }
                for (push, station) in zip(pushes, stations) {
                    let finished = try await push.waitAsync(timeout: .seconds(120))
                    #expect(finished.status == 0, "\(station.caseID): \(finished.stderrText)")
                    try Fixture.expectWhole(postgres, station.caseID, oneOf: [try Fixture.localHead(station.ws, station.caseID)])
                }
                let elapsed = ContinuousClock.now - started
                #expect(elapsed < .seconds(90), "\(elapsed)")
                // A custodian's workstation clones each case and verifies it.
                let custodian = try Fixture.workstation(from: agency, keys: [agency.supervisorID], label: "exhibit-ws-custody")
                for station in stations {
                    let clone = try Fixture.run(["clone", station.caseID], in: custodian.root, as: custodian.supervisorID)
                    #expect(clone.status == 0, "\(clone.stderr)")
                    let verified = try Fixture.exhibit.run(["verify", station.caseID, "--workspace", custodian.root])
                    #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
                }
                // Search finds each workstation's words in its case.
                for (k, station) in zip(1..., stations) where k == 1 || k == 8 {
                    let search = try Fixture.run(["search", "--remote", "hq", "station\(k)", "--json"], in: agency.root, as: agency.investigatorID)
                    let cases = Set(try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.compactMap { $0["case"]?.stringValue } ?? [])
                    #expect(cases == [station.caseID], "\(search.stdout)\(search.stderr)")
                }
            }
        }
    }
}
