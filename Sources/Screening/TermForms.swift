/// The forms of a lexicon word that screening also matches (DESIGN §23: "lexicon entries
/// match their inflections").
///
/// Rules by the term's language, applied to folded words of three or more letters:
///
/// - **English** (`terms`): the plural of every word of a term — "-s", "-es" after s, x,
///   z, ch and sh, "-ies" for a consonant and "y" ("army" → "armies", never "armys"),
///   "-is" → "-es", "-f(e)" → "-ves", "-man" → "-men" — so "Muslims", "mosques", "bible
///   studies" and "union members" match. A single-word term also matches its "-ism",
///   "-ist" and "-ic" derivations and their plurals: "islam" → "islamist", "islamic";
///   "hindu" → "hinduism"; "atheist" → "atheism"; "catholic" → "catholicism"; "bisexual" →
///   "bisexuality". Forms that are not words ("armyism") cost nothing: they never occur.
/// - **Spanish** (`languages.es`): plurals, "-s" after a vowel, "-es" after a consonant,
///   "z" → "-ces" ("musulmán" → "musulmanes"). Feminine forms are written in the lexicon.
/// - **German** (`languages.de`): the plural and adjective endings "-e", "-en", "-er",
///   "-es", "-em", "-n", "-s", and "-in" → "-innen". Umlaut plurals need nothing: the
///   umlaut is folded away ("Mütter" reads "mutter").
/// - Other languages: the words as written.
///
/// Terms are written in their base form; a lexicon need not list plurals.
enum TermForms {
    /// The forms of `word` (a folded word of a term) other than itself.
    static func forms(of word: String, language: String, singleWord: Bool) -> [String] {
        let letters = Array(word.utf8)
        guard letters.count >= 3, letters.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return [] }
        var forms: [String]
        switch language {
        case "en":
            forms = englishPlurals(word)
            if singleWord && letters.count >= 4 {
                for derived in englishDerivations(word) {
                    forms.append(derived)
                    forms.append(contentsOf: englishPlurals(derived))
                }
            }
        case "es":
            if isVowel(letters.last!) {
                forms = [word + "s"]
            } else if word.hasSuffix("z") {
                forms = [String(word.dropLast()) + "ces"]
            } else {
                forms = [word + "es"]
            }
        case "de":
            forms = ["e", "en", "er", "es", "em", "n", "s"].map { word + $0 }
            if word.hasSuffix("in") { forms.append(word + "nen") }
        default:
            forms = []
        }
        var seen: Set<String> = [word]
        return forms.filter { seen.insert($0).inserted }
    }

    static func isVowel(_ letter: UInt8) -> Bool {
        letter == 0x61 || letter == 0x65 || letter == 0x69 || letter == 0x6F || letter == 0x75
    }

    private static func englishPlurals(_ word: String) -> [String] {
        let letters = Array(word.utf8)
        let last = letters[letters.count - 1], beforeLast = letters[letters.count - 2]
        var plurals: [String] = []
        if last == 0x79 && !isVowel(beforeLast) {
            plurals.append(String(word.dropLast()) + "ies")
        } else if ["s", "x", "z", "ch", "sh"].contains(where: { word.hasSuffix($0) }) {
            plurals.append(word + "es")
        } else {
            plurals.append(word + "s")
        }
        if word.hasSuffix("is") { plurals.append(String(word.dropLast(2)) + "es") }
        if word.hasSuffix("fe") {
            plurals.append(String(word.dropLast(2)) + "ves")
        } else if word.hasSuffix("f") && !word.hasSuffix("ff") {
            plurals.append(String(word.dropLast()) + "ves")
        }
        if word.hasSuffix("man") { plurals.append(String(word.dropLast(3)) + "men") }
        return plurals
    }

    private static func englishDerivations(_ word: String) -> [String] {
        if word.hasSuffix("ist") { return [String(word.dropLast(3)) + "ism"] }
        if word.hasSuffix("ism") { return [] }
        if word.hasSuffix("ic") { return [word + "ism"] }
        if word.hasSuffix("al") { return [word + "ity", word + "ism"] }
        if isVowel(word.utf8.last!) { return [word + "ism"] }
        return [word + "ism", word + "ist", word + "ic"]
    }
}

