public import ChainOfCustody
import Foundation

/// The terms that reveal membership in, or the status of, one protected class
/// (CaseTemplates/lexicons/<class>.json).
///
/// A background investigation must filter information about protected classes out
/// before anything found online reaches a decision-maker (policy IV.B.6, DESIGN §10).
/// The lexicon is what the screen looks for; the searcher confirms or dismisses each
/// passage it flags, so the terms favour recall over precision.
///
/// ```json
/// {"class": "religion", "title": "Religion", "law": "Title VII …", "terms": ["church", "bible study"],
///  "languages": {"es": ["iglesia", "estudio bíblico"]}, "exceptions": ["rabbit"]}
/// ```
public struct ProtectedClassLexicon: Sendable, Codable, Equatable {
    /// The class id, equal to the file name without `.json`: `religion`, `veteran-status`.
    public var `class`: String
    /// The class as a reader names it: "Veteran status".
    public var title: String
    /// The law that protects the class, cited in reports so the searcher knows why a flag matters.
    public var law: String
    /// Lower-case English words or phrases in their base form (plurals and derivations
    /// match by themselves, see ``TermForms``); a phrase's words are separated by spaces,
    /// or by a hyphen or slash where the text usually has one ("non-binary", "she/her").
    public var terms: [String]
    /// Terms in the agency's other languages, by ISO 639-1 code: `"es"` (shipped for every
    /// class), `"de"`. Written like `terms`, accents and all ("musulmán"); each language
    /// has its own plural rules. Absent from a file: none.
    public var languages: [String: [String]]
    /// Lower-case single words that contain a term or are one slip from one but are not
    /// about the class ("rabbit" holds "rabbi", "christina" is one letter from
    /// "christian"): the misspelling and run-together rules never flag them; a term written
    /// out as a word is still flagged. Absent from a file: none.
    public var exceptions: [String]

    public init(class: String, title: String, law: String, terms: [String], languages: [String: [String]] = [:], exceptions: [String] = []) {
        self.class = `class`
        self.title = title
        self.law = law
        self.terms = terms
        self.languages = languages
        self.exceptions = exceptions
    }

