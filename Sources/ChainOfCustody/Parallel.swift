import Foundation

/// Blocking work (reading and hashing files, checking signatures) spread over the
/// machine's cores.
///
/// Runs on libdispatch's worker threads, never on the Swift concurrency pool
/// (DESIGN §13: blocking calls get threads of their own). Verification of a big
/// case is bound by hashing, and one thread leaves the other cores idle.
public enum Parallel {
    /// How many items run at once: the cores this process may use.
    public static var width: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// `transform` applied to every item, results in the items' order.
    ///
    /// Items are taken one at a time from a shared queue, so a few big items do not
    /// leave a thread idle while another works through a long list; give the
    /// biggest first for the best balance.
    public static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], width: Int = Parallel.width, _ transform: @Sendable (Item) -> Output
    ) -> [Output] {
        guard items.count > 1, width > 1 else { return items.map(transform) }
        let state = SharedResults<Output>(count: items.count)
        DispatchQueue.concurrentPerform(iterations: min(width, items.count)) { _ in
            while let index = state.claim() {
                state.store(transform(items[index]), at: index)
            }
        }
        return state.outputs()
    }
}

/// The queue position and results of one `Parallel.map`, behind a pthread mutex
/// (NSLock) rather than Synchronization's futex-based Mutex, whose locking
/// ThreadSanitizer does not see.
private final class SharedResults<Output: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var results: [Output?]

    init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ output: Output, at index: Int) {
        lock.lock()
        results[index] = output
        lock.unlock()
    }

    /// Every result; called after every claimed index was stored.
    func outputs() -> [Output] {
        lock.lock()
        defer { lock.unlock() }
        return results.map { $0! }
    }
}
