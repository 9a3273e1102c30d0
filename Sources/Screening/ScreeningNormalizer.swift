import Foundation

enum ScreeningNormalizer {
    // MARK: Characters

    /// True when no byte has its high bit set; eight bytes at a time.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var i = 0
        var high: UInt64 = 0
        while i + 8 <= bytes.count {
            high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if high & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < bytes.count {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Rewrites every non-ASCII character as screening reads it; ASCII is copied.
    static func foldCharacters(_ source: UnsafeBufferPointer<UInt8>) -> (bytes: [UInt8], map: OffsetMap) {
        var out: [UInt8] = []
        out.reserveCapacity(source.count + source.count / 16)
        var map = OffsetMap()
        var folding = CharacterFolding()
        let count = source.count
        var i = 0
        guard let base = source.baseAddress else { return (out, map) }
        let raw = UnsafeRawPointer(base)
        while i < count {
            var j = i
            // ASCII runs are copied whole; found eight bytes at a time.
            while j + 8 <= count && raw.loadUnaligned(fromByteOffset: j, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { j += 8 }
            while j < count && source[j] < 0x80 { j += 1 }
            if j > i {
                map.copy(from: i, to: out.count)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: source[i..<j]))
                i = j
                continue
            }
            let (value, length) = decode(source, i)
            switch folding.replacement(value) {
            case .keep:
                map.copy(from: i, to: out.count)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: source[i..<i + length]))
            case .drop:
                break
            case .replace(let bytes):
                map.replace(source: i, length: length, at: out.count)
                out.append(contentsOf: bytes)
            }
            i += length
        }
        return (out, map)
    }

    /// A term's text as screening reads it (the same rewrite as the text's).
    static func foldCharacters(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 >= 0x80 }) else { return String(decoding: bytes, as: UTF8.self) }
            return String(decoding: foldCharacters(bytes).bytes, as: UTF8.self)
        }
    }

    /// The non-ASCII scalar starting at byte `i` of valid UTF-8, and its length in bytes.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
        let lead = UInt32(bytes[i])
        if lead < 0xE0 {
            return ((lead & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2)
        }
        if lead < 0xF0 {
            return ((lead & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        }
        return ((lead & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
            | UInt32(bytes[i + 3] & 0x3F), 4)
    }

    enum Replacement {
        case keep
        case drop
        case replace([UInt8])
    }

    /// Per-text cache of what each non-ASCII character becomes: a page uses few distinct
    /// ones, and working one out goes through Foundation.
    struct CharacterFolding {
        /// Scalars below U+0800 (Latin, Greek, Cyrillic, Armenian …) by value: 0 unknown,
        /// 1 keep, 2 drop, else 3 + index into `replacements`.
        private var small = [Int32](repeating: 0, count: 0x800)
        private var large: [UInt32: Int32] = [:]
        private var replacements: [[UInt8]] = []

        mutating func replacement(_ value: UInt32) -> Replacement {
            var code: Int32
            if value < 0x800 {
                code = small[Int(value)]
                if code == 0 {
                    code = compute(value)
                    small[Int(value)] = code
                }
            } else if let known = large[value] {
                code = known
            } else {
                code = compute(value)
                large[value] = code
            }
            switch code {
            case 1: return .keep
            case 2: return .drop
            default: return .replace(replacements[Int(code - 3)])
            }
        }

        private mutating func compute(_ value: UInt32) -> Int32 {
            switch ScreeningNormalizer.fold(value) {
            case .keep: return 1
            case .drop: return 2
            case .replace(let bytes):
                replacements.append(bytes)
                return Int32(replacements.count + 2)
            }
        }
    }

    /// What one non-ASCII character becomes (see ``ScreeningText``).
    static func fold(_ value: UInt32) -> Replacement {
        guard let scalar = Unicode.Scalar(value) else { return .keep }
        if isInvisible(value) { return .drop }
        if let latin = lookalikes[value] { return .replace([latin]) }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark: return .drop
        default: break
        }
        var result = ""
        for part in String(Character(scalar)).decomposedStringWithCompatibilityMapping.unicodeScalars {
            switch part.properties.generalCategory {
            case .nonspacingMark, .enclosingMark: continue
            default: break
            }
            if isInvisible(part.value) { continue }
            if part.isASCII {
                result.unicodeScalars.append(part)
            } else if let latin = lookalikes[part.value] {
                result.unicodeScalars.append(Unicode.Scalar(latin))
            } else {
                // Case folding (ß → ss, Σ → σ), then the Latin letters no decomposition
                // reaches (ø, ł, æ) and the look-alikes of the folded letter (Greek capital
                // letters folded to small ones).
                let folded = String(part).folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
                for letter in folded.unicodeScalars {
                    if let latin = lookalikes[letter.value] {
                        result.unicodeScalars.append(Unicode.Scalar(latin))
                    } else if let spelled = latinLetters[letter.value] {
                        result += spelled
                    } else {
                        result.unicodeScalars.append(letter)
                    }
                }
            }
        }
        if result.unicodeScalars.count == 1 && result.unicodeScalars.first == scalar { return .keep }
        return .replace(Array(result.utf8))
    }

    /// Characters that show nothing and are dropped: the soft hyphen, zero-width space,
    /// joiners and non-joiners, word joiner and invisible operators, byte-order mark,
    /// bidirectional controls, variation selectors, Hangul fillers, Mongolian free
    /// variation selectors, tag characters (Unicode's Default_Ignorable_Code_Point list).
    static func isInvisible(_ value: UInt32) -> Bool {
        switch value {
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x200B...0x200F,
             0x202A...0x202E, 0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0x1BCA0...0x1BCA3,
             0x1D173...0x1D17A, 0xE0000...0xE0FFF:
            return true
        default:
            return false
        }
    }

    /// Letters of other scripts that look like a Latin letter, mapped to it (after UTS #39's
    /// confusables.txt, restricted to one-letter prototypes): Cyrillic, Greek, Armenian,
    /// and Latin letters such as dotless ı and script ɑ. Case is kept so that hashtags
    /// still split where their case changes.
    static let lookalikes: [UInt32: UInt8] = {
        let pairs: [(String, String)] = [
            // Cyrillic capitals and small letters.
            ("АВЕЅІЈКМНОРСТУХҮҺӀԀԚԜѴ", "ABESIJKMHOPCTYXYHIDQWV"),
            ("аеѕіјорсухүһӏԁԛԝѵкмнптгвьё", "aesijopcyxyhldqwvkmhntrbbe"),
            // Greek.
            ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹͿ", "ABEZHIKMNOPTYXCJ"),
            ("αβγεηικνοπρτυχωϲϳμ", "abyenikvonptuxwcju"),
            // Armenian and Latin.
            ("ՕՍօսհոզց", "OUouhnqg"),
            ("ıɑɡɩʀꞮ", "iagirI"),
        ]
        var table: [UInt32: UInt8] = [:]
        for (from, to) in pairs {
            for (letter, latin) in zip(from.unicodeScalars, to.utf8) { table[letter.value] = latin }
        }
        return table
    }()

    /// Latin letters without a decomposition to a base letter.
    static let latinLetters: [UInt32: String] = [
        0xF8: "o", 0x142: "l", 0x111: "d", 0x127: "h", 0xE6: "ae", 0x153: "oe", 0xFE: "th", 0xF0: "d",
        0x167: "t", 0x180: "b", 0x268: "i", 0x289: "u", 0x131: "i",
    ]

    // MARK: Separated letters and hashtags

    struct Joined {
        /// The rewritten text; nil when only lower-case hashtags were found (nothing to rewrite).
        var bytes: [UInt8]?
        var map: OffsetMap?
        var runTogether: [Range<Int>]
    }

    private enum Event {
        /// A hashtag's body, and where a space goes between its words.
        case hashtag(body: Range<Int>, splits: [Int])
        /// Single letters joined: the byte of each letter, and where the run ends.
        case letters([Int], end: Int)

        var start: Int {
            switch self {
            case .hashtag(let body, _): return body.lowerBound
            case .letters(let letters, _): return letters[0]
            }
        }
    }

    @inline(__always)
    static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
    }

    /// A byte that is part of a word for the single-letter test: letters, digits, the
    /// apostrophe, and anything non-ASCII (most of which is letters).
    @inline(__always)
    private static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x27
    }

    /// Space, dot, hyphen, underscore.
    @inline(__always)
    private static func isLetterSeparator(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x2E || byte == 0x2D || byte == 0x5F
    }

    /// False when eight bytes of text hold no "#" and no two separator-like bytes two
    /// apart — the first six of them can then start neither a hashtag nor separated
    /// letters ("a b c" has a separator at k and k + 2). Branch-free, so ordinary prose
    /// costs about a cycle a byte; digits and punctuation ("2019", "e.g.") only send the
    /// bytes to the exact test.
    @inline(__always)
    private static func maybeInteresting(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        // High bit set in each byte below 0x40: space, "#", "-", ".", digits, punctuation.
        let low = ~(word | (word << 1)) & highs
        // … and in each "_" byte (may also flag a byte after one: harmless here).
        let underscores = word ^ (0x5F &* ones)
        let underscore = (underscores &- ones) & ~underscores & highs
        let separators = low | underscore
        let hashes = word ^ (0x23 &* ones)
        let hash = (hashes &- ones) & ~hashes & highs
        return hash != 0 || separators & (separators >> 16) != 0
    }

    /// Joins separated single letters and splits hashtags (see ``ScreeningText``); nil when
    /// the text has neither.
    static func joinSeparatedLetters(_ source: UnsafeBufferPointer<UInt8>) -> Joined? {
        let count = source.count
        guard count > 0, let base = source.baseAddress else { return nil }
        var events: [Event] = []
        var i = 0
        let raw = UnsafeRawPointer(base)
        // The bytes the loop below looks at twice are few; `stop` is where it next looks
        // at eight bytes at once (see ``maybeInteresting(_:)``) to skip six of them.
        var stop = 0
        while i < count {
            if i >= stop {
                if i + 8 <= count && !maybeInteresting(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                    i += 6
                    continue
                }
                stop = i + 6
            }
            let byte = source[i]
            // Small letters and everything non-ASCII, most of any text, are neither "#" nor a
            // separator: one comparison.
            if byte > 0x5F {
                i += 1
                continue
            }
            if byte == 0x23 {
                if let event = hashtag(source, at: i) {
                    events.append(event)
                    if case .hashtag(let body, _) = event { i = body.upperBound }
                    continue
                }
            } else if isLetterSeparator(byte), i >= 1, i + 1 < count {
                guard i + 2 >= count || !isWordByte(source[i + 2]) else {
                    // A word of two or more bytes follows: neither is "#" or a separator.
                    i += isWordByte(source[i + 1]) ? 3 : 1
                    continue
                }
                guard i < 2 || !isWordByte(source[i - 2]), isASCIILetter(source[i - 1]), isASCIILetter(source[i + 1]) else {
                    i += 1
                    continue
                }
                // Two single letters around one separator: see whether a third follows.
                var letters = [i - 1, i + 1]
                var last = i + 1
                while last + 2 < count, isLetterSeparator(source[last + 1]), isASCIILetter(source[last + 2]),
                      last + 3 >= count || !isWordByte(source[last + 3]) {
                    last += 2
                    letters.append(last)
                }
                if letters.count >= 3 {
                    events.append(.letters(letters, end: last + 1))
                    i = last + 1
                    continue
                }
            }
            i += 1
        }
        guard !events.isEmpty else { return nil }
        let rewrites = events.contains { event in
            if case .hashtag(_, let splits) = event { return !splits.isEmpty }
            return true
        }
        guard rewrites else {
            return Joined(bytes: nil, map: nil, runTogether: events.compactMap { event in
                if case .hashtag(let body, _) = event { return body }
                return nil
            })
        }
        var out: [UInt8] = []
        out.reserveCapacity(count + events.count * 2)
        var map = OffsetMap()
        var runs: [Range<Int>] = []
        var position = 0
        func copy(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            map.copy(from: range.lowerBound, to: out.count)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: source[range]))
        }
        for event in events {
            copy(position..<event.start)
            let runStart = out.count
            switch event {
            case .hashtag(let body, let splits):
                var from = body.lowerBound
                for split in splits {
                    copy(from..<split)
                    map.replace(source: split, length: 0, at: out.count)
                    out.append(0x20)
                    from = split
                }
                copy(from..<body.upperBound)
                position = body.upperBound
            case .letters(let letters, let end):
                for letter in letters { copy(letter..<letter + 1) }
                position = end
            }
            runs.append(runStart..<out.count)
        }
        copy(position..<count)
        return Joined(bytes: out, map: map, runTogether: runs)
    }

    /// The hashtag whose "#" is at `i`: "#" at the start of a word, then letters, digits
    /// and underscores with at least one letter. Its words are split where a small letter
    /// is followed by a capital ("ProudVeteran"), a run of capitals by a capitalised word
    /// ("LGBTQPride"), and between letters and digits ("Army2019").
    private static func hashtag(_ source: UnsafeBufferPointer<UInt8>, at i: Int) -> Event? {
        let count = source.count
        // "#" after a letter or digit is a URL fragment or a number ("page#top", "no.#5"),
        // not a hashtag; after an emoji or punctuation it is one.
        guard i + 1 < count, i == 0 || !(isASCIILetter(source[i - 1]) || (source[i - 1] >= 0x30 && source[i - 1] <= 0x39)) else {
            return nil
        }
        var j = i + 1
        var splits: [Int] = []
        var letters = 0
        var previous: UInt8 = 0
        while j < count {
            let byte = source[j]
            if byte >= 0x80 {
                let (value, length) = decode(source, j)
                guard let scalar = Unicode.Scalar(value), scalar.properties.isAlphabetic
                    || scalar.properties.generalCategory == .nonspacingMark else { break }
                letters += 1
                previous = 0
                j += length
                continue
            }
            let isDigit = byte >= 0x30 && byte <= 0x39
            guard isASCIILetter(byte) || isDigit || byte == 0x5F else { break }
            if isASCIILetter(byte) { letters += 1 }
            if j > i + 1 && previous != 0 {
                let isUpper = byte >= 0x41 && byte <= 0x5A
                let wasUpper = previous >= 0x41 && previous <= 0x5A
                let wasLower = previous >= 0x61 && previous <= 0x7A
                let wasDigit = previous >= 0x30 && previous <= 0x39
                let nextIsLower = j + 1 < count && source[j + 1] >= 0x61 && source[j + 1] <= 0x7A
                if (wasLower && isUpper) || (wasUpper && isUpper && nextIsLower)
                    || (wasDigit && isASCIILetter(byte)) || (isDigit && isASCIILetter(previous)) {
                    splits.append(j)
                }
            }
            previous = byte
            j += 1
        }
        guard letters > 0 else { return nil }
        return .hashtag(body: i + 1..<j, splits: splits)
    }
}
