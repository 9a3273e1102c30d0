import Foundation

/// Checks `condition` every `interval` until it holds or `timeout` has passed, and
/// says whether it held: the one way a test waits for something to happen, on a
/// condition with a deadline rather than a sleep that hopes it was long enough.
///
/// ```swift
/// let stopped = await poll(until: { !process.isRunning }, timeout: .seconds(15))
/// #expect(stopped, "exhibit serve did not stop within 15 s of SIGINT")
/// ```
public func poll(
    until condition: () async throws -> Bool, timeout: Duration, interval: Duration = .milliseconds(20),
    isolation: isolated (any Actor)? = #isolation
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try await condition() { return true }
        if clock.now >= deadline { return false }
        try? await Task.sleep(for: interval)
    }
}

/// ``poll(until:timeout:interval:isolation:)`` for code on a thread of its own (inside
/// ``Blocking/run(_:)``, a process watcher): sleeps the thread between checks.
public func pollBlocking(
    until condition: () throws -> Bool, timeout: Duration, interval: Duration = .milliseconds(20)
) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try condition() { return true }
        if clock.now >= deadline { return false }
        Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
    }
}
