public import ChainOfCustody
import Foundation

/// The texts platforms show in place of content that was taken down ("This
/// content isn't available right now"), from CaseTemplates/removal-patterns.json,
/// which an agency extends (docs/watches.md). A page that answers 200 with one of
/// them is recorded by a watch as `removed`, not as `changed` (DESIGN §18).
public struct RemovalPatterns: Sendable, Equatable {
    public struct Pattern: Sendable, Equatable, Codable {
        /// Who shows the text (`facebook`, `generic`).
        public var platform: String
        /// Hosts the pattern applies to, each with its subdomains; empty: every host.
        public var hosts: [String]
        /// Texts that mean "taken down", matched in the title or the visible text,
        /// case-insensitively, with curly apostrophes and quotes read as straight ones.
        public var texts: [String]
        /// Only pages whose visible text is at most this many characters match: a
        /// notice page is short, an article quoting the notice is not.
        public var maxTextLength: Int?

        enum CodingKeys: String, CodingKey {
            case platform, hosts, texts
            case maxTextLength = "max_text_length"
        }

        public init(platform: String, hosts: [String], texts: [String], maxTextLength: Int? = nil) {
            self.platform = platform
            self.hosts = hosts
            self.texts = texts
            self.maxTextLength = maxTextLength
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            platform = try container.decode(String.self, forKey: .platform)
            hosts = try container.decodeIfPresent([String].self, forKey: .hosts) ?? []
            texts = try container.decode([String].self, forKey: .texts)
            maxTextLength = try container.decodeIfPresent(Int.self, forKey: .maxTextLength)
        }
    }

    /// A page that matched: which platform's text, and the text.
    public struct Match: Sendable, Equatable {
        public var platform: String
        public var text: String
    }

    private struct File: Codable {
        var patterns: [Pattern]
    }

    public var patterns: [Pattern]

    public init(patterns: [Pattern]) {
        self.patterns = patterns
    }

    /// Reads a removal-patterns file; `origin` names it in the error.
    public init(json bytes: [UInt8], origin: String) throws(ExhibitError) {
        do {
            patterns = try JSONDecoder().decode(File.self, from: Data(bytes)).patterns
        } catch {
            throw ExhibitError(.storage, "The removal patterns \(origin) are not valid (\(error)); correct the file (docs/watches.md gives its format).")
        }
        for pattern in patterns where pattern.texts.contains(where: { Self.fold($0).isEmpty }) {
            throw ExhibitError(.storage, "The removal patterns \(origin) give an empty text for \(pattern.platform); remove it or give the text.")
        }
    }

    /// The longest visible text (in characters) a page at `url` may have and still
    /// match a pattern: 0 when no pattern applies to its host, nil when one has no
    /// limit. A page with more text needs no analysis to be told it matches none.
    public func longestMatchable(url: String) -> Int? {
        let host = Self.host(of: url)
        var longest = 0
        for pattern in patterns where applies(pattern, to: host) {
            guard let limit = pattern.maxTextLength else { return nil }
            longest = max(longest, limit)
        }
        return longest
    }

    private func applies(_ pattern: Pattern, to host: String?) -> Bool {
        guard !pattern.hosts.isEmpty else { return true }
        guard let host else { return false }
        return pattern.hosts.contains { host == $0.lowercased() || host.hasSuffix("." + $0.lowercased()) }
    }

    /// The first pattern the page matches, if any.
    public func match(_ page: AnalyzedPage) -> Match? {
        match(url: page.url, title: page.title, text: page.text)
    }

    /// The first pattern a page at `url` with this title and visible text matches, if any.
    public func match(url: String, title: String?, text: String) -> Match? {
        let host = Self.host(of: url)
        let length = text.count
        var folded: (title: String, text: String)?
        for pattern in patterns {
            guard applies(pattern, to: host) else { continue }
            if let limit = pattern.maxTextLength, length > limit { continue }
            if folded == nil { folded = (Self.fold(title ?? ""), Self.fold(text)) }
            for text in pattern.texts {
                let needle = Self.fold(text)
                if folded!.title.contains(needle) || folded!.text.contains(needle) {
                    return Match(platform: pattern.platform, text: text)
                }
            }
        }
        return nil
    }

    /// Lower case, typographic apostrophes and quotes as ASCII, white space collapsed.
    static func fold(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var space = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isWhitespace {
                space = !scalars.isEmpty
                continue
            }
            if space { scalars.append(" "); space = false }
            switch scalar {
            case "\u{2018}", "\u{2019}", "\u{02BC}", "\u{2032}": scalars.append("'")
            case "\u{201C}", "\u{201D}": scalars.append("\"")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    /// The host of an http(s) URL, lower case, without port or brackets.
    static func host(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        var rest = url[schemeEnd.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[rest.index(after: rest.startIndex)..<close]).lowercased() }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return rest.isEmpty ? nil : rest.lowercased()
    }
}
