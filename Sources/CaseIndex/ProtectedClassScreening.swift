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
/// {"class": "religion", "title": "Religion", "law": "Title VII …", "terms": ["church", "bible study"]}
/// ```
public struct ProtectedClassLexicon: Sendable, Codable, Equatable {
    /// The class id, equal to the file name without `.json`: `religion`, `veteran-status`.
    public var `class`: String
    /// The class as a reader names it: "Veteran status".
    public var title: String
    /// The law that protects the class, cited in reports so the searcher knows why a flag matters.
    public var law: String
    /// Lower-case words or phrases; a phrase's words are separated by spaces, or by a
    /// hyphen or slash where the text usually has one ("non-binary", "she/her").
    public var terms: [String]

    public init(class: String, title: String, law: String, terms: [String]) {
        self.class = `class`
        self.title = title
        self.law = law
        self.terms = terms
    }
}

/// One passage of a text that uses a term of a protected class's lexicon.
public struct ScreeningHit: Sendable, Equatable, Hashable {
    /// The lexicon's class id: `religion`.
    public var `class`: String
    /// The term as the lexicon writes it (the text may differ in case, accents,
    /// line breaks between words, or a possessive 's).
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

/// Flags the passages of a text that touch a protected class (policy IV.B.6, DESIGN §10).
///
/// Matching rules, chosen for recall on social-media text without flagging every page:
///
/// - **Folding.** Text and terms are compared after Unicode case folding, removing
///   diacritics and width variants (Foundation's `folding` with `.caseInsensitive`,
///   `.diacriticInsensitive`, `.widthInsensitive`): "ÉGLISE", "Église" and "eglise"
///   are one word, "STRASSE" matches "straße", and "Quinceanera" matches
///   "quinceañera". People drop accents when they type, and a missed flag costs
///   more than a dismissed one. The typographic apostrophe ’ is read as '.
/// - **Whole words.** A word is a run of letters and digits (any script), with the
///   combining marks that follow them, and with an apostrophe between two letters
///   ("o'brien", "jehovah's"). A term matches whole words only: "arm" matches neither
///   "army" nor "harm". Hyphens, slashes, underscores, "#" and "@" separate words, so
///   "#ProudVeteran" does not match "veteran" but "ex-army" and "proud_veteran" do.
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
///
/// Scripts written without spaces (Chinese, Japanese, Thai) have no word boundaries
/// this can see; the lexicons are English.
///
/// The text is read once, word by word, on its UTF-8 bytes; each word is looked up
/// in a dictionary of the terms' first words, so the cost grows with the text, not
/// with the number of terms.
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
        didSet { index = TermIndex(lexicons) }
    }
    /// Where the lexicons came from: a directory, "embedded", or "given" (built by the
    /// caller), to record which lexicon screened a candidate's pages.
    public var origin: String
    private var index: TermIndex

    /// Screens with `lexicons`. Terms that can never match (no word in them, or words
    /// joined by other punctuation) are ignored; ``load(environment:)`` rejects them.
    public init(lexicons: [ProtectedClassLexicon]) {
        self.init(lexicons: lexicons, origin: "given")
    }

    init(lexicons: [ProtectedClassLexicon], origin: String) {
        self.lexicons = lexicons
        self.origin = origin
        index = TermIndex(lexicons)
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
    /// class with no terms, or a term that can never match.
    static func validated(_ lexicons: [ProtectedClassLexicon], origin: String) throws(ExhibitError) -> ProtectedClassScreening {
        guard !lexicons.isEmpty else {
            throw ExhibitError(.storage, "No protected-class lexicons in \(origin).")
        }
        for lexicon in lexicons {
            guard !lexicon.terms.isEmpty else {
                throw ExhibitError(.storage, "The protected-class lexicon \(lexicon.class) in \(origin) has no terms.")
            }
            for term in lexicon.terms where TermIndex.words(of: term) == nil {
                throw ExhibitError(.storage, "The term \"\(term)\" of the protected-class lexicon \(lexicon.class) in \(origin) can never match: write its words separated by spaces, or by one hyphen or slash.")
            }
        }
        return ProtectedClassScreening(lexicons: lexicons, origin: origin)
    }

    /// The passages of `text` that use a lexicon term, sorted by offset, then class.
    public func hits(in text: String) -> [ScreeningHit] {
        var text = text
        let index = index
        // withUTF8 gives contiguous bytes (copying a bridged or lazy string once), so
        // the scan is a loop over a buffer.
        return text.withUTF8 { bytes in
            var scanner = TextScanner(bytes)
            return Self.screen(&scanner, index)
        }
    }

    private static func screen(_ scanner: inout TextScanner, _ index: TermIndex) -> [ScreeningHit] {
        var hits: [ScreeningHit] = []
        // Per class, the scalar offset where its last hit ends: a class reports nothing
        // inside its own previous hit.
        var coveredUntil = [Int](repeating: 0, count: index.classes.count)
        var best = [(entry: TermIndex.Entry, end: Word)?](repeating: nil, count: index.classes.count)
        var lookahead = Lookahead()
        var byte = 0, scalar = 0
        while let word = scanner.nextWord(from: byte, scalar: scalar, joined: false) {
            byte = word.end
            scalar = word.scalarEnd
            guard index.mayStart(word) else { continue }
            let key = scanner.key(word)
            let exact = index.byFirstWord[key]
            let stem = word.hasApostrophe ? TermIndex.possessiveStem(key) : nil
            let viaStem = stem.flatMap { index.byFirstWord[$0] }
            if exact == nil && viaStem == nil { continue }

            lookahead.reset(after: word)
            var matched: [Int] = []
            func consider(_ entry: TermIndex.Entry, _ end: Word) {
                guard word.scalarStart >= coveredUntil[entry.classID] else { return }
                if let current = best[entry.classID] {
                    let longer = end.scalarEnd > current.end.scalarEnd
                    let earlier = end.scalarEnd == current.end.scalarEnd && entry.rank < current.entry.rank
                    if longer || earlier { best[entry.classID] = (entry, end) }
                } else {
                    best[entry.classID] = (entry, end)
                    matched.append(entry.classID)
                }
            }
            for entry in exact ?? [] {
                if entry.words.count == 1 {
                    consider(entry, word)
                } else if let end = lookahead.follow(entry.words, &scanner) {
                    consider(entry, end)
                }
            }
            // A possessive matches single-word terms by its stem; for a phrase only its
            // last word may carry the 's (checked in follow).
            for entry in viaStem ?? [] where entry.words.count == 1 {
                consider(entry, word)
            }
            // Class ids are assigned in class-name order, so hits at one offset come out
            // sorted by class, and offsets only grow: the result needs no sort.
            for classID in matched.sorted() {
                guard let (entry, end) = best[classID] else { continue }
                best[classID] = nil
                coveredUntil[classID] = end.scalarEnd
                hits.append(ScreeningHit(
                    class: index.classes[classID], term: entry.term, offset: word.scalarStart,
                    length: end.scalarEnd - word.scalarStart,
                    excerpt: scanner.excerpt(from: word.start, to: end.end)))
            }
        }
        return hits
    }
}

