/// What capture needs from a page: the links to follow, the media to fetch, and
/// whether it is a login page (captured as is and marked access-restricted).
public struct PageOutline: Sendable, Equatable {
    /// `<a href>` and `<area href>` targets, as written (unresolved).
    public var links: [String] = []
    /// img src/srcset, picture/source srcset, video src/poster, audio src,
    /// source src, og:image, og:video — as written (unresolved).
    public var media: [String] = []
    /// `<base href>`, which links resolve against before the page's own URL.
    public var baseHref: String?
    /// The page has a password field: a login page (IV.B.8: never logged into).
    public var hasPasswordField = false
    public var title: String?

    /// Extracts the outline with libxml2.
    public init(document: HTMLDocument) {
        var links: [String] = []
        var media: [String] = []
        var base: String?
        var password = false
        document.forEachElement { name, attribute in
            switch name {
            case "a", "area":
                if let href = attribute("href") { links.append(href) }
            case "base":
                if base == nil { base = attribute("href") }
            case "img":
                if let src = attribute("src") { media.append(src) }
                media += Self.srcsetURLs(attribute("srcset"))
            case "source":
                if let src = attribute("src") { media.append(src) }
                media += Self.srcsetURLs(attribute("srcset"))
            case "video":
                if let src = attribute("src") { media.append(src) }
                if let poster = attribute("poster") { media.append(poster) }
            case "audio":
                if let src = attribute("src") { media.append(src) }
            case "meta":
                let property = (attribute("property") ?? attribute("name") ?? "").lowercased()
                if ["og:image", "og:image:url", "og:image:secure_url", "og:video", "og:video:url",
                    "og:video:secure_url", "og:audio", "twitter:image", "twitter:player:stream"].contains(property),
                   let content = attribute("content") {
                    media.append(content)
                }
            case "input":
                if attribute("type")?.lowercased() == "password" { password = true }
            default:
                break
            }
        }
        self.links = Self.unique(links.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty })
        self.media = Self.unique(media.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty })
        self.baseHref = base
        self.hasPasswordField = password
        self.title = document.title
    }

    /// Parses and outlines HTML bytes.
    public init(html: [UInt8], url: String?, charset: String?) throws(PageAnalysisError) {
        self.init(document: try HTMLDocument(bytes: html, baseURL: url, encoding: charset))
    }

    /// The URLs of a srcset attribute ("a.png 1x, b.png 2x").
    static func srcsetURLs(_ srcset: String?) -> [String] {
        guard let srcset else { return [] }
        return srcset.split(separator: ",").compactMap { candidate in
            candidate.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.map(String.init)
        }
    }

    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
