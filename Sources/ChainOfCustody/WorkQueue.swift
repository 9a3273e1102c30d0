import Foundation

/// Blocking jobs (reading and hashing files) that run on threads of their own,
/// costliest first, while the caller goes on with other work.
///
/// Verification hands over every file of a case or bag before it reads the ledger,
/// so that hashing — most of its work — overlaps with parsing the ledger, checking
/// signatures and everything else, instead of each phase waiting for the last to
/// finish on every core. Threads of our own, not the Swift concurrency pool
/// (DESIGN §13).
public final class WorkQueue: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    // `pending` (cheapest first, so the costliest is popped), `running` and
    // `threads` are touched only while `condition` is locked (a pthread mutex).
    private let condition = NSCondition()
    private var pending: [(cost: Int64, job: Job)] = []
    private var running = 0
    private var threads = 0
    private let width: Int

    public init(width: Int = Parallel.width) {
        self.width = max(1, width)
    }

    /// Adds jobs; each starts as soon as a thread is free, the costliest first.
    public func submit(_ jobs: [(cost: Int64, job: Job)]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        pending += jobs
        pending.sort { $0.cost < $1.cost }
        let wanted = min(width, pending.count + running) - threads
        threads += max(0, wanted)
        condition.unlock()
        for _ in 0..<max(0, wanted) {
            let thread = Thread { [self] in work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work() {
        while let job = next() {
            job()
            finished()
        }
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        guard let (_, job) = pending.popLast() else {
            threads -= 1
            condition.broadcast()
            return nil
        }
        running += 1
        return job
    }

    private func finished() {
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs what is still queued on the calling thread too, then waits until
    /// every job has ended.
    public func wait() {
        while let job = nextOnCaller() {
            job()
            finished()
        }
        settle()
    }

    /// Drops the jobs not yet started and waits for those running: nothing of the
    /// queue touches a file once this returns (a caller that failed early, or whose
    /// temporary folder is about to be removed).
    public func cancel() {
        condition.lock()
        pending.removeAll()
        condition.unlock()
        settle()
    }

    private func nextOnCaller() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        guard let (_, job) = pending.popLast() else { return nil }
        running += 1
        return job
    }

    private func settle() {
        condition.lock()
        while running > 0 || threads > 0 { condition.wait() }
        condition.unlock()
    }
}
