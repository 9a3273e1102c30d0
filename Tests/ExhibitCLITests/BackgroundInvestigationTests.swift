import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Background investigations (IV.B.5–10) through the real binary: who may
/// search, the uniform checklist, and validated findings.
@Suite("exhibit bi and finding")
struct BackgroundInvestigationTests {
    let exhibit = ExhibitProcess()

    /// A workspace with a bi-searcher (a-0003), a decision-maker who is also an
    /// investigator (a-0004; never authorised as bi-searcher: `actor authorize`
    /// refuses it, see OnePersonOneRoleTests), and BI cases for a cohort's candidates.
    struct Cohort {
        let ws: TestWorkspace
        let searcher: String
        let decisionMaker: String
        let cases: [String]
        var base: [String] { ["--workspace", ws.root] }
    }

    func cohort(candidates: [String]) throws -> Cohort {
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let decisionMaker = try registry.add(name: "Dee Decider", badge: "D-4", roles: [.investigator, .decisionMaker], actingActor: ws.supervisorID).id
        var cases: [String] = []
        for name in candidates {
            let state = try ws.session(searcher).openCase(
                category: "background-investigation", title: "Candidate \(name)",
                fields: ["candidate_name": name, "cohort": "2026-academy-1", "position": "police officer trainee", "candidate_city": "Riverbend"])
            cases.append(state.id)
        }
        return Cohort(ws: ws, searcher: searcher, decisionMaker: decisionMaker, cases: cases)
    }

    func checklist() throws -> [String] {
        try CaseTemplates.load().template("background-investigation").checklist?.map(\.id) ?? []
    }

    @Test("a skipped step for one candidate of a cohort makes bi uniformity exit 1 naming the step; completing it later is still a different history (DESIGN §23)")
    func uniformity() throws {
        let cohort = try cohort(candidates: ["Jane Roe", "John Doe"])
        let steps = try checklist()
        #expect(steps.count >= 5)
        let bi = BackgroundInvestigation(session: try cohort.ws.session(cohort.searcher))
        for step in steps {
            _ = try bi.recordStep(cohort.cases[0], step: step, status: .done, reason: nil, artifacts: [], noResults: true)
            if step == "news-search" {
                let skipped = try exhibit.run(["bi", "step", cohort.cases[1], step, "--skipped", "--reason", "paywalled archive",
                                               "--actor", cohort.searcher] + cohort.base)
                #expect(skipped.status == 0, "\(skipped.stderr)")
            } else {
                _ = try bi.recordStep(cohort.cases[1], step: step, status: .done, reason: nil, artifacts: [], noResults: true)
            }
        }
        // The checklist shows each query with the candidate's details filled in, and what was recorded.
        let shown = try exhibit.run(["bi", "checklist", cohort.cases[1], "--json", "--actor", cohort.searcher] + cohort.base)
        let items = try #require(try JSONValue(parsing: shown.stdout)["steps"]?.arrayValue)
        #expect(items.count == steps.count)
        let first = try #require(items.first { $0["id"]?.stringValue == "web-search-name-city" })
        #expect(first["query"]?.stringValue == "\"John Doe\" \"Riverbend\"")
        #expect(items.first { $0["id"]?.stringValue == "news-search" }?["status"]?.stringValue == "skipped")

        let report = try exhibit.run(["bi", "uniformity", "2026-academy-1", "--actor", cohort.ws.supervisorID] + cohort.base)
        #expect(report.status == 1, "\(report.stdout)\(report.stderr)")
        #expect(report.stdout.contains("NOT UNIFORM"))
        #expect(report.stdout.split(separator: "\n").contains { $0.hasPrefix("differs: news-search") && $0.contains("skipped in \(cohort.cases[1])") })
        #expect(report.stdout.contains("news-search: paywalled archive"))

        // A skipped step needs a reason; the searcher then completes it.
        let noReason = try exhibit.run(["bi", "step", cohort.cases[1], "news-search", "--skipped", "--actor", cohort.searcher] + cohort.base)
        #expect(noReason.status == 2)
        #expect(try exhibit.run(["bi", "step", cohort.cases[1], "news-search", "--done", "--no-results", "--actor", cohort.searcher] + cohort.base).status == 0)
        // The skip stays in the step's history: the candidates were still searched differently.
        let later = try exhibit.run(["bi", "uniformity", "2026-academy-1", "--actor", cohort.ws.supervisorID] + cohort.base)
        #expect(later.status == 1, "\(later.stdout)")
        #expect(later.stdout.split(separator: "\n").contains { $0.hasPrefix("differs: news-search") && $0.contains("skipped then done") }, "\(later.stdout)")
        // Only a supervisor reviews uniformity (refused, exit 4).
        #expect(try exhibit.run(["bi", "uniformity", "2026-academy-1", "--actor", cohort.searcher] + cohort.base).status == 4)
    }

