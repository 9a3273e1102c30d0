/// An identifier found on a page that may tie it to a person or to another case:
/// an e-mail address, a phone number, a social-media profile or handle, an IP
/// address, a cryptocurrency address (Hunchly calls these "selectors").
///
/// `value` is normalised so that the same identifier written differently is one
/// selector: e-mail addresses lower-cased, phone numbers in E.164 where a country
/// can be inferred, profiles as `platform:handle`, IPv6 in RFC 5952 form.
public struct Selector: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case email, phone, social, handle, ipv4, ipv6, bitcoin, ethereum
    }

    /// Where on the page the selector was found.
    public enum Source: String, Sendable, Codable {
        /// In the page's visible text, at `offset`.
        case text
        /// In the `href` of a link (`mailto:`, `tel:`, a profile URL).
        case link
        /// In the page's own URL (a profile page).
        case page
    }

    public var kind: Kind
    public var value: String
    /// The text as written on the page.
    public var raw: String
    public var source: Source
    /// The position in the page's visible text, in Unicode scalars (a Python
    /// string index), for selectors found in the text; nil otherwise.
    public var offset: Int?

    public init(kind: Kind, value: String, raw: String, source: Source, offset: Int? = nil) {
        self.kind = kind
        self.value = value
        self.raw = raw
        self.source = source
        self.offset = offset
    }
}

extension Selector.Kind {
    /// The kind's place in the order of the names (`bitcoin` < `email` < …),
    /// which sorts selectors found at one offset.
    var rank: Int {
        switch self {
        case .bitcoin: 0
        case .email: 1
        case .ethereum: 2
        case .handle: 3
        case .ipv4: 4
        case .ipv6: 5
        case .phone: 6
        case .social: 7
        }
    }
}