    private enum CodingKeys: String, CodingKey {
        case `class`, title, law, terms, languages, exceptions
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.class = try container.decode(String.self, forKey: .class)
        title = try container.decode(String.self, forKey: .title)
        law = try container.decode(String.self, forKey: .law)
        terms = try container.decode([String].self, forKey: .terms)
        languages = try container.decodeIfPresent([String: [String]].self, forKey: .languages) ?? [:]
        exceptions = try container.decodeIfPresent([String].self, forKey: .exceptions) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.class, forKey: .class)
        try container.encode(title, forKey: .title)
        try container.encode(law, forKey: .law)
        try container.encode(terms, forKey: .terms)
        if !languages.isEmpty { try container.encode(languages, forKey: .languages) }
        if !exceptions.isEmpty { try container.encode(exceptions, forKey: .exceptions) }
    }

    /// Every term with its language: `terms` as "en", then each of `languages` by code.
    var termsByLanguage: [(language: String, terms: [String])] {
        [("en", terms)] + languages.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// One passage of a text that uses a term of a protected class's lexicon.
public struct ScreeningHit: Sendable, Equatable, Hashable {
    /// The lexicon's class id: `religion`.
    public var `class`: String
    /// The term as the lexicon writes it, in whichever of its languages (the text may
    /// differ in case, accents, line breaks between words, a possessive 's, an inflection,
    /// one slip of spelling, invisible characters, look-alike letters, separated letters,
    /// or by being part of a hashtag; see ``ProtectedClassScreening``).
    public var term: String
    /// Where the matched text starts, counted in Unicode scalars from the start of the
    /// text (the index Python's `str` and `text.unicodeScalars` use).
    public var offset: Int
    /// How many Unicode scalars the matched text spans in the original text, so the
    /// passage can be highlighted or redacted exactly.
    public var length: Int
    /// About 60 characters around the match, whitespace collapsed, "…" where cut:
    /// enough for the searcher to confirm or dismiss the flag. It is itself
    /// protected-class information: for the searcher, never for a decision-maker.
    public var excerpt: String

    public init(class: String, term: String, offset: Int, length: Int, excerpt: String) {
        self.class = `class`
        self.term = term
        self.offset = offset
        self.length = length
        self.excerpt = excerpt
    }
}

/// Flags the passages of a text that touch a protected class (policy IV.B.6, DESIGN §10, §23).
///
/// Matching rules, chosen for recall on social-media text without flagging every page:
///
/// - **Normalisation** (DESIGN §23, ``ScreeningText``). The text is read as NFKD with
///   combining marks dropped (so "ÉGLISE", "Église", "e\u{301}glise" and "ＥＧＬＩＳＥ" are
///   "eglise", and "Quinceanera" matches "quinceañera"), case-folded ("STRASSE" matches
///   "straße"), with zero-width characters, soft hyphens and other invisible characters
///   dropped ("preg\u{AD}nant"), letters that look like Latin ones read as them ("Мuѕlіm"
///   in Cyrillic), three or more single letters separated by one space, dot, hyphen or
///   underscore joined ("M u s l i m", "M.u.s.l.i.m"), and hashtags split where their case
///   changes ("#ProudVeteran"). The typographic apostrophe ’ is read as '. Plain ASCII
///   text without "#" or separated letters is read as it is.
/// - **Whole words.** A word is a run of letters and digits (any script), with the
///   combining marks that follow them, and with an apostrophe between two letters
///   ("o'brien", "jehovah's"). A term matches whole words only: "arm" matches neither
///   "army" nor "harm". Hyphens, slashes, underscores, "#" and "@" separate words:
///   "ex-army" and "proud_veteran" match.
/// - **Inflections** (``TermForms``). Each word of a term also matches its plural in the
///   term's language, and a single English word its "-ism", "-ist" and "-ic" derivations:
///   "arms", "Muslims", "mosques", "armies", "bible studies", "Hinduism", "musulmanes".
///   At one span the term as written wins over an inflection ("veterans" reports the
///   term "veterans", not "veteran").
/// - **Misspellings** (``TypoIndex``). A word that matches no term but is one slip (two
///   letters swapped, one left out, a vowel or doubled letter added, a vowel for a vowel)
///   from a single-word term of eight or more letters matches it: "pregnent",
///   "christain". The lexicon's `exceptions` are never misspellings.
/// - **Run-together tokens** (``RunTogetherIndex``). Inside a hashtag or joined letters, a
///   term of five or more letters (a phrase written without spaces) is found anywhere:
///   "#pregnantlife", "#muslimsofinstagram", "IamMuslim" from "I a m M u s l i m". An
///   ordinary word is never searched inside: "Churchill", "rabbit" and "Indiana" flag
///   nothing.
/// - **Possessives.** A word ending in 's (or ’s) also matches its term without the
///   's, on a term's last word only: "army's" and "Marine Corps’s" match "army" and
///   "marine corps". A plural possessive ("veterans'") already ends before its apostrophe.
/// - **Phrases.** The words of a multi-word term match across any run of whitespace,
///   line breaks included, and at most one hyphen or slash: "bible\nstudy",
///   "African-American", "she / her". Any other punctuation between words breaks
///   the phrase, so a sentence boundary does not join two words.
/// - **Overlaps.** At one position each class reports its longest matching term; a
///   class reports nothing that starts inside its previous hit ("vietnam veteran"
///   is one hit, not two). Different classes may flag the same words ("born in" is
///   age and national origin).
/// - **Where.** A hit's offset, length and excerpt are in the original text, however it
///   was normalised: "M u s l i m" is reported as those eleven characters.
///
/// Scripts written without spaces (Chinese, Japanese, Thai) have no word boundaries
/// this can see; the lexicons are English and Spanish (German for some terms).
///
/// The text is read once, word by word, on its UTF-8 bytes; each word is looked up
/// in a dictionary of the terms' first words and their forms, so the cost grows with
/// the text, not with the number of terms.
///
/// ```swift
/// let screening = try ProtectedClassScreening.load()
/// for hit in screening.hits(in: pageText) {
///     print(hit.class, hit.term, hit.offset, hit.excerpt)
/// }
/// ```
public struct ProtectedClassScreening: Sendable {
    /// The lexicons in force, one per class.
    public var lexicons: [ProtectedClassLexicon] {
        didSet { index = TermIndex(lexicons, normalizing: normalizes) }
    }
    /// Where the lexicons came from: a directory, "embedded", or "given" (built by the
    /// caller), to record which lexicon screened a candidate's pages.
    public var origin: String
    /// False only to measure what DESIGN §23's normalisation costs (`exhibit-bench screen`
    /// in plain mode): the text is then read as it is, and terms match only as written — the
    /// screening of round one. Never for screening a case.
    @_spi(Benchmark) public var normalizes = true {
        didSet { index = TermIndex(lexicons, normalizing: normalizes) }
    }
    private var index: TermIndex

    /// Screens with `lexicons`. Terms that can never match (no word in them, or words
    /// joined by other punctuation) are ignored; ``load(environment:)`` rejects them.
    public init(lexicons: [ProtectedClassLexicon]) {
        self.init(lexicons: lexicons, origin: "given")
    }

    init(lexicons: [ProtectedClassLexicon], origin: String) {
        self.lexicons = lexicons
        self.origin = origin
        index = TermIndex(lexicons, normalizing: true)
    }

    /// Loads the lexicons in force.
    ///
    /// Looked up the way ``CaseTemplates/load(environment:)`` finds the case templates:
    /// `$EXHIBIT_TEMPLATES/lexicons`, then the source tree's CaseTemplates/lexicons
    /// when the binary runs from its build folder, and otherwise the copy compiled into
    /// the binary. A `$EXHIBIT_TEMPLATES` without a lexicons folder (one made before
    /// screening existed) uses the compiled-in copy; ``origin`` says which was used.
    public static func load(environment: [String: String]? = nil) throws(ExhibitError) -> ProtectedClassScreening {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let templates = environment["EXHIBIT_TEMPLATES"] {
            let directory = templates + "/lexicons"
            if FileManager.default.fileExists(atPath: directory) {
                return try load(directory: directory)
            }
            return try embedded()
        }
        let sourceTree = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CaseTemplates").appendingPathComponent("lexicons").path
        if FileManager.default.fileExists(atPath: sourceTree + "/religion.json") {
            return try load(directory: sourceTree)
        }
        return try embedded()
    }

    /// The lexicons compiled into the binary (scripts/embed-templates writes them).
    public static func embedded() throws(ExhibitError) -> ProtectedClassScreening {
        var lexicons: [ProtectedClassLexicon] = []
        for (name, text) in EmbeddedLexicons.files.sorted(by: { $0.key < $1.key }) {
            lexicons.append(try decode(Array(text.utf8), name: name, origin: "embedded \(name)"))
        }
        return try validated(lexicons, origin: "embedded")
    }

    /// Loads every `<class>.json` of `directory`.
    public static func load(directory: String) throws(ExhibitError) -> ProtectedClassScreening {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ExhibitError(.storage, "Cannot read the protected-class lexicons in \(directory): \(error.localizedDescription)")
        }
        var lexicons: [ProtectedClassLexicon] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = directory + "/" + name
            lexicons.append(try decode(try AtomicFile.read(path), name: name, origin: path))
        }
        return try validated(lexicons, origin: directory)
    }

    static func decode(_ bytes: [UInt8], name: String, origin: String) throws(ExhibitError) -> ProtectedClassLexicon {
        let lexicon: ProtectedClassLexicon
        do {
            lexicon = try JSONDecoder().decode(ProtectedClassLexicon.self, from: Data(bytes))
        } catch {
            throw ExhibitError(.storage, "The protected-class lexicon \(origin) is not valid: \(error).")
        }
        // The file name is the class id, so a copied file cannot silently screen a
        // class twice while another goes unscreened.
        guard name == lexicon.class + ".json" else {
            throw ExhibitError(.storage, "The protected-class lexicon \(origin) names the class \"\(lexicon.class)\"; rename the file \(lexicon.class).json or correct its class.")
        }
        return lexicon
    }

    /// Rejects lexicon sets that would screen less than they seem to: none at all, a
    /// class with no terms, a term that can never match, a language that is not a code,
    /// or an exception that is not one word.
    static func validated(_ lexicons: [ProtectedClassLexicon], origin: String) throws(ExhibitError) -> ProtectedClassScreening {
        guard !lexicons.isEmpty else {
            throw ExhibitError(.storage, "No protected-class lexicons in \(origin).")
        }
        for lexicon in lexicons {
            guard !lexicon.terms.isEmpty else {
                throw ExhibitError(.storage, "The protected-class lexicon \(lexicon.class) in \(origin) has no terms.")
            }
            for (language, terms) in lexicon.termsByLanguage {
                guard (2...3).contains(language.utf8.count), language.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else {
                    throw ExhibitError(.storage, "The protected-class lexicon \(lexicon.class) in \(origin) lists terms for \"\(language)\": name a language by its ISO 639-1 code, such as \"es\".")
                }
                for term in terms where TermIndex.words(of: term) == nil {
                    throw ExhibitError(.storage, "The term \"\(term)\" of the protected-class lexicon \(lexicon.class) in \(origin) can never match: write its words separated by spaces, or by one hyphen or slash.")
                }
            }
            for exception in lexicon.exceptions where TermIndex.words(of: exception)?.count != 1 {
                throw ExhibitError(.storage, "The exception \"\(exception)\" of the protected-class lexicon \(lexicon.class) in \(origin) is not one word.")
            }
        }
        return ProtectedClassScreening(lexicons: lexicons, origin: origin)
    }

    /// The passages of `text` that use a lexicon term, sorted by offset, then class.
    public func hits(in text: String) -> [ScreeningHit] {
        var text = text
        let index = index
        let normalizes = normalizes
        // withUTF8 gives contiguous bytes (copying a bridged or lazy string once), so
        // the scan is a loop over a buffer.
        return text.withUTF8 { original in
            var scanner = TextScanner(original)
            guard normalizes else { return Self.hits(Self.screen(&scanner, index), scanner, index) }
            let prepared = ScreeningText(original)
            if prepared.bytes == nil && prepared.runTogether.isEmpty {
                // Plain text: read as it is, offsets counted by the scanner.
                return Self.hits(Self.screen(&scanner, index), scanner, index)
            }
            func screenPrepared(_ bytes: UnsafeBufferPointer<UInt8>) -> [Match] {
                var scanner = TextScanner(bytes)
                var matches = Self.screen(&scanner, index)
                matches = Self.merge(matches, Self.runTogether(prepared.runTogether, bytes, index))
                for k in matches.indices {
                    matches[k].bytes = prepared.originalRange(matches[k].bytes, in: original)
                }
                return matches
            }
            let matches = prepared.bytes.map { $0.withUnsafeBufferPointer(screenPrepared) } ?? screenPrepared(original)
            return Self.hits(Self.locate(matches, in: original, isASCII: prepared.isASCII), scanner, index)
        }
    }

    /// A term found in the text: byte range in the bytes screened (later in the original),
    /// scalar range in the original once known.
    struct Match {
        var classID: Int
        var term: String
        var bytes: Range<Int>
        var scalars: Range<Int>
    }

    private static func hits(_ matches: [Match], _ original: TextScanner, _ index: TermIndex) -> [ScreeningHit] {
        matches.map { match in
            ScreeningHit(
                class: index.classes[match.classID], term: match.term, offset: match.scalars.lowerBound,
                length: match.scalars.count, excerpt: original.excerpt(from: match.bytes.lowerBound, to: match.bytes.upperBound))
        }
    }

    private static func screen(_ scanner: inout TextScanner, _ index: TermIndex) -> [Match] {
        var matches: [Match] = []
        // Per class, the scalar offset where its last hit ends: a class reports nothing
        // inside its own previous hit.
        var coveredUntil = [Int](repeating: 0, count: index.classes.count)
        var best = [(entry: Int, end: Word, inflected: Bool)?](repeating: nil, count: index.classes.count)
        var lookahead = Lookahead()
        var byte = 0, scalar = 0
        while let word = scanner.nextWord(from: byte, scalar: scalar, joined: false) {
            byte = word.end
            scalar = word.scalarEnd
            let mayStart = index.mayStart(word)
            // Most words of a page start no term and are too short to be a misspelling of one.
            guard mayStart || word.end - word.start >= TypoIndex.minimumWordLength else { continue }
            var matched: [Int] = []
            func consider(_ entry: Int, _ end: Word, inflected: Bool) {
                let classID = index.entries[entry].classID
                guard word.scalarStart >= coveredUntil[classID] else { return }
                if let current = best[classID] {
                    let longer = end.scalarEnd > current.end.scalarEnd
                    let same = end.scalarEnd == current.end.scalarEnd
                    // At one span the term as written beats an inflection, then lexicon order.
                    let better = same && (current.inflected && !inflected
                        || current.inflected == inflected && index.entries[entry].rank < index.entries[current.entry].rank)
                    if longer || better { best[classID] = (entry, end, inflected) }
                } else {
                    best[classID] = (entry, end, inflected)
                    matched.append(classID)
                }
            }
            var misspelled: [Int] = []
            if mayStart {
                let key = scanner.key(word)
                let exact = index.byFirstWord[key]
                let stem = word.hasApostrophe ? TermIndex.possessiveStem(key) : nil
                let viaStem = stem.flatMap { index.byFirstWord[$0] }
                if exact == nil && viaStem == nil {
                    misspelled = index.misspellings(of: word, in: scanner.bytes)
                } else {
                    lookahead.reset(after: word)
                    for start in exact ?? [] {
                        let words = index.entries[start.entry].words
                        if words.count == 1 {
                            consider(start.entry, word, inflected: start.inflected)
                        } else if let (end, inflected) = lookahead.follow(words, &scanner) {
                            consider(start.entry, end, inflected: start.inflected || inflected)
                        }
                    }
                    // A possessive matches single-word terms by its stem; for a phrase only its
                    // last word may carry the 's (checked in follow).
                    for start in viaStem ?? [] where index.entries[start.entry].words.count == 1 {
                        consider(start.entry, word, inflected: start.inflected)
                    }
                }
            } else {
                misspelled = index.misspellings(of: word, in: scanner.bytes)
            }
            for entry in misspelled { consider(entry, word, inflected: true) }
            guard !matched.isEmpty else { continue }
            // Class ids are assigned in class-name order, so hits at one offset come out
            // sorted by class, and offsets only grow: the result needs no sort.
            for classID in matched.sorted() {
                guard let (entry, end, _) = best[classID] else { continue }
                best[classID] = nil
                coveredUntil[classID] = end.scalarEnd
                matches.append(Match(
                    classID: classID, term: index.entries[entry].term, bytes: word.start..<end.end,
                    scalars: word.scalarStart..<end.scalarEnd))
            }
        }
        return matches
    }

    /// Terms inside the run-together tokens (``RunTogetherIndex``) of `bytes`.
    private static func runTogether(_ ranges: [Range<Int>], _ bytes: UnsafeBufferPointer<UInt8>, _ index: TermIndex) -> [Match] {
        var matches: [Match] = []
        for range in ranges {
            // The token's letters, lower-cased, with the byte each came from. Inserted
            // spaces and underscores are skipped; anything else (digits, other scripts)
            // separates two stretches of letters.
            var stretches: [[(letter: UInt8, at: Int)]] = [[]]
            for at in range {
                let byte = bytes[at]
                if ScreeningNormalizer.isASCIILetter(byte) {
                    stretches[stretches.count - 1].append((byte | 0x20, at))
                } else if byte != 0x20 && byte != 0x5F && !stretches[stretches.count - 1].isEmpty {
                    stretches.append([])
                }
            }
            for stretch in stretches where stretch.count >= RunTogetherIndex.minimumLength {
                for hit in Self.runTogetherHits(index.runTogether.occurrences(in: stretch.map(\.letter)), classes: index.classes.count) {
                    matches.append(Match(
                        classID: hit.classID, term: index.entries[hit.entry].term,
                        bytes: stretch[hit.start].at..<stretch[hit.end - 1].at + 1, scalars: 0..<0))
                }
            }
        }
        return matches
    }

    /// Per class, from the left, the longest term at each start that lies inside no
    /// exception of the class and starts after the class's previous hit. One walk over the
    /// occurrences (sorted by start, then end), however long the token.
    private static func runTogetherHits(_ occurrences: [RunTogetherIndex.Occurrence], classes: Int)
        -> [(start: Int, end: Int, classID: Int, entry: Int)] {
        var hits: [(start: Int, end: Int, classID: Int, entry: Int)] = []
        var coveredUntil = [Int](repeating: 0, count: classes)
        // Per class, the furthest end of an exception starting at or before the current start:
        // a term ending within it lies inside that exception.
        var exceptedUntil = [Int](repeating: 0, count: classes)
        var k = 0
        while k < occurrences.count {
            let start = occurrences[k].start
            var group = k
            while group < occurrences.count && occurrences[group].start == start { group += 1 }
            for occurrence in occurrences[k..<group] {
                for item in occurrence.items where item.entry == nil {
                    exceptedUntil[item.classID] = max(exceptedUntil[item.classID], occurrence.end)
                }
            }
            var longest: [Int: (end: Int, entry: Int)] = [:]
            for occurrence in occurrences[k..<group] {
                for item in occurrence.items {
                    guard let entry = item.entry, start >= coveredUntil[item.classID],
                          exceptedUntil[item.classID] < occurrence.end else { continue }
                    if occurrence.end > longest[item.classID]?.end ?? 0 { longest[item.classID] = (occurrence.end, entry) }
                }
            }
            for (classID, hit) in longest.sorted(by: { $0.key < $1.key }) {
                hits.append((start, hit.end, classID, hit.entry))
                coveredUntil[classID] = hit.end
            }
            k = group
        }
        return hits
    }

    /// Word matches and run-together matches together, sorted by place then class; a
    /// run-together match that overlaps another match of its class is left out.
    private static func merge(_ words: [Match], _ runTogether: [Match]) -> [Match] {
        guard !runTogether.isEmpty else { return words }
        let longestWord = words.map(\.bytes.count).max() ?? 0
        var all = words
        var keptUntil: [Int: Int] = [:]
        for match in runTogether.sorted(by: { $0.bytes.lowerBound < $1.bytes.lowerBound }) {
            guard match.bytes.lowerBound >= keptUntil[match.classID] ?? 0 else { continue }
            // Word matches are sorted by start: only those starting less than the longest
            // one's length before it, up to its end, can overlap it.
            var low = 0, high = words.count
            while low < high {
                let middle = (low + high) / 2
                if words[middle].bytes.lowerBound < match.bytes.upperBound { low = middle + 1 } else { high = middle }
            }
            var overlaps = false
            var k = low - 1
            while k >= 0 && words[k].bytes.lowerBound >= match.bytes.lowerBound - longestWord {
                if words[k].classID == match.classID && words[k].bytes.overlaps(match.bytes) {
                    overlaps = true
                    break
                }
                k -= 1
            }
            if !overlaps {
                all.append(match)
                keptUntil[match.classID] = match.bytes.upperBound
            }
        }
        return all.sorted { ($0.bytes.lowerBound, $0.classID) < ($1.bytes.lowerBound, $1.classID) }
    }

    /// Scalar offsets in the original for matches whose bytes are original byte ranges.
    private static func locate(_ matches: [Match], in original: UnsafeBufferPointer<UInt8>, isASCII: Bool) -> [Match] {
        var located = matches
        // Starts only grow (the maps keep the order), so one walk counts them all.
        var byte = 0, scalar = 0
        for k in located.indices {
            let range = located[k].bytes
            if isASCII {
                located[k].scalars = range
                continue
            }
            if range.lowerBound < byte {
                byte = 0
                scalar = 0
            }
            scalar += scalarCount(original, byte..<range.lowerBound)
            byte = range.lowerBound
            located[k].scalars = scalar..<scalar + scalarCount(original, range)
        }
        return located
    }

    /// How many Unicode scalars start in `range` of UTF-8 `bytes`: every byte but the
    /// continuation bytes (10xxxxxx), counted eight at a time.
    static func scalarCount(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        var count = 0
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            // Bit 7 of each byte set where bit 7 is 1 and bit 6 is 0: a continuation byte.
            let continuation = word & ~(word << 1) & 0x8080_8080_8080_8080
            count += 8 - continuation.nonzeroBitCount
            i += 8
        }
        while i < range.upperBound {
            if bytes[i] & 0xC0 != 0x80 { count += 1 }
            i += 1
        }
        return count
    }
}

