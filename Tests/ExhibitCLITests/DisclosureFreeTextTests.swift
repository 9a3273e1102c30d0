import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Free text in a decision-maker bundle (policy IV.B.6, DESIGN §23, issue 26
/// routes 1 and 2), through the real binary: a finding is disclosed only when it
/// is corroborated, every artifact it cites is disclosed and its text passes
/// protected-class screening; reasons, notes, export file names and the warcinfo
/// fields that echo them never reach the decision-maker.
@Suite("decision-maker bundle: free text")
struct DisclosureFreeTextTests {
    let exhibit = ExhibitProcess()

    /// The candidate's pages, served by both loopback hosts: two with nothing about
    /// a protected class, two the searcher confirms as protected.
    static let pages: [String: (title: String, text: String)] = [
        "coach.html": ("Riverbend youth soccer", "Jane Roe coaches the under twelve soccer team in Riverbend on Saturdays."),
        "gazette.html": ("Riverbend Gazette", "Coach Jane Roe organised the Riverbend five kilometre run for the public library."),
        "family.html": ("Jane Roe news", "Big news from our house: I am pregnant with twins, due in May."),
        "faith.html": ("Jane Roe on Fridays", "Every Friday I lead the evening prayers at the Riverbend mosque."),
    ]

    /// A workspace with a bi-searcher (also analyst, so it exports), one BI case,
    /// and the candidate's pages on 127.0.0.1 and 127.0.0.2.
    struct Setting {
        let ws: TestWorkspace
        let site: TemporaryDirectory
        let searcher: String
        let caseID: String
        var base: [String] { ["--workspace", ws.root] }
        var asSearcher: [String] { ["--actor", searcher, "--workspace", ws.root] }
        var asSupervisor: [String] { ["--actor", ws.supervisorID, "--workspace", ws.root] }
    }

    func setting(title: String = "Candidate Jane Roe", fields extra: [String: String] = [:]) throws -> Setting {
        let site = TemporaryDirectory("exhibit-site")
        for (name, page) in Self.pages {
            let html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(page.title)</title></head>\n<body><p>\(page.text)</p></body></html>\n"
            try AtomicFile.write(Array(html.utf8), to: site.child(name))
        }
        let ws = try TestWorkspace()
        let registry = ActorRegistry(workspace: ws.workspace)
        let searcher = try registry.add(name: "Bea Searcher", badge: "B-3", roles: [.investigator, .analyst], actingActor: ws.supervisorID).id
        _ = try registry.authorize(searcher, .biSearcher, actingActor: ws.supervisorID)
        // Screening counts only under a lexicon set a supervisor approved (DESIGN §23).
        _ = try exhibit.run(["lexicons", "approve", "--actor", ws.supervisorID, "--workspace", ws.root])
        let fields = ["candidate_name": "Jane Roe", "cohort": "2026-academy-1", "position": "police officer trainee", "candidate_city": "Riverbend"]
            .merging(extra) { $1 }
        let state = try ws.session(searcher).openCase(category: BackgroundInvestigation.category, title: title, fields: fields)
        return Setting(ws: ws, site: site, searcher: searcher, caseID: state.id)
    }

    /// Captures `urls` and returns their artifact ids by URL.
    func capture(_ setting: Setting, _ urls: [String], reason: String = "loopback fixture site") throws -> [String: String] {
        let captured = try exhibit.run(["capture", setting.caseID] + urls + ["--allow-network", "127.0.0.0/8", "--reason", reason] + setting.asSearcher)
        #expect(captured.status == 0, "\(captured.stderr)")
        let listed = try exhibit.run(["artifacts", setting.caseID, "--json"] + setting.asSearcher)
        var ids: [String: String] = [:]
        for artifact in try JSONValue(parsing: listed.stdout)["artifacts"]?.arrayValue ?? [] {
            if let url = artifact["url"]?.stringValue, let id = artifact["id"]?.stringValue { ids[url] = id }
        }
        for url in urls { #expect(ids[url] != nil, "\(url) was not captured") }
        return ids
    }

    /// Screens the case and confirms every flag on `protected`; the other pages must raise none.
    func screen(_ setting: Setting, protected: Set<String>) throws {
        let flagged = try exhibit.run(["bi", "flags", setting.caseID, "--json"] + setting.asSearcher)
        #expect(flagged.status == 0, "\(flagged.stderr)")
        let flags = try JSONValue(parsing: flagged.stdout)["flags"]?.arrayValue ?? []
        for artifact in protected { #expect(flags.contains { $0["artifact"]?.stringValue == artifact }, "no flag on \(artifact): \(flagged.stdout)") }
        for flag in flags {
            let artifact = flag["artifact"]?.stringValue ?? ""
            #expect(protected.contains(artifact), "a page with nothing protected raised \(flag)")
            guard protected.contains(artifact), let id = flag["id"]?.stringValue else { continue }
            let confirmed = try exhibit.run(["bi", "confirm", setting.caseID, id, "--reason", "confirmed by the searcher"] + setting.asSearcher)
            #expect(confirmed.status == 0, "\(confirmed.stderr)")
        }
    }

    /// `finding add`, then `finding set --status corroborated`; the finding's id.
    func corroboratedFinding(_ setting: Setting, _ text: String, _ artifacts: [String], reason: String? = nil) throws -> String {
        let added = try exhibit.run(["finding", "add", setting.caseID, "--text", text, "--artifact", artifacts[0], "--json"] + setting.asSearcher)
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(try JSONValue(parsing: added.stdout)["id"]?.stringValue)
        let set = try exhibit.run(["finding", "set", setting.caseID, id, "--status", "corroborated"]
                                  + artifacts.flatMap { ["--artifact", $0] } + (reason.map { ["--reason", $0] } ?? []) + setting.asSearcher)
        #expect(set.status == 0, "\(set.stderr)")
        return id
    }

    /// A decision-maker export as a directory and as a zip (by the searcher, who holds analyst).
    func exportForDecisionMaker(_ setting: Setting) throws -> (bag: String, zip: String, withheld: Int?) {
        let bag = setting.ws.directory.child("dm-bag")
        let zip = setting.ws.directory.child("dm.zip")
        let exported = try exhibit.run(["export", setting.caseID, "--audience", "decision-maker", "--out", bag, "--json"] + setting.asSearcher)
        #expect(exported.status == 0, "\(exported.stderr)")
        let zipped = try exhibit.run(["export", setting.caseID, "--audience", "decision-maker", "--out", zip] + setting.asSearcher)
        #expect(zipped.status == 0, "\(zipped.stderr)")
        return (bag, zip, try? JSONValue(parsing: exported.stdout)["withheld_items"]?.intValue.map { Int($0) })
    }

    /// Every file under each of `roots` (directories or files), with zip members
    /// read and every gzip member decompressed, searched case-insensitively for
    /// `secrets`: which secret is in which file, and how many files were read.
    static let scanner = """
    import io, json, os, sys, zipfile, zlib
    secrets = json.loads(sys.argv[1])
    leaks, scanned = set(), 0
    def gunzip(data):
        out = b""
        while data[:2] == b"\\x1f\\x8b":
            d = zlib.decompressobj(31)
            out += d.decompress(data) + d.flush()
            data = d.unused_data
        return out
    def look(name, data):
        global scanned
        scanned += 1
        views = [data]
        if data[:2] == b"\\x1f\\x8b":
            views.append(gunzip(data))
        if data[:4] == b"PK\\x03\\x04":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    if not member.endswith("/"):
                        look(name + "!" + member, z.read(member))
        for view in views:
            text = view.decode("utf-8", "replace").lower()
            for secret in secrets:
                if secret.lower() in text:
                    leaks.add(name + ": " + secret)
    for root in sys.argv[2:]:
        if os.path.isdir(root):
            for folder, _, files in os.walk(root):
                for f in files:
                    with open(os.path.join(folder, f), "rb") as h:
                        look(os.path.relpath(os.path.join(folder, f), root), h.read())
        else:
            with open(root, "rb") as h:
                look(os.path.basename(root), h.read())
    print(json.dumps({"scanned": scanned, "leaks": sorted(leaks)}))
    """

    func scan(_ roots: [String], for secrets: [String]) throws -> (scanned: Int, leaks: [String]) {
        let secretsJSON = String(decoding: try JSONEncoder().encode(secrets), as: UTF8.self)
        let run = try Validators.run("python3", ["-c", Self.scanner, secretsJSON] + roots)
        #expect(run.status == 0, "\(run.output)")
        let result = try JSONValue(parsing: run.output)
        return (Int(result["scanned"]?.intValue ?? 0), result["leaks"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    /// The bag verifies with Exhibit (directory and zip) and with bagit.py.
    func expectVerifies(_ bag: String, _ zip: String) throws {
        for target in [bag, zip] {
            let verify = try exhibit.run(["verify", target])
            #expect(verify.status == 0, "\(target): \(verify.stdout)\(verify.stderr)")
        }
        #expect(try Validators.run("python3", ["-m", "bagit", "--validate", bag]).status == 0)
    }

    // MARK: Route 1 — finding text

    @Test("a finding is disclosed only when corroborated, every artifact it cites is disclosed and its text passes screening")
    func findingText() async throws {
        let setting = try setting()
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: setting.site.path) { one in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: setting.site.path) { two in
                let ids = try capture(setting, [one.baseURL + "/coach.html", one.baseURL + "/family.html",
                                                two.baseURL + "/gazette.html", two.baseURL + "/faith.html"])
                let coach = try #require(ids[one.baseURL + "/coach.html"])
                let family = try #require(ids[one.baseURL + "/family.html"])
                let gazette = try #require(ids[two.baseURL + "/gazette.html"])
                let faith = try #require(ids[two.baseURL + "/faith.html"])

                // Findings are recorded as the searcher reads the pages, before screening tags two of them.
                let allProtected = "Candidate is pregnant and leads the evening prayers at the mosque"
                let halfProtected = "Candidate keeps a public weekend journal"
                let protectedText = "Candidate coaches soccer alongside her pregnancy"
                let disclosedText = "Candidate coaches youth soccer in Riverbend"
                _ = try corroboratedFinding(setting, allProtected, [family, faith])
                _ = try corroboratedFinding(setting, halfProtected, [coach, faith])
                _ = try corroboratedFinding(setting, protectedText, [coach, gazette])
                let disclosed = try corroboratedFinding(setting, disclosedText, [coach, gazette])
                try screen(setting, protected: [family, faith])

                let (bag, zip, withheld) = try exportForDecisionMaker(setting)
                // Two protected artifacts and three findings.
                #expect(withheld == 5)
                let findings = try JSONValue(parsing: String(decoding: try AtomicFile.read(bag + "/data/findings.json"), as: UTF8.self))
                let listed = findings["findings"]?.arrayValue ?? []
                #expect(listed.compactMap { $0["id"]?.stringValue } == [disclosed], "\(findings)")
                #expect(listed.first?["text"]?.stringValue == disclosedText)
                #expect(listed.first?["artifacts"]?.arrayValue?.compactMap(\.stringValue) == [coach, gazette])
                #expect(findings["withheld_items"]?.intValue == 5)
                let report = String(decoding: try AtomicFile.read(bag + "/data/report.html"), as: UTF8.self)
                #expect(report.contains(disclosedText))

                // None of the withheld findings' words are anywhere in the bag, unzipped or zipped.
                let secrets = [allProtected, halfProtected, protectedText, "pregnant", "pregnancy", "mosque", "public weekend journal"]
                let (scanned, leaks) = try scan([bag, zip], for: secrets)
                #expect(leaks.isEmpty, "\(leaks)")
                #expect(scanned > 20)
                // The case itself holds them (the scan finds what is there).
                #expect(Set(try scan([setting.ws.caseDirectory(setting.caseID)], for: secrets).leaks.map { $0.components(separatedBy: ": ").last ?? "" }) == Set(secrets))
                try expectVerifies(bag, zip)
            }
        }
    }

    // MARK: Route 2 — reasons, notes, export file names, warcinfo

    @Test("reasons, notes, export file names and the override reason in warcinfo stay out of a decision-maker bundle, which still verifies")
    func reasonsAndFileNames() async throws {
        let setting = try setting()
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: setting.site.path) { one in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: setting.site.path) { two in
                let overrideReason = "override approved because she wears a hijab"
                let ids = try capture(setting, [one.baseURL + "/coach.html", two.baseURL + "/gazette.html"], reason: overrideReason)
                let coach = try #require(ids[one.baseURL + "/coach.html"])
                let gazette = try #require(ids[two.baseURL + "/gazette.html"])
                try screen(setting, protected: [])

                let noteText = "note that the candidate is openly gay"
                #expect(try exhibit.run(["case", "note", setting.caseID, noteText] + setting.asSearcher).status == 0)
                let skipReason = "skipped since she is at synagogue on Saturdays"
                #expect(try exhibit.run(["bi", "step", setting.caseID, "news-search", "--skipped", "--reason", skipReason] + setting.asSearcher).status == 0)
                let findingReason = "her pastor vouched for this"
                let finding = try corroboratedFinding(setting, "Candidate coaches youth soccer in Riverbend", [coach, gazette], reason: findingReason)

                // A full export named for what the searcher thinks of the candidate.
                let fullName = "jane-roe-pregnant-mosque-full.zip"
                let full = try exhibit.run(["export", setting.caseID, "--out", setting.ws.directory.child(fullName)] + setting.asSearcher)
                #expect(full.status == 0, "\(full.stderr)")
                let custodian = try ActorRegistry(workspace: setting.ws.workspace)
                    .add(name: "Cal Custodian", badge: "C-5", roles: [.custodian], actingActor: setting.ws.supervisorID).id
                let transferReason = "handed over as the candidate is expecting twins"
                let transferred = try exhibit.run(["transfer", setting.caseID, "--to", custodian, "--reason", transferReason] + setting.asSupervisor)
                #expect(transferred.status == 0, "\(transferred.stderr)")
                let closeReason = "closed after learning the candidate is Muslim"
                let closed = try exhibit.run(["case", "close", setting.caseID, "--reason", closeReason] + setting.asSupervisor)
                #expect(closed.status == 0, "\(closed.stderr)")

                let secrets = [overrideReason, "hijab", noteText, skipReason, findingReason, fullName, "pregnant-mosque", transferReason, closeReason]
                // The case holds every one of them (the scan finds what is there)…
                let inCase = try scan([setting.ws.caseDirectory(setting.caseID)], for: secrets).leaks
                for secret in secrets { #expect(inCase.contains { $0.hasSuffix(": " + secret) }, "the case should hold \(secret)") }
                #expect(inCase.contains { $0.hasPrefix("warc/") && $0.hasSuffix(": " + overrideReason) }, "the override reason is in the capture's warcinfo")

                // …and the decision-maker bundle none.
                let (bag, zip, _) = try exportForDecisionMaker(setting)
                let (scanned, leaks) = try scan([bag, zip], for: secrets)
                #expect(leaks.isEmpty, "\(leaks)")
                #expect(scanned > 20)
                try expectVerifies(bag, zip)

                // What the decision-maker still sees: the finding, the case closed, the actions and times of what is withheld.
                let findings = String(decoding: try AtomicFile.read(bag + "/data/findings.json"), as: UTF8.self)
                #expect(findings.contains(finding) && findings.contains("Candidate coaches youth soccer in Riverbend"))
                let state = try JSONValue(parsing: String(decoding: try AtomicFile.read(bag + "/data/case.json"), as: UTF8.self))
                #expect(state["status"]?.stringValue == "closed")
                #expect(state["title"]?.stringValue == "Candidate Jane Roe")
                let entries = try Ledger(path: bag + "/data/ledger.jsonl").entries()
                for action in ["transfer", "close", "export", "note", "bi-step", "policy-override"] {
                    let ofAction = entries.filter { $0.action == action }
                    #expect(!ofAction.isEmpty && ofAction.allSatisfy(\.withheld), "\(action)")
                }
                #expect(entries.first?.action == "open" && entries.first?.withheld == false)
                #expect(entries.contains { $0.action == "finding" && !$0.withheld && $0.subject?["op"]?.stringValue == "add" })

                // The derived WARCs keep a warcinfo record (its non-free-text fields) that warcio reads and checks.
                let warcs = (FileManager.default.enumerator(atPath: bag + "/data/warc")?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".warc.gz") }.map { bag + "/data/warc/" + $0 }
                #expect(!warcs.isEmpty)
                for warc in warcs {
                    let check = try Validators.run("warcio", ["check", "-v", warc])
                    #expect(check.status == 0, "\(check.output)")
                    let info = try Validators.run("python3", ["-c", """
                        import sys
                        from warcio.archiveiterator import ArchiveIterator
                        with open(sys.argv[1], "rb") as f:
                            record = next(iter(ArchiveIterator(f)))
                            print(record.rec_type)
                            print(record.content_stream().read().decode())
                        """, warc])
                    #expect(info.status == 0, "\(info.output)")
                    #expect(info.output.hasPrefix("warcinfo\n"), "\(info.output)")
                    for field in ["software: Exhibit/", "format: WARC File Format 1.1", "operator: Bea Searcher", "case: \(setting.caseID)", "capture-id: "] {
                        #expect(info.output.contains(field), "\(field) missing from \(info.output)")
                    }
                    #expect(!info.output.contains("policy-override"), "\(info.output)")
                }
            }
        }
    }

    // MARK: The case's title and fields

    @Test("the title and the fields about the candidate open every bundle: a protected-class term there refuses the export (exit 4); the candidate's name is not screened")
    func openingIsScreened() async throws {
        // A name that is also a lexicon term ("Christian") is who the bundle is about.
        let named = try setting(title: "Candidate Christian Black", fields: ["candidate_name": "Christian Black"])
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: named.site.path) { site in
            _ = try capture(named, [site.baseURL + "/coach.html"])
            try screen(named, protected: [])
            let bag = named.ws.directory.child("dm-bag")
            let exported = try exhibit.run(["export", named.caseID, "--audience", "decision-maker", "--out", bag] + named.asSearcher)
            #expect(exported.status == 0, "\(exported.stderr)")
            let state = try JSONValue(parsing: String(decoding: try AtomicFile.read(bag + "/data/case.json"), as: UTF8.self))
            #expect(state["title"]?.stringValue == "Candidate Christian Black")
            #expect(try exhibit.run(["verify", bag]).status == 0)

            // A title or a field that says more than who the candidate is cannot be withheld (it is signed, and
            // the case's state is folded from it), so no bundle is made.
            for (title, fields, field, kind) in [
                ("Candidate Jane Roe, pregnant", [String: String](), "title", "pregnancy"),
                ("Candidate Jane Roe", ["candidate_handles": "@janeroe_at_the_mosque, @jane mosque volunteer"], "candidate_handles", "religion"),
            ] {
                let telling = try setting(title: title, fields: fields)
                #expect(try exhibit.run(["bi", "flags", telling.caseID] + telling.asSearcher).status == 0)
                let out = telling.ws.directory.child("dm-bag")
                let refused = try exhibit.run(["export", telling.caseID, "--audience", "decision-maker", "--out", out] + telling.asSearcher)
                #expect(refused.status == 4, "\(title): \(refused.stdout)\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
                #expect(refused.stderr.contains(field) && refused.stderr.contains(kind), "\(refused.stderr)")
                #expect(!FileManager.default.fileExists(atPath: out))
            }
        }
    }
}
