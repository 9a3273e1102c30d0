import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// `exhibit bi uniformity` judges how each candidate was searched, not the last
/// word recorded for each step (issue 26 route 10, DESIGN §23, policy IV.B.9):
/// whole step histories, done steps that cite their artifacts or say they found
/// nothing, captures tied to no step, and cohort names that differ only in case
/// or spacing — through the real binary.
@Suite("bi uniformity judges the whole search")
struct UniformityTests {
    let exhibit = ExhibitProcess()

    /// A workspace with a bi-searcher and one BI case per (candidate, cohort field).
    struct Cohort {
        let ws: TestWorkspace
        let searcher: String
        let cases: [String]
        var base: [String] { ["--workspace", ws.root] }
        var asSearcher: [String] { ["--actor", searcher, "--workspace", ws.root] }
        var asSupervisor: [String] { ["--actor", ws.supervisorID, "--workspace", ws.root] }
    }

    func cohort(_ candidates: [(name: String, cohort: String)]) throws -> Cohort {
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let cases = try candidates.map { candidate in
            try ws.session(searcher).openCase(
                category: BackgroundInvestigation.category, title: "Candidate \(candidate.name)",
                fields: ["candidate_name": candidate.name, "cohort": candidate.cohort, "position": "police officer trainee",
                         "candidate_city": "Riverbend"]).id
        }
        return Cohort(ws: ws, searcher: searcher, cases: cases)
    }

    func checklist() throws -> [String] {
        try CaseTemplates.load().template(BackgroundInvestigation.category).checklist?.map(\.id) ?? []
    }

    /// `bi step` through the binary; expects it recorded.
    func step(_ cohort: Cohort, _ caseID: String, _ step: String, _ flags: [String]) throws {
        let recorded = try exhibit.run(["bi", "step", caseID, step] + flags + cohort.asSearcher)
        #expect(recorded.status == 0, "\(caseID) \(step) \(flags): \(recorded.stdout)\(recorded.stderr)")
    }

    func uniformity(_ cohort: Cohort, _ name: String) throws -> (text: ExhibitProcess.Result, json: ExhibitProcess.Result, report: JSONValue) {
        let text = try exhibit.run(["bi", "uniformity", name] + cohort.asSupervisor)
        let json = try exhibit.run(["bi", "uniformity", name, "--json"] + cohort.asSupervisor)
        return (text, json, (try? JSONValue(parsing: json.stdout)) ?? .null)
    }

    func candidate(_ report: JSONValue, _ caseID: String) -> JSONValue? {
        report["candidates"]?.arrayValue?.first { $0["case"]?.stringValue == caseID }
    }

    @Test("issue 18 item 9: a step both candidates left in the same state is no difference (uniform, exit 0); the incomplete checklist is said separately")
    func sameStateIsNoDifference() throws {
        let cohort = try cohort([("Jane Roe", "U9"), ("John Doe", "U9")])
        let steps = try checklist()
        // Every step but the last done with a no-results statement, alike; the last not recorded for either.
        for caseID in cohort.cases {
            for step in steps.dropLast() { try self.step(cohort, caseID, step, ["--done", "--no-results"]) }
        }
        let (text, json, report) = try uniformity(cohort, "U9")
        #expect(text.status == 0, "\(text.stdout)")
        #expect(text.stdout.contains("uniform") && !text.stdout.contains("NOT UNIFORM"), "\(text.stdout)")
        #expect(!text.stdout.contains("differs:"), "\(text.stdout)")
        #expect(text.stdout.contains("checklist incomplete for every candidate alike: \(steps.last!) (not recorded)"), "\(text.stdout)")
        #expect(json.status == 0)
        #expect(report["uniform"]?.boolValue == true)
        #expect(report["incomplete_for_all"]?[steps.last!]?.stringValue == "not recorded", "\(report)")
    }