/// The terms of all lexicons, by their first word and its forms, with the misspelling
/// and run-together indexes.
struct TermIndex: Sendable {
    struct Entry: Sendable {
        var classID: Int
        var term: String
        /// The term's folded words; for each, the word itself first, then the forms it
        /// also matches (``TermForms``).
        var words: [[String]]
        /// Position in the lexicons, to break ties the same way every time.
        var rank: Int
    }

    /// An entry whose first word is a key of ``byFirstWord``.
    struct Start: Sendable {
        var entry: Int
        /// The key is a form of the term's first word, not the word itself.
        var inflected: Bool
    }

    /// Class ids, sorted; a class's index in this array is its `classID`.
    var classes: [String]
    var entries: [Entry] = []
    var byFirstWord: [String: [Start]] = [:]
    var typos = TypoIndex()
    var runTogether = RunTogetherIndex()
    /// Per class, the folded words its misspelling and run-together rules never flag.
    var exceptions: [Set<String>]
    /// One bit per hash of an ASCII first word (65,536 bits): most words of a page
    /// start no term, and this says so without building a String for them.
    private var firstWordHashes = [UInt64](repeating: 0, count: 1024)

    /// With `normalizing` false, terms match only as written (see
    /// ``ProtectedClassScreening/normalizes``).
    init(_ lexicons: [ProtectedClassLexicon], normalizing: Bool) {
        classes = Array(Set(lexicons.map(\.class))).sorted()
        exceptions = Array(repeating: [], count: classes.count)
        let ids = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var seen = Set<[String]>()
        for lexicon in lexicons {
            let classID = ids[lexicon.class]!
            for (language, terms) in lexicon.termsByLanguage {
                for term in terms {
                    // "dark skinned" and "dark-skinned" are the same words: index them once.
                    guard let words = Self.words(of: term), seen.insert([lexicon.class] + words).inserted else { continue }
                    var forms = words.map { [$0] }
                    if normalizing {
                        for k in words.indices {
                            forms[k] += TermForms.forms(of: words[k], language: language, singleWord: words.count == 1)
                        }
                    }
                    let entry = entries.count
                    entries.append(Entry(classID: classID, term: term, words: forms, rank: entry))
                    for (k, form) in forms[0].enumerated() {
                        byFirstWord[form, default: []].append(Start(entry: entry, inflected: k > 0))
                    }
                    guard normalizing else { continue }
                    if words.count == 1 && TypoIndex.isTermWord(words[0]) {
                        typos.add(words[0], entry: entry, classID: classID)
                    }
                    if let letters = RunTogetherIndex.letters(of: words.joined()) {
                        runTogether.add(letters, .init(entry: entry, classID: classID))
                    }
                }
            }
            guard normalizing else { continue }
            for exception in lexicon.exceptions {
                guard let word = Self.words(of: exception)?.first else { continue }
                exceptions[classID].insert(word)
                if let letters = RunTogetherIndex.letters(of: word) {
                    runTogether.add(letters, .init(entry: nil, classID: classID))
                }
            }
        }
        // Only ASCII keys get a bit: an ASCII word of the text cannot equal any other.
        for key in byFirstWord.keys where key.utf8.allSatisfy({ $0 < 0x80 }) {
            let hash = key.utf8.reduce(TextScanner.hashSeed, TextScanner.hash)
            firstWordHashes[Int(hash & 0xFFFF) >> 6] |= 1 << UInt64(hash & 63)
        }
    }

