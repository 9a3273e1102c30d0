import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Default-deny protected-class screening (policy IV.B.6, DESIGN §23; issue 26 routes
/// 3, 4 and 6), through the real binary: every capture is screened as its derived
/// WARC carries it, what words cannot judge waits for a person, every clearing
/// decision needs a second actor, and only an approved lexicon set counts.
@Suite("default-deny screening")
struct DefaultDenyScreeningTests {
    let exhibit = ExhibitProcess()

    /// A workspace (supervisor a-0001, investigator a-0002) with a bi-searcher who
    /// also exports (a-0003), a decision-maker (a-0004) and one BI case.
    struct Setting {
        let ws: TestWorkspace
        let searcher: String
        let decider: String
        let caseID: String
        var base: [String] { ["--workspace", ws.root] }
        var asSearcher: [String] { ["--actor", searcher, "--workspace", ws.root] }
        var asSupervisor: [String] { ["--actor", ws.supervisorID, "--workspace", ws.root] }
    }

    func setting() throws -> Setting {
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        let decider = try registry.add(name: "Dee Decider", badge: "D-4", roles: [.analyst, .decisionMaker], actingActor: ws.supervisorID).id
        let state = try ws.session(searcher).openCase(
            category: BackgroundInvestigation.category, title: "Candidate Jane Roe",
            fields: ["candidate_name": "Jane Roe", "cohort": "2026-academy-1", "position": "police officer trainee", "candidate_city": "Riverbend"])
        return Setting(ws: ws, searcher: searcher, decider: decider, caseID: state.id)
    }

    /// Captures `urls` as the searcher; returns each URL's artifact id.
    func capture(_ setting: Setting, _ urls: [String], process: ExhibitProcess? = nil) throws -> [String: String] {
        let run = process ?? exhibit
        let captured = try run.run(["capture", setting.caseID] + urls + ["--allow-network", "127.0.0.0/8", "--reason", "fixture"] + setting.asSearcher)
        #expect(captured.status == 0, "\(captured.stderr)")
        let listed = try run.run(["artifacts", setting.caseID, "--json"] + setting.asSearcher)
        var ids: [String: String] = [:]
        for artifact in try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue ?? [] {
            if let url = artifact["url"]?.stringValue, let id = artifact["id"]?.stringValue { ids[url] = id }
        }
        for url in urls { #expect(ids[url] != nil, "\(url) was not captured") }
        return ids
    }

    /// A finding resting on `first` and `second` (served from different hosts), corroborated.
    func corroborate(_ setting: Setting, _ first: String, _ second: String) throws {
        let added = try exhibit.run(["finding", "add", setting.caseID, "--text", "Publicly posts about community work",
                                     "--artifact", first, "--json"] + setting.asSearcher)
        #expect(added.status == 0, "\(added.stderr)")
        let finding = try #require(try JSONValue(parsing: added.stdout)["id"]?.stringValue)
        let set = try exhibit.run(["finding", "set", setting.caseID, finding, "--status", "corroborated",
                                   "--artifact", first, "--artifact", second] + setting.asSearcher)
        #expect(set.status == 0, "\(set.stderr)")
    }

    /// `bi flags --json`.
    func screen(_ setting: Setting, process: ExhibitProcess? = nil) throws -> JSONValue {
        let flagged = try (process ?? exhibit).run(["bi", "flags", setting.caseID, "--json"] + setting.asSearcher)
        #expect(flagged.status == 0, "\(flagged.stderr)")
        return try JSONValue(parsing: flagged.stdout)
    }

    func flags(_ report: JSONValue, on artifact: String) -> [JSONValue] {
        (report["flags"]?.arrayValue ?? []).filter { $0["artifact"]?.stringValue == artifact }
    }

    func classes(_ report: JSONValue, on artifact: String) -> Set<String> {
        Set(flags(report, on: artifact).compactMap { $0["class"]?.stringValue })
    }

    /// Dismisses every open flag (the searcher) and countersigns it (the supervisor).
    func settle(_ setting: Setting, _ report: JSONValue) throws {
        for flag in report["flags"]?.arrayValue ?? [] where flag["status"]?.stringValue == "open" {
            let id = try #require(flag["id"]?.stringValue)
            let dismissed = try exhibit.run(["bi", "dismiss", setting.caseID, id, "--reason", "Not about the candidate's own status"] + setting.asSearcher)
            #expect(dismissed.status == 0, "\(dismissed.stderr)")
            let signed = try exhibit.run(["bi", "countersign", setting.caseID, id] + setting.asSupervisor)
            #expect(signed.status == 0, "\(signed.stderr)")
        }
    }

    func export(_ setting: Setting, _ name: String, process: ExhibitProcess? = nil) throws -> ExhibitProcess.Result {
        try (process ?? exhibit).run(["export", setting.caseID, "--audience", "decision-maker", "--out", setting.ws.directory.child(name), "--json"]
                                     + setting.asSearcher)
    }

    func expectRefused(_ result: ExhibitProcess.Result, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 4, "expected a refusal: \(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        for word in words { #expect(result.stderr.contains(word), "\(word) not in: \(result.stderr)", sourceLocation: sourceLocation) }
    }

    // MARK: Route 3 — whole kinds of content were never screened

    @Test("text/plain, JSON (escapes included) and HTML without a Content-Type are screened: each raises its flags")
    func textKindsAreScreened() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            let setting = try setting()
            let notes = first.baseURL + "/screening/notes.txt"
            let json = first.baseURL + "/screening/data.json"
            let bare = first.baseURL + "/test/screening/no-content-type"
            let ids = try capture(setting, [notes, json, bare])
            let report = try screen(setting)
            #expect(classes(report, on: ids[notes]!).contains("veteran-status"), "\(report)")
            #expect(classes(report, on: ids[json]!).isSuperset(of: ["religion", "pregnancy"]), "\(report)")
            #expect(classes(report, on: ids[bare]!).contains("religion"), "\(report)")
            // Words are judged: none of these needs a person's review.
            #expect(report["needs_review"]?.arrayValue?.isEmpty == true, "\(report)")
            let part = flags(report, on: ids[notes]!).first { $0["class"]?.stringValue == "veteran-status" }?["part"]?.stringValue
            #expect(part == "response body")
        }
    }

    @Test("images, PDFs and octet-stream need review: withheld until a searcher reviews and a second actor countersigns a clear")
    func mediaNeedsReview() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let setting = try setting()
                let image = first.baseURL + "/media/photo-small.png"
                let pdf = second.baseURL + "/screening/flyer.pdf"
                let bytes = first.baseURL + "/test/bytes?n=2048"
                let article = second.baseURL + "/article.html"
                let ids = try capture(setting, [image, pdf, bytes, article])
                let (imageID, pdfID) = (ids[image]!, ids[pdf]!)
                try corroborate(setting, imageID, pdfID)
                // A second finding keeps the image disclosed once the PDF is found protected.
                try corroborate(setting, imageID, ids[article]!)
                let report = try screen(setting)
                let review = report["needs_review"]?.arrayValue ?? []
                for id in [imageID, pdfID, ids[bytes]!] {
                    let item = review.first { $0["artifact"]?.stringValue == id }
                    #expect(item?["status"]?.stringValue == "needs-review", "\(id): \(report)")
                }
                #expect(review.first { $0["artifact"]?.stringValue == pdfID }?["reason"]?.stringValue?.contains("application/pdf") == true)
                // The PDF's words are not read as a page's: it is judged by a person, not flagged.
                #expect(!classes(report, on: pdfID).contains("pregnancy"), "\(report)")
                try settle(setting, report)

                expectRefused(try export(setting, "early"), mentioning: ["needs review", "bi review"])

                let careless = try exhibit.run(["bi", "review", setting.caseID, imageID, "--clear", "--reason", "."] + setting.asSearcher)
                #expect(careless.status == 2, "\(careless.stderr)")
                #expect(try exhibit.run(["bi", "review", setting.caseID, imageID, "--clear", "--reason", "A river bank; no people, text or symbols"]
                                        + setting.asSearcher).status == 0)
                #expect(try exhibit.run(["bi", "review", setting.caseID, pdfID, "--protected", "--reason", "The flyer announces a pregnancy"]
                                        + setting.asSearcher).status == 0)
                // A protected artifact is never cleared afterwards.
                #expect(try exhibit.run(["bi", "review", setting.caseID, pdfID, "--clear", "--reason", "Changed my mind"] + setting.asSearcher).status == 2)

                expectRefused(try export(setting, "unsigned"), mentioning: [imageID, "not countersigned", "bi countersign"])
                // Four eyes: never the reviewer, never a decision-maker.
                let own = try exhibit.run(["bi", "countersign", setting.caseID, imageID] + setting.asSearcher)
                #expect(own.status == 4, "\(own.stderr)")
                #expect(try setting.ws.entries(setting.caseID).last?.action == "refusal")
                #expect(try exhibit.run(["bi", "countersign", setting.caseID, imageID, "--actor", setting.decider] + setting.base).status == 4)
                #expect(try exhibit.run(["bi", "countersign", setting.caseID, pdfID] + setting.asSupervisor).status == 2, "a protected review needs no countersignature")
                #expect(try exhibit.run(["bi", "countersign", setting.caseID, imageID] + setting.asSupervisor).status == 0)

                let bag = setting.ws.directory.child("dm-bag")
                let exported = try exhibit.run(["export", setting.caseID, "--audience", "decision-maker", "--out", bag] + setting.asSearcher)
                #expect(exported.status == 0, "\(exported.stderr)")
                let pdfSHA = try #require(try JSONValue(parsing: try exhibit.run(["artifacts", setting.caseID, "--json"] + setting.asSearcher).stdout)["artifacts"]?
                    .arrayValue?.first { $0["id"]?.stringValue == pdfID }?["sha256"]?.stringValue)
                for file in FileManager.default.enumerator(atPath: bag)?.allObjects as? [String] ?? [] {
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: bag + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                    var contents = String(decoding: try AtomicFile.read(bag + "/" + file), as: UTF8.self)
                    if file.hasSuffix(".gz") { contents += try Command.run("/bin/zcat", [bag + "/" + file]).output }
                    #expect(!contents.contains(pdfSHA) && !contents.contains("I am pregnant"), "\(file)")
                }
                #expect(try exhibit.run(["verify", bag]).status == 0)
            }
        }
    }

    @Test("a case with no screening entry at all is refused a decision-maker export, whatever its artifacts are")
    func neverScreenedIsRefused() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let setting = try setting()
                let notes = first.baseURL + "/screening/notes.txt"
                let json = second.baseURL + "/screening/data.json"
                let ids = try capture(setting, [notes, json])
                try corroborate(setting, ids[notes]!, ids[json]!)
                #expect(try !setting.ws.entries(setting.caseID).contains { $0.action == "screening" })
                expectRefused(try export(setting, "unscreened"), mentioning: ["never screened", "exhibit bi flags \(setting.caseID)"])
                #expect(!FileManager.default.fileExists(atPath: setting.ws.directory.child("unscreened")))
            }
        }
    }

    // MARK: Route 4 — screened pages were screened only in part

    @Test("terms only in the title, meta description, og:description, alt, aria-label, a title attribute or a comment are flagged")
    func markupIsScreened() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            let setting = try setting()
            let url = first.baseURL + "/screening/markup-only.html"
            let ids = try capture(setting, [url])
            let report = try screen(setting)
            let found = classes(report, on: ids[url]!)
            // title, description, og:description, comment, alt, aria-label, title attribute — in that order in the page.
            for expected in ["pregnancy", "religion", "disability", "national-origin", "veteran-status", "gender-identity", "sexual-orientation"] {
                #expect(found.contains(expected), "\(expected) missing: \(report)")
            }
            // Each is one flag: the page read without markup adds no second flag for the same words.
            let pregnancy = flags(report, on: ids[url]!).filter { $0["class"]?.stringValue == "pregnancy" }
            #expect(pregnancy.count == 1, "\(pregnancy)")
        }
    }

    @Test("bodies coded gzip twice or as raw deflate are decoded and screened; a zstd body needs review and holds the export")
    func codedBodiesAreDecoded() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let setting = try setting()
                let twice = first.baseURL + "/test/screening/gzip-twice"
                let raw = first.baseURL + "/test/screening/deflate-raw"
                let zstd = second.baseURL + "/test/screening/zstd"
                let ids = try capture(setting, [twice, raw, zstd])
                let report = try screen(setting)
                #expect(flags(report, on: ids[twice]!).contains { $0["term"]?.stringValue == "baby shower" }, "\(report)")
                #expect(flags(report, on: ids[raw]!).contains { $0["term"]?.stringValue == "wheelchair" }, "\(report)")
                let zstdReview = report["needs_review"]?.arrayValue?.first { $0["artifact"]?.stringValue == ids[zstd]! }
                #expect(zstdReview?["reason"]?.stringValue?.contains("zstd") == true, "\(report)")

                try corroborate(setting, ids[raw]!, ids[zstd]!)
                try settle(setting, report)
                expectRefused(try export(setting, "zstd"), mentioning: [ids[zstd]!, "needs review"])
            }
        }
    }

    // MARK: Route 6 — any lexicon counted, and so did any dismissal

    @Test("a lexicon set no supervisor approved does not count as screening; approving it is recorded, and the shipped set is then retired")
    func onlyAnApprovedLexiconSetCounts() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let setting = try setting()
                // An agency copy of the templates whose every lexicon holds one nonsense term.
                let templates = setting.ws.directory.child("templates")
                let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("CaseTemplates").path
                try FileManager.default.copyItem(atPath: source, toPath: templates)
                for name in try FileManager.default.contentsOfDirectory(atPath: templates + "/lexicons") where name.hasSuffix(".json") {
                    let path = templates + "/lexicons/" + name
                    guard case .object(var lexicon) = try JSONValue(parsing: try AtomicFile.read(path)) else { continue }
                    lexicon["terms"] = .array([.string("zzqxv")])
                    try AtomicFile.write(try JSONValue.object(lexicon).canonicalBytes(), to: path)
                }
                let agency = ExhibitProcess(environment: ["EXHIBIT_TEMPLATES": templates])

                let profile = first.baseURL + "/profile.html"
                let blog = second.baseURL + "/candidate-blog.html"
                let ids = try capture(setting, [profile, blog], process: agency)
                try corroborate(setting, ids[profile]!, ids[blog]!)
                let screened = try agency.run(["bi", "flags", setting.caseID, "--json"] + setting.asSearcher)
                #expect(screened.status == 0, "\(screened.stderr)")
                #expect(try JSONValue(parsing: screened.stdout)["flags"]?.arrayValue?.isEmpty == true)
                expectRefused(try export(setting, "nonsense", process: agency), mentioning: ["no supervisor approved", "exhibit lexicons approve"])
                #expect(screened.stderr.contains("not approved"), "\(screened.stderr)")
                let entry = try #require(try setting.ws.entries(setting.caseID).last { $0.action == "screening" })
                let digest = try #require(entry.subject?["lexicon_digest"]?.stringValue)
                #expect(entry.subject?["lexicon_approval"] == .null)

                // The shipped set is approved out of the box; the agency's is not.
                let shown = try JSONValue(parsing: try agency.run(["lexicons", "show", "--json"] + setting.base).stdout)
                #expect(shown["digest"]?.stringValue == digest && shown["approved"]?.boolValue == false, "\(shown)")
                let shipped = try JSONValue(parsing: try exhibit.run(["lexicons", "show", "--json"] + setting.base).stdout)
                #expect(shipped["approved"]?.boolValue == true && shipped["basis"]?.stringValue == "shipped-default", "\(shipped)")

                // Only a supervisor approves, and only the set they reviewed.
                #expect(try agency.run(["lexicons", "approve"] + setting.asSearcher).status == 4)
                #expect(try agency.run(["lexicons", "approve", "--digest", String(repeating: "0", count: 64)] + setting.asSupervisor).status == 2)
                let approved = try agency.run(["lexicons", "approve", "--digest", digest] + setting.asSupervisor)
                #expect(approved.status == 0, "\(approved.stderr)")
                #expect(approved.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == digest)
                let ledger = try Ledger(path: setting.ws.root + "/workspace-ledger.jsonl").entries()
                let approval = try #require(ledger.last)
                #expect(approval.action == "lexicons-approved" && approval.actor == setting.ws.supervisorID)
                #expect(approval.subject?["digest"]?.stringValue == digest)

                // Screened again under the approved set, the export goes through.
                _ = try screen(setting, process: agency)
                let passed = try export(setting, "approved", process: agency)
                #expect(passed.status == 0, "\(passed.stderr)")
                // A changed set must be approved again: the shipped set no longer counts here.
                let retired = try JSONValue(parsing: try exhibit.run(["lexicons", "show", "--json"] + setting.base).stdout)
                #expect(retired["approved"]?.boolValue == false && retired["approved_digest"]?.stringValue == digest, "\(retired)")
            }
        }
    }

    @Test("a dismissal needs a reason in words and a second actor's countersignature before its artifact is disclosed")
    func dismissalNeedsSecondActor() async throws {
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: FixtureSite.defaultSiteDirectory) { first in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: FixtureSite.defaultSiteDirectory) { second in
                let setting = try setting()
                let blog = first.baseURL + "/candidate-blog.html"
                let article = second.baseURL + "/article.html"
                let ids = try capture(setting, [blog, article])
                try corroborate(setting, ids[blog]!, ids[article]!)
                let report = try screen(setting)
                let open = (report["flags"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                let flag = try #require(open.first)
                for careless in [".", "ok", "  - "] {
                    let refused = try exhibit.run(["bi", "dismiss", setting.caseID, flag, "--reason", careless] + setting.asSearcher)
                    #expect(refused.status == 2, "\"\(careless)\": \(refused.stderr)")
                }
                for id in open {
                    #expect(try exhibit.run(["bi", "dismiss", setting.caseID, id, "--reason", "Not about the candidate's own status"] + setting.asSearcher).status == 0)
                }
                expectRefused(try export(setting, "single"), mentioning: [flag, "not countersigned", "bi countersign"])

                let own = try exhibit.run(["bi", "countersign", setting.caseID, flag] + setting.asSearcher)
                #expect(own.status == 4, "\(own.stderr)")
                let refusal = try #require(try setting.ws.entries(setting.caseID).last)
                #expect(refusal.action == "refusal" && refusal.subject?["command"]?.stringValue == "bi countersign")
                #expect(try exhibit.run(["bi", "countersign", setting.caseID, flag, "--actor", setting.decider] + setting.base).status == 4)
                for id in open {
                    #expect(try exhibit.run(["bi", "countersign", setting.caseID, id] + setting.asSupervisor).status == 0)
                }
                #expect(try exhibit.run(["bi", "countersign", setting.caseID, flag] + setting.asSupervisor).status == 2, "countersigned once only")
                let listed = try screen(setting)
                #expect(listed["flags"]?.arrayValue?.allSatisfy { $0["countersigned_by"]?.stringValue == setting.ws.supervisorID } == true)
                let exported = try export(setting, "four-eyes")
                #expect(exported.status == 0, "\(exported.stderr)")
            }
        }
    }
}
