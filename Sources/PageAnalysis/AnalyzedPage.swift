import ChainOfCustody
import Foundation

/// What a captured HTML page says and whom it points to (DESIGN §7): its
/// metadata, absolute links and media, visible text and selectors.
///
/// Built from the bytes as stored in the WARC, with libxml2 (recovery, no
/// network, no entity expansion). No script runs: a page that builds its content
/// with JavaScript is analysed as delivered.
public struct AnalyzedPage: Sendable, Equatable {
    /// The URL the page was served from; relative references resolve against it.
    public var url: String
    public var charset: CharsetDecision
    public var title: String?
    /// `<meta name="description">`.
    public var description: String?
    public var canonicalURL: String?
    /// The first publication date the page states (article:published_time,
    /// datePublished, a date meta tag, JSON-LD, or the first `<time datetime>`).
    public var publishedTime: String?
    /// `og:*` meta tags, lower-cased keys; the first value of a repeated key.
    public var openGraph: [String: String]
    /// `twitter:*` meta tags.
    public var twitter: [String: String]
    /// http(s) links of `<a>` and `<area>`, absolute, without fragment, unique, in order.
    public var links: [String]
    /// Media URLs (img, srcset, source, video, poster, audio, og:image/video/audio,
    /// twitter:image), absolute, unique, in order.
    public var media: [String]
    /// Visible text: body text outside script, style, noscript, template and svg;
    /// whitespace collapsed, block boundaries as line breaks.
    public var text: String
    public var selectors: [Selector]
    /// A password field: a login page, captured as is and marked access-restricted.
    public var hasPasswordField: Bool

    /// At most this many scalars of visible text are kept (and scanned for
    /// selectors), so one hostile page cannot take the machine's memory.
    public static let textLimit = 8 << 20
    static let jsonLDLimit = 1 << 20
    /// Visible text from this size up is scanned on a second thread.
    static let parallelTextBytes = 256 << 10

    /// Analyses `html`, served from `url` with the given Content-Type header.
    /// Never fails: bytes libxml2 reads no document from (an empty body, binary
    /// noise) give a page with no text, links or selectors.
    public init(html: [UInt8], url: String, contentType: String?) {
        self.url = url
        charset = CharsetDecision(bytes: html, contentType: contentType)
        let body = charset.bomLength > 0 ? Array(html.dropFirst(charset.bomLength)) : html
        var collector = Collector()
        let walk = Self.walk(body, encoding: charset.decodingLabel, into: &collector)

        let base = collector.baseHref.flatMap { Self.absolute($0, against: url, keepFragment: true) } ?? url
        title = walk.title.map(Self.collapse).flatMap { $0.isEmpty ? nil : $0 }
        description = collector.description
        canonicalURL = collector.canonical.flatMap { Self.absolute($0, against: base, keepFragment: true) }
        publishedTime = collector.published(jsonLD: walk.jsonLD)
        openGraph = collector.openGraph
        twitter = collector.twitter
        media = Self.unique(collector.media.compactMap { Self.absolute($0, against: base) })
        hasPasswordField = collector.password
        text = walk.text

        // The text and the links are scanned side by side on a big page (two
        // cores halve the time a custodian waits on one); a small page is not
        // worth a thread.
        let scanner = SelectorScanner(pageURL: url)
        let hrefs = collector.links
        let visible = walk.text
        let width = visible.utf8.count >= Self.parallelTextBytes ? 2 : 1
        let parts = Parallel.map([0, 1], width: width) { part -> (selectors: [Selector], resolved: [String?]) in
            if part == 0 { return (scanner.scan(text: visible), []) }
            // Each link is resolved once, for the link list and for its selectors.
            let resolved = hrefs.map { Self.absolute($0, against: base) }
            var selectors: [Selector] = []
            for (href, absolute) in zip(hrefs, resolved) {
                let trimmed = href.trimmingWhitespace()
                let reference = trimmed.hasPrefixIgnoringASCIICase("mailto:") || trimmed.hasPrefixIgnoringASCIICase("tel:") ? href : absolute
                if let reference { selectors += scanner.scan(link: reference) }
            }
            return (selectors, resolved)
        }
        links = Self.unique(parts[1].resolved.compactMap { $0 })
        var selectors = parts[0].selectors + parts[1].selectors
        selectors += scanner.scan(pageURL: url)
        self.selectors = Self.unique(selectors)
    }