/// Misspellings (DESIGN §23): a word of the text that is one typing slip away from a
/// single-word term of eight or more letters.
///
/// A slip keeps the first letter and is one of: two neighbouring letters swapped
/// ("christain"), one letter left out ("pregant"), one vowel or doubled letter added
/// ("pregnaant"), or one vowel typed for another ("pregnent"). Consonant substitutions and
/// shorter terms are left out on purpose: checked against the Debian English, Spanish and
/// German word lists they turn ordinary words into flags ("players" → "prayers",
/// "completion" → "complexion", "Chicago" → "chicano"). The real words that remain one slip
/// from a term ("Christina", "disable") are listed as the lexicon's `exceptions`.
struct TypoIndex: Sendable {
    static let minimumTermLength = 8
    /// A slip that leaves a letter out of an eight-letter term leaves seven.
    static let minimumWordLength = minimumTermLength - 1

    struct Candidate: Sendable {
        var entry: Int
        var classID: Int
        var letters: [UInt8]
    }

    private(set) var candidates: [Candidate] = []
    /// (first or last three letters, word length) → candidates. A slip in a word of seven
    /// or more letters leaves either its first three letters or its last three in place.
    private var byKey: [UInt32: [Int]] = [:]
    /// One bit per key hash: most long words of a page are near no term.
    private var filter = [UInt64](repeating: 0, count: 1024)