    /// False when `word` certainly starts no term. Words with an apostrophe are looked
    /// up anyway: their possessive stem has another hash.
    func mayStart(_ word: Word) -> Bool {
        guard word.isASCII && !word.hasApostrophe else { return true }
        return firstWordHashes[Int(word.hash & 0xFFFF) >> 6] & (1 << UInt64(word.hash & 63)) != 0
    }

    /// The single-word term entries `word` is a slip of (see ``TypoIndex``), leaving out
    /// the exceptions of each term's class.
    func misspellings(of word: Word, in text: UnsafeBufferPointer<UInt8>) -> [Int] {
        var end = word.end
        if word.hasApostrophe {
            // "grandmohter's": the slip is in the word before its possessive 's.
            guard end - word.start > 2, text[end - 2] == 0x27, text[end - 1] | 0x20 == 0x73 else { return [] }
            end -= 2
        }
        guard word.isASCII, end - word.start >= TypoIndex.minimumWordLength else { return [] }
        let bytes = UnsafeBufferPointer(rebasing: text[word.start..<end])
        let candidates = typos.candidates(for: bytes)
        guard !candidates.isEmpty else { return [] }
        let key = String(decoding: bytes, as: UTF8.self).lowercased()
        return candidates.map { typos.candidates[$0] }.filter { !exceptions[$0.classID].contains(key) }.map(\.entry)
    }

