import ChainOfCustody
import Foundation
import Screening
import Testing

/// Screening flags the passages of a candidate's pages that touch a protected class,
/// so they can be kept from the hiring decision-maker (policy IV.B.6, DESIGN §10).
@Suite("Protected-class screening")
struct ProtectedClassScreeningTests {
    static var lexiconDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("CaseTemplates").appendingPathComponent("lexicons").path
    }

    static let classes: Set<String> = [
        "race", "color", "religion", "national-origin", "sex", "pregnancy", "sexual-orientation",
        "gender-identity", "age", "disability", "genetic-information", "veteran-status", "union-membership",
    ]

    /// A screening with one made-up lexicon per entry of `terms`.
    func screening(_ terms: [String: [String]]) -> ProtectedClassScreening {
        ProtectedClassScreening(lexicons: terms.map { ProtectedClassLexicon(class: $0.key, title: $0.key, law: "test", terms: $0.value) })
    }

    /// The original text a hit points at, sliced by Unicode scalars as Python would.
    func matched(_ text: String, _ hit: ScreeningHit) -> String {
        let scalars = Array(text.unicodeScalars)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[hit.offset..<hit.offset + hit.length])
        return String(view)
    }

    @Test("thirteen lexicons load, named as their files, with 25–60 unique lower-case terms each")
    func lexiconsAreWellFormed() throws {
        let screening = try ProtectedClassScreening.load(directory: Self.lexiconDirectory)
        #expect(Set(screening.lexicons.map(\.class)) == Self.classes)
        #expect(screening.lexicons.count == 13)
        for lexicon in screening.lexicons {
            #expect(!lexicon.title.isEmpty && !lexicon.law.isEmpty, "\(lexicon.class)")
            #expect((25...60).contains(lexicon.terms.count), "\(lexicon.class) has \(lexicon.terms.count) terms")
            #expect(Set(lexicon.terms).count == lexicon.terms.count, "\(lexicon.class) repeats a term")
            // "dark skinned" and "dark-skinned" match the same text: one of them is enough.
            let spelled = lexicon.terms.map { $0.replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "/", with: " ") }
            #expect(Set(spelled).count == spelled.count, "\(lexicon.class) spells a term twice")
            for term in lexicon.terms {
                #expect(term == term.lowercased() && term == term.trimmingCharacters(in: .whitespaces) && !term.contains("  "),
                        "\(lexicon.class): \"\(term)\"")
            }
            // Every term finds itself, written as a candidate might.
            for term in lexicon.terms {
                let text = "Posted: \(term.uppercased()). "
                #expect(screening.hits(in: text).contains { $0.class == lexicon.class && $0.term == term }, "\(lexicon.class): \"\(term)\"")
            }
        }
        // Words so common they would flag every page are not terms (the brief's examples).
        let all = Set(screening.lexicons.flatMap(\.terms))
        #expect(all.isDisjoint(with: ["man", "he", "she", "old", "born", "age", "race", "white", "black", "god", "trans"]))
    }

    @Test("the embedded lexicons equal CaseTemplates/lexicons — run scripts/embed-templates after editing one")
    func embeddedMatchFiles() throws {
        let files = try ProtectedClassScreening.load(directory: Self.lexiconDirectory)
        let embedded = try ProtectedClassScreening.embedded()
        #expect(files.lexicons == embedded.lexicons)
        #expect(embedded.origin == "embedded")
    }

    @Test("found like the case templates: the source tree, $EXHIBIT_TEMPLATES/lexicons, else the embedded copy")
    func loadOrder() throws {
        #expect(try ProtectedClassScreening.load(environment: [:]).origin == Self.lexiconDirectory)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lexicons-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A templates folder from before screening existed has no lexicons folder.
        #expect(try ProtectedClassScreening.load(environment: ["EXHIBIT_TEMPLATES": directory]).origin == "embedded")

        try FileManager.default.createDirectory(atPath: directory + "/lexicons", withIntermediateDirectories: true)
        let lexicon = #"{"class": "religion", "title": "Religion", "law": "Title VII", "terms": ["chapel"]}"#
        try lexicon.write(toFile: directory + "/lexicons/religion.json", atomically: true, encoding: .utf8)
        let agency = try ProtectedClassScreening.load(environment: ["EXHIBIT_TEMPLATES": directory])
        #expect(agency.origin == directory + "/lexicons")
        #expect(agency.hits(in: "Wedding at the chapel").map(\.term) == ["chapel"])

        // A file whose class is not its name, and a term that can never match, are refused.
        try lexicon.write(toFile: directory + "/lexicons/faith.json", atomically: true, encoding: .utf8)
        #expect(throws: ExhibitError.self) { try ProtectedClassScreening.load(directory: directory + "/lexicons") }
        try FileManager.default.removeItem(atPath: directory + "/lexicons/faith.json")
        let dotted = #"{"class": "religion", "title": "Religion", "law": "Title VII", "terms": ["st. mary's"]}"#
        try dotted.write(toFile: directory + "/lexicons/religion.json", atomically: true, encoding: .utf8)
        #expect(throws: ExhibitError.self) { try ProtectedClassScreening.load(directory: directory + "/lexicons") }
    }

    @Test("whole words only: arm matches neither army nor harm")
    func wordBoundaries() {
        let screening = screening(["body": ["arm"], "military": ["army"]])
        let text = "harm arms army armoire ARM, (arm) forearm Army. arm-wrestling 2arm arm2"
        let hits = screening.hits(in: text)
        // "arms" is the plural of "arm", which a term matches (DESIGN §23).
        #expect(hits.map(\.term) == ["arm", "army", "arm", "arm", "army", "arm"])
        #expect(hits.map { matched(text, $0) } == ["arms", "army", "ARM", "arm", "Army", "arm"])
    }

    @Test("case folding, accents and width: Église, EGLISE, église; STRASSE and straße")
    func caseFolding() {
        let screening = screening(["religion": ["église"], "test": ["straße", "quinceañera"]])
        let text = "Église ÉGLISE eglise e\u{301}glise ＥＧＬＩＳＥ — Strasse STRASSE straße — Quinceanera QUINCEAÑERA"
        let hits = screening.hits(in: text)
        #expect(hits.filter { $0.class == "religion" }.map { matched(text, $0) } == ["Église", "ÉGLISE", "eglise", "e\u{301}glise", "ＥＧＬＩＳＥ"])
        #expect(hits.filter { $0.term == "straße" }.count == 3)
        #expect(hits.filter { $0.term == "quinceañera" }.map { matched(text, $0) } == ["Quinceanera", "QUINCEAÑERA"])
    }

    @Test("phrases match across line breaks and one hyphen or slash, not across other punctuation")
    func phrases() {
        let screening = screening(["religion": ["bible study"], "race": ["african american"], "gender-identity": ["she/her"]])
        let text = "Bible\n   study tonight. Bible\r\nStudy. bible\t-\tstudy. bible. Study. bible -- study. bible, study. biblestudy. "
            + "African-American African American African/American African - - American. she / her. She/Her. she, her."
        let hits = screening.hits(in: text)
        #expect(hits.map { matched(text, $0) } == [
            "Bible\n   study", "Bible\r\nStudy", "bible\t-\tstudy",
            "African-American", "African American", "African/American",
            "she / her", "She/Her",
        ])
    }

    @Test("a possessive 's matches the term; a plural possessive ends before its apostrophe")
    func possessives() {
        let screening = screening(["veteran-status": ["army", "marine corps", "veterans"], "religion": ["jehovah's witness"]])
        let text = "the army's band; the Army’s band; ARMY'S; Marine Corps's ball; marine corps’ ball; veterans' day; "
            + "armys; army'd; Marine's Corps; Jehovah’s Witness; JEHOVAH'S witness"
        let hits = screening.hits(in: text)
        #expect(hits.map { matched(text, $0) } == [
            "army's", "Army’s", "ARMY'S", "Marine Corps's", "marine corps", "veterans",
            "Jehovah’s Witness", "JEHOVAH'S witness",
        ])
        #expect(hits.map(\.term) == ["army", "army", "army", "marine corps", "marine corps", "veterans", "jehovah's witness", "jehovah's witness"])
    }

    @Test("offsets count Unicode scalars of the original text, after accents, emoji, flags and CRLF")
    func offsetsPointAtTheMatch() {
        let screening = screening(["religion": ["church", "bible study"], "veteran-status": ["veteran"]])
        let text = "Café ☕️ with mi abuela 👩‍👩‍👧‍👦 🇺🇸 e\u{301}\u{302} ÆØÅ 日本語 \r\n"
            + "Sunday at church🙏🏽, then Bible\r\nstudy.\n𝒱𝑒𝓉 — VETERAN❤️ and veteran👍🏿."
        let hits = screening.hits(in: text)
        #expect(hits.map(\.term) == ["church", "bible study", "veteran", "veteran"])
        #expect(hits.map { matched(text, $0) } == ["church", "Bible\r\nstudy", "VETERAN", "veteran"])
        // The same offsets as Python's str.index, computed independently of the scanner.
        let scalars = Array(text.unicodeScalars)
        let church = Array("church".unicodeScalars)
        let expected = (0...(scalars.count - church.count)).first { Array(scalars[$0..<$0 + church.count]) == church }
        #expect(hits.first?.offset == expected)
        for hit in hits {
            #expect(hit.excerpt.contains(matched(text, hit).split(whereSeparator: \.isWhitespace).joined(separator: " ")))
        }
    }

    @Test("each class reports its longest term once; classes sharing words are each flagged, sorted by class")
    func overlapsAndOrder() {
        let screening = screening([
            "veteran-status": ["veteran", "vietnam veteran", "army", "army reserve"],
            "age": ["born in", "retired"],
            "national-origin": ["born in", "mexican"],
        ])
        let text = "Vietnam veteran, army reserve (retired). Born in Mexico to a Mexican family."
        let hits = screening.hits(in: text)
        #expect(hits.map { "\($0.class):\($0.term)" } == [
            "veteran-status:vietnam veteran", "veteran-status:army reserve", "age:retired",
            "age:born in", "national-origin:born in", "national-origin:mexican",
        ])
        #expect(hits == screening.hits(in: text))
    }

    @Test("changing the lexicons changes what is flagged")
    func replacingLexicons() {
        var screening = screening(["religion": ["church"]])
        #expect(screening.hits(in: "church and chapel").map(\.term) == ["church"])
        screening.lexicons[0].terms.append("chapel")
        #expect(screening.hits(in: "church and chapel").map(\.term) == ["church", "chapel"])
        screening.lexicons = []
        #expect(screening.hits(in: "church and chapel") == [])
    }

    @Test("the excerpt is about 60 characters around the match, on one line")
    func excerpt() throws {
        let screening = screening(["pregnancy": ["baby shower"]])
        let filler = String(repeating: "lorem ipsum dolor ", count: 10)
        let text = filler + "\n\nthe baby\nshower is in June\n" + filler
        let hit = try #require(screening.hits(in: text).first)
        #expect(hit.excerpt.contains("the baby shower is in June"))
        #expect(hit.excerpt.hasPrefix("…") && hit.excerpt.hasSuffix("…"))
        #expect(!hit.excerpt.contains("\n"))
        #expect(hit.excerpt.count <= 30 + "baby\nshower".count + 30 + 2)
        #expect(screening.hits(in: "baby shower").first?.excerpt == "baby shower")
    }

    @Test("a candidate's page flags religion, veteran status, pregnancy, disability, age and sex")
    func candidatePage() throws {
        let screening = try ProtectedClassScreening.load(directory: Self.lexiconDirectory)
        let page = """
            Jordan Miller · Springfield, IL
            About: Proud Army veteran (2009–2015, two tours in Afghanistan). Now working security at the mall
            and studying criminal justice at night.

            Sunday: great sermon at Grace Community Church this morning — Bible
            study moves to Wednesdays!
            So excited to finally share it: we’re expecting! Sarah is 20 weeks pregnant and the baby shower is in June. 👶💙
            My brother just got his new wheelchair (custom frame, lighter than the old one). So proud of how he's handled the diagnosis.
            Happy 40th birthday to me 🎉 Volunteered with the VFW on Veterans Day.
            """
        let hits = screening.hits(in: page)
        #expect(Set(hits.map(\.class)) == ["religion", "veteran-status", "pregnancy", "disability", "age", "sex"])
        #expect(hits.map { "\($0.class):\($0.term)" } == [
            "veteran-status:army", "veteran-status:veteran", "veteran-status:afghanistan",
            "religion:church", "religion:bible study",
            "pregnancy:we're expecting", "pregnancy:pregnant", "pregnancy:baby shower",
            "sex:brother", "disability:wheelchair", "disability:diagnosis",
            "age:40th birthday", "veteran-status:vfw", "veteran-status:veterans",
        ])
        for hit in hits {
            #expect(hit.excerpt.lowercased().contains(matched(page, hit).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")))
        }
    }

    @Test("a neutral page (sports scores, a car for sale, a job history) flags nothing")
    func neutralPage() throws {
        let screening = try ProtectedClassScreening.load(directory: Self.lexiconDirectory)
        let page = """
            Friday night results: Central 28, North 21. Westfield took the county title 3–1 on penalties;
            the under-12 league resumes Saturday at 9 a.m. Go Hawks! 🏈

            FOR SALE: 2014 Honda Civic LX, 98,000 miles, silver, new tires and brakes, clean title,
            one owner, no accidents. $7,900 or best offer. Call or text after 5 pm.

            Experience
            Shift supervisor, Target (2016–2019): opened and closed the store, trained new cashiers,
            handled cash deposits and the weekly schedule.
            Security officer, Allied Universal (2019–present): patrols, incident reports, access control.
            Certifications: CPR/First Aid, state guard card, forklift operator.
            Education: A.S. in Criminal Justice, Lincoln Land Community College.
            """
        #expect(screening.hits(in: page) == [])
    }

    @Test("8 MB of text is screened in one pass: seconds, not minutes, and linear in its length")
    func largeText() throws {
        let screening = try ProtectedClassScreening.load(directory: Self.lexiconDirectory)
        // One paragraph with four flags (church, dad, army, veteran), non-ASCII words,
        // emoji, and phrase first words ("born", "family") that look ahead and fail.
        let paragraph = "Weekend recap: brunch at the café, then church 🙏 with the kids. My dad, an Army "
            + "veteran, was born and raised near the lake; family dinner at Zoë's. Score 3–1, Straße, naïve, 日本. "
            + "Nothing else to report about the garden, the fence, the car or the weather this week at all.\n"
        let paragraphHits = screening.hits(in: paragraph)
        #expect(paragraphHits.map(\.term) == ["church", "dad", "army", "veteran"])
        let perParagraph = paragraphHits.count

        func timed(_ megabytes: Int) -> (seconds: Double, hits: Int, copies: Int, lastOffset: Int?) {
            let copies = megabytes * 1_000_000 / paragraph.utf8.count
            let text = String(repeating: paragraph, count: copies)
            // This thread's CPU time: the suite runs tests in parallel on two cores, so
            // wall time would measure the neighbours.
            func cpu() -> Double {
                var time = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
                return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
            }
            let start = cpu()
            let hits = screening.hits(in: text)
            let seconds = cpu() - start
            return (seconds, hits.count, copies, hits.last?.offset)
        }
        let small = timed(1)
        let large = timed(8)
        #expect(small.hits == small.copies * perParagraph)
        #expect(large.hits == large.copies * perParagraph)
        // Offsets stay exact 8 MB in, past thousands of multi-byte characters.
        #expect(large.lastOffset == (large.copies - 1) * paragraph.unicodeScalars.count + paragraphHits[3].offset)
        // Loose bounds: other builds share the machine. A quadratic scan would take
        // 64 times as long for 8 MB as for 1 MB, not 8.
        // Under a sanitizer (EXHIBIT_SANITIZER) every memory access is several times slower.
        let limit: Double = ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil ? 5 : 30
        #expect(large.seconds < limit, "8 MB took \(large.seconds) s")
        #expect(large.seconds < small.seconds * 24 + 0.5, "1 MB took \(small.seconds) s, 8 MB \(large.seconds) s")
    }
}
