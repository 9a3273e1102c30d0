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
        let site = try await FixtureSite.start(siteDirectory: nil)
        defer { Task { await site.stop() } }
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        // Slow enough pages that the kill lands anywhere: connect, stream, seal, rename.
        let urls = (0..<50).map { site.baseURL + "/test/slow?bytes=3000&interval_ms=2&chunk=500&page=\($0)" }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ExhibitProcess.binaryPath)
            process.arguments = ["capture", caseID] + urls + ["--concurrency", "8", "--workspace", ws.root, "--actor", ws.investigatorID,
                                                                "--allow-network", "127.0.0.1/32", "--reason", "kill test \(round)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...250, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            try await Blocking.run { process.waitUntilExit() }

            let verify = try ExhibitProcess().run(["verify", caseID, "--workspace", ws.root])
            #expect(verify.status == 0, "round \(round): \(verify.stdout)")
            // Every line is a whole entry; every capture entry's records are in its WARC.
            let entries = try ws.entries(caseID)
            #expect(entries.map(\.seq) == Array(1...Int64(entries.count)))
        }
        // Whatever was recorded is complete: each captured URL has its three records.
        for entry in try ws.entries(caseID) where entry.action == "capture" {
            #expect(entry.subject?["records"]?.arrayValue?.count == 3)
        }
    }
}
