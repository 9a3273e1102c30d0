import Foundation

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
struct Lookahead {
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
                let length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                let isSpace = byte < 0x80
                    ? byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
                    : Self.isWhitespace(Self.decode(bytes, i))
                if isSpace {
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
