import CaseIndex
import CaseManagement
import ChainOfCustody
import PageAnalysis
import Foundation

/// The removal patterns of the templates in force, with their digest (recorded in
/// each `change` entry, as the lexicons in force are in screening entries).
struct RemovalPatternsInForce: Sendable {
    let patterns: RemovalPatterns
    let sha256: String
    private let longest = LongestMatchable()

    init(templates: CaseTemplates) throws(ExhibitError) {
        let file = try templates.file(named: "removal-patterns.json")
        patterns = try RemovalPatterns(json: file.bytes, origin: file.origin)
        sha256 = Digest.sha256Hex(file.bytes)
    }

    /// `patterns.longestMatchable(url:)`, worked out once per scheme and authority (the
    /// URL up to its path, query or fragment), on which alone it depends (through the
    /// host): a run asks it twice for each of a thousand pages on a few hosts, and
    /// matching a host against every pattern's hosts was 2 % of a run's CPU.
    func longestMatchable(url: String) -> Int? {
        guard let origin = Self.origin(url) else { return patterns.longestMatchable(url: url) }
        return longest.value(for: origin) { patterns.longestMatchable(url: url) }
    }

    /// The URL up to the first `/`, `?` or `#` after its first `://`; nil without `://`.
    /// Walked over the UTF-8 bytes (the characters looked for are ASCII, so no scalar is
    /// cut) in one loop over the concrete view: Foundation's `range(of:)` and the standard
    /// library's generic `firstRange(of:)`, which is not specialised here and looks up
    /// type metadata as it goes, were each most of this lookup's cost, asked twice a page.
    static func origin(_ url: String) -> String? {
        let bytes = url.utf8
        let (colon, slash) = (UInt8(ascii: ":"), UInt8(ascii: "/"))
        var index = bytes.startIndex
        var matched = 0  // how much of "://" ends at `index`
        while matched < 3, index < bytes.endIndex {
            let byte = bytes[index]
            matched = byte == (matched == 0 ? colon : slash) ? matched + 1 : (byte == colon ? 1 : 0)
            index = bytes.index(after: index)
        }
        guard matched == 3 else { return nil }
        while index < bytes.endIndex, bytes[index] != slash, bytes[index] != UInt8(ascii: "?"), bytes[index] != UInt8(ascii: "#") {
            index = bytes.index(after: index)
        }
        return String(url[..<index])
    }

    /// The answers so far, by origin; shared by the threads of a run.
    private final class LongestMatchable: @unchecked Sendable {
        private let lock = NSLock()
        /// `.some(nil)`: a pattern for the host has no length limit.
        private var answers: [String: Int?] = [:]

        func value(for origin: String, _ compute: () -> Int?) -> Int? {
            if let known = lock.withLock({ answers[origin] }) { return known }
            let value = compute()
            lock.withLock { answers[origin] = .some(value) }
            return value
        }
    }
}

/// How one run's capture compares with the previous capture of the URL
/// (DESIGN §18). Removal is judged first, on the new capture alone; then
/// the payload digests; then, when they differ, the two pages' analyses.
struct WatchComparison {
    var result: String
    var subject: [String: JSONValue]
    var artifact: String?
    var previous: String?
    var summary: String

    /// At most this many added and this many removed lines are listed in the
    /// entry; all are counted, and `exhibit diff` shows them all.
    static let listedLines = 20

    /// A new page's title and text as the removal check reads them, parsed by the
    /// capture job from the body it prepared (`SealedBatchJudge.prepared(_:)`), for the
    /// capture with this final URL and payload, up to `textLimit` scalars of text.
    struct PreparedText: Sendable {
        var finalURL: String
        var payloadSHA256: String
        var textLimit: Int?
        var title: String?
        var text: String
    }