    static func isTermWord(_ word: String) -> Bool {
        word.utf8.count >= minimumTermLength && word.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7A }
    }

    mutating func add(_ word: String, entry: Int, classID: Int) {
        let letters = Array(word.utf8)
        candidates.append(Candidate(entry: entry, classID: classID, letters: letters))
        let index = candidates.count - 1
        for length in letters.count - 1...letters.count + 1 where length >= Self.minimumWordLength {
            for key in [Self.key(letters[0], letters[1], letters[2], length, last: false),
                        Self.key(letters[letters.count - 3], letters[letters.count - 2], letters[letters.count - 1], length, last: true)] {
                if byKey[key]?.last != index { byKey[key, default: []].append(index) }
                let bit = Self.bit(key)
                filter[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
    }

    private static func key(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ length: Int, last: Bool) -> UInt32 {
        (last ? 1 << 31 : 0) | UInt32(min(length, 255)) << 21 | UInt32(a | 0x20) << 14 | UInt32(b | 0x20) << 7 | UInt32(c | 0x20)
    }

    private static func bit(_ key: UInt32) -> Int {
        Int((key &* 2_654_435_761) >> 16)
    }

    /// The candidates `bytes` (one ASCII word of the text) may be a slip of; cheap when none.
    func candidates(for bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        let count = bytes.count
        guard count >= Self.minimumWordLength, !candidates.isEmpty else { return [] }
        let first = Self.key(bytes[0], bytes[1], bytes[2], count, last: false)
        let last = Self.key(bytes[count - 3], bytes[count - 2], bytes[count - 1], count, last: true)
        let firstBit = Self.bit(first), lastBit = Self.bit(last)
        let mayFirst = filter[firstBit >> 6] & (1 << UInt64(firstBit & 63)) != 0
        let mayLast = filter[lastBit >> 6] & (1 << UInt64(lastBit & 63)) != 0
        guard mayFirst || mayLast else { return [] }
        var found: [Int] = []
        for key in [first, last] {
            guard let list = byKey[key] else { continue }
            for index in list where !found.contains(index) && Self.isSlip(bytes, of: candidates[index].letters) {
                found.append(index)
            }
        }
        return found
    }

    /// True when `word` (ASCII, any case) is one slip (see ``TypoIndex``) from `term`.
    static func isSlip(_ word: UnsafeBufferPointer<UInt8>, of term: [UInt8]) -> Bool {
        let wordCount = word.count, termCount = term.count
        guard abs(wordCount - termCount) <= 1, word[0] | 0x20 == term[0] else { return false }
        // Letters and digits only: | 0x20 lower-cases a letter and leaves a digit as it is.
        func at(_ i: Int) -> UInt8 { word[i] | 0x20 }
        var i = 0
        while i < min(wordCount, termCount) && at(i) == term[i] { i += 1 }
        func restEqual(_ w: Int, _ t: Int) -> Bool {
            guard wordCount - w == termCount - t else { return false }
            var w = w, t = t
            while w < wordCount {
                if at(w) != term[t] { return false }
                w += 1
                t += 1
            }
            return true
        }
        if wordCount == termCount {
            guard i < wordCount else { return false }
            if restEqual(i + 1, i + 1) { return TermForms.isVowel(at(i)) && TermForms.isVowel(term[i]) }
            return i + 1 < wordCount && at(i) == term[i + 1] && at(i + 1) == term[i] && restEqual(i + 2, i + 2)
        }
        if wordCount < termCount { return restEqual(i, i + 1) }
        guard restEqual(i + 1, i) else { return false }
        let added = at(i)
        return TermForms.isVowel(added) || (i > 0 && at(i - 1) == added) || (i + 1 < wordCount && at(i + 1) == added)
    }
}

/// Terms inside run-together tokens (DESIGN §23): a hashtag ("#pregnantlife",
/// "#muslimsofinstagram") or letters joined from "M u s l i m" is flagged for any term of
/// five or more letters (a phrase's words written together: "biblestudy") found anywhere
/// in it, unless the letters around it make an exception of the class ("#rabbitlove" holds
/// "rabbi", "#chicagobears" holds "chica").
struct RunTogetherIndex: Sendable {
    static let minimumLength = 5

    struct Item: Sendable {
        /// The term's entry; nil for an exception.
        var entry: Int?
        var classID: Int
    }

    private var byLetters: [[UInt8]: [Item]] = [:]
    /// One bit per hash of a term's or exception's letters: most substrings of a token are
    /// neither, and this says so without building an array for them.
    private var hashes = [UInt64](repeating: 0, count: 1024)
    private(set) var longest = 0

    static func letters(of word: String) -> [UInt8]? {
        let letters = Array(word.utf8)
        guard letters.count >= minimumLength, letters.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return nil }
        return letters
    }

    mutating func add(_ letters: [UInt8], _ item: Item) {
        byLetters[letters, default: []].append(item)
        let hash = letters.reduce(TextScanner.hashSeed, TextScanner.hash)
        hashes[Int(hash & 0xFFFF) >> 6] |= 1 << UInt64(hash & 63)
        longest = max(longest, letters.count)
    }

    struct Occurrence {
        var start: Int
        var end: Int
        var items: [Item]
    }

    /// Every term and exception occurring in `letters` (lower-case ASCII), by start.
    func occurrences(in letters: [UInt8]) -> [Occurrence] {
        var found: [Occurrence] = []
        let count = letters.count
        guard count >= Self.minimumLength else { return [] }
        for start in 0...(count - Self.minimumLength) {
            var hash = TextScanner.hashSeed
            for end in start..<min(count, start + longest) {
                hash = TextScanner.hash(hash, letters[end])
                guard end - start + 1 >= Self.minimumLength, hashes[Int(hash & 0xFFFF) >> 6] & (1 << UInt64(hash & 63)) != 0,
                      let items = byLetters[Array(letters[start...end])] else { continue }
                found.append(Occurrence(start: start, end: end + 1, items: items))
            }
        }
        return found
    }
}
