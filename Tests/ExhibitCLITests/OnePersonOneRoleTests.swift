import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// One person, one role (policy IV.B.6, DESIGN §23): the person who decides on a
/// candidate is never the one who searched, never holds a background
/// investigation, and never sees one listed — through the real binary.
@Suite("one person, one role")
struct OnePersonOneRoleTests {
    let exhibit = ExhibitProcess()

    /// A workspace (supervisor a-0001, investigator a-0002) with a bi-searcher
    /// (a-0003) who has opened a background investigation for `candidate`.
    struct Setting {
        let ws: TestWorkspace
        let searcher: String
        let backgroundCase: String
        var base: [String] { ["--workspace", ws.root] }
        var asSupervisor: [String] { ["--actor", ws.supervisorID, "--workspace", ws.root] }
    }

    func setting(candidate: String = "Jane Roe", cohort: String = "U1") throws -> Setting {
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let state = try ws.session(searcher).openCase(
            category: BackgroundInvestigation.category, title: "Candidate \(candidate)",
            fields: ["candidate_name": candidate, "cohort": cohort, "position": "police officer trainee", "candidate_city": "Riverbend"])
        return Setting(ws: ws, searcher: searcher, backgroundCase: state.id)
    }

    /// `actor add` through the binary; the new id on success.
    func addActor(_ setting: Setting, name: String, badge: String, roles: [String]) throws -> ExhibitProcess.Result {
        try exhibit.run(["actor", "add", "--name", name, "--badge", badge] + roles.flatMap { ["--role", $0] } + setting.asSupervisor)
    }

    func actors(_ setting: Setting) throws -> [JSONValue] {
        try JSONValue(parsing: try exhibit.run(["actor", "list", "--json"] + setting.base).stdout).arrayValue ?? []
    }

    // MARK: Route 8 — one person, two roles

    @Test("a second actor with an existing actor's badge is refused (exit 4), whatever its case or spacing")
    func badgeBelongsToOneActor() throws {
        let setting = try setting()
        let before = try actors(setting).count
        // The searcher again, as a decision-maker: same name and badge, then the badge alone, spaced and lower-cased.
        for (name, badge) in [("Bea Searcher", "B-3"), ("Someone Else", "  b-3 ")] {
            let refused = try addActor(setting, name: name, badge: badge, roles: ["decision-maker"])
            #expect(refused.status == 4, "\(badge): \(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("B-3") && refused.stderr.contains(setting.searcher), "\(refused.stderr)")
        }
        #expect(try actors(setting).count == before)
        // A badge of its own is accepted.
        let added = try addActor(setting, name: "Dee Decider", badge: "D-4", roles: ["decision-maker"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try actors(setting).count == before + 1)
    }

    @Test("an actor holding decision-maker is never authorised as bi-searcher (exit 4, one sentence)")
    func decisionMakerIsNeverSearcher() throws {
        let setting = try setting()
        let added = try addActor(setting, name: "Dee Decider", badge: "D-4", roles: ["investigator", "decision-maker"])
        #expect(added.status == 0, "\(added.stderr)")
        let decider = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try exhibit.run(["actor", "authorize", decider, "--authorization", "bi-searcher"] + setting.asSupervisor)
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("decision-maker"))
        let listed = try #require(try actors(setting).first { $0["id"]?.stringValue == decider })
        #expect(listed["authorizations"]?.arrayValue?.isEmpty == true)
        // Nor can a decision-maker open a background investigation, so never hold one from the start.
        let opened = try exhibit.run(["case", "open", "--category", BackgroundInvestigation.category, "--title", "Candidate John Doe",
                                      "--field", "candidate_name=John Doe", "--field", "cohort=U1", "--field", "position=trainee",
                                      "--field", "candidate_city=Riverbend", "--actor", decider] + setting.base)
        #expect(opened.status == 4, "\(opened.stdout)\(opened.stderr)")
        #expect(opened.stderr.split(separator: "\n").count == 1, "\(opened.stderr)")
        #expect(try JSONValue(parsing: try exhibit.run(["case", "list", "--json"] + setting.asSupervisor).stdout).arrayValue?.count == 1)

        // An actor file that holds both anyway (written before this rule, or by hand) still may not search.
        let path = "\(setting.ws.workspace.actorsDirectory)/\(decider).json"
        var both = try JSONDecoder().decode(Actor.self, from: Data(try AtomicFile.read(path)))
        both.authorizations = [Authorization.biSearcher.rawValue]
        try AtomicFile.write(try encodeJSON(both), to: path, mode: 0o600)
        let step = try exhibit.run(["bi", "step", setting.backgroundCase, "news-search", "--done", "--actor", decider] + setting.base)
        #expect(step.status == 4, "\(step.stderr)")
        #expect(try setting.ws.entries(setting.backgroundCase).last?.action == "refusal")
    }

    @Test("custody of a BI case is never handed to an actor holding decision-maker: exit 4, recorded as a refusal")
    func noCustodyForDecisionMaker() throws {
        let setting = try setting()
        let added = try addActor(setting, name: "Dee Decider", badge: "D-4", roles: ["custodian", "decision-maker"])
        #expect(added.status == 0, "\(added.stderr)")
        let decider = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let ledgerBefore = try setting.ws.entries(setting.backgroundCase).count

        let refused = try exhibit.run(["transfer", setting.backgroundCase, "--to", decider, "--reason", "handover"] + setting.asSupervisor)
        #expect(refused.status == 4, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        let entries = try setting.ws.entries(setting.backgroundCase)
        #expect(entries.count == ledgerBefore + 1)
        let last = try #require(entries.last)
        #expect(last.action == "refusal" && last.actor == setting.ws.supervisorID)
        #expect(last.subject?["command"]?.stringValue == "transfer")
        #expect(!entries.contains { $0.action == "transfer" })
        let shown = try exhibit.run(["case", "show", setting.backgroundCase, "--json", "--actor", setting.searcher] + setting.base)
        let custody = try #require(try JSONValue(parsing: shown.stdout)["custody"]?.arrayValue)
        #expect(custody.compactMap { $0["actor"]?.stringValue } == [setting.searcher])
        #expect(try exhibit.run(["verify", setting.backgroundCase] + setting.base).status == 0)

        // The rule is about background investigations: another case may go to the same custodian.
        let other = try setting.ws.openCase()
        let accepted = try exhibit.run(["transfer", other, "--to", decider, "--reason", "evidence room intake"] + setting.asSupervisor)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }

