import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit artifacts`, `selectors`, `search` and `reindex` through the real
/// binary, over captures of the Fixtures site served on loopback.
@Suite("exhibit artifacts, selectors, search, reindex")
struct IndexCommandTests {
    let exhibit = ExhibitProcess()

    /// Two cases: one captured the classified ad (the phone number written two
    /// ways), the other the community report (the same number a third way).
    struct TwoCases {
        let ws: TestWorkspace
        let first: String
        let second: String
        var base: [String] { ["--workspace", ws.root] }
    }

    func twoCases(_ site: FixtureSite) throws -> TwoCases {
        let ws = try TestWorkspace()
        let first = try ws.openCase()
        let second = try ws.openCase()
        let capture = ["--workspace", ws.root, "--actor", ws.investigatorID, "--allow-network", "127.0.0.1/32", "--reason", "fixture"]
        for (caseID, paths) in [(first, ["/classifieds.html", "/forum.html"]), (second, ["/report.html", "/profile.html"])] {
            let result = try exhibit.run(["capture", caseID] + paths.map { site.baseURL + $0 } + capture)
            #expect(result.status == 0, "\(result.stderr)")
        }
        return TwoCases(ws: ws, first: first, second: second)
    }

    @Test("the same phone number written three ways in two cases is one selector, reported in both")
    func selectorAcrossCases() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let cases = try twoCases(site)
            let reader = ["--actor", cases.ws.investigatorID, "--json"] + cases.base

            for (caseID, other, occurrences) in [(cases.first, cases.second, 2), (cases.second, cases.first, 1)] {
                let result = try exhibit.run(["selectors", caseID] + reader)
                #expect(result.status == 0, "\(result.stderr)")
                let json = try JSONValue(parsing: result.stdout)
                let phones = json["selectors"]?.arrayValue?.filter { $0["value"]?.stringValue == "+19725550147" } ?? []
                #expect(phones.count == 1, "\(result.stdout)")
                #expect(phones.first?["kind"]?.stringValue == "phone")
                #expect(phones.first?["occurrences"]?.arrayValue?.count == occurrences)
                #expect(phones.first?["other_cases"]?.arrayValue?.compactMap(\.stringValue) == [other])
            }
            // The text form names the other case too.
            let text = try exhibit.run(["selectors", cases.first, "--actor", cases.ws.investigatorID] + cases.base)
            let line = text.stdout.split(separator: "\n").first { $0.contains("+19725550147") } ?? ""
            #expect(line.hasPrefix("phone  +19725550147"), "\(text.stdout)")
            #expect(line.contains("also in: \(cases.second)"))
        }
    }

    @Test("artifacts lists URL, time, status, type and sha256; search finds page text across cases with snippets")
    func artifactsAndSearch() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let cases = try twoCases(site)
            let listed = try exhibit.run(["artifacts", cases.first, "--actor", cases.ws.investigatorID, "--json"] + cases.base)
            #expect(listed.status == 0, "\(listed.stderr)")
            let artifacts = try #require(try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue)
            #expect(Set(artifacts.compactMap { $0["url"]?.stringValue }) == [site.baseURL + "/classifieds.html", site.baseURL + "/forum.html"])
            let ad = try #require(artifacts.first { $0["url"]?.stringValue == site.baseURL + "/classifieds.html" })
            let served = try AtomicFile.read(try #require(FixtureSite.defaultSiteDirectory) + "/classifieds.html")
            #expect(ad["sha256"]?.stringValue == Digest.sha256Hex(served))
            #expect(ad["status"]?.intValue == 200)
            #expect(ad["content_type"]?.stringValue?.hasPrefix("text/html") == true)
            #expect(ad["time"]?.stringValue?.hasSuffix("Z") == true)
            // The id is what the ledger recorded it under.
            let id = try #require(ad["id"]?.stringValue)
            let entry = try #require(try cases.ws.entries(cases.first).first { $0.subject?["url"]?.stringValue == site.baseURL + "/classifieds.html" })
            #expect(id == "A-" + String(repeating: "0", count: 4 - String(entry.seq).count) + String(entry.seq))

            let everywhere = try exhibit.run(["search", "bicycle", "--actor", cases.ws.investigatorID, "--json"] + cases.base)
            #expect(everywhere.status == 0, "\(everywhere.stderr)")
            let hits = try #require(try JSONValue(parsing: everywhere.stdout)["results"]?.arrayValue)
            #expect(Set(hits.compactMap { $0["case"]?.stringValue }) == [cases.first, cases.second])
            #expect(hits.allSatisfy { $0["snippet"]?.stringValue?.lowercased().contains("[bicycle") == true })
            let scoped = try exhibit.run(["search", "stolen bicycles", "--case", cases.second, "--actor", cases.ws.investigatorID, "--json"] + cases.base)
            let scopedHits = try #require(try JSONValue(parsing: scoped.stdout)["results"]?.arrayValue)
            #expect(scopedHits.compactMap { $0["url"]?.stringValue } == [site.baseURL + "/report.html"])
            let none = try exhibit.run(["search", "zeppelin", "--actor", cases.ws.investigatorID] + cases.base)
            #expect(none.status == 0 && none.stdout.isEmpty)
        }
    }

    @Test("reading is recorded as a view entry; an actor without a reading role is refused (exit 4) and the refusal recorded")
    func readsAreRecorded() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let cases = try twoCases(site)
            for command in [["artifacts", cases.first], ["selectors", cases.first], ["search", "bicycle", "--case", cases.first]] {
                let result = try exhibit.run(command + ["--actor", cases.ws.investigatorID] + cases.base)
                #expect(result.status == 0)
                let last = try #require(try cases.ws.entries(cases.first).last)
                #expect(last.action == "view" && last.actor == cases.ws.investigatorID)
                #expect(last.subject?["command"]?.stringValue == command[0])
            }
            let custodian = try ActorRegistry(workspace: cases.ws.workspace)
                .add(name: "Cory Custodian", badge: "C-3", roles: [.custodian], actingActor: cases.ws.supervisorID).id
            let refused = try exhibit.run(["artifacts", cases.first, "--actor", custodian] + cases.base)
            #expect(refused.status == 4)
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            let last = try #require(try cases.ws.entries(cases.first).last)
            #expect(last.action == "refusal" && last.actor == custodian)
            #expect(try exhibit.run(["reindex", "--actor", cases.ws.investigatorID] + cases.base).status == 4)
            #expect(try exhibit.run(["verify", cases.first] + cases.base).status == 0)
        }
    }

    @Test("reindex on a workspace whose index.sqlite was deleted gives identical selectors, search and artifacts output")
    func reindexIsIdentical() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let cases = try twoCases(site)
            let reader = ["--actor", cases.ws.investigatorID] + cases.base
            func outputs() throws -> [String] {
                var all: [String] = []
                for caseID in [cases.first, cases.second] {
                    for command in [["selectors", caseID], ["artifacts", caseID], ["search", "Elm Street", "--case", caseID]] {
                        for format in [[], ["--json"]] {
                            let result = try exhibit.run(command + format + reader)
                            #expect(result.status == 0, "\(command): \(result.stderr)")
                            all.append(result.stdout)
                        }
                    }
                }
                let everywhere = try exhibit.run(["search", "bicycle", "--json"] + reader)
                all.append(everywhere.stdout)
                return all
            }
            let before = try outputs()
            #expect(before.allSatisfy { !$0.isEmpty })
            for suffix in ["", "-wal", "-shm"] { unlink(cases.ws.workspace.indexPath + suffix) }
            let rebuilt = try exhibit.run(["reindex", "--actor", cases.ws.supervisorID, "--json"] + cases.base)
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            #expect(try JSONValue(parsing: rebuilt.stdout)["artifacts"]?.intValue == 4)
            #expect(try outputs() == before)

            // A damaged index is rebuilt by the next reading command, with a notice.
            try Data("this is not a database".utf8).write(to: URL(fileURLWithPath: cases.ws.workspace.indexPath))
            let recovered = try exhibit.run(["selectors", cases.first, "--json"] + reader)
            #expect(recovered.status == 0, "\(recovered.stderr)")
            #expect(recovered.stderr.contains("rebuilt"))
            #expect(recovered.stdout == before[1])
            for caseID in [cases.first, cases.second] {
                #expect(try exhibit.run(["verify", caseID] + cases.base).status == 0)
            }
        }
    }
}