    /// The title and visible text `init(html:url:contentType:)` finds, from the same
    /// parse, without resolving links and media or scanning for selectors.
    ///
    /// With `textLimit`, the parse stops once the text holds that many scalars: the
    /// text is then its first `textLimit` scalars, and the title nil if it comes later.
    /// A removal check, which matches only short pages, reads no further.
    public static func titleAndText(html: [UInt8], contentType: String?, textLimit: Int? = nil) -> (title: String?, text: String) {
        let charset = CharsetDecision(bytes: html, contentType: contentType)
        let body = charset.bomLength > 0 ? Array(html.dropFirst(charset.bomLength)) : html
        var collector = Collector()
        let walk = Self.walk(body, encoding: charset.decodingLabel, into: &collector, stoppingAt: textLimit)
        return (walk.title.map(Self.collapse).flatMap { $0.isEmpty ? nil : $0 }, walk.text)
    }

    /// Parses `body` once and collects what the analysis reads. Should libxml2
    /// read no document with the declared encoding, it is asked again without
    /// one, to decide from the BOM and the meta tag itself.
    private static func walk(_ body: [UInt8], encoding: String, into collector: inout Collector,
                             stoppingAt limit: Int? = nil) -> AnalysisWalk {
        for label in [encoding, nil] {
            var elements = Collector()
            if let walk = HTMLParser.analysisWalk(
                bytes: body, encoding: label, textLimit: limit.map { min(max($0, 0), textLimit) } ?? textLimit,
                jsonLDLimit: jsonLDLimit, stopsAtTextLimit: limit != nil,
                element: { name, attribute in elements.start(name, attribute) }) {
                collector = elements
                return walk
            }
        }
        return AnalysisWalk(text: "", title: nil, jsonLD: [])
    }

    // MARK: Helpers

    /// `reference` resolved against `base`; http(s) only, fragment removed.
    public static func absolute(_ reference: String, against base: String, keepFragment: Bool = false) -> String? {
        let trimmed = reference.trimmingWhitespace()
        guard !trimmed.isEmpty, let resolved = HTMLParser.resolve(trimmed, against: base) else { return nil }
        guard resolved.hasPrefixIgnoringASCIICase("http://") || resolved.hasPrefixIgnoringASCIICase("https://") else { return nil }
        if keepFragment { return resolved }
        if let hash = resolved.utf8.firstIndex(of: UInt8(ascii: "#")) { return String(resolved[..<hash]) }
        return resolved
    }

    /// `selectors` without repeats, in order. Selectors found in text differ by
    /// kind and offset, so only those from links and the page's URL need hashing
    /// whole; should two text selectors ever share both, every one is.
    static func unique(_ selectors: [Selector]) -> [Selector] {
        var positions = Set<Int>(minimumCapacity: selectors.count)
        var others = Set<Selector>()
        var result: [Selector] = []
        result.reserveCapacity(selectors.count)
        for selector in selectors {
            if selector.source == .text, let offset = selector.offset {
                guard positions.insert(offset &* 16 &+ selector.kind.rank).inserted else {
                    var seen = Set<Selector>()
                    return selectors.filter { seen.insert($0).inserted }
                }
                result.append(selector)
            } else if others.insert(selector).inserted {
                result.append(selector)
            }
        }
        return result
    }

    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}

/// What the elements of one document say: metadata, links, media. The text
/// parts (visible text, title, JSON-LD) come from the walk in C.
private struct Collector {
    var description: String?
    var canonical: String?
    var baseHref: String?
    var openGraph: [String: String] = [:]
    var twitter: [String: String] = [:]
    var metaDates: [Int: String] = [:]
    var firstTime: String?
    var links: [String] = []
    var media: [String] = []
    var password = false

    static let mediaMeta: Set<String> = [
        "og:image", "og:image:url", "og:image:secure_url", "og:video", "og:video:url", "og:video:secure_url",
        "og:audio", "twitter:image", "twitter:image:src", "twitter:player:stream",
    ]
    /// Date meta names, in the order they are believed.
    static let dateNames = ["date", "pubdate", "publish-date", "publication_date", "dc.date", "dcterms.created"]

