import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// Issue 26's acceptance test: a cohort of two candidates, searched alike over pages of
/// every content kind, encoding and evasion the routes named, screened, reviewed and
/// decided as a searcher and a supervisor would; each candidate's decision-maker bundle
/// (directory and zip) then holds none of the protected terms in any file, WARC records
/// decompressed, and still verifies.
@Suite("a cohort's decision-maker bundles hold no protected-class term")
struct CohortDisclosureTests {
    let exhibit = ExhibitProcess()

    /// The screening fixtures of Fixtures/site/screening, and the terms each holds.
    static let fixtureFiles = ["notes.txt", "data.json", "markup-only.html", "no-content-type.html", "flyer.pdf"]
    static let knownTerms = ["pregnant", "pregnancy", "mosque", "prayers", "synagogue", "wheelchair", "veterans"]

    @Test("two candidates, every content kind: no protected term in any file of either bundle; the bundles verify")
    func cohortBundles() async throws {
        let free = DisclosureFreeTextTests()
        let first = try free.setting()
        let screeningFixtures = try #require(FixtureSite.defaultSiteDirectory) + "/screening"
        for name in Self.fixtureFiles {
            try FileManager.default.copyItem(atPath: screeningFixtures + "/" + name, toPath: first.site.child(name))
        }
        try await withFixtureSite(host: "127.0.0.1", siteDirectory: first.site.path) { one in
            try await withFixtureSite(host: "127.0.0.2", siteDirectory: first.site.path) { two in

                // The second candidate of the same cohort, searched by the same searcher.
                let fields = ["candidate_name": "John Doe", "cohort": "2026-academy-1", "position": "police officer trainee", "candidate_city": "Riverbend"]
                let secondCase = try first.ws.session(first.searcher).openCase(category: BackgroundInvestigation.category, title: "Candidate John Doe", fields: fields).id
                let cases = [first.caseID, secondCase]

                var secrets = Set(Self.knownTerms)
                var bundles: [String] = []
                for (number, caseID) in cases.enumerated() {
                    let setting = DisclosureFreeTextTests.Setting(ws: first.ws, site: first.site, searcher: first.searcher, caseID: caseID)
                    let urls = [one.baseURL + "/coach.html", two.baseURL + "/gazette.html", one.baseURL + "/family.html", two.baseURL + "/faith.html"]
                        + Self.fixtureFiles.map { one.baseURL + "/" + $0 }
                        + ["/test/screening/no-content-type", "/test/screening/gzip-twice", "/test/screening/deflate-raw", "/test/screening/zstd"].map { two.baseURL + $0 }
                    let ids = try free.capture(setting, urls)
                    let finding = try free.corroboratedFinding(setting, "Candidate coaches youth soccer in Riverbend",
                                                               [try #require(ids[urls[0]]), try #require(ids[urls[1]])])
                    #expect(finding.hasPrefix("F-"))

                    // Screening: every flag confirmed protected, every item that needs review reviewed protected.
                    let flagged = try exhibit.run(["bi", "flags", caseID, "--json"] + setting.asSearcher)
                    try #require(flagged.status == 0, "\(flagged.stderr)")
                    let report = try JSONValue(parsing: flagged.stdout)
                    let flags = report["flags"]?.arrayValue ?? []
                    #expect(flags.count >= 8, "the evasions and content kinds raise flags: \(flags.count)")
                    for flag in flags {
                        if let term = flag["term"]?.stringValue, term.count >= 4 { secrets.insert(term.lowercased()) }
                        guard let id = flag["id"]?.stringValue, flag["status"]?.stringValue == "open" else { continue }
                        let confirmed = try exhibit.run(["bi", "confirm", caseID, id, "--reason", "touches a protected class"] + setting.asSearcher)
                        #expect(confirmed.status == 0, "\(confirmed.stderr)")
                    }
                    for item in report["needs_review"]?.arrayValue ?? [] {
                        guard let artifact = item["artifact"]?.stringValue else { continue }
                        let reviewed = try exhibit.run(["bi", "review", caseID, artifact, "--protected", "--reason", "Cannot be screened as text; withheld"] + setting.asSearcher)
                        #expect(reviewed.status == 0, "\(reviewed.stderr)")
                    }
                    let bag = first.ws.directory.child("dm-\(number)")
                    let zip = first.ws.directory.child("dm-\(number).zip")
                    for out in [bag, zip] {
                        let exported = try exhibit.run(["export", caseID, "--audience", "decision-maker", "--out", out] + setting.asSearcher)
                        #expect(exported.status == 0, "\(exported.stderr)")
                    }
                    try free.expectVerifies(bag, zip)
                    let findings = String(decoding: try AtomicFile.read(bag + "/data/findings.json"), as: UTF8.self)
                    #expect(findings.contains("Candidate coaches youth soccer in Riverbend"), "the clean, corroborated finding is disclosed: \(findings)")
                    bundles += [bag, zip]
                }

                let terms = secrets.sorted()
                let (scanned, leaks) = try free.scan(bundles, for: terms)
                #expect(leaks.isEmpty, "protected terms in a decision-maker bundle: \(leaks)")
                #expect(scanned > 40, "files read: \(scanned)")
                // The cases hold them: the scan finds what is there.
                let inCases = try free.scan(cases.map { first.ws.caseDirectory($0) }, for: Self.knownTerms)
                #expect(Set(inCases.leaks.map { $0.components(separatedBy: ": ").last ?? "" }) == Set(Self.knownTerms), "\(inCases.leaks)")
            }
        }
    }
}
