import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Imported artifacts are artifacts (issue 20): every command that takes an
/// artifact id or sha256 — tag, finding, render, diff, similar — accepts the ids
/// `exhibit import` gives (`A-0012`, `A-0012.3`), through the real binary; and in
/// a background investigation an imported item is still never disclosed to a
/// decision-maker (default-deny, DESIGN §23).
@Suite("imported artifact ids")
struct ImportedArtifactIDTests {
    let exhibit = ExhibitProcess()

    func wgetWARC(_ site: FixtureSite, _ page: String, into directory: TemporaryDirectory) throws -> String {
        let name = "colleague-" + page.replacingOccurrences(of: ".", with: "-")
        let result = try Command.run("/usr/bin/wget", ["-q", "--warc-file=" + directory.child(name), "-O", "/dev/null", site.baseURL + "/" + page])
        #expect(result.status == 0, "wget: \(result.output)")
        return directory.child(name + ".warc.gz")
    }

    /// The artifacts `exhibit artifacts --json` lists, by the last part of their URL.
    func artifacts(_ caseID: String, _ actor: [String]) throws -> [String: JSONValue] {
        let listed = try exhibit.run(["artifacts", caseID, "--json"] + actor)
        #expect(listed.status == 0, "\(listed.stderr)")
        var byName: [String: JSONValue] = [:]
        for artifact in try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue ?? [] {
            byName[(artifact["url"]?.stringValue ?? "").components(separatedBy: "/").last ?? ""] = artifact
        }
        return byName
    }