    @Test("a decision-maker, or an investigator without bi-searcher, cannot capture in a BI case: exit 4, refusal recorded")
    func whoMaySearch() async throws {
        try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            let cohort = try cohort(candidates: ["Jane Roe"])
            let caseID = cohort.cases[0]
            let capture = ["capture", caseID, site.baseURL + "/profile.html", "--allow-network", "127.0.0.1/32", "--reason", "fixture"] + cohort.base
            for actor in [cohort.decisionMaker, cohort.ws.investigatorID] {
                let refused = try exhibit.run(capture + ["--actor", actor])
                #expect(refused.status == 4, "\(actor): \(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1)
                let last = try #require(try cohort.ws.entries(caseID).last)
                #expect(last.action == "refusal" && last.actor == actor)
                #expect(last.subject?["command"]?.stringValue == "capture")
            }
            #expect(!site.requests().contains { $0.path.hasSuffix("/profile.html") })
            // Nor may a decision-maker read the case, whatever other roles they hold (IV.B.6).
            let read = try exhibit.run(["artifacts", caseID, "--actor", cohort.decisionMaker] + cohort.base)
            #expect(read.status == 4)
            #expect(try cohort.ws.entries(caseID).last?.action == "refusal")
            let allowed = try exhibit.run(capture + ["--actor", cohort.searcher])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(try exhibit.run(["verify", caseID] + cohort.base).status == 0)
        }
    }

    @Test("a finding is corroborated only by two artifacts from different hosts")
    func findings() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let cohort = try cohort(candidates: ["Jane Roe"])
                let caseID = cohort.cases[0]
                let actor = ["--actor", cohort.searcher] + cohort.base
                let captured = try exhibit.run(["capture", caseID, first.baseURL + "/profile.html", first.baseURL + "/forum.html", second.baseURL + "/article.html",
                                                "--allow-network", "127.0.0.0/8", "--reason", "fixture"] + actor)
                #expect(captured.status == 0, "\(captured.stderr)")
                let artifacts = try #require(try JSONValue(parsing: try exhibit.run(["artifacts", caseID, "--json"] + actor).stdout)["artifacts"]?.arrayValue)
                func id(_ url: String) throws -> String { try #require(artifacts.first { $0["url"]?.stringValue == url }?["id"]?.stringValue) }
                let profile = try id(first.baseURL + "/profile.html")
                let forum = try id(first.baseURL + "/forum.html")
                let article = try id(second.baseURL + "/article.html")

                let added = try exhibit.run(["finding", "add", caseID, "--text", "Candidate posts as casey_ardmore", "--artifact", profile, "--json"] + actor)
                #expect(added.status == 0, "\(added.stderr)")
                let finding = try #require(try JSONValue(parsing: added.stdout)["id"]?.stringValue)
                let one = try exhibit.run(["finding", "set", caseID, finding, "--status", "corroborated"] + actor)
                #expect(one.status == 2, "\(one.stderr)")
                let sameHost = try exhibit.run(["finding", "set", caseID, finding, "--status", "corroborated", "--artifact", profile, "--artifact", forum] + actor)
                #expect(sameHost.status == 2)
                #expect(sameHost.stderr.contains("different hosts"))
                let sha = try #require(artifacts.first { $0["id"]?.stringValue == article }?["sha256"]?.stringValue)
                let ok = try exhibit.run(["finding", "set", caseID, finding, "--status", "corroborated", "--artifact", profile, "--artifact", sha] + actor)
                #expect(ok.status == 0, "\(ok.stderr)")
                let listed = try exhibit.run(["finding", "list", caseID, "--json"] + actor)
                let findings = try #require(try JSONValue(parsing: listed.stdout)["findings"]?.arrayValue)
                #expect(findings.first?["status"]?.stringValue == "corroborated")
                #expect(findings.first?["artifacts"]?.arrayValue?.compactMap(\.stringValue) == [profile, article])
                #expect(try exhibit.run(["finding", "set", caseID, finding, "--status", "disputed", "--reason", "denied by candidate"] + actor).status == 0)
                #expect(try exhibit.run(["verify", caseID] + cohort.base).status == 0)
            }
        }
    }

    @Test("protected-class flags; the decision-maker bundle holds no withheld artifact's bytes, URL or sha256, verifies, and states the count")
    func decisionMakerBundle() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let cohort = try cohort(candidates: ["Jordan Vale"])
                let caseID = cohort.cases[0]
                let actor = ["--actor", cohort.searcher] + cohort.base
                let blogURL = first.baseURL + "/candidate-blog.html"
                let captured = try exhibit.run(["capture", caseID, first.baseURL + "/profile.html", second.baseURL + "/article.html", blogURL,
                                                first.baseURL + "/forum.html", "--allow-network", "127.0.0.0/8", "--reason", "fixture"] + actor)
                #expect(captured.status == 0, "\(captured.stderr)")
                let artifacts = try #require(try JSONValue(parsing: try exhibit.run(["artifacts", caseID, "--json"] + actor).stdout)["artifacts"]?.arrayValue)
                func artifact(_ url: String) throws -> JSONValue { try #require(artifacts.first { $0["url"]?.stringValue == url }) }
                let blog = try artifact(blogURL)
                let forum = try artifact(first.baseURL + "/forum.html")
                let blogID = try #require(blog["id"]?.stringValue)

                // Screening raises flags on the blog; confirming one tags it protected-class.
                let flagged = try exhibit.run(["bi", "flags", caseID, "--json"] + actor)
                #expect(flagged.status == 0, "\(flagged.stderr)")
                let flags = try #require(try JSONValue(parsing: flagged.stdout)["flags"]?.arrayValue)
                let onBlog = flags.filter { $0["artifact"]?.stringValue == blogID }
                let classes: Set<String> = Set(onBlog.compactMap { flag -> String? in flag["class"]?.stringValue })
                #expect(classes.isSuperset(of: ["religion", "pregnancy"]), "\(flagged.stdout)")
                let pregnancy = try #require(onBlog.first { $0["class"]?.stringValue == "pregnancy" }?["id"]?.stringValue)
                let religion = try #require(onBlog.first { $0["class"]?.stringValue == "religion" }?["id"]?.stringValue)
                #expect(try exhibit.run(["bi", "confirm", caseID, pregnancy, "--reason", "announces a pregnancy"] + actor).status == 0)
                #expect(try exhibit.run(["bi", "dismiss", caseID, religion, "--reason", "volunteering, not relevant"] + actor).status == 0)
                #expect(try exhibit.run(["bi", "confirm", caseID, religion, "--reason", "again"] + actor).status == 2)
                let again = try JSONValue(parsing: try exhibit.run(["bi", "flags", caseID, "--json"] + actor).stdout)["flags"]?.arrayValue ?? []
                #expect(again.count == flags.count, "screening again raises no duplicate flags")
                #expect(again.first { $0["id"]?.stringValue == pregnancy }?["status"]?.stringValue == "confirmed")
                // A decision-maker export waits until every flag is decided.
                let undecided = again.filter { $0["status"]?.stringValue == "open" }.compactMap { $0["id"]?.stringValue }
                if !undecided.isEmpty {
                    let early = try exhibit.run(["export", caseID, "--audience", "decision-maker", "--out", cohort.ws.directory.child("early")] + actor)
                    #expect(early.status == 4, "\(early.stderr)")
                    #expect(early.stderr.contains("not decided"))
                }
                for flag in undecided {
                    #expect(try exhibit.run(["bi", "dismiss", caseID, flag, "--reason", "not about the candidate"] + actor).status == 0)
                }
                // A dismissal counts once a second actor countersigns it (four eyes, DESIGN §23).
                for flag in undecided + [religion] {
                    #expect(try exhibit.run(["bi", "countersign", caseID, flag, "--actor", cohort.ws.supervisorID] + cohort.base).status == 0)
                }

                // One corroborated finding (two hosts), one that stays unverified.
                let ids = [try artifact(first.baseURL + "/profile.html"), try artifact(second.baseURL + "/article.html")].compactMap { $0["id"]?.stringValue }
                let added = try JSONValue(parsing: try exhibit.run(["finding", "add", caseID, "--text", "Publicly posts about community work",
                                                                    "--artifact", ids[0], "--json"] + actor).stdout)
                let finding = try #require(added["id"]?.stringValue)
                #expect(try exhibit.run(["finding", "set", caseID, finding, "--status", "corroborated", "--artifact", ids[0], "--artifact", ids[1]] + actor).status == 0)
                #expect(try exhibit.run(["finding", "add", caseID, "--text", "Family news on a blog", "--artifact", blogID] + actor).status == 0)

                let bag = cohort.ws.directory.child("dm-bag")
                let zip = cohort.ws.directory.child("dm.zip")
                let exported = try exhibit.run(["export", caseID, "--audience", "decision-maker", "--out", bag, "--json"] + actor)
                #expect(exported.status == 0, "\(exported.stderr)")
                #expect(try JSONValue(parsing: exported.stdout)["withheld_items"]?.intValue == 3)
                #expect(try exhibit.run(["export", caseID, "--audience", "decision-maker", "--out", zip] + actor).status == 0)

                // Nothing withheld is anywhere: not the URL, not the sha256, not the page's words; in every file, zipped and unzipped.
                let secrets = [blogURL, try #require(blog["sha256"]?.stringValue), "food drive at our church", "pregnant with our second",
                               try #require(forum["url"]?.stringValue), try #require(forum["sha256"]?.stringValue), "jordan.vale@example.net"]
                let unzipped = cohort.ws.directory.child("dm-unzipped")
                #expect(try Command.run("/usr/bin/unzip", ["-q", zip, "-d", unzipped]).status == 0)
                var scanned = 0
                for root in [bag, unzipped] {
                    for file in (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []) {
                        let path = root + "/" + file
                        var isDirectory: ObjCBool = false
                        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                        var contents = String(decoding: try AtomicFile.read(path), as: UTF8.self)
                        if file.hasSuffix(".gz") { contents += try Command.run("/bin/zcat", [path]).output }
                        for secret in secrets { #expect(!contents.contains(secret), "\(file) holds \(secret)") }
                        scanned += 1
                    }
                }
                let zipBytes = String(decoding: try AtomicFile.read(zip), as: UTF8.self)
                for secret in secrets { #expect(!zipBytes.contains(secret)) }
                #expect(scanned > 20)

                // The decision-maker can verify it, with Exhibit and with bagit.py; the count is stated, not what.
                for target in [bag, zip] {
                    let verify = try exhibit.run(["verify", target])
                    #expect(verify.status == 0, "\(verify.stdout)")
                }
                #expect(try Validators.run("python3", ["-m", "bagit", "--validate", bag]).status == 0)
                #expect(try Validators.run("python3", ["-m", "bagit", "--validate", unzipped + "/" + caseID]).status == 0)
                let info = String(decoding: try AtomicFile.read(bag + "/bag-info.txt"), as: UTF8.self)
                #expect(info.contains("Withheld-Items: 3\n"))
                let report = String(decoding: try AtomicFile.read(bag + "/data/report.html"), as: UTF8.self)
                #expect(report.contains("Withheld items") && report.contains(ids[0]) && report.contains(ids[1]))
                let findings = String(decoding: try AtomicFile.read(bag + "/data/findings.json"), as: UTF8.self)
                #expect(findings.contains(finding) && !findings.contains("Family news"))
                #expect(try Validators.run("case_validate", ["--built-version", "case-1.4.0", bag + "/data/provenance.jsonld"]).status == 0)
            }
        }
    }
}
