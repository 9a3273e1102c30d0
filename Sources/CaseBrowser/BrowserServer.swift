public import CaseManagement
public import ChainOfCustody
import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `exhibit serve`: the local case browser, a Hummingbird server bound to a
/// loopback address only.
///
/// ```swift
/// let server = try await BrowserServer.start(workspace: workspace, actorID: "a-0002", port: 0)
/// print(server.url)          // http://127.0.0.1:40123/
/// …
/// await server.stop()
/// ```
///
/// Everything that can be refused is refused before anything listens: a
/// non-loopback address, a bad port, an unknown actor, a workspace that does
/// not open.
public final class BrowserServer: Sendable {
    /// The default port of `exhibit serve`.
    public static let defaultPort = 8080

    public let address: LoopbackAddress
    /// The bound port (the ephemeral one chosen when started with port 0).
    public let port: Int
    /// The acting actor every page is shown to and recorded for.
    public let actorID: String
    /// `http://127.0.0.1:PORT/`.
    public var url: String { "http://\(address.urlHost):\(port)/" }

    private let group: ServiceGroup
    private let runTask: Task<Void, Never>

    private init(address: LoopbackAddress, port: Int, actorID: String, group: ServiceGroup, runTask: Task<Void, Never>) {
        self.address = address
        self.port = port
        self.actorID = actorID
        self.group = group
        self.runTask = runTask
    }

    /// Checks a `--port` value: 0 (a free port) to 65535.
    public static func checkPort(_ port: Int) throws(ExhibitError) {
        guard (0...65535).contains(port) else {
            throw ExhibitError(.usage, "--port takes 0 (any free port) to 65535, not \(port).")
        }
    }

    /// Starts serving and returns once the server listens.
    ///
    /// - Parameters:
    ///   - bind: an address in 127.0.0.0/8 or `::1`; anything else is a usage error (exit 2).
    ///   - port: 0 picks a free port.
    ///   - handleSignals: stop gracefully on SIGINT and SIGTERM (the command line).
    ///   - notices: recovery notices and refused requests, one sentence each.
    public static func start(
        workspace: Workspace, actorID: String?, bind: String = "127.0.0.1", port: Int = defaultPort,
        handleSignals: Bool = false, notices: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(ExhibitError) -> BrowserServer {
        let address = try LoopbackAddress(bind)
        try checkPort(port)
        let browsing = try CaseBrowsing(workspace: workspace, actorID: actorID, notices: notices)
        let token = Hex.encode(OpenSSL.randomBytes(32))
        let authorities = AuthorityBox()
        let responder = BrowserResponder(
            browsing: browsing, csrfToken: token, authorityBox: authorities, results: ResultStore(), exports: SerialQueue())

        let startup = Startup()
        let logger = Logger(label: "exhibit.serve", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(address.address, port: port), serverName: "Exhibit"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                // Known only now for port 0: the Host values requests must carry.
                authorities.set(Self.authorities(address, port: bound))
                startup.resolve(.success(bound))
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        if handleSignals { configuration.gracefulShutdownSignals = [.sigterm, .sigint] }
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let runTask = Task.detached(executorPreference: BrowserExecutor.shared) {
            do {
                try await group.run()
                startup.resolve(.failure(ExhibitError(.storage, "The case browser stopped before it was listening.")))
            } catch {
                startup.resolve(.failure(ExhibitError(.storage, "Cannot listen on \(address.urlHost):\(port) (\(Self.reason(error))); choose another --port, or --port 0 for a free one.")))
            }
        }
        let bound: Int
        do {
            bound = try await startup.wait()
        } catch {
            await runTask.value
            throw error
        }
        return BrowserServer(address: address, port: bound, actorID: browsing.actorID, group: group, runTask: runTask)
    }

    /// ``start(workspace:actorID:bind:port:handleSignals:notices:)`` for the
    /// synchronous command line: blocks the calling thread until the server listens.
    public static func startBlocking(
        workspace: Workspace, actorID: String?, bind: String = "127.0.0.1", port: Int = defaultPort,
        handleSignals: Bool = false, notices: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ExhibitError) -> BrowserServer {
        let result = BlockingBox<BrowserServer>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do throws(ExhibitError) {
                result.set(.success(try await start(
                    workspace: workspace, actorID: actorID, bind: bind, port: port, handleSignals: handleSignals, notices: notices)))
            } catch {
                result.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// returns when the server is down. Idempotent.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await runTask.value
    }

    /// Returns when the server has stopped (after a signal or ``stop()``).
    public func waitUntilStopped() async {
        await runTask.value
    }

    /// ``waitUntilStopped()`` for synchronous callers: blocks the calling thread.
    public func waitUntilStoppedBlocking() {
        let done = DispatchSemaphore(value: 0)
        Task.detached { [self] in
            await self.waitUntilStopped()
            done.signal()
        }
        done.wait()
    }

    /// The Host header values a request to this server carries. `localhost` is
    /// accepted too: an attacker's page can make a browser connect here by DNS
    /// rebinding, but then its Host names the attacker's domain.
    static func authorities(_ address: LoopbackAddress, port: Int) -> Set<String> {
        var set: Set<String> = ["\(address.urlHost):\(port)"]
        if address.address == "127.0.0.1" || address.isIPv6 { set.insert("localhost:\(port)") }
        return set
    }

    /// NIO's bind errors say `bind(descriptor:ptr:bytes:): Address already in use (errno: 98)`: keep the reason.
    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if let colon = text.range(of: "): ") {
            return String(text[colon.upperBound...]).replacingOccurrences(of: " (errno: ", with: ", errno ").replacingOccurrences(of: ")", with: "")
        }
        return text
    }
}

/// The Host values the server answers to, set once it has bound its port.
final class AuthorityBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: Set<String> = []

    func set(_ values: Set<String>) { lock.withLock { self.values = values } }
    var current: Set<String> { lock.withLock { values } }
}

/// Hands the bound port (or the failure to bind) from the server task to `start`.
final class Startup: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Int, ExhibitError>?
    private var continuation: CheckedContinuation<Int, any Error>?

    /// The first call wins.
    func resolve(_ value: Result<Int, ExhibitError>) {
        let waiting: CheckedContinuation<Int, any Error>? = lock.withLock {
            guard result == nil else { return nil }
            result = value
            defer { continuation = nil }
            return continuation
        }
        waiting?.resume(with: value.mapError { $0 as any Error })
    }

    func wait() async throws(ExhibitError) -> Int {
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let ready: Result<Int, ExhibitError>? = lock.withLock {
                    if result == nil { self.continuation = continuation }
                    return result
                }
                if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
            }
        } catch let error as ExhibitError {
            throw error
        } catch {
            throw ExhibitError(.storage, "The case browser could not start: \(error).")
        }
    }
}

final class BlockingBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Value, ExhibitError>?

    func set(_ value: Result<Value, ExhibitError>) { lock.withLock { result = value } }

    func get() throws(ExhibitError) -> Value {
        guard let result = lock.withLock({ result }) else {
            throw ExhibitError(.storage, "The case browser could not start.")
        }
        return try result.get()
    }
}

/// Runs the server's tasks on Dispatch threads, not the Swift concurrency
/// pool: on a small machine that pool has as many threads as cores, and a
/// caller blocked on it (a test waiting for Chromium) must not starve the server.
final class BrowserExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = BrowserExecutor()
    private let queue = DispatchQueue(label: "exhibit.serve", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