    /// `prepared`: the new page's title and text, used only when they are what reading
    /// the capture's record back would give (same capture, same text limit).
    static func compare(
        current: LedgerEntry?, previous: LedgerEntry?, caseDirectory: String, patterns: RemovalPatternsInForce,
        unreachableBefore: Int, previousPassedRemoval: Bool = false, prepared: PreparedText? = nil
    ) -> WatchComparison {
        var subject: [String: JSONValue] = [:]
        let artifact = current.flatMap { $0.action == "capture" ? ArtifactID.forSeq(Int($0.seq)) : nil }
        let previousArtifact = previous.map { ArtifactID.forSeq(Int($0.seq)) }
        func finish(_ result: String) -> WatchComparison {
            subject["result"] = .string(result)
            return WatchComparison(result: result, subject: subject, artifact: artifact, previous: previousArtifact,
                                   summary: WatchTimeline.summary(.object(subject)))
        }

        guard let current, let now = current.subject, current.action == "capture" else {
            let reason: String
            if let current, let text = current.subject?["reason"]?.stringValue {
                reason = current.action == "policy-refusal" ? "refused by the lawful-capture policy: \(text)" : text
            } else {
                reason = "no capture was recorded for the URL"
            }
            var unreachable: [String: JSONValue] = ["reason": .string(reason), "consecutive": .integer(Int64(unreachableBefore + 1))]
            if let current { unreachable["entry_seq"] = .integer(current.seq) }
            subject["unreachable"] = .object(unreachable)
            if let previous { subject["previous"] = reference(previous) }
            return finish("unreachable")
        }
        subject["capture"] = reference(current)
        if let previous { subject["previous"] = reference(previous) }

        // Removed: the server says so, sends a login page instead, or shows a
        // platform's notice in place of the content.
        let status = Int(now["status"]?.intValue ?? 0)
        if status == 404 || status == 410 {
            subject["removal"] = .object(["reason": .string("http-status"), "status": .integer(Int64(status))])
            return finish("removed")
        }
        if (now["redirects"]?.intValue ?? 0) > 0, now["access_restricted"]?.boolValue == true {
            subject["removal"] = .object(["reason": .string("login-redirect"), "final_url": now["final_url"] ?? .null])
            return finish("removed")
        }
        // A browser capture's page is its DOM, which scripts write after the HTML
        // arrived: the same HTML can show different text, so only the analyses compare.
        let browser = now["mode"]?.stringValue == "browser" || previous?.subject?["mode"]?.stringValue == "browser"
        // The payload the previous capture had, of the same type from the same address,
        // under the removal patterns that previous capture already passed: the removal
        // check would read and parse the page to repeat that verdict, so it is skipped.
        if !browser, previousPassedRemoval, let before = previous?.subject,
           let digest = now["payload_sha256"]?.stringValue, digest == before["payload_sha256"]?.stringValue,
           now["content_type"] == before["content_type"], now["final_url"] == before["final_url"] {
            subject["basis"] = .string("payload-digest")
            return finish("unchanged")
        }
        // Captures before issue 25 carry an analysis summary; later ones are analysed
        // here, on demand, from their WARC record (docs/ledger.md).
        let recordedLength = now["analysis"]?["text_length"]?.intValue.map { Int($0) }
        let isHTML = now["analysis"] != nil || (now["content_type"]?.stringValue?.lowercased().contains("html") ?? false)
        var newPage: AnalyzedPage?
        var analysedNew = false
        func newAnalysis() -> AnalyzedPage? {
            if !analysedNew { newPage = CapturedPage.analysis(of: now, caseDirectory: caseDirectory); analysedNew = true }
            return newPage
        }
        // Pages with more text than any pattern for their host allows are not matched
        // (nor parsed again, when their capture entry recorded the text's length).
        let matchable = patterns.longestMatchable(url: now["final_url"]?.stringValue ?? now["url"]?.stringValue ?? "")
        // The whole analysis only when the pages' texts will be compared next; the removal
        // check itself reads the title and text alone.
        let comparesTexts = previous != nil && (browser || now["payload_sha256"]?.stringValue == nil
            || now["payload_sha256"]?.stringValue != previous?.subject?["payload_sha256"]?.stringValue)
        func titleAndText() -> (url: String, title: String?, text: String)? {
            if comparesTexts { return newAnalysis().map { ($0.url, $0.title, $0.text) } }
            // Without a recorded length, the parse stops one scalar past the longest
            // matchable text: a page that long matches no pattern, whatever follows.
            let limit = recordedLength == nil ? matchable.map { $0 + 1 } : nil
            if let prepared, now["mode"]?.stringValue != "browser", prepared.textLimit == limit,
               let finalURL = now["final_url"]?.stringValue, prepared.finalURL == finalURL,
               prepared.payloadSHA256 == now["payload_sha256"]?.stringValue {
                // The record's source URL is the entry's final URL (WorkspaceIndex.source).
                return (finalURL, prepared.title, prepared.text)
            }
            return CapturedPage.titleAndText(of: now, caseDirectory: caseDirectory, textLimit: limit)
        }
        if isHTML, matchable.map({ (recordedLength ?? 0) <= $0 }) ?? true, let page = titleAndText(),
           recordedLength != nil || matchable.map({ Self.hasAtMostScalars(page.text, $0) }) ?? true,
           let match = patterns.patterns.match(url: page.url, title: page.title, text: page.text) {
            subject["removal"] = .object([
                "reason": .string("removal-text"), "platform": .string(match.platform), "text": .string(match.text),
            ])
            return finish("removed")
        }
        guard let previous, let before = previous.subject else { return finish("captured") }

        if !browser, let digest = now["payload_sha256"]?.stringValue, digest == before["payload_sha256"]?.stringValue {
            subject["basis"] = .string("payload-digest")
            return finish("unchanged")
        }
        guard let new = newAnalysis(), let old = CapturedPage.analysis(of: before, caseDirectory: caseDirectory) else {
            // Not HTML on one side: only the digests can be compared, and they differ.
            subject["basis"] = .string("payload-digest")
            return finish("changed")
        }
        let change = PageChange(from: old, to: new)
        if change.isEmpty {
            subject["basis"] = .string("visible-text")
            return finish("unchanged")
        }
        subject["basis"] = .string("visible-text")
        var text: [String: JSONValue] = [
            "lines_added": .integer(Int64(change.linesAdded.count)),
            "lines_removed": .integer(Int64(change.linesRemoved.count)),
            "added": .array(change.linesAdded.prefix(listedLines).map { .string($0) }),
            "removed": .array(change.linesRemoved.prefix(listedLines).map { .string($0) }),
        ]
        if change.linesAdded.count > listedLines || change.linesRemoved.count > listedLines { text["listed"] = .integer(Int64(listedLines)) }
        subject["text"] = .object(text)
        subject["selectors"] = .object(["added": strings(change.selectorsAdded), "removed": strings(change.selectorsRemoved)])
        subject["media"] = .object(["added": strings(change.mediaAdded), "removed": strings(change.mediaRemoved)])
        if change.titleChanged {
            subject["title"] = .object(["before": change.titleBefore.map { .string($0) } ?? .null,
                                        "after": change.titleAfter.map { .string($0) } ?? .null])
        }
        return finish("changed")
    }

    /// Whether `text` has at most `limit` Unicode scalars: its UTF-8 bytes that do not
    /// continue a scalar, counted no further than the limit (most pages have far more
    /// text than a removal notice, and counting the string's scalars walks it all).
    static func hasAtMostScalars(_ text: String, _ limit: Int) -> Bool {
        if text.utf8.count <= limit { return true }
        var text = text
        return text.withUTF8 { bytes in
            var count = 0
            for byte in bytes where byte & 0xC0 != 0x80 {
                count += 1
                if count > limit { return false }
            }
            return true
        }
    }

    /// A capture entry as a change entry names it: artifact, seq, status, payload digest.
    static func reference(_ entry: LedgerEntry) -> JSONValue {
        var object: [String: JSONValue] = ["seq": .integer(entry.seq)]
        if entry.action == "capture" { object["artifact"] = .string(ArtifactID.forSeq(Int(entry.seq))) }
        if let status = entry.subject?["status"] { object["status"] = status }
        if let digest = entry.subject?["payload_sha256"] { object["payload_sha256"] = digest }
        return .object(object)
    }

    static func strings(_ values: [String]) -> JSONValue {
        .array(values.map { .string($0) })
    }
}
