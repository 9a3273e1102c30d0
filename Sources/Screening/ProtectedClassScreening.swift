public import ChainOfCustody
import Foundation

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
        var lexicons: [ProtectedClassLexicon] = []
        for file in try AtomicFile.readJSONFiles(in: directory, what: "protected-class lexicons") {
            lexicons.append(try decode(file.bytes, name: file.name, origin: file.path))
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
