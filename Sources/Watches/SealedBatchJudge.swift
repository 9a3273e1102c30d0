import CaseManagement
import ChainOfCustody
import Foundation
import LawfulFetch

/// Compares a watch job's captures with their previous captures and appends their
/// `change` entries while the job goes on, so that when it ends only the last sealed
/// batch is left.
///
/// A capture job records its captures a WARC file at a time: a seal appends their
/// entries to the ledger, then renames the file into place, and hands the entries to
/// `sealed(_:)` on the job's thread. A thread of the judge's own then compares each
/// page captured of a watched URL (or records its failure) and appends the batch's
/// change entries, in the order of the watches' entries. Before the job's next seal
/// appends, `willSeal()` waits for that append, so a batch's change entries always
/// come right after the batch's own entries and before the next batch's.
final class SealedBatchJudge: CaptureSealObserver, @unchecked Sendable {
    /// What a watched URL's comparison needs besides the new capture.
    struct Basis: Sendable {
        var previous: LedgerEntry?
        var unreachableBefore: Int
        var previousPassedRemoval: Bool

        /// The `current` capture (or failure) of the watched URL compared with the previous one.
        func compare(_ current: LedgerEntry?, caseDirectory: String, patterns: RemovalPatternsInForce) -> WatchComparison {
            WatchComparison.compare(current: current, previous: previous, caseDirectory: caseDirectory, patterns: patterns,
                                    unreachableBefore: unreachableBefore, previousPassedRemoval: previousPassedRemoval)
        }
    }

    /// A watch's job entry, its comparison and the change entry made of it.
    struct Decided: Sendable {
        var comparison: WatchComparison
        var draft: LedgerDraft
    }

    private let batch: [Watch]
    /// Index in `batch` of each watched URL (a job's batch holds each URL once).
    private let indexByURL: [String: Int]
    private let bases: [String: Basis]
    private let caseDirectory: String
    private let patterns: RemovalPatternsInForce
    private let makeDraft: @Sendable (Watch, WatchComparison) -> LedgerDraft
    private let append: @Sendable ([LedgerDraft]) throws(ExhibitError) -> Void
    private let queue = DispatchQueue(label: "exhibit.watch-comparisons")
    /// Guards everything below, shared by the job's thread, the queue's and `finish()`'s.
    private let lock = NSLock()
    /// Change entries appended so far, by index in `batch`.
    private var decided: [Int: Decided] = [:]
    private var failure: ExhibitError?
    /// While the job runs the comparisons take one core (the job has the other); after
    /// it, every core.
    private var jobRunning = true

    init(batch: [Watch], bases: [String: Basis], caseDirectory: String, patterns: RemovalPatternsInForce,
         makeDraft: @escaping @Sendable (Watch, WatchComparison) -> LedgerDraft,
         append: @escaping @Sendable ([LedgerDraft]) throws(ExhibitError) -> Void) {
        self.batch = batch
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

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Compares the batch's pages of watched URLs and appends their change entries.
    private func judge(_ entries: [LedgerEntry]) {
        guard locked({ failure == nil }) else { return }
        var found: [(index: Int, entry: LedgerEntry)] = []
        for entry in entries where Self.isJobEntry(entry) {
            guard let url = entry.subject?["url"]?.stringValue, let index = indexByURL[url] else { continue }
            found.append((index, entry))
        }
        guard !found.isEmpty else { return }
        found.sort { $0.index < $1.index }
        var results: [Decided] = []
        results.reserveCapacity(found.count)
        // In small groups, so that the comparisons left when the job ends take every core.
        var start = 0
        while start < found.count {
            let end = min(start + 16, found.count)
            let width = locked { jobRunning } ? 1 : Parallel.width
            results += Parallel.map(Array(found[start..<end]), width: width) { item -> Decided in
                let watch = self.batch[item.index]
                let comparison = self.bases[watch.url]!.compare(item.entry, caseDirectory: self.caseDirectory, patterns: self.patterns)
                return Decided(comparison: comparison, draft: self.makeDraft(watch, comparison))
            }
            start = end
        }
        do {
            try append(results.map(\.draft))
            locked { for (item, result) in zip(found, results) { decided[item.index] = result } }
        } catch {
            locked { failure = error }
        }
    }

    /// After the job (also when it failed: the batches it sealed are evidence, compared
    /// like the others): waits for the batches handed over and returns the change entries
    /// appended, by index in the batch, and the append that failed, if one did.
    func finish() -> (decided: [Int: Decided], failure: ExhibitError?) {
        locked { jobRunning = false }
        queue.sync {}
        return locked { (decided, failure) }
    }
}
