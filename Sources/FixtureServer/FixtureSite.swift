import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The loopback web site that `exhibit demo` captures and the capture tests use:
/// the static files of a site directory (Fixtures/site) plus test routes under `/test/`
/// that misbehave on purpose (redirect chains and loops, chunked and gzip bodies,
/// stalls, slow and huge bodies), with a log of every request received.
///
/// ```
/// let site = try await FixtureSite.start(siteDirectory: FixtureSite.defaultSiteDirectory)
/// defer { Task { await site.stop() } }
/// … capture site.baseURL + "/article.html" …
/// #expect(site.requests().count == 1)
/// ```
public final class FixtureSite: Sendable {
    /// The address the site listens on.
    public let host: String
    /// The port the site listens on (the ephemeral port chosen when started with port 0).
    public let port: Int

    private let log: RequestLog
    private let stopping: StopFlag
    private let group: ServiceGroup
    private let runTask: Task<Void, Never>

    private init(host: String, port: Int, log: RequestLog, stopping: StopFlag, group: ServiceGroup, runTask: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.log = log
        self.stopping = stopping
        self.group = group
        self.runTask = runTask
    }

    /// `http://HOST:PORT`, without a trailing slash.
    public var baseURL: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// Every request received so far, in arrival order (a snapshot; safe from any thread).
    public func requests() -> [LoggedRequest] {
        log.snapshot()
    }

    /// Starts serving on `host` (any 127.x.y.z address, `::1` or `localhost`) and `port`
    /// (0: an ephemeral port). Returns once the server listens. `siteDirectory` nil serves only
    /// the test routes.
    public static func start(host: String = "127.0.0.1", port: Int = 0, siteDirectory: String?) async throws -> FixtureSite {
        guard isLoopback(host) else { throw FixtureSiteError.notLoopback(host) }
        guard (0...65535).contains(port) else { throw FixtureSiteError.badPort(port) }
        var directory: String?
        if let siteDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: siteDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw FixtureSiteError.noSiteDirectory(siteDirectory)
            }
            directory = siteDirectory.hasSuffix("/") && siteDirectory.count > 1 ? String(siteDirectory.dropLast()) : siteDirectory
        }

        let log = RequestLog()
        let stopping = StopFlag()
        let startup = Startup()
        // Quiet: the demo prints only its own summary.
        let logger = Logger(label: "exhibit.fixture-site", factory: { _ in SwiftLogNoOpLogHandler() })
        let responder = FixtureResponder(host: host, siteDirectory: directory, log: log, stopping: stopping)
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "Exhibit-Fixture"),
            onServerRunning: { channel in
                startup.resolve(.success(channel.localAddress?.port ?? port))
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        // Graceful shutdown lets a response in flight finish; past this it becomes cancellation.
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let group = ServiceGroup(configuration: configuration)
        let runTask = Task.detached(executorPreference: FixtureExecutor.shared) {
            do {
                try await group.run()
                startup.resolve(.failure(FixtureSiteError.stoppedBeforeListening))
            } catch {
                startup.resolve(.failure(error))
            }
        }
        let boundPort: Int
        do {
            boundPort = try await startup.wait()
        } catch {
            await runTask.value
            throw error
        }
        return FixtureSite(host: host, port: boundPort, log: log, stopping: stopping, group: group, runTask: runTask)
    }

    /// ``start(host:port:siteDirectory:)`` for synchronous callers (the CLI's demo command):
    /// blocks the calling thread until the server listens. Do not call it from async code.
    public static func startBlocking(host: String = "127.0.0.1", port: Int = 0, siteDirectory: String?) throws -> FixtureSite {
        let result = BlockingResult<FixtureSite>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                result.set(.success(try await start(host: host, port: port, siteDirectory: siteDirectory)))
            } catch {
                result.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    /// Stops the server: it stops accepting connections, lets responses in flight end (stalls and
    /// slow or streamed bodies are cut short) and returns when the server is down. Idempotent.
    public func stop() async {
        stopping.set()
        await group.triggerGracefulShutdown()
        await runTask.value
    }

    /// ``stop()`` for synchronous callers. Do not call it from async code.
    public func stopBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task.detached { [self] in
            await self.stop()
            done.signal()
        }
        done.wait()
    }

    /// The repository's Fixtures/site directory, found from this source file's path
    /// (for tests and for `exhibit demo` run from the build tree); nil if it is not there.
    public static var defaultSiteDirectory: String? {
        // #filePath is …/Sources/FixtureServer/FixtureSite.swift; the site is …/Fixtures/site.
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard components.count > 3 else { return nil }
        components.removeLast(3)
        let directory = (components + ["Fixtures", "site"]).joined(separator: "/")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory + "/index.html", isDirectory: &isDirectory), !isDirectory.boolValue else {
            return nil
        }
        return directory
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && (UInt8(part) != nil)
        }
    }
}

/// Why the fixture site could not start.
public enum FixtureSiteError: Error, CustomStringConvertible, Sendable {
    case notLoopback(String)
    case badPort(Int)
    case noSiteDirectory(String)
    case stoppedBeforeListening

    public var description: String {
        switch self {
        case .notLoopback(let host): "The fixture site serves on loopback only (127.x.y.z, ::1, localhost), not on \(host)."
        case .badPort(let port): "\(port) is not a TCP port."
        case .noSiteDirectory(let path): "The site directory \(path) does not exist."
        case .stoppedBeforeListening: "The fixture site stopped before it was listening."
        }
    }
}

// MARK: - Shared state

/// The request log: appended by the server's connection tasks, read by tests.
final class RequestLog: Sendable {
    private let entries = NIOLockedValueBox<[LoggedRequest]>([])

    func append(_ request: LoggedRequest) {
        entries.withLockedValue { $0.append(request) }
    }

    func snapshot() -> [LoggedRequest] {
        entries.withLockedValue { $0 }
    }
}

/// Set when the site is stopping, so stalls and drip-fed bodies end promptly.
final class StopFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    func set() { value.withLockedValue { $0 = true } }
    var isSet: Bool { value.withLockedValue { $0 } }
}

/// Hands the bound port (or the failure to bind) from the server task to `start`.
final class Startup: Sendable {
    private enum State: Sendable {
        case waiting(CheckedContinuation<Int, any Error>?)
        case done(Result<Int, any Error>)
    }

    private let state = NIOLockedValueBox<State>(.waiting(nil))

    /// The first call wins; later ones are ignored.
    func resolve(_ result: Result<Int, any Error>) {
        let continuation: CheckedContinuation<Int, any Error>? = state.withLockedValue { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        continuation?.resume(with: result)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Int, any Error>? = state.withLockedValue { state in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                case .done(let result):
                    return result
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// A result handed from a detached task to a thread blocked on a semaphore.
final class BlockingResult<Value: Sendable>: Sendable {
    private let value = NIOLockedValueBox<Result<Value, any Error>?>(nil)
    func set(_ result: Result<Value, any Error>) { value.withLockedValue { $0 = result } }
    func get() throws -> Value {
        guard let result = value.withLockedValue({ $0 }) else { throw FixtureSiteError.stoppedBeforeListening }
        return try result.get()
    }
}

/// Runs the fixture site's tasks on threads of their own, not the Swift
/// concurrency pool: on a 2-core machine that pool has two threads, and tests
/// that block one (waiting on a child process) would otherwise starve the
/// server they are talking to. Dispatch's global queues add threads when blocked.
public final class FixtureExecutor: TaskExecutor, @unchecked Sendable {
    public static let shared = FixtureExecutor()
    private let queue = DispatchQueue(label: "exhibit.fixture-site", attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
