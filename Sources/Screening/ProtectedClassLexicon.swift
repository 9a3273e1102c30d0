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