    mutating func start(_ name: String, _ attribute: (String) -> String?) {
        switch name {
        case "meta":
            meta(attribute)
        case "link":
            let rel = (attribute("rel") ?? "").lowercased().split(whereSeparator: \.isWhitespace)
            if canonical == nil, rel.contains("canonical"), let href = attribute("href") { canonical = href }
        case "base":
            if baseHref == nil { baseHref = attribute("href") }
        case "a", "area":
            if let href = attribute("href") { links.append(href) }
        case "img", "source":
            if let src = attribute("src") { media.append(src) }
            media += Self.srcsetURLs(attribute("srcset"))
        case "video":
            if let src = attribute("src") { media.append(src) }
            if let poster = attribute("poster") { media.append(poster) }
        case "audio":
            if let src = attribute("src") { media.append(src) }
        case "input":
            if attribute("type")?.lowercased() == "password" { password = true }
        case "time":
            if firstTime == nil, let datetime = attribute("datetime")?.trimmingWhitespace(), !datetime.isEmpty { firstTime = datetime }
        default:
            break
        }
    }

    private mutating func meta(_ attribute: (String) -> String?) {
        guard let content = attribute("content")?.trimmingWhitespace() else { return }
        let keys = [attribute("property"), attribute("name")].compactMap { $0?.lowercased().trimmingWhitespace() }
        for key in Set(keys) {
            if key.hasPrefix("og:"), openGraph[key] == nil { openGraph[key] = content }
            if key.hasPrefix("twitter:"), twitter[key] == nil { twitter[key] = content }
            if Self.mediaMeta.contains(key) { media.append(content) }
            if key == "description", description == nil { description = content }
            if key == "article:published_time" { metaDates[0] = metaDates[0] ?? content }
            if let rank = Self.dateNames.firstIndex(of: key) { metaDates[10 + rank] = metaDates[10 + rank] ?? content }
        }
        if attribute("itemprop")?.trimmingWhitespace() == "datePublished" { metaDates[1] = metaDates[1] ?? content }
    }

    /// The published time by the order of belief in `metaDates`, then JSON-LD,
    /// then the first `<time datetime>`.
    func published(jsonLD: [String]) -> String? {
        if let best = metaDates.keys.min(), let value = metaDates[best], !value.isEmpty { return value }
        for block in jsonLD {
            guard let data = block.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { continue }
            if let date = Self.datePublished(in: object, depth: 0) { return date }
        }
        return firstTime
    }

    private static func datePublished(in object: Any, depth: Int) -> String? {
        guard depth < 6 else { return nil }
        if let dictionary = object as? [String: Any] {
            if let date = dictionary["datePublished"] as? String { return date.trimmingWhitespace() }
            if let graph = dictionary["@graph"] { return datePublished(in: graph, depth: depth + 1) }
        } else if let array = object as? [Any] {
            for element in array.prefix(100) {
                if let date = datePublished(in: element, depth: depth + 1) { return date }
            }
        }
        return nil
    }

    /// The URLs of a srcset attribute, as the HTML standard splits it: a URL runs
    /// to whitespace (commas inside it are kept), descriptors to the next comma.
    static func srcsetURLs(_ srcset: String?) -> [String] {
        guard let srcset else { return [] }
        var urls: [String] = []
        var scalars = Substring(srcset).unicodeScalars[...]
        while !scalars.isEmpty {
            while let first = scalars.first, first.properties.isWhitespace || first == "," { scalars.removeFirst() }
            var url = String.UnicodeScalarView()
            while let first = scalars.first, !first.properties.isWhitespace { url.append(first); scalars.removeFirst() }
            var candidate = String(url)
            if candidate.hasSuffix(",") {
                while candidate.hasSuffix(",") { candidate.removeLast() }
            } else {
                var depth = 0
                while let first = scalars.first {
                    if first == "(" { depth += 1 } else if first == ")" { depth = max(0, depth - 1) } else if first == ",", depth == 0 { break }
                    scalars.removeFirst()
                }
            }
            if !candidate.isEmpty { urls.append(candidate) }
        }
        return urls
    }
}