    /// A term's folded words, split as text is split; nil when it has none, or when
    /// its words are separated by something a phrase in the text cannot match across.
    static func words(of term: String) -> [String]? {
        var term = ScreeningNormalizer.foldCharacters(term)
        return term.withUTF8 { bytes -> [String]? in
            var scanner = TextScanner(bytes)
            guard var word = scanner.nextWord(from: 0, scalar: 0, joined: false) else { return nil }
            var words = [scanner.key(word)]
            while let next = scanner.nextWord(from: word.end, scalar: word.scalarEnd, joined: true) {
                words.append(scanner.key(next))
                word = next
            }
            // Anything after the last joined word must be punctuation, not another word.
            if scanner.nextWord(from: word.end, scalar: word.scalarEnd, joined: false) != nil { return nil }
            return words
        }
    }

    /// "army's" → "army"; nil for a word that is not a possessive.
    static func possessiveStem(_ key: String) -> String? {
        guard key.hasSuffix("'s"), key.utf8.count > 2 else { return nil }
        return String(key.dropLast(2))
    }
}

/// A word of the text: byte range in its UTF-8, and the same range in Unicode scalars.
struct Word: Equatable {
    var start: Int
    var end: Int
    var scalarStart: Int
    var scalarEnd: Int
    var isASCII: Bool
    var hasApostrophe: Bool
    /// For an ASCII word, the FNV-1a hash of its lower-cased bytes.
    var hash: UInt32
}

