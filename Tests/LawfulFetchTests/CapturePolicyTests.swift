import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// The lawful-capture policy (IV.B.8, DESIGN §6): refusals happen before any byte
/// reaches the refused target, and the fixture servers' logs prove it.
@Suite("Lawful-capture policy")
struct CapturePolicyTests {
    @Test("non-web schemes and credentials in the URL are refused with a policy-refusal entry")
    func schemesAndCredentials() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let withCredentials = "http://user:secret@127.0.0.1:\(site.port)/test/status/200"
            var options = CaptureOptions(urls: ["file:///etc/passwd", "ftp://127.0.0.1:\(site.port)/x", withCredentials])
            options.allowNetworks = ["127.0.0.1/32"]
            options.allowReason = "test"
            let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
            let report = try await Blocking.run { try job.run() }
            #expect(report.exitCode == .policyRefusal)
            #expect(report.refused.count == 3)
            let refusals = try ws.entries(caseID).filter { $0.action == "policy-refusal" }
            #expect(refusals.count == 3)
            #expect(site.requests().isEmpty)
            // Opening a range is itself recorded.
            let override = try #require(try ws.entries(caseID).first { $0.action == "policy-override" })
            #expect(override.subject?["ranges"]?.arrayValue?.first?.stringValue == "127.0.0.1/32")
            #expect(override.subject?["reason"]?.stringValue == "test")
        }
    }

    @Test("a loopback site is refused without --allow-network and never receives a request")
    func loopbackRefused() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let job = CaptureJob(session: try ws.session(), caseID: caseID, options: CaptureOptions(urls: [site.baseURL + "/test/status/200"]))
            let report = try await Blocking.run { try job.run() }
            #expect(report.exitCode == .policyRefusal)
            #expect(report.refused.first?.reason.contains("loopback") == true)
            #expect(site.requests().isEmpty)
            let refusal = try #require(try ws.entries(caseID).last)
            #expect(refusal.action == "policy-refusal")
            #expect(try FileManager.default.contentsOfDirectory(atPath: ws.caseDirectory(caseID) + "/warc").isEmpty)
        }
    }

    @Test("a redirect from an allowed 127.0.0.2 to 127.0.0.1 is refused on the connected address")
    func redirectIntoRefusedRange() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: nil) { allowedSite in
            try await withFixtureSite(host: "127.0.0.1", siteDirectory: nil) { insideSite in
                let ws = try TestWorkspace()
                let caseID = try ws.openCase()
                let target = insideSite.baseURL + "/test/status/200"
                let start = allowedSite.baseURL + "/test/redirect-to?url=" + target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                var options = CaptureOptions(urls: [start])
                options.allowNetworks = ["127.0.0.2/32"]
                options.allowReason = "test site on 127.0.0.2"
                let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
                let report = try await Blocking.run { try job.run() }
                #expect(report.exitCode == .policyRefusal)
                #expect(insideSite.requests().isEmpty)
                #expect(allowedSite.requests().count == 1)
                let refusal = try #require(try ws.entries(caseID).last)
                #expect(refusal.action == "policy-refusal")
                #expect(refusal.subject?["reason"]?.stringValue?.contains("127.0.0.1") == true)
                // The allowed hop is evidence and stays archived.
                #expect(refusal.subject?["records"]?.arrayValue?.count == 3)
                let verification = try CaseVerification.verify(
                    directory: ws.caseDirectory(caseID), keyFor: CaseVerification.workspaceKeys(forCaseDirectory: ws.caseDirectory(caseID)))
                #expect(verification.intact, "\(verification.findings.map(\.line))")
            }
        }
    }

    @Test("address classification covers every non-public range, IPv4-mapped too", arguments: [
        ("127.0.0.1", false), ("10.1.2.3", false), ("172.16.0.1", false), ("172.31.255.255", false),
        ("192.168.1.1", false), ("169.254.1.1", false), ("100.64.0.1", false), ("100.127.255.255", false),
        ("224.0.0.1", false), ("0.0.0.0", false), ("240.0.0.1", false), ("255.255.255.255", false),
        ("::1", false), ("::", false), ("fe80::1", false), ("fd12:3456::1", false), ("ff02::1", false),
        ("::ffff:127.0.0.1", false), ("::ffff:10.0.0.1", false), ("2001:db8::1", false),
        ("172.32.0.1", true), ("100.128.0.1", true), ("93.184.216.34", true), ("2606:4700::1111", true),
        ("::ffff:93.184.216.34", true),
    ])
    func classification(address: String, isPublic: Bool) throws {
        let ip = try #require(IPAddress(address))
        let decision = NetworkPolicy().decide(ip)
        #expect((decision == .allow) == isPublic, "\(address): \(decision)")
    }

    @Test("--allow-network opens exactly the ranges named")
    func overrideIsExact() throws {
        let single = try #require(CIDR("127.0.0.2/32"))
        let ula = try #require(CIDR("fd00::/8"))
        let policy = NetworkPolicy(allowed: [single, ula])
        let allowedAddress = try #require(IPAddress("127.0.0.2"))
        let mappedAddress = try #require(IPAddress("::ffff:127.0.0.2"))
        let neighbour = try #require(IPAddress("127.0.0.1"))
        let inside = try #require(IPAddress("fd00::5"))
        #expect(policy.decide(allowedAddress) == .allowByOverride(single))
        #expect(policy.decide(mappedAddress) == .allowByOverride(single))
        if case .refuse = policy.decide(neighbour) {} else { Issue.record("127.0.0.1 must stay refused") }
        #expect(policy.decide(inside) == .allowByOverride(ula))
        #expect(CIDR("300.0.0.1/8") == nil)
        #expect(CIDR("10.0.0.0/33") == nil)
    }

    @Test("robots.txt rules: the Exhibit group, longest match, Allow wins ties")
    func robots() {
        let rules = RobotsRules(text: """
        User-agent: *
        Disallow: /private/
        Allow: /private/ok.html

        User-agent: Googlebot
        Disallow: /
        """)
        #expect(rules.allows(path: "/index.html"))
        #expect(!rules.allows(path: "/private/secret.html"))
        #expect(rules.allows(path: "/private/ok.html"))
        #expect(!RobotsRules(text: "User-agent: exhibit\nDisallow: /\n").allows(path: "/a"))
        #expect(RobotsRules(text: "User-agent: *\nDisallow:\n").allows(path: "/a"))
    }
}
