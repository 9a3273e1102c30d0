import Foundation

/// What a case page shows of a case's artifacts and ledger: the query string of
/// `/cases/<ID>`. A case of a few hundred captures must stay one screenful of
/// rows at a time, and findable: by a piece of its URL, its media type, its HTTP
/// status, or words in the captured pages (the workspace index's full text).
///
/// ```
/// /cases/OC-2026-0001?url=forum&status=4xx&page=2
/// /cases/OC-2026-0001?q=lantern+parade
/// ```
///
/// Every value comes from whoever wrote the link, so it is only ever compared
/// with, never interpreted: `url` is a plain substring, `type` a media type
/// compared whole, `status` a number or a class such as `4xx`, and `q` is passed
/// to ``CaseIndex/WorkspaceIndex/search(_:caseID:limit:)``, which quotes every word.
public struct CasePageQuery: Sendable, Equatable {
    /// Rows of artifacts per page.
    public static let pageSize = 50
    /// Ledger entries per page of the custody timeline.
    public static let timelinePageSize = 100
    /// Longer filter values are cut: no URL, media type or search needs more.
    static let maximumLength = 500

    /// Part of the URL or final URL, compared without regard to case.
    public var url = ""
    /// A media type without parameters (`text/html`), compared whole.
    public var type = ""
    /// An HTTP status (`404`) or a class (`4xx`).
    public var status = ""
    /// Words to find in the captured pages' text and titles.
    public var text = ""
    /// The page of artifacts, from 1.
    public var page = 1
    /// The page of the timeline, from 1; nil shows the last (newest entries).
    public var timelinePage: Int?

    public init() {}

    /// Reads the decoded query fields (`url`, `type`, `status`, `q`, `page`,
    /// `timeline`); unknown fields are ignored, page numbers that are not
    /// positive numbers read as the first page.
    public init(fields: [String: String]) {
        func value(_ name: String) -> String {
            String((fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(Self.maximumLength))
        }
        url = value("url")
        type = value("type").lowercased()
        status = value("status").lowercased()
        text = value("q")
        page = Int(value("page")).map { max(1, $0) } ?? 1
        timelinePage = Int(value("timeline")).map { max(1, $0) }
    }

    /// Whether anything narrows the list.
    public var isFiltered: Bool { !url.isEmpty || !type.isEmpty || !status.isEmpty || !text.isEmpty }

    /// Whether an artifact passes the URL, type and status filters (the text
    /// search is the index's).
    public func matches(_ artifact: BrowserArtifact) -> Bool {
        if !url.isEmpty {
            let found = [artifact.url, artifact.finalURL ?? ""].contains { $0.range(of: url, options: [.caseInsensitive]) != nil }
            guard found else { return false }
        }
        if !type.isEmpty, Self.essence(artifact.contentType) != type { return false }
        if !status.isEmpty, !Self.status(artifact.status, matches: status) { return false }
        return true
    }

    /// `404` matches 404; `4xx` (or `4XX`) matches 400–499. Anything else matches nothing.
    static func status(_ code: Int, matches filter: String) -> Bool {
        if let exact = Int(filter) { return code == exact }
        let scalars = Array(filter.unicodeScalars)
        guard scalars.count == 3, scalars[1] == "x", scalars[2] == "x", let digit = Int(String(scalars[0])) else { return false }
        return code / 100 == digit
    }

    /// `text/html; charset=utf-8` → `text/html`.
    static func essence(_ contentType: String?) -> String {
        (contentType ?? "").split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    /// The query string for another page of the same filter, `?url=…&page=2`
    /// (percent-encoded; escape it again for an attribute). A page left nil
    /// stays the one shown.
    public func link(page: Int? = nil, timelinePage: Int? = nil) -> String {
        var pairs: [(String, String)] = []
        if !url.isEmpty { pairs.append(("url", url)) }
        if !type.isEmpty { pairs.append(("type", type)) }
        if !status.isEmpty { pairs.append(("status", status)) }
        if !text.isEmpty { pairs.append(("q", text)) }
        let artifacts = page ?? self.page
        if artifacts > 1 { pairs.append(("page", String(artifacts))) }
        if let timeline = timelinePage ?? self.timelinePage { pairs.append(("timeline", String(timeline))) }
        guard !pairs.isEmpty else { return "?" }
        return "?" + pairs.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    /// What the `view` entry records of the query: a search is part of who
    /// looked at what.
    var recorded: [String: String] {
        var fields: [String: String] = [:]
        if !url.isEmpty { fields["url"] = url }
        if !type.isEmpty { fields["type"] = type }
        if !status.isEmpty { fields["status"] = status }
        if !text.isEmpty { fields["q"] = text }
        return fields
    }

    /// Only unreserved characters stay as they are (RFC 3986 §2.3).
    static func encode(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// `a=1&b=x+y%21` → `["a": "1", "b": "x y!"]`: the first of repeated fields wins.
    public static func fields(fromQuery query: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { continue }
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}

/// One page of a list: which items, which page of how many.
public struct PageSlice<Item: Sendable>: Sendable {
    public var items: [Item]
    /// 1-based, after clamping to the pages there are.
    public var page: Int
    public var pageCount: Int
    /// The 0-based index of the first item shown in the whole list.
    public var offset: Int
    public var total: Int

    /// Page `page` (clamped to 1…pageCount) of `all`, `size` per page.
    public init(_ all: [Item], page: Int, size: Int) {
        total = all.count
        pageCount = max(1, (all.count + size - 1) / size)
        self.page = min(max(1, page), pageCount)
        offset = (self.page - 1) * size
        items = Array(all.dropFirst(offset).prefix(size))
    }
}