    // MARK: Route 7 — commands without a case

    @Test("case list, retention, reindex and bi uniformity leave BI cases out for an actor holding decision-maker; search still hides BI hits")
    func listingsLeaveBackgroundInvestigationsOut() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let setting = try setting(candidate: "Jane Roe", cohort: "U1")
            let bi = setting.backgroundCase
            let captured = try exhibit.run(["capture", bi, site.baseURL + "/profile.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture",
                                            "--actor", setting.searcher] + setting.base)
            #expect(captured.status == 0, "\(captured.stderr)")
            #expect(try exhibit.run(["bi", "step", bi, "news-search", "--skipped", "--reason", "paywalled archive",
                                     "--actor", setting.searcher] + setting.base).status == 0)
            let other = try setting.ws.openCase()
            let added = try addActor(setting, name: "Dee Decider", badge: "D-4", roles: ["decision-maker", "supervisor", "custodian"])
            #expect(added.status == 0, "\(added.stderr)")
            let decider = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let asDecider = ["--actor", decider] + setting.base
            let biLedger = try setting.ws.entries(bi).count

            func ids(_ json: JSONValue?, key: String) -> [String] {
                json?.arrayValue?.compactMap { $0[key]?.stringValue } ?? []
            }

            // The supervisor, who decides nothing, sees both cases.
            let supervisorList = try exhibit.run(["case", "list", "--json"] + setting.asSupervisor)
            #expect(Set(ids(try JSONValue(parsing: supervisorList.stdout), key: "id")) == [bi, other])
            let supervisorRetention = try exhibit.run(["retention", "--json"] + setting.asSupervisor)
            #expect(Set(ids(try JSONValue(parsing: supervisorRetention.stdout)["cases"], key: "case")) == [bi, other])

            // case list
            let list = try exhibit.run(["case", "list"] + asDecider)
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains(other) && !list.stdout.contains(bi) && !list.stdout.contains("Jane Roe"), "\(list.stdout)")
            let listJSON = try exhibit.run(["case", "list", "--json"] + asDecider)
            #expect(ids(try JSONValue(parsing: listJSON.stdout), key: "id") == [other], "\(listJSON.stdout)")

            // retention
            let retention = try exhibit.run(["retention"] + asDecider)
            #expect(retention.status == 0, "\(retention.stderr)")
            #expect(retention.stdout.contains(other) && !retention.stdout.contains(bi), "\(retention.stdout)")
            #expect(retention.stdout.contains("0 of 1 cases"), "\(retention.stdout)")
            let retentionJSON = try exhibit.run(["retention", "--json"] + asDecider)
            #expect(ids(try JSONValue(parsing: retentionJSON.stdout)["cases"], key: "case") == [other], "\(retentionJSON.stdout)")

            // reindex: the decision-maker's rebuild neither counts nor reads the BI case.
            let reindex = try exhibit.run(["reindex", "--json"] + asDecider)
            #expect(reindex.status == 0, "\(reindex.stderr)")
            let report = try JSONValue(parsing: reindex.stdout)
            #expect(report["cases"]?.intValue == 1 && report["artifacts"]?.intValue == 0, "\(reindex.stdout)")
            let reindexText = try exhibit.run(["reindex"] + asDecider)
            #expect(reindexText.stdout.hasPrefix("1 cases, 0 artifacts"), "\(reindexText.stdout)")

            // bi uniformity: refused outright, with nothing about the candidates.
            for json in [false, true] {
                let uniformity = try exhibit.run(["bi", "uniformity", "U1"] + (json ? ["--json"] : []) + asDecider)
                #expect(uniformity.status == 4, "\(uniformity.stdout)\(uniformity.stderr)")
                #expect(uniformity.stderr.split(separator: "\n").count == 1, "\(uniformity.stderr)")
                for secret in ["Jane Roe", "paywalled", bi] {
                    #expect(!(uniformity.stdout + uniformity.stderr).contains(secret), "\(secret)")
                }
            }

            // search keeps hiding BI hits from the decision-maker…
            let search = try exhibit.run(["search", "tacos", "--json"] + asDecider)
            #expect(search.status == 0, "\(search.stderr)")
            #expect(try JSONValue(parsing: search.stdout)["results"]?.arrayValue?.isEmpty == true, "\(search.stdout)")
            // …nothing the decision-maker ran is in the BI case's ledger…
            let biEntries = try setting.ws.entries(bi)
            #expect(biEntries.count == biLedger)
            #expect(!biEntries.contains { $0.actor == decider })
            // …and the searcher still finds the page after the decision-maker's rebuild.
            let found = try exhibit.run(["search", "tacos", "--json", "--actor", setting.searcher] + setting.base)
            #expect(ids(try JSONValue(parsing: found.stdout)["results"], key: "case") == [bi], "\(found.stdout)")
            let rebuilt = try exhibit.run(["reindex", "--json"] + setting.asSupervisor)
            #expect(try JSONValue(parsing: rebuilt.stdout)["cases"]?.intValue == 2, "\(rebuilt.stdout)")
        }
    }
}