/// The words after a candidate first word, read once however many phrases start there.
private struct Lookahead {
    private var first = Word(start: 0, end: 0, scalarStart: 0, scalarEnd: 0, isASCII: true, hasApostrophe: false, hash: 0)
    private var words: [(word: Word, key: String)] = []
    private var exhausted = false

    mutating func reset(after word: Word) {
        first = word
        words.removeAll(keepingCapacity: true)
        exhausted = false
    }

    /// The last word of the phrase `terms` (each word with its forms) when the words after
    /// the first one match it, and whether any matched by a form; else nil.
    mutating func follow(_ terms: [[String]], _ scanner: inout TextScanner) -> (Word, Bool)? {
        var last = first
        var inflected = false
        for i in 1..<terms.count {
            if i > words.count {
                guard !exhausted, let next = scanner.nextWord(from: last.end, scalar: last.scalarEnd, joined: true) else {
                    exhausted = true
                    return nil
                }
                words.append((next, scanner.key(next)))
            }
            let (word, key) = words[i - 1]
            let isLast = i == terms.count - 1
            if key == terms[i][0] {
                // The word as written.
            } else if terms[i].contains(key) {
                inflected = true
            } else if isLast && word.hasApostrophe, let stem = TermIndex.possessiveStem(key), terms[i].contains(stem) {
                inflected = inflected || stem != terms[i][0]
            } else {
                return nil
            }
            last = word
        }
        return (last, inflected)
    }
}

