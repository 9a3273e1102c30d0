import ChainOfCustody
import Foundation
import WARC

/// Prepares the pages a capture defers (their WARC records compressed, their
/// title and password field found) on a thread of its own while the transfer thread keeps
/// fetching and writes the pages that are ready; at the seal the transfer thread joins in
/// and takes the rest.
///
/// Fetching over a fast network leaves the transfer thread mostly waiting, so
/// without this the second core idled until the seal.
final class PagePreparer: @unchecked Sendable {
    /// A deferred page's compressed records, in order, and its facts.
    typealias Output = Result<([CompressedRecord], PageFacts?), ExhibitError>
    typealias Work = @Sendable () -> Output

    // Everything below is read and written only while `condition` is locked.
    private let condition = NSCondition()
    private var queue: [(index: Int, work: Work)] = []
    private var results: [Int: Output] = [:]
    private var submitted = 0
    /// Results already handed out by `takeReady()`, oldest first.
    private var taken = 0
    private var running = 0
    private var stopped = false

    init() {
        let worker = Thread { [self] in
            while let job = next(waiting: true) { run(job) }
        }
        worker.name = "exhibit-prepare"
        worker.start()
    }

    /// Queues one page's work; results come back from `drain()` in this order.
    func submit(_ work: @escaping Work) {
        condition.lock()
        queue.append((submitted, work))
        submitted += 1
        condition.signal()
        condition.unlock()
    }

    /// Every result not yet taken, in submission order, once all are done; the
    /// calling thread works through what is still queued meanwhile.
    func drain() -> [Output] {
        while let job = next(waiting: false) { run(job) }
        condition.lock()
        while running > 0 || !queue.isEmpty { condition.wait() }
        let outputs = (taken..<submitted).map { results[$0]! }
        results = [:]
        submitted = 0
        taken = 0
        condition.unlock()
        return outputs
    }

    /// The results that are done, in submission order, up to the first that is not
    /// (without waiting): the transfer thread writes those pages while the others are
    /// still being prepared, instead of all of them at the seal.
    func takeReady() -> [Output] {
        condition.lock()
        defer { condition.unlock() }
        var outputs: [Output] = []
        while let output = results.removeValue(forKey: taken) {
            outputs.append(output)
            taken += 1
        }
        return outputs
    }

    /// Runs one queued page's work on the calling thread, if any is waiting; returns
    /// whether it did. The transfer thread calls this when no transfer has anything to
    /// read or write, so both cores compress while the transfers go on, not only at the seal.
    func helpOne() -> Bool {
        guard let job = next(waiting: false) else { return false }
        run(job)
        return true
    }

    /// Ends the worker thread once the queue is empty.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func next(waiting: Bool) -> (index: Int, work: Work)? {
        condition.lock()
        defer { condition.unlock() }
        while waiting && queue.isEmpty && !stopped { condition.wait() }
        guard !queue.isEmpty else { return nil }
        running += 1
        return queue.removeFirst()
    }

    private func run(_ job: (index: Int, work: Work)) {
        let output = job.work()
        condition.lock()
        results[job.index] = output
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