/// The terms of all lexicons, by their first word.
struct TermIndex: Sendable {
    struct Entry: Sendable {
        var classID: Int
        var term: String
        /// The term's folded words.
        var words: [String]
        /// Position in the lexicons, to break ties the same way every time.
        var rank: Int
    }

    /// Class ids, sorted; a class's index in this array is its `classID`.
    var classes: [String]
    var byFirstWord: [String: [Entry]] = [:]
    /// One bit per hash of an ASCII first word (65,536 bits): most words of a page
    /// start no term, and this says so without building a String for them.
    private var firstWordHashes = [UInt64](repeating: 0, count: 1024)

    init(_ lexicons: [ProtectedClassLexicon]) {
        classes = Array(Set(lexicons.map(\.class))).sorted()
        let ids = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var seen = Set<[String]>()
        var rank = 0
        for lexicon in lexicons {
            let classID = ids[lexicon.class]!
            for term in lexicon.terms {
                // "dark skinned" and "dark-skinned" are the same words: index them once.
                guard let words = Self.words(of: term), seen.insert([lexicon.class] + words).inserted else { continue }
                byFirstWord[words[0], default: []].append(Entry(classID: classID, term: term, words: words, rank: rank))
                rank += 1
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

    /// A term's folded words, split as text is split; nil when it has none, or when
    /// its words are separated by something a phrase in the text cannot match across.
    static func words(of term: String) -> [String]? {
        var term = term
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

    /// The last word of the phrase `terms` when the words after the first one match
    /// it, else nil.
    mutating func follow(_ terms: [String], _ scanner: inout TextScanner) -> Word? {
        var last = first
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
            guard key == terms[i] || (isLast && word.hasApostrophe && TermIndex.possessiveStem(key) == terms[i]) else {
                return nil
            }
            last = word
        }
        return last
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
        let lead = UInt32(bytes[i])
        if lead < 0xE0 {
            return (lead & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
        }
        if lead < 0xF0 {
            return (lead & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
        }
        return (lead & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
            | UInt32(bytes[i + 3] & 0x3F)
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
