import CaseManagement
import ExhibitTestSupport
import FixtureServer
import LawfulFetch
import Testing

/// A URL list over several hosts keeps each host's connection open between its URLs:
/// the transfers at once are capped by the engine (`--concurrency`), not by a cap on
/// open connections, which made libcurl close one host's idle connection to open
/// another's (docs/capture.md, "Connections").
@Suite("Capture: a URL list over several hosts reuses each host's connections")
struct ConnectionReuseTests {
    @Test("30 URLs taking 3 loopback hosts in turn, 2 at a time: at most 2 connections opened per host, the rest reused and recorded so")
    func hostsInTurnReuseTheirConnections() async throws {
        try await withFixtureSites(hosts: ["127.0.0.2", "127.0.0.3", "127.0.0.4"], siteDirectory: nil) { sites in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let urls = (0..<30).map { sites[$0 % 3].baseURL + "/test/pages/\($0)?count=30" }
            var options = CaptureOptions(urls: urls)
            options.allowNetworks = ["127.0.0.0/29"]
            options.allowReason = "test"
            options.concurrency = 2
            let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
            let report = try await Blocking.run { try job.run() }
            #expect(report.captured.count == 30 && report.failed.isEmpty)

            var opened: [String: Int] = [:]
            var reused = 0
            for entry in try ws.entries(caseID) where entry.action == "capture" {
                let decision = try #require(entry.subject?["network_decision"]?.stringValue)
                let ip = try #require(entry.subject?["ip"]?.stringValue)
                if decision.contains("connection reused") {
                    #expect(decision == "allowed by the network override for 127.0.0.0/29 (connected to \(ip), connection reused)")
                    reused += 1
                } else {
                    #expect(decision == "allowed by the network override for 127.0.0.0/29 (connected to \(ip))")
                    opened[ip, default: 0] += 1
                }
            }
            // Each host's connection is opened once, or twice when both transfers at once
            // were to it; with every idle connection closed, all 30 URLs opened their own.
            #expect(Set(opened.keys) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"], "\(opened)")
            #expect(opened.values.allSatisfy { $0 <= 2 }, "connections opened per host: \(opened)")
            #expect(reused + opened.values.reduce(0, +) == 30 && reused >= 24, "\(reused) reused, opened \(opened)")
        }
    }
}
