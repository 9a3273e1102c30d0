import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// DESIGN §2: a kill -9 at any instant leaves a case that verifies, with every
/// URL either fully recorded or absent, and no partial ledger line.
@Suite("SIGKILL during capture")
struct KillDuringCaptureTests {
    @Test("20 kills at random points of a 50-page capture: the case verifies every time")
    func randomKills() async throws {
        // The kill instants come from a seeded generator: every failure names the seed,
        // and EXHIBIT_TEST_SEED=<seed> replays the same instants.
        var random = SeededRandom()
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            // Slow enough pages that the kill lands anywhere: connect, stream, seal, rename.
            let urls = (0..<50).map { site.baseURL + "/test/slow?bytes=3000&interval_ms=2&chunk=500&page=\($0)" }
            let exhibit = ExhibitProcess()
            for round in 0..<20 {
                let delay = Int.random(in: 5...250, using: &random)
                let process = try exhibit.command(["capture", caseID] + urls + ["--concurrency", "8", "--workspace", ws.root, "--actor", ws.investigatorID,
                                                                                "--allow-network", "127.0.0.1/32", "--reason", "kill test \(round)"],
                                                  stdout: .discard, stderr: .discard).start()
                try await Task.sleep(for: .milliseconds(delay))
                try await Blocking.run { process.killAndWait() }

                let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root])
                #expect(verify.status == 0, "round \(round), kill after \(delay) ms, \(random.replay): \(verify.stdout)")
                // Every line is a whole entry; every capture entry's records are in its WARC.
                let entries = try ws.entries(caseID)
                #expect(entries.map(\.seq) == Array(1...Int64(entries.count)), "round \(round), kill after \(delay) ms, \(random.replay)")
            }
            // Whatever was recorded is complete: each captured URL has its three records.
            for entry in try ws.entries(caseID) where entry.action == "capture" {
                #expect(entry.subject?["records"]?.arrayValue?.count == 3, "\(entry.subject?["url"]?.stringValue ?? ""), \(random.replay)")
            }
        }
    }
}
