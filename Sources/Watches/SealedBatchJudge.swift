import ChainOfCustody
import Foundation

/// Compares a watch job's captures with their previous captures while the job goes
/// on, so that when it ends only the last sealed batch is left to compare.
///
/// A capture job records its captures a WARC file at a time (a seal appends their
/// entries to the ledger, then renames the file into place). At each progress event
/// of the job, on the job's own thread and so never during one of its appends,
/// `poll()` looks whether the ledger grew; the new lines go to a thread of their own,
/// which parses them and compares each page captured of a watched URL. The job's
/// report is known only at its end, so these comparisons are kept by the capture
/// entry's seq and used only for the entry the end finds to be the job's capture of
/// that URL (as `WatchRunner.runBatch` found it before): the result is the same as
/// comparing everything after the job, only earlier.
final class SealedBatchJudge: @unchecked Sendable {
    /// What a watched URL's comparison needs besides the new capture.
    struct Basis: Sendable {
        var previous: LedgerEntry?
        var unreachableBefore: Int
        var previousPassedRemoval: Bool
    }

    private let ledger: Ledger
    private let bases: [String: Basis]
    private let caseDirectory: String
    private let patterns: RemovalPatternsInForce
    private let queue = DispatchQueue(label: "exhibit.watch-comparisons")
    /// Guards `parsed`, `judged` and `stopped`, shared by the job's thread and the queue's.
    private let lock = NSLock()
    private var parsed: [Int: [LedgerEntry]] = [:]
    private var judged: [Int64: WatchComparison] = [:]
    private var stopped = false
    /// The job's thread only: how far the ledger was read, and the pieces read since `start`.
    private var offset: Int
    private var pieces: [[UInt8]] = []

    init(ledger: Ledger, from offset: Int, bases: [String: Basis], caseDirectory: String, patterns: RemovalPatternsInForce) {
        self.ledger = ledger
        self.offset = offset
        self.bases = bases
        self.caseDirectory = caseDirectory
        self.patterns = patterns
    }

    /// Called by the job's progress events: hands what the ledger gained since the
    /// last call, if anything, to the comparing thread. A read that fails is left to
    /// `finish()`, which reads again and reports it.
    func poll() {
        var info = stat()
        guard stat(ledger.path, &info) == 0, Int(info.st_size) > offset,
              let bytes = try? ledger.readLocked(from: offset), !bytes.isEmpty else { return }
        offset += bytes.count
        let index = pieces.count
        pieces.append(bytes)
        queue.async { self.judge(bytes, index: index) }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func judge(_ bytes: [UInt8], index: Int) {
        // One core: the job goes on with the other.
        guard !isStopped, let entries = try? WatchRunner.entries(in: bytes, ledger: ledger, width: 1) else { return }
        lock.lock()
        parsed[index] = entries
        lock.unlock()
        for entry in entries where entry.action == "capture" {
            guard let subject = entry.subject, let url = subject["url"]?.stringValue, let basis = bases[url],
                  subject["role"]?.stringValue == "page" else { continue }
            // The WARC file is renamed into place right after its entries are appended;
            // a record not yet at its final path is compared at the end.
            if let file = subject["warc"]?["file"]?.stringValue, access(caseDirectory + "/" + file, F_OK) != 0 { continue }
            if isStopped { return }
            let comparison = WatchComparison.compare(
                current: entry, previous: basis.previous, caseDirectory: caseDirectory, patterns: patterns,
                unreachableBefore: basis.unreachableBefore, previousPassedRemoval: basis.previousPassedRemoval)
            lock.lock()
            judged[entry.seq] = comparison
            lock.unlock()
        }
    }

    /// After the job: stops the comparing thread (it finishes the comparison in hand),
    /// reads what the ledger gained since the last poll, and returns every entry
    /// appended since `offset` at creation, in ledger order, with the comparisons made
    /// so far by capture seq and the offset read up to.
    func finish() throws(ExhibitError) -> (entries: [LedgerEntry], judged: [Int64: WatchComparison], readUpTo: Int) {
        lock.lock()
        stopped = true
        lock.unlock()
        queue.sync {}
        let tail = try ledger.readLocked(from: offset)
        offset += tail.count
        var entries: [LedgerEntry] = []
        lock.lock()
        let parsed = self.parsed, judged = self.judged
        lock.unlock()
        for (index, piece) in pieces.enumerated() {
            if let done = parsed[index] { entries += done } else { entries += try WatchRunner.entries(in: piece, ledger: ledger) }
        }
        entries += try WatchRunner.entries(in: tail, ledger: ledger)
        return (entries, judged, offset)
    }

    /// Stops the comparing thread when the job failed.
    func cancel() {
        lock.lock()
        stopped = true
        lock.unlock()
        queue.sync {}
    }
}
