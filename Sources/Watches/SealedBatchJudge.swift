import CaseManagement
import ChainOfCustody
import Foundation
import LawfulFetch
import PageAnalysis

/// Compares a watch job's captures with their previous captures and appends their
/// `change` entries while the job goes on, so that when it ends only the last sealed
/// batch is left.
///
/// A capture job records its captures a WARC file at a time: a seal appends their
/// entries to the ledger, then renames the file into place, and hands the entries to
/// `sealed(_:)` on the job's thread. A thread of the judge's own then compares each
/// page captured of a watched URL (or records its failure), drafts the batch's change
/// entries in the order of the watches' entries, and appends them while the job's next
/// batch is fetched. The job's next seal waits for that append (`willSeal()`), so a
/// batch's change entries always come right after the batch's own entries and before
/// the next batch's; `finish()` waits for those of the last batch.
///
/// The change entries were once appended by the next seal, ahead of its own entries
/// (one append for both); the last seal then signed two batches' entries after the
/// transfers had ended, which was most of what a watch run took longer than the
/// capture of the same URLs (docs/benchmarks.md, round ten).
///
/// The removal check of a new page reads its title and text; the job's preparer hands
/// over the decoded page as the WARC record would give it back (`prepared(_:)`), so
/// the check parses it on a thread of the judge's, while the transfers go on, instead
/// of reading it back.
final class SealedBatchJudge: CaptureSealObserver, @unchecked Sendable {
    /// What a watched URL's comparison needs besides the new capture.
    struct Basis: Sendable {
        var previous: LedgerEntry?
        var unreachableBefore: Int
        var previousPassedRemoval: Bool

        /// The `current` capture (or failure) of the watched URL compared with the previous one.
        func compare(_ current: LedgerEntry?, caseDirectory: String, patterns: RemovalPatternsInForce,
                     prepared: WatchComparison.PreparedText? = nil) -> WatchComparison {
            WatchComparison.compare(current: current, previous: previous, caseDirectory: caseDirectory, patterns: patterns,
                                    unreachableBefore: unreachableBefore, previousPassedRemoval: previousPassedRemoval,
                                    prepared: prepared)
        }

        /// Whether the comparison of a new plain capture with this payload will run the
        /// removal check on the page's title and text alone (not skip it, as for the
        /// previous payload already found not removed, nor analyse the whole page, as
        /// when the texts are compared).
        func readsTitleAndText(of page: PreparedPage) -> Bool {
            guard let before = previous?.subject else { return true }
            guard before["mode"]?.stringValue != "browser", before["payload_sha256"]?.stringValue == page.payloadSHA256 else { return false }
            return !(previousPassedRemoval && before["final_url"]?.stringValue == page.finalURL
                     && before["content_type"] == page.contentType.map { .string($0) } ?? .null)
        }
    }

    private let batch: [Watch]
    private let parseChunk: Int
    /// Index in `batch` of each watched URL (a job's batch holds each URL once).
    private let indexByURL: [String: Int]
    private let bases: [String: Basis]
    private let caseDirectory: String
    private let patterns: RemovalPatternsInForce
    private let makeDraft: @Sendable (Watch, WatchComparison) -> LedgerDraft
    private let append: @Sendable ([LedgerDraft]) throws(ExhibitError) -> Void
    private let queue = DispatchQueue(label: "exhibit.watch-comparisons")
    /// Parses the pages the job prepares, off its one preparing thread (which would
    /// otherwise hold up the pages written after them).
    private let parsing = DispatchQueue(label: "exhibit.watch-prepared-pages")
    /// Guards everything below, shared by the job's thread, the queue's and `finish()`'s.
    private let lock = NSLock()
    /// The comparisons whose change entries are appended, by index in `batch`.
    private var decided: [Int: WatchComparison] = [:]
    /// Pages the job prepared, waiting for a chunk to fill before they are parsed.
    private var unparsed: [PreparedPage] = []
    /// Title and text of pages the job prepared, by URL as given, until compared.
    private var preparedTexts: [String: WatchComparison.PreparedText] = [:]
    private var failure: ExhibitError?
    /// While the job runs the comparisons take one core (the job has the other); after
    /// it, every core.
    private var jobRunning = true

    init(batch: [Watch], bases: [String: Basis], caseDirectory: String, patterns: RemovalPatternsInForce,
         makeDraft: @escaping @Sendable (Watch, WatchComparison) -> LedgerDraft,
         append: @escaping @Sendable ([LedgerDraft]) throws(ExhibitError) -> Void, parseChunk: Int = SealedBatchJudge.parseChunk) {
        self.batch = batch
        self.parseChunk = max(parseChunk, 1)
        indexByURL = Dictionary(batch.enumerated().map { ($0.element.url, $0.offset) }, uniquingKeysWith: { first, _ in first })
        self.bases = bases
        self.caseDirectory = caseDirectory
        self.patterns = patterns
        self.makeDraft = makeDraft
        self.append = append
    }

