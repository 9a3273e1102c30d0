import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `finding set --status corroborated` counts sources, not host strings (issue 26
/// route 9, DESIGN §23, policy IV.B.10): one server reached as `127.0.0.1` and as
/// `[::ffff:127.0.0.1]` is one source, and one page served from two addresses is
/// one payload — through the real binary, against the loopback fixture site.
@Suite("findings are corroborated by independent sources only")
struct IndependentSourcesTests {
    let exhibit = ExhibitProcess()

    /// A workspace with a bi-searcher and one BI case.
    struct Investigation {
        let ws: TestWorkspace
        let caseID: String
        let actor: [String]
    }

    func investigation() throws -> Investigation {
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let caseID = try ws.session(searcher).openCase(
            category: BackgroundInvestigation.category, title: "Candidate Jane Roe",
            fields: ["candidate_name": "Jane Roe", "cohort": "2026-academy-1", "position": "police officer trainee",
                     "candidate_city": "Riverbend"]).id
        return Investigation(ws: ws, caseID: caseID, actor: ["--actor", searcher, "--workspace", ws.root])
    }

    /// Captures `urls` and returns the artifact id of each, in order.
    func capture(_ bi: Investigation, _ urls: [String], allow: String) throws -> [String] {
        let captured = try exhibit.run(["capture", bi.caseID] + urls + ["--allow-network", allow, "--reason", "fixture"] + bi.actor)
        #expect(captured.status == 0, "\(captured.stdout)\(captured.stderr)")
        let listed = try exhibit.run(["artifacts", bi.caseID, "--json"] + bi.actor)
        let artifacts = try #require(try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue, "\(listed.stderr)")
        return try urls.map { url in
            try #require(artifacts.first { $0["url"]?.stringValue == url }?["id"]?.stringValue, "no artifact for \(url): \(listed.stdout)")
        }
    }

    func addFinding(_ bi: Investigation, _ artifacts: [String]) throws -> String {
        let added = try exhibit.run(["finding", "add", bi.caseID, "--text", "Candidate posts as casey_ardmore", "--json"]
                                    + artifacts.flatMap { ["--artifact", $0] } + bi.actor)
        #expect(added.status == 0, "\(added.stderr)")
        return try #require(try JSONValue(parsing: added.stdout)["id"]?.stringValue)
    }

    func status(_ bi: Investigation, _ finding: String) throws -> String? {
        let listed = try exhibit.run(["finding", "list", bi.caseID, "--json"] + bi.actor)
        return try JSONValue(parsing: listed.stdout)["findings"]?.arrayValue?.first { $0["id"]?.stringValue == finding }?["status"]?.stringValue
    }

    @Test("route 9: one page via http://127.0.0.1:PORT/x and http://[::ffff:127.0.0.1]:PORT/x is one source — corroboration refused (exit 2), nothing recorded")
    func oneServerTwoSpellings() async throws {
        let bi = try investigation()
        let ids = try await withFixtureSites(hosts: ["127.0.0.1"], siteDirectory: FixtureSite.defaultSiteDirectory) { sites in
            let site = sites[0]
            let mapped = "http://[::ffff:127.0.0.1]:\(site.port)/profile.html"
            let ids = try capture(bi, [site.baseURL + "/profile.html", mapped], allow: "127.0.0.1/32")
            // Both reached the one server, which listens on IPv4 127.0.0.1 only.
            #expect(site.requests().filter { $0.path.hasSuffix("/profile.html") }.count == 2)
            return ids
        }
        #expect(Set(ids).count == 2)
        let finding = try addFinding(bi, ids)
        let before = try bi.ws.entries(bi.caseID).count
        let refused = try exhibit.run(["finding", "set", bi.caseID, finding, "--status", "corroborated"] + bi.actor)
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        let message = refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(message.contains("\(finding) cannot be corroborated by \(ids[0]) and \(ids[1]): they are one source, 127.0.0.1 (served by hosts 127.0.0.1 and ::ffff:127.0.0.1)"), "\(message)")
        #expect(!message.contains("\n"), "one sentence: \(message)")
        #expect(try bi.ws.entries(bi.caseID).count == before, "a refused corroboration records no finding entry")
        #expect(try status(bi, finding) == "unverified")
    }

    @Test("route 9: the same page from 127.0.0.1 and 127.0.0.2 — two sources, one payload — is refused for the digest; different pages are corroborated and their sources recorded")
    func twoAddressesOnePayload() async throws {
        let bi = try investigation()
        let ids = try await withFixtureSites(hosts: ["127.0.0.1", "127.0.0.2"], siteDirectory: FixtureSite.defaultSiteDirectory) { sites in
            try capture(bi, [sites[0].baseURL + "/profile.html", sites[1].baseURL + "/profile.html", sites[1].baseURL + "/article.html"],
                        allow: "127.0.0.0/8")
        }
        let (first, copy, article) = (ids[0], ids[1], ids[2])
        let artifacts = try #require(try JSONValue(parsing: try exhibit.run(["artifacts", bi.caseID, "--json"] + bi.actor).stdout)["artifacts"]?.arrayValue)
        let digest = { (id: String) in artifacts.first { $0["id"]?.stringValue == id }?["sha256"]?.stringValue }
        let sha = try #require(digest(first))
        #expect(digest(copy) == sha, "the fixture serves the same bytes on both addresses")

        let finding = try addFinding(bi, [first])
        let refused = try exhibit.run(["finding", "set", bi.caseID, finding, "--status", "corroborated", "--artifact", first, "--artifact", copy] + bi.actor)
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("\(first) and \(copy): served by 127.0.0.1 and 127.0.0.2 they carry the same payload (sha256 \(sha.prefix(16))…)"), "\(refused.stderr)")
        #expect(try status(bi, finding) == "unverified")

        // Two addresses, two payloads: corroborated, with each artifact's source and the list recorded.
        let accepted = try exhibit.run(["finding", "set", bi.caseID, finding, "--status", "corroborated", "--artifact", first, "--artifact", article] + bi.actor)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try status(bi, finding) == "corroborated")
        let entry = try #require(try bi.ws.entries(bi.caseID).last { $0.action == "finding" })
        #expect(entry.subject?["sources"] == .object([first: .string("127.0.0.1"), article: .string("127.0.0.2")]), "\(String(describing: entry.subject))")
        let list = Digest.sha256Hex(try AtomicFile.read(PublicSuffixList.systemPath))
        #expect(entry.subject?["public_suffix_list_sha256"]?.stringValue == list)
        #expect(try exhibit.run(["verify", bi.caseID, "--workspace", bi.ws.root]).status == 0)
    }
}
