import ChainOfCustody
import Foundation
import Screening
import Testing

/// Issue 26, route 5: the lexicons missed common forms of their terms. DESIGN §23:
/// screening reads the text after normalisation, terms match their inflections and carry
/// Spanish, and union membership has a lexicon. One test per evasion of the issue, each
/// on the shipped lexicons, and each checking that the hit points at the evasive spelling
/// in the original text.
@Suite("Screening normalisation")
struct ScreeningNormalizationTests {
    static var lexiconDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("CaseTemplates").appendingPathComponent("lexicons").path
    }

    func screening() throws -> ProtectedClassScreening {
        try ProtectedClassScreening.load(directory: Self.lexiconDirectory)
    }

    /// The original text a hit points at, sliced by Unicode scalars as Python would.
    func matched(_ text: String, _ hit: ScreeningHit) -> String {
        let scalars = Array(text.unicodeScalars)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[hit.offset..<hit.offset + hit.length])
        return String(view)
    }

    /// Each hit as "class:term:the original text it covers", after checking that its
    /// excerpt shows that text.
    func flagged(_ text: String, _ screening: ProtectedClassScreening) -> [String] {
        screening.hits(in: text).map { hit in
            let original = matched(text, hit)
            let collapsed = original.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(hit.excerpt.contains(collapsed), "excerpt \(hit.excerpt) lacks \(original)")
            return "\(hit.class):\(hit.term):\(original)"
        }
    }

    @Test("plurals and derivations: Muslims, mosques, armies, Hinduism, Islamists, bible studies")
    func plurals() throws {
        let screening = try screening()
        let text = "Muslims pray at the mosques. Two armies met. Hinduism, Islamists and Catholicism; "
            + "Bible studies on Sunday; the union members voted; 40 year olds."
        let found = flagged(text, screening)
        #expect(Set(found).isSuperset(of: [
            "religion:muslim:Muslims", "religion:mosque:mosques", "veteran-status:army:armies",
            "religion:hindu:Hinduism", "religion:islam:Islamists", "religion:catholic:Catholicism",
            "religion:bible study:Bible studies", "union-membership:union member:union members",
            "age:year old:year olds",
        ]), "\(found)")
        // The term as written wins over an inflection of another term at the same span.
        #expect(flagged("Veterans Day parade", screening) == ["veteran-status:veterans:Veterans"])
    }

    @Test("misspellings one slip from a long term: pregnent, pregant, christain, grandmohter")
    func misspellings() throws {
        let screening = try screening()
        let found = flagged("She is pregnent again (or pregant?); a devout christain; my grandmohter's house.", screening)
        #expect(found == [
            "pregnancy:pregnant:pregnent", "pregnancy:pregnant:pregant", "religion:christian:christain",
            "age:grandmother:grandmohter's",
        ], "\(found)")
        // Bounded: consonant slips, short terms and listed exceptions are not misspellings.
        #expect(flagged("players playing in the muslin tent; Christina will disable the alarm", screening) == [])
    }

    @Test("Spanish terms in every class, with accents or without, and their plurals (German as an example)")
    func spanishAndGerman() throws {
        let screening = try screening()
        let text = "Mi hermana está EMBARAZADA. Rezamos en la mezquita con los musulmanes. "
            + "Soy afiliado al sindicato y veterano del ejercito. Sie ist schwanger; zwei Moscheen."
        let found = flagged(text, screening)
        #expect(Set(found).isSuperset(of: [
            "sex:hermana:hermana", "pregnancy:embarazada:EMBARAZADA", "religion:mezquita:mezquita",
            "religion:musulmán:musulmanes", "union-membership:afiliado al sindicato:afiliado al sindicato",
            "veteran-status:veterano:veterano", "veteran-status:ejército:ejercito",
            "pregnancy:schwanger:schwanger", "religion:moschee:Moscheen",
        ]), "\(found)")
        for lexicon in screening.lexicons {
            #expect((lexicon.languages["es"]?.count ?? 0) >= 10, "\(lexicon.class) has too few Spanish terms")
        }
    }

    @Test("a soft hyphen inside a word is dropped: preg\u{AD}nant, Mus\u{AD}lim")
    func softHyphen() throws {
        let found = flagged("She is preg\u{AD}nant and a proud Mus\u{AD}lim.", try screening())
        #expect(found == ["pregnancy:pregnant:preg\u{AD}nant", "religion:muslim:Mus\u{AD}lim"], "\(found)")
    }

    @Test("zero-width characters inside a word are dropped: U+200B, U+200C, U+200D, U+2060, U+FEFF")
    func zeroWidth() throws {
        let screening = try screening()
        for invisible in ["\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}"] {
            let word = "Mus\(invisible)li\(invisible)m"
            let found = flagged("A proud \(word) veteran", screening)
            #expect(found == ["religion:muslim:\(word)", "veteran-status:veteran:veteran"], "U+\(String(invisible.unicodeScalars.first!.value, radix: 16)): \(found)")
        }
    }

    @Test("Cyrillic and Greek letters that look like Latin ones read as them: Мuѕlіm, рrеgnаnt, mοsque")
    func lookalikeLetters() throws {
        let muslim = "\u{041C}u\u{0455}l\u{0456}m"        // Cyrillic М, ѕ, і
        let pregnant = "\u{0440}r\u{0435}gn\u{0430}nt"    // Cyrillic р, е, а
        let mosque = "m\u{03BF}sque"                      // Greek ο
        let found = flagged("\(muslim) family, \(pregnant) with twins, at the \(mosque).", try screening())
        #expect(found == ["religion:muslim:\(muslim)", "pregnancy:pregnant:\(pregnant)", "religion:mosque:\(mosque)"], "\(found)")
    }

    @Test("letters separated by single spaces are joined: M u s l i m, P r e g n a n t")
    func spacedLetters() throws {
        let found = flagged("I am a M u s l i m and P R E G N A N T.", try screening())
        #expect(found == ["religion:muslim:M u s l i m", "pregnancy:pregnant:P R E G N A N T"], "\(found)")
    }

    @Test("letters separated by dots are joined: M.u.s.l.i.m, p.r.e.g.n.a.n.t")
    func dottedLetters() throws {
        let found = flagged("Proud M.u.s.l.i.m. Now p.r.e.g.n.a.n.t!", try screening())
        #expect(found == ["religion:muslim:M.u.s.l.i.m", "pregnancy:pregnant:p.r.e.g.n.a.n.t"], "\(found)")
    }

    @Test("hashtags are split into words and searched inside: #pregnantlife, #ProudVeteran, #muslimsofinstagram")
    func hashtags() throws {
        let text = "Loving it #pregnantlife #ProudVeteran #muslimsofinstagram #BibleStudy #biblestudy 🙏#blessed"
        let found = flagged(text, try screening())
        #expect(found == [
            "pregnancy:pregnant:pregnant", "veteran-status:veteran:Veteran", "religion:muslim:muslim",
            "religion:bible study:BibleStudy", "religion:bible study:biblestudy",
        ], "\(found)")
    }

    @Test("union membership has a lexicon: Teamsters, shop steward, picket line, sindicato")
    func unionMembership() throws {
        let screening = try screening()
        let union = try #require(screening.lexicons.first { $0.class == "union-membership" })
        #expect(union.title == "Union membership" && union.law.contains("29 U.S.C. 157"))
        #expect((25...60).contains(union.terms.count))
        let text = "Proud Teamsters member and shop steward; we voted to unionize and walked the picket line. "
            + "Delegada sindical en huelga."
        let found = flagged(text, screening).filter { $0.hasPrefix("union-membership:") }
        #expect(found == [
            "union-membership:teamster:Teamsters", "union-membership:shop steward:shop steward",
            "union-membership:unionize:unionize", "union-membership:picket line:picket line",
            "union-membership:delegada sindical:Delegada sindical", "union-membership:en huelga:en huelga",
        ], "\(found)")
    }

    @Test("ordinary text flags nothing: Musli muesli, Christmas tree sale, Churchill's rabbit, Indiana, other scripts")
    func noFalseHits() throws {
        let screening = try screening()
        // Accepted by design (docs/background-investigations.md §4): a word is never searched
        // inside unless it is a hashtag or joined letters, so "Churchill", "rabbit",
        // "motherboard" and "Indiana" are not flags; slips are only for terms of eight or
        // more letters, vowel for vowel, so "players", "completion" and "muslin" are not
        // either. What remains to be dismissed by the searcher is listed there too.
        let texts = [
            "Musli muesli for breakfast, then the Christmas tree sale.",
            "A rabbit named Churchill from Indiana chewed the motherboard.",
            "The players were playing in Chicago; completion of the artistic project is due.",
            "Seattle Mariners fans; an unlisted number; paternity of the idea; muslin curtains.",
            "Plan a b c, e.g. the U.S. economy at 9 a.m.; version 1.2.3; x-y axis; A/B test.",
            "#rabbitlove #chicagobears #motherboardrepair #indianapolis #tbt #1 page.html#top",
            "Мы купили новый стол. Καλημέρα κόσμε. 日本語のテキスト. Привет, как дела?",
            "Résumé: café owner, naïve art, smörgåsbord, Ærø island, façade repair, Œuvre.",
        ]
        for text in texts {
            #expect(flagged(text, screening) == [], "\(text)")
        }
    }

    @Test("a hashtag or letter run of 200,000 letters is read in one pass, not once per letter pair")
    func longRunTogetherTokens() throws {
        let screening = try screening()
        let hashtag = "#" + String(repeating: "xmotherx", count: 25_000) + "pregnant"
        let letters = String(repeating: "a ", count: 100_000) + "M u s l i m"
        func cpu() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let start = cpu()
        let tagHits = screening.hits(in: hashtag)
        let letterHits = screening.hits(in: letters)
        let seconds = cpu() - start
        #expect(tagHits.filter { $0.class == "sex" }.count == 25_000)
        #expect(tagHits.last.map { "\($0.class):\($0.offset)" } == "pregnancy:\(hashtag.unicodeScalars.count - 8)")
        #expect(letterHits.map { "\($0.class):\(matched(letters, $0))" } == ["religion:M u s l i m"])
        let limit: Double = ProcessInfo.processInfo.environment["EXHIBIT_SANITIZER"] == nil ? 10 : 60
        #expect(seconds < limit, "\(seconds) s")
    }

    @Test("hits point into the original text whatever was rewritten, sorted by offset")
    func offsetsIntoTheOriginal() throws {
        let screening = try screening()
        let text = "Ｃafé 👩‍👩‍👧 e\u{301}\u{302}: ＰＲＥＧＮＡＮＴ\r\nM u s l i m 🇺🇸 #Proud\u{200B}Veteran and Mus\u{AD}lims; "
            + "Igle\u{301}sia los domingos."
        let hits = screening.hits(in: text)
        #expect(hits.map { matched(text, $0) } == ["ＰＲＥＧＮＡＮＴ", "M u s l i m", "Veteran", "Mus\u{AD}lims", "Igle\u{301}sia"])
        #expect(hits.map(\.offset) == hits.map(\.offset).sorted())
        // The same offsets as Python's str.index on the original.
        let scalars = Array(text.unicodeScalars)
        let target = Array("M u s l i m".unicodeScalars)
        let expected = (0...(scalars.count - target.count)).first { Array(scalars[$0..<$0 + target.count]) == target }
        #expect(hits.dropFirst().first?.offset == expected)
        #expect(hits == screening.hits(in: text))
    }

    @Test("every term of every language finds itself in capitals, and no class spells a term twice")
    func everyLanguageTermMatches() throws {
        let screening = try screening()
        for lexicon in screening.lexicons {
            var spelled = Set<String>()
            for (language, terms) in [("en", lexicon.terms)] + lexicon.languages.sorted(by: { $0.key < $1.key }) {
                for term in terms {
                    #expect(term == term.lowercased() && term == term.trimmingCharacters(in: .whitespaces), "\(lexicon.class) \(language): \"\(term)\"")
                    let folded = term.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
                        .replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "/", with: " ")
                    #expect(spelled.insert(folded).inserted, "\(lexicon.class) \(language) spells \"\(term)\" twice")
                    let hits = screening.hits(in: "Posted: \(term.uppercased()). ")
                    #expect(hits.contains { $0.class == lexicon.class && $0.term == term }, "\(lexicon.class) \(language): \"\(term)\" → \(hits.map(\.term))")
                }
            }
            for exception in lexicon.exceptions {
                #expect(!screening.hits(in: "#\(exception)").contains { $0.class == lexicon.class }, "\(lexicon.class): #\(exception)")
            }
        }
    }

    @Test("a lexicon naming a language by anything but its code, or an exception of two words, is refused")
    func languagesAndExceptionsAreValidated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lexicons-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/religion.json"
        try #"{"class": "religion", "title": "R", "law": "L", "terms": ["church"], "languages": {"es": ["iglesia"]}, "exceptions": ["churchill"]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try ProtectedClassScreening.load(directory: directory)
        #expect(loaded.hits(in: "la iglesia, the churches, #churchill").map(\.term) == ["iglesia", "church"])
        try #"{"class": "religion", "title": "R", "law": "L", "terms": ["church"], "languages": {"Spanish": ["iglesia"]}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ExhibitError.self) { try ProtectedClassScreening.load(directory: directory) }
        try #"{"class": "religion", "title": "R", "law": "L", "terms": ["church"], "exceptions": ["church hill"]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ExhibitError.self) { try ProtectedClassScreening.load(directory: directory) }
    }
}