    /// The job entry of a watched URL among a sealed batch's entries: its page's capture
    /// (recorded in the WARC file just sealed), failure or refusal.
    static func isJobEntry(_ entry: LedgerEntry) -> Bool {
        guard let subject = entry.subject, (subject["role"]?.stringValue ?? "page") == "page" else { return false }
        switch entry.action {
        case "capture": return subject["warc"]?["file"]?.stringValue != nil
        case "capture-failed", "policy-refusal": return true
        default: return false
        }
    }

    func willSeal() {
        queue.sync {}
    }

    func sealed(_ entries: [LedgerEntry]) {
        queue.async { self.judge(entries) }
    }

    /// Pages whose title and text are parsed in one hand-off to the parsing thread.
    /// One hand-off per page woke that thread a thousand times in a run of a thousand
    /// watches, and the thread switches cost more than the parses (docs/benchmarks.md,
    /// round eleven); a batch's last few pages are parsed when it is judged.
    static let parseChunk = 128

    /// On the job's preparing thread: the title and text the removal check of a watched
    /// page will read are parsed on a thread of the judge's own, `parseChunk` pages at a
    /// time, as `CapturedPage.titleAndText` would parse them from the WARC record.
    func prepared(_ page: PreparedPage) {
        guard let basis = bases[page.url], basis.readsTitleAndText(of: page) else { return }
        let chunk: [PreparedPage]? = lock.withLock {
            unparsed.append(page)
            guard unparsed.count >= parseChunk else { return nil }
            defer { unparsed.removeAll(keepingCapacity: true) }
            return unparsed
        }
        if let chunk { parsing.async { self.parse(chunk) } }
    }

    /// Parses the title and text of `pages` and keeps them until their comparison.
    private func parse(_ pages: [PreparedPage]) {
        let parsed = pages.map { page in
            let limit = patterns.longestMatchable(url: page.finalURL).map { $0 + 1 }
            let (title, text) = AnalyzedPage.titleAndText(html: page.html, contentType: page.contentType, textLimit: limit)
            return (page.url, WatchComparison.PreparedText(finalURL: page.finalURL, payloadSHA256: page.payloadSHA256,
                                                           textLimit: limit, title: title, text: text))
        }
        lock.withLock { for (url, text) in parsed { preparedTexts[url] = text } }
    }

    /// Compares the batch's pages of watched URLs and appends their change entries.
    private func judge(_ entries: [LedgerEntry]) {
        guard lock.withLock({ failure == nil }) else { return }
        // The batch's pages were all prepared before its seal: their parses are queued,
        // or waiting for a chunk to fill (with, maybe, pages of the next batch).
        parse(lock.withLock { () -> [PreparedPage] in
            defer { unparsed.removeAll() }
            return unparsed
        })
        parsing.sync {}
        var found: [(index: Int, entry: LedgerEntry)] = []
        for entry in entries where Self.isJobEntry(entry) {
            guard let url = entry.subject?["url"]?.stringValue, let index = indexByURL[url] else { continue }
            found.append((index, entry))
        }
        guard !found.isEmpty else { return }
        found.sort { $0.index < $1.index }
        var results: [(comparison: WatchComparison, draft: LedgerDraft)] = []
        results.reserveCapacity(found.count)
        // In small groups, so that the comparisons left when the job ends take every core.
        var start = 0
        while start < found.count {
            let end = min(start + 16, found.count)
            let width = lock.withLock { jobRunning } ? 1 : Parallel.width
            let items = Array(found[start..<end])
            let prepared = lock.withLock { items.map { preparedTexts.removeValue(forKey: batch[$0.index].url) } }
            results += Parallel.map(Array(zip(items, prepared)), width: width) { item, prepared -> (comparison: WatchComparison, draft: LedgerDraft) in
                let watch = self.batch[item.index]
                let comparison = self.bases[watch.url]!.compare(item.entry, caseDirectory: self.caseDirectory, patterns: self.patterns,
                                                                prepared: prepared)
                return (comparison, self.makeDraft(watch, comparison))
            }
            start = end
        }
        do {
            try append(results.map(\.draft))
            lock.withLock { for (item, result) in zip(found, results) { decided[item.index] = result.comparison } }
        } catch {
            lock.withLock { failure = error }
        }
    }

    /// After the job (also when it failed: the batches it sealed are evidence, compared
    /// like the others): waits for the last batch's change entries, and returns the
    /// comparisons whose change entries were appended, by index in the batch, and the
    /// append that failed, if one did (no batch is compared after it).
    func finish() -> (decided: [Int: WatchComparison], failure: ExhibitError?) {
        lock.withLock { jobRunning = false }
        queue.sync {}
        return lock.withLock { (decided, failure) }
    }
}