    @Test("route 10: five untied captures for one candidate, skip-then-done for the other → NOT UNIFORM (exit 1), both reported")
    func differentSearchesAreNotUniform() async throws {
        let cohort = try cohort([("Jane Roe", "U1"), ("John Doe", "U1")])
        let (jane, john) = (cohort.cases[0], cohort.cases[1])
        let steps = try checklist()
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            // Jane: five targeted captures that no step cites; each step "done".
            let pages = ["profile.html", "forum.html", "article.html", "candidate-blog.html", "classifieds.html"]
            let captured = try exhibit.run(["capture", jane] + pages.map { site.baseURL + "/" + $0 }
                                           + ["--allow-network", "127.0.0.1/32", "--reason", "fixture"] + cohort.asSearcher)
            #expect(captured.status == 0, "\(captured.stderr)")
        }
        for step in steps {
            try self.step(cohort, jane, step, ["--done"])
            // John: nothing captured; every step skipped, then marked done.
            try self.step(cohort, john, step, ["--skipped", "--reason", "no time"])
            try self.step(cohort, john, step, ["--done"])
        }

        let (text, json, report) = try uniformity(cohort, "U1")
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        #expect(json.status == 1, "\(json.stdout)\(json.stderr)")
        #expect(text.stdout.contains("NOT UNIFORM"), "\(text.stdout)")
        #expect(report["uniform"]?.boolValue == false)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        // The untied captures are counted, and differ (5 against 0).
        #expect(lines.contains { $0.hasPrefix("differs: captures not tied to a step") && $0.contains("5 in \(jane)") && $0.contains("0 in \(john)") },
                "\(text.stdout)")
        let janeReport = try #require(candidate(report, jane))
        #expect(janeReport["extra_captures"]?.arrayValue?.count == 5, "\(json.stdout)")
        #expect(candidate(report, john)?["extra_captures"]?.arrayValue?.isEmpty == true)
        // The skip is not erased by the later done: John's history of each step shows both.
        let johnReport = try #require(candidate(report, john))
        #expect(Set(johnReport["skipped"]?.objectValue?.keys.map { $0 } ?? []) == Set(steps), "\(json.stdout)")
        #expect(johnReport["history"]?["news-search"]?.arrayValue?.compactMap(\.stringValue) == ["skipped", "done uncited"])
        #expect(lines.contains { $0.hasPrefix("differs: news-search") && $0.contains("skipped then done uncited in \(john)") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains(john) && $0.contains("news-search: skipped then done uncited") }, "\(text.stdout)")
        // A done that cites nothing and states no results is incomplete, for both.
        #expect(Set(janeReport["incomplete"]?.arrayValue?.compactMap(\.stringValue) ?? []) == Set(steps))
        #expect(janeReport["done"]?.arrayValue?.isEmpty == true)
        #expect(report["differences"]?.objectValue?.keys.count == steps.count + 1)
    }

    @Test("a done step cites its artifacts or a signed no-results statement; a captured page cited by a step is not an extra")
    func doneStepsCiteWhatTheyFound() async throws {
        let cohort = try cohort([("Jane Roe", "U2"), ("John Doe", "U2"), ("Kim Poe", "U3"), ("Lee Moe", "U3")])
        let steps = try checklist()
        let first = try #require(steps.first)
        // The CLI refuses the contradictions (exit 2), before anything is recorded.
        let before = try cohort.ws.entries(cohort.cases[0]).count
        for flags in [["--skipped", "--reason", "x", "--no-results"], ["--done", "--no-results", "--artifact", "A-0001"]] {
            let refused = try exhibit.run(["bi", "step", cohort.cases[0], first] + flags + cohort.asSearcher)
            #expect(refused.status == 2, "\(flags): \(refused.stdout)\(refused.stderr)")
        }
        #expect(try cohort.ws.entries(cohort.cases[0]).count == before)

        // U2: Jane's first step cites the page it found (with its images), the rest state no results.
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let captured = try exhibit.run(["capture", cohort.cases[0], site.baseURL + "/gallery.html", "--media",
                                            "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + cohort.asSearcher)
            #expect(captured.status == 0, "\(captured.stderr)")
        }
        let artifacts = try #require(try JSONValue(parsing: try exhibit.run(["artifacts", cohort.cases[0], "--json"] + cohort.asSearcher).stdout)["artifacts"]?.arrayValue)
        #expect(artifacts.count > 1, "the gallery and its images")
        let page = try #require(artifacts.first { $0["url"]?.stringValue?.hasSuffix("/gallery.html") == true }?["id"]?.stringValue)
        try step(cohort, cohort.cases[0], first, ["--done", "--artifact", page])
        for step in steps.dropFirst() { try self.step(cohort, cohort.cases[0], step, ["--done", "--no-results"]) }
        // John: every step says no results, except the first, marked done citing nothing.
        try step(cohort, cohort.cases[1], first, ["--done"])
        for step in steps.dropFirst() { try self.step(cohort, cohort.cases[1], step, ["--done", "--no-results"]) }
        let statement = try #require(try cohort.ws.entries(cohort.cases[1]).last)
        #expect(statement.action == "bi-step" && statement.subject?["no_results"]?.boolValue == true && !statement.signature.isEmpty)

        let (text, _, report) = try uniformity(cohort, "U2")
        #expect(text.status == 1, "\(text.stdout)\(text.stderr)")
        #expect(Set(report["differences"]?.objectValue?.keys.map { $0 } ?? []) == [first], "\(report)")
        #expect(report["differences"]?[first]?[cohort.cases[1]]?.stringValue == "done uncited")
        #expect(candidate(report, cohort.cases[1])?["incomplete"]?.arrayValue?.compactMap(\.stringValue) == [first])
        #expect(candidate(report, cohort.cases[0])?["done"]?.arrayValue?.count == steps.count)
        // The gallery is cited, and its images came from it: no capture is untied.
        #expect(candidate(report, cohort.cases[0])?["extra_captures"]?.arrayValue?.isEmpty == true, "\(report)")
        #expect(text.stdout.contains("done citing nothing: \(first)"), "\(text.stdout)")

        // U3: every step of both candidates states no results → uniform, exit 0.
        for caseID in cohort.cases[2...] {
            for step in steps { try self.step(cohort, caseID, step, ["--done", "--no-results"]) }
        }
        let (uniform, uniformJSON, uniformReport) = try uniformity(cohort, "U3")
        #expect(uniform.status == 0, "\(uniform.stdout)\(uniform.stderr)")
        #expect(uniformJSON.status == 0 && uniformReport["uniform"]?.boolValue == true, "\(uniformJSON.stdout)")
        #expect(uniform.stdout.hasPrefix("cohort U3: 2 candidates, uniform"), "\(uniform.stdout)")
    }

    @Test("cohort names are trimmed and case-folded: \"U1 \" and \"u1\" are U1; \"U-1\" is reported as a near-duplicate, left out")
    func cohortNamesAreNormalised() throws {
        let cohort = try cohort([("Jane Roe", "U1"), ("John Doe", "U1 "), ("Kim Poe", "u1"), ("Lee Moe", "U-1")])
        let steps = try checklist()
        for caseID in cohort.cases {
            for step in steps { try self.step(cohort, caseID, step, ["--done", "--no-results"]) }
        }
        let nearLedger = try cohort.ws.entries(cohort.cases[3]).count
        let (text, json, report) = try uniformity(cohort, "U1")
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(json.status == 0, "\(json.stdout)\(json.stderr)")
        #expect(Set(report["candidates"]?.arrayValue?.compactMap { $0["case"]?.stringValue } ?? []) == Set(cohort.cases[0..<3]), "\(json.stdout)")
        #expect(text.stdout.hasPrefix("cohort U1: 3 candidates, uniform"), "\(text.stdout)")
        let warnings = text.stdout.split(separator: "\n").filter { $0.hasPrefix("warning:") }
        #expect(warnings.count == 1 && warnings[0].contains("\"U-1\"") && warnings[0].contains(cohort.cases[3]), "\(text.stdout)")
        let near = report["near_duplicates"]?.arrayValue ?? []
        #expect(near.count == 1 && near.first?["cohort"]?.stringValue == "U-1", "\(json.stdout)")
        #expect(near.first?["cases"]?.arrayValue?.compactMap(\.stringValue) == [cohort.cases[3]])
        // The near-duplicate's case is not read: no view entry in its ledger.
        #expect(try cohort.ws.entries(cohort.cases[3]).count == nearLedger)
        // Asked for by any spelling, the cohort is the same three candidates.
        let lower = try exhibit.run(["bi", "uniformity", " u1", "--json"] + cohort.asSupervisor)
        #expect(try JSONValue(parsing: lower.stdout)["candidates"]?.arrayValue?.count == 3, "\(lower.stdout)\(lower.stderr)")
        // A cohort with no case, only a near name, says which.
        let missing = try exhibit.run(["bi", "uniformity", "U.1", "--json"] + cohort.asSupervisor)
        #expect(missing.status == 5, "\(missing.stdout)\(missing.stderr)")
        #expect(missing.stderr.contains("\"U-1\" (\(cohort.cases[3]))"), "\(missing.stderr)")
    }
}
