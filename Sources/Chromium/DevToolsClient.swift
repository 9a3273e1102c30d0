public import ChainOfCustody
import Foundation

/// Commands and events over a ``ChromiumProcess``'s DevTools pipe, for callers that
/// interleave Chromium with other work: a command is sent, and its reply collected
/// while every event that arrives meanwhile is handed to `onEvent` in order.
///
/// The Chrome DevTools Protocol is documented at https://chromedevtools.github.io/devtools-protocol/.
public final class DevToolsClient {
    public let process: ChromiumProcess
    private var nextID = 0
    private var replies: [Int: [String: Any]] = [:]
    /// Receives each event (a message with a `method` and no `id`) as it is read.
    public var onEvent: ([String: Any]) throws(ExhibitError) -> Void = { _ throws(ExhibitError) in }

    public init(process: ChromiumProcess) {
        self.process = process
    }

    /// Sends a command without waiting; its reply is kept for ``wait(for:method:deadline:)``
    /// or dropped if nobody asks.
    @discardableResult
    public func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil) throws(ExhibitError) -> Int {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        try process.send(message)
        return nextID
    }

    /// Sends a command and waits for its result until `deadline` (CLOCK_MONOTONIC seconds).
    public func call(_ method: String, _ params: [String: Any] = [:], session: String? = nil, deadline: Double) throws(ExhibitError) -> [String: Any] {
        let id = try send(method, params, session: session)
        return try wait(for: id, method: method, deadline: deadline)
    }

    /// The result of command `id`; an error naming `method` when Chromium refused it
    /// or did not answer by `deadline`.
    public func wait(for id: Int, method: String, deadline: Double) throws(ExhibitError) -> [String: Any] {
        while replies[id] == nil {
            guard try pump(until: deadline) else {
                throw ExhibitError(.captureFailed, "Chromium did not answer \(method) in time.")
            }
        }
        let reply = replies.removeValue(forKey: id)!
        if let error = reply["error"] as? [String: Any] {
            throw ExhibitError(.captureFailed, "Chromium refused \(method): \(error["message"] as? String ?? "unknown error").")
        }
        return reply["result"] as? [String: Any] ?? [:]
    }

    /// Whether command `id` has been answered (its reply is then kept until waited for).
    public func hasReply(_ id: Int) -> Bool { replies[id] != nil }

    /// The result of command `id` if it has been answered, else nil, without reading
    /// the pipe: for callers that drive several pages from one loop. An error naming
    /// `method` when Chromium refused it.
    public func reply(to id: Int, method: String) throws(ExhibitError) -> [String: Any]? {
        guard replies[id] != nil else { return nil }
        return try wait(for: id, method: method, deadline: 0)
    }

    /// Reads one message if one arrives by `deadline`: a reply is kept, an event goes
    /// to `onEvent`. False when nothing arrived in time.
    @discardableResult
    public func pump(until deadline: Double) throws(ExhibitError) -> Bool {
        guard let message = try process.receive(until: deadline) else { return false }
        if let id = message["id"] as? Int {
            replies[id] = message
            // Replies nobody waits for (fire-and-forget commands) must not pile up.
            if replies.count > 10_000, let oldest = replies.keys.min() { replies.removeValue(forKey: oldest) }
        } else {
            try onEvent(message)
        }
        return true
    }

    /// Reads every message that is already waiting, without blocking.
    public func drain() throws(ExhibitError) {
        while try pump(until: ChromiumProcess.now()) {}
    }

    public static func protocolError(_ method: String) -> ExhibitError {
        ExhibitError(.storage, "Chromium answered \(method) unexpectedly; check that the installed chromium is a recent version.")
    }
}

@available(*, unavailable)
extension DevToolsClient: Sendable {}
