import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit capture --allow-network … --reason …` refused when it would open far
/// more than an agency's own network, or says nothing about why (DESIGN §16):
/// exit 2, one sentence naming the flag, nothing fetched, nothing written.
@Suite("exhibit capture: limits of --allow-network")
struct NetworkOverrideTests {
    let exhibit = ExhibitProcess()

    /// Runs `exhibit capture` on a fixture page with the given override and checks
    /// that it was a usage error that neither fetched nor wrote anything.
    func expectUsageError(allowNetwork: [String], reason: String?, mentioning flag: String) async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let ledgerBefore = try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl")
            var arguments = ["capture", caseID, site.baseURL + "/test/status/200", "--workspace", ws.root, "--actor", ws.investigatorID]
            for range in allowNetwork { arguments += ["--allow-network", range] }
            if let reason { arguments += ["--reason", reason] }
            let result = try exhibit.run(arguments)
            #expect(result.status == 2, "\(allowNetwork) \(String(describing: reason)): \(result.status) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(flag), "\(result.stderr)")
            #expect(site.requests().isEmpty)
            #expect(try AtomicFile.read(ws.caseDirectory(caseID) + "/ledger.jsonl") == ledgerBefore)
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: ws.caseDirectory(caseID) + "/warc")) ?? []).isEmpty)
        }
    }

    @Test("a range wider than /8 (IPv4) or /16 (IPv6) exits 2", arguments: [
        "0.0.0.0/0", "::/0", "10.0.0.0/7", "64:ff9b::/96", "2002::/16",
    ])
    func tooWide(range: String) async throws {
        // 127.0.0.1/32 alongside: the wide range alone is what is refused.
        try await expectUsageError(allowNetwork: ["127.0.0.1/32", range], reason: "x", mentioning: "--allow-network \(range)")
    }

    @Test("a --reason that is empty or only white space exits 2", arguments: ["   ", "", "\t"])
    func blankReason(reason: String) async throws {
        try await expectUsageError(allowNetwork: ["127.0.0.1/32"], reason: reason, mentioning: "--reason")
    }

    @Test("the widest ranges allowed, /8 and /16, still capture")
    func widestAccepted() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let result = try exhibit.run(["capture", caseID, site.baseURL + "/test/status/200", "--workspace", ws.root, "--actor", ws.investigatorID,
                                          "--allow-network", "127.0.0.0/8", "--allow-network", "fd12::/16", "--reason", "fixture on loopback"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(site.requests().count == 1)
            let override = try #require(try ws.entries(caseID).first { $0.action == "policy-override" })
            #expect(override.subject?["ranges"]?.arrayValue?.compactMap(\.stringValue) == ["127.0.0.0/8", "fd12::/16"])
        }
    }
}

/// A reason is one line: a CR/LF in it would forge warcinfo fields in the evidence
/// WARC (found while fixing issue 26 route 2; derived copies already drop them).
@Suite("an override reason is one line")
struct OverrideReasonLineTests {
    @Test("--reason with a line break is refused with exit 2 before anything is fetched or written", arguments: ["fixture\r\nWARC-Type: resource", "two\nlines", "tab\tseparated"])
    func lineBreakInReason(_ reason: String) throws {
        let ws = try TestWorkspace("exhibit-reason")
        let caseID = try ws.openCase()
        let before = try ws.entries(caseID).count
        let result = try ExhibitProcess().run(["capture", caseID, "http://127.0.0.1:9/", "--allow-network", "127.0.0.1/32",
                                               "--reason", reason, "--workspace", ws.root, "--actor", ws.investigatorID])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("one line"), "\(result.stderr)")
        #expect(try ws.entries(caseID).count == before)
    }
}