    @Test("tag, finding, diff, render and similar take an imported item's id or sha256; an unknown imported id is refused with one sentence")
    func commandsTakeImportedIDs() async throws {
        let inputs = TemporaryDirectory("exhibit-import-ids")
        let ws = try TestWorkspace()
        let caseID = try ws.openCase()
        let actor = ["--workspace", ws.root, "--actor", ws.investigatorID]
        let (first, second) = try await withFixtureSite(siteDirectory: FixtureSite.defaultSiteDirectory) { site in
            (try wgetWARC(site, "classifieds.html", into: inputs), try wgetWARC(site, "forum.html", into: inputs))
        }
        let photo = inputs.child("photo.png")
        try AtomicFile.write(CheckerboardPNG.bytes, to: photo)
        let imported = try exhibit.run(["import", caseID, first, second, photo, "--source", "a colleague's wget"] + actor)
        #expect(imported.status == 0, "\(imported.stderr)")
        let listed = try artifacts(caseID, actor)
        let ad = try #require(listed["classifieds.html"])
        let forum = try #require(listed["forum.html"])
        let adID = try #require(ad["id"]?.stringValue)
        let forumID = try #require(forum["id"]?.stringValue)
        let photoID = try #require(listed["photo.png"]?["id"]?.stringValue)
        #expect(adID.contains(".") && ad["imported"]?.boolValue == true, "\(ad)")

        // tag: by id, and by the item's sha256.
        let tagged = try exhibit.run(["tag", caseID, adID, "stolen-goods"] + actor)
        #expect(tagged.status == 0, "\(tagged.stderr)")
        let bySHA = try exhibit.run(["tag", caseID, try #require(ad["sha256"]?.stringValue), "second-look"] + actor)
        #expect(bySHA.status == 0, "\(bySHA.stderr)")
        let tags = try ws.entries(caseID).filter { $0.action == "tag" }.compactMap { $0.subject?["artifact"]?.stringValue }
        #expect(tags == [adID, adID], "\(tags)")

        // finding: cites imported items.
        let finding = try exhibit.run(["finding", "add", caseID, "--text", "The ad and the forum post name the same phone",
                                       "--artifact", adID, "--artifact", forumID, "--json"] + actor)
        #expect(finding.status == 0, "\(finding.stderr)")
        let cited = try ws.entries(caseID).last { $0.action == "finding" }?.subject?["artifacts"]?.arrayValue?.compactMap(\.stringValue)
        #expect(cited == [adID, forumID])

        // diff: the visible text of two imported pages.
        let diff = try exhibit.run(["diff", adID, forumID, "--case", caseID, "--json"] + actor)
        #expect(diff.status == 0, "\(diff.stderr)")
        let result = try JSONValue(parsing: diff.stdout)
        #expect(result["result"]?.stringValue == "changed")
        #expect(result["from"]?["artifact"]?.stringValue == adID && result["to"]?["artifact"]?.stringValue == forumID)
        #expect(result["lines_removed"]?.arrayValue?.contains { $0.stringValue?.contains("tyres") == true } == true, "\(result)")
        let notPage = try exhibit.run(["diff", adID, photoID, "--case", caseID] + actor)
        #expect(notPage.status != 0 && notPage.stderr.contains("not an HTML page"), "\(notPage.stderr)")

        // render: the imported page replayed from the imported WARC.
        let render = try await Blocking.run { try exhibit.run(["render", caseID, adID, "--json"] + actor) }
        #expect(render.status == 0, "\(render.stdout)\(render.stderr)")
        let rendered = try #require(try JSONValue(parsing: render.stdout)["rendered"]?.arrayValue?.first)
        #expect(rendered["artifact"]?.stringValue == adID, "\(rendered)")
        #expect(rendered["url"]?.stringValue?.hasSuffix("/classifieds.html") == true)
        let png = try #require(rendered["png_sha256"]?.stringValue)
        let renders = try ws.entries(caseID).filter { $0.action == "render" }
        let recorded = renders.contains(where: { entry in String(describing: entry.subject).contains(png) })
        #expect(recorded, "\(renders.count) render entries")
        let photoRender = try exhibit.run(["render", caseID, photoID] + actor)
        #expect(photoRender.status != 0 && photoRender.stderr.split(separator: "\n").count == 1, "\(photoRender.stderr)")

        // similar: the imported photo finds itself at distance 0.
        let similar = try await Blocking.run { try exhibit.run(["similar", photoID, "--case", caseID, "--json"] + actor) }
        #expect(similar.status == 0, "\(similar.stderr)")
        #expect(try JSONValue(parsing: similar.stdout)["artifact"]?.stringValue == photoID, "\(similar.stdout)")

        let before = try ws.entries(caseID).count
        let unknown = try exhibit.run(["tag", caseID, adID.components(separatedBy: ".")[0] + ".99", "x"] + actor)
        #expect(unknown.status != 0 && unknown.stderr.contains("No artifact") && unknown.stderr.split(separator: "\n").count == 1, "\(unknown.stderr)")
        #expect(try ws.entries(caseID).count == before)
        let verify = try exhibit.run(["verify", caseID, "--workspace", ws.root, "--actor", ws.supervisorID])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test("a BI case: a finding may cite an imported page, but a decision-maker bundle discloses neither the item nor the finding resting on it")
    func importedItemsStayWithheldFromDecisionMakers() async throws {
        let inputs = TemporaryDirectory("exhibit-import-ids")
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let caseID = try ws.session(searcher).openCase(
            category: BackgroundInvestigation.category, title: "Candidate Jane Roe",
            fields: ["candidate_name": "Jane Roe", "cohort": "2026-academy-1", "position": "police officer trainee", "candidate_city": "Riverbend"]).id
        let actor = ["--workspace", ws.root, "--actor", searcher]
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let warc = try wgetWARC(first, "article.html", into: inputs)
                let imported = try exhibit.run(["import", caseID, warc, "--source", "the candidate's former employer"] + actor)
                #expect(imported.status == 0, "\(imported.stderr)")
                let captured = try exhibit.run(["capture", caseID, second.baseURL + "/forum.html", first.baseURL + "/classifieds.html",
                                                "--allow-network", "127.0.0.0/8", "--reason", "fixture"] + actor)
                #expect(captured.status == 0, "\(captured.stderr)")
            }
        }
        let listed = try exhibit.run(["artifacts", caseID, "--json"] + actor)
        let all = try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue ?? []
        let importedID = try #require(all.first { $0["imported"]?.boolValue == true && $0["url"]?.stringValue?.hasSuffix("/article.html") == true }?["id"]?.stringValue)
        func captured(_ page: String) throws -> String {
            try #require(all.first { $0["imported"]?.boolValue != true && $0["url"]?.stringValue?.hasSuffix(page) == true }?["id"]?.stringValue)
        }
        // The forum was served by 127.0.0.2, the imported article and the ad by 127.0.0.1.
        let capturedIDs = [try captured("/forum.html"), try captured("/classifieds.html")]

        // Two findings: one rests on the imported page, one on the two captures.
        for cites in [[importedID, capturedIDs[0]], capturedIDs] {
            let added = try exhibit.run(["finding", "add", caseID, "--text", "Publicly posts about community work",
                                         "--artifact", cites[0], "--json"] + actor)
            #expect(added.status == 0, "\(added.stderr)")
            let id = try #require(try JSONValue(parsing: added.stdout)["id"]?.stringValue)
            let set = try exhibit.run(["finding", "set", caseID, id, "--status", "corroborated",
                                       "--artifact", cites[0], "--artifact", cites[1]] + actor)
            #expect(set.status == 0, "\(set.stderr)")
        }
        let flags = try exhibit.run(["bi", "flags", caseID, "--json"] + actor)
        #expect(flags.status == 0, "\(flags.stderr)")
        let out = ws.directory.child("dm-bag")
        let export = try exhibit.run(["export", caseID, "--audience", "decision-maker", "--out", out, "--json"] + actor)
        #expect(export.status == 0, "\(export.stderr)")
        let ledger = String(decoding: try AtomicFile.read(out + "/data/ledger.jsonl"), as: UTF8.self)
        let disclosed = ledger.split(separator: "\n").filter { !$0.contains("\"withheld\":true") }
        #expect(!disclosed.contains { $0.contains(importedID) }, "the imported item is named by a disclosed entry")
        #expect(!disclosed.contains { $0.contains("\"action\":\"import\"") })
        let verify = try exhibit.run(["verify", out, "--json", "--workspace", ws.root, "--actor", ws.supervisorID])
        #expect(verify.status == 0, "\(verify.stdout)")
        // The finding resting on the imported page is withheld.
        #expect((try JSONValue(parsing: verify.stdout)["withheld"]?.intValue ?? 0) >= 1, "\(verify.stdout)")
    }
}