/// Splits UTF-8 text into words (see ``ProtectedClassScreening`` for what a word is)
/// and folds them for lookup.
///
/// Written for debug builds too, where nothing is inlined: the per-byte work is
/// integer comparisons on the bytes, and a word is only turned into a String when
/// its hash says it may start a term.
struct TextScanner {
    // Character classes as plain integers: comparing enum cases calls a function in
    // debug builds, once per character.
    static let other: UInt8 = 0, letter: UInt8 = 1, mark: UInt8 = 2, apostrophe: UInt8 = 3
    static let connector: UInt8 = 4, whitespace: UInt8 = 5

    let bytes: UnsafeBufferPointer<UInt8>
    /// Folding a non-ASCII word goes through Foundation; real text repeats its words,
    /// so each distinct one is folded once.
    private var foldCache: [String: String] = [:]

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// FNV-1a, one step: the hash of an ASCII word's lower-cased bytes, computed while
    /// it is read (see ``TermIndex/mayStart(_:)``).
    static func hash(_ hash: UInt32, _ lowerCased: UInt8) -> UInt32 {
        (hash ^ UInt32(lowerCased)) &* 16_777_619
    }

    static let hashSeed: UInt32 = 2_166_136_261

    private static func asciiKind(_ byte: UInt8) -> UInt8 {
        if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) {
            return letter
        }
        if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { return whitespace }
        if byte == 0x2D || byte == 0x2F { return connector }
        if byte == 0x27 { return apostrophe }
        return other
    }

    /// The non-ASCII scalar starting at byte `i`. The bytes came from a Swift String,
    /// so they are valid UTF-8.
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        ScreeningNormalizer.decode(bytes, i).value
    }

    /// Unicode's White_Space property above ASCII (PropList.txt): a fixed list, cheaper
    /// to compare than a property lookup.
    private static func isWhitespace(_ value: UInt32) -> Bool {
        value == 0x85 || value == 0xA0 || value == 0x1680 || (value >= 0x2000 && value <= 0x200A)
            || value == 0x2028 || value == 0x2029 || value == 0x202F || value == 0x205F || value == 0x3000
    }

    /// The class of the non-ASCII scalar starting at byte `i`, and its length in bytes.
    private func decodedKind(at i: Int) -> (kind: UInt8, length: Int) {
        let lead = bytes[i]
        let length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
        let value = Self.decode(bytes, i)
        if Self.isWhitespace(value) { return (Self.whitespace, length) }
        if value == 0x2019 { return (Self.apostrophe, length) }
        if value == 0x2010 || value == 0x2011 { return (Self.connector, length) }
        // Variation selectors turn the character before them into an emoji ("❤️"):
        // they end a word rather than continue it.
        if (value >= 0xFE00 && value <= 0xFE0F) || (value >= 0xE0100 && value <= 0xE01EF) { return (Self.other, length) }
        guard let scalar = Unicode.Scalar(value) else { return (Self.other, length) }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.numericType != nil { return (Self.letter, length) }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return (Self.mark, length)
        default: return (Self.other, length)
        }
    }

    private func kind(at i: Int) -> (kind: UInt8, length: Int) {
        let byte = bytes[i]
        return byte < 0x80 ? (Self.asciiKind(byte), 1) : decodedKind(at: i)
    }

    /// The next word at or after byte `from` (`scalar` is that byte's scalar index).
    /// When `joined`, the gap before the word must be one a phrase spans —
    /// whitespace and at most one hyphen or slash — or the result is nil.
    func nextWord(from: Int, scalar: Int, joined: Bool) -> Word? {
        let count = bytes.count
        var i = from, s = scalar
        var connectors = 0
        while i < count {
            let byte = bytes[i]
            if byte == 0x20 {
                i += 1
                s += 1
                continue
            }
            let (kind, length) = byte < 0x80 ? (Self.asciiKind(byte), 1) : decodedKind(at: i)
            if kind == Self.letter { break }
            if joined {
                if kind == Self.connector {
                    connectors += 1
                    if connectors > 1 { return nil }
                } else if kind != Self.whitespace {
                    return nil
                }
            }
            i += length
            s += 1
        }
        guard i < count else { return nil }
        var word = Word(start: i, end: i, scalarStart: s, scalarEnd: s, isASCII: true, hasApostrophe: false, hash: Self.hashSeed)
        var hash = Self.hashSeed
        while i < count {
            let byte = bytes[i]
            // ASCII letters and digits, the bulk of any page, without a call.
            if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) {
                hash = Self.hash(hash, byte)
                i += 1
                s += 1
                continue
            }
            if byte >= 0x41 && byte <= 0x5A {
                hash = Self.hash(hash, byte + 0x20)
                i += 1
                s += 1
                continue
            }
            let (kind, length) = byte < 0x80 ? (Self.asciiKind(byte), 1) : decodedKind(at: i)
            if kind == Self.apostrophe {
                // Part of the word only between two letters: "o'brien", "army's", not
                // the quotes in "'army'" nor the plural possessive in "veterans'".
                guard i + length < count, self.kind(at: i + length).kind == Self.letter else { break }
                word.hasApostrophe = true
                hash = Self.hash(hash, byte)
            } else if kind != Self.letter && kind != Self.mark {
                break
            }
            if length > 1 { word.isASCII = false }
            i += length
            s += 1
        }
        word.end = i
        word.scalarEnd = s
        word.hash = hash
        return word
    }

    /// The word folded for lookup (see ``ProtectedClassScreening``).
    mutating func key(_ word: Word) -> String {
        let count = word.end - word.start
        if word.isASCII {
            // For ASCII, case folding is lower-casing and there are no accents: skip
            // Foundation, which is most of the time spent on English text.
            return String(unsafeUninitializedCapacity: count) { buffer in
                for i in 0..<count {
                    let byte = bytes[word.start + i]
                    buffer[i] = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
                }
                return count
            }
        }
        let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[word.start..<word.end]), as: UTF8.self)
        if let folded = foldCache[raw] { return folded }
        let folded = raw.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .replacingOccurrences(of: "\u{2019}", with: "'")
            .replacingOccurrences(of: "\u{02BC}", with: "'")
        // Bounded so a text of endless distinct words cannot grow the cache without limit.
        if foldCache.count < 100_000 { foldCache[raw] = folded }
        return folded
    }

    /// The matched bytes with up to 30 scalars either side, whitespace collapsed to
    /// single spaces, "…" where the text goes on.
    func excerpt(from start: Int, to end: Int) -> String {
        let count = bytes.count
        var low = start, high = end
        for _ in 0..<30 where low > 0 {
            low -= 1
            while low > 0 && bytes[low] & 0xC0 == 0x80 { low -= 1 }
        }
        for _ in 0..<30 where high < count {
            high += 1
            while high < count && bytes[high] & 0xC0 == 0x80 { high += 1 }
        }
        // At most the bytes themselves plus two "…" (3 bytes each): collapsing only shrinks.
        return String(unsafeUninitializedCapacity: high - low + 6) { buffer in
            let ellipsis: (UInt8, UInt8, UInt8) = (0xE2, 0x80, 0xA6)
            var written = 0
            if low > 0 {
                (buffer[0], buffer[1], buffer[2]) = ellipsis
                written = 3
            }
            let textStart = written
            var pendingSpace = false
            var i = low
            while i < high {
                let byte = bytes[i]
                if byte < 0x80 {
                    if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                        pendingSpace = true
                    } else {
                        if pendingSpace && written > textStart {
                            buffer[written] = 0x20
                            written += 1
                        }
                        pendingSpace = false
                        buffer[written] = byte
                        written += 1
                    }
                    i += 1
                    continue
                }
                let length = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                if Self.isWhitespace(Self.decode(bytes, i)) {
                    pendingSpace = true
                } else {
                    if pendingSpace && written > textStart {
                        buffer[written] = 0x20
                        written += 1
                    }
                    pendingSpace = false
                    for j in 0..<length { buffer[written + j] = bytes[i + j] }
                    written += length
                }
                i += length
            }
            if high < count {
                (buffer[written], buffer[written + 1], buffer[written + 2]) = ellipsis
                written += 3
            }
            return written
        }
    }
}
