/// What differs between two captures of one page, as a watch records it
/// (DESIGN §18): lines of visible text added and removed, selectors and media
/// added and removed, and the title before and after.
///
/// Pure: built from two analyses, so it is tested without a network and
/// `exhibit diff` gives the same answer as the watch that recorded it.
public struct PageChange: Sendable, Equatable, Encodable {
    public var linesAdded: [String]
    public var linesRemoved: [String]
    /// Selectors as `kind value` (`phone +15555550123`), sorted.
    public var selectorsAdded: [String]
    public var selectorsRemoved: [String]
    /// Media URLs, absolute, sorted.
    public var mediaAdded: [String]
    public var mediaRemoved: [String]
    public var titleBefore: String?
    public var titleAfter: String?

    /// The members of `exhibit diff --json` (docs/watches.md); a missing title is left out.
    enum CodingKeys: String, CodingKey {
        case linesAdded = "lines_added"
        case linesRemoved = "lines_removed"
        case selectorsAdded = "selectors_added"
        case selectorsRemoved = "selectors_removed"
        case mediaAdded = "media_added"
        case mediaRemoved = "media_removed"
        case titleBefore = "title_before"
        case titleAfter = "title_after"
    }

    public init(from old: AnalyzedPage, to new: AnalyzedPage) {
        var added: [String] = []
        var removed: [String] = []
        for line in TextDiff.compare(TextDiff.lines(of: old.text), TextDiff.lines(of: new.text)) {
            switch line {
            case .added(let text): added.append(text)
            case .removed(let text): removed.append(text)
            case .same: break
            }
        }
        linesAdded = added
        linesRemoved = removed
        let oldSelectors = Self.selectorNames(old), newSelectors = Self.selectorNames(new)
        selectorsAdded = newSelectors.subtracting(oldSelectors).sorted()
        selectorsRemoved = oldSelectors.subtracting(newSelectors).sorted()
        let oldMedia = Set(old.media), newMedia = Set(new.media)
        mediaAdded = newMedia.subtracting(oldMedia).sorted()
        mediaRemoved = oldMedia.subtracting(newMedia).sorted()
        titleBefore = old.title
        titleAfter = new.title
    }

    /// Whether the title differs.
    public var titleChanged: Bool { titleBefore != titleAfter }

    /// True when the two pages show the same text, title, selectors and media: a
    /// different payload (a token, a time stamp in a script) that a reader cannot see.
    public var isEmpty: Bool {
        linesAdded.isEmpty && linesRemoved.isEmpty && selectorsAdded.isEmpty && selectorsRemoved.isEmpty
            && mediaAdded.isEmpty && mediaRemoved.isEmpty && !titleChanged
    }

    /// Each selector once, by kind and normalised value: where on the page it
    /// stands (its offset) moves with every edit above it.
    static func selectorNames(_ page: AnalyzedPage) -> Set<String> {
        Set(page.selectors.map { "\($0.kind.rawValue) \($0.value)" })
    }
}
