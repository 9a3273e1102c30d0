import Foundation
import Synchronization

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
        let next = Atomic<Int>(0)
        let results = Mutex<[Output?]>(Array(repeating: nil, count: items.count))
        DispatchQueue.concurrentPerform(iterations: min(width, items.count)) { _ in
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < items.count else { return }
                let output = transform(items[index])
                results.withLock { $0[index] = output }
            }
        }
        return results.withLock { $0.map { $0! } }
    }
}
