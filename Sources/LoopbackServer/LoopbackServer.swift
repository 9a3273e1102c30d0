import Dispatch
public import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
public import ServiceLifecycle

/// A Hummingbird server on a loopback address: the one start, port hand-off,
/// executor, blocking bridge and stop shared by the fixture site, the replay
/// server and the case browser (DESIGN §15).
///
/// ```swift
/// let server = try await LoopbackServer.start(responder: responder, host: host, port: 0, name: "Exhibit")
/// print(server.baseURL)   // http://127.0.0.1:41234
/// await server.stop()
/// ```
public final class LoopbackServer: Sendable {
    public let host: LoopbackHost
    /// The bound port (the free one chosen when started with port 0).
    public let port: Int

    private let group: ServiceGroup
    private let runTask: Task<Void, Never>

    private init(host: LoopbackHost, port: Int, group: ServiceGroup, runTask: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.group = group
        self.runTask = runTask
    }

    /// `http://HOST:PORT`, without a trailing slash.
    public var baseURL: String { "http://\(host.urlHost):\(port)" }

    /// Starts serving `responder` on `host` and `port` (0: a free port) and returns once
    /// the server listens. `onBound` gets the bound port before this returns and before
    /// any request is answered (for responders that must know their own address).
    ///
    /// - Parameters:
    ///   - name: the `Server` header value (nil: none).
    ///   - gracefulShutdown: how long responses in flight may run on after ``stop()``;
    ///     past it they are cancelled.
    ///   - handleSignals: stop gracefully on SIGINT and SIGTERM (a command in the foreground).
    public static func start<Responder: HTTPResponder>(
        responder: Responder, host: LoopbackHost, port: Int, name: String? = nil,
        gracefulShutdown: Duration = .seconds(3), handleSignals: Bool = false,
        onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws(LoopbackServerError) -> LoopbackServer where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        guard (0...65535).contains(port) else { throw .badPort(port) }
        let startup = PortHandOff()
        // Quiet: the commands print only their own summaries.
        let logger = Logger(label: "exhibit.loopback", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host.address, port: port), serverName: name),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                onBound(bound)
                startup.resolve(.success(bound))
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        if handleSignals { configuration.gracefulShutdownSignals = [.sigterm, .sigint] }
        configuration.maximumGracefulShutdownDuration = gracefulShutdown
        let group = ServiceGroup(configuration: configuration)
        let runTask = Task.detached(executorPreference: LoopbackExecutor.shared) {
            do {
                try await group.run()
                startup.resolve(.failure(.stoppedBeforeListening))
            } catch {
                startup.resolve(.failure(.cannotListen(reason: bindFailureReason(error))))
            }
        }
        do throws(LoopbackServerError) {
            let bound = try await startup.wait()
            return LoopbackServer(host: host, port: bound, group: group, runTask: runTask)
        } catch {
            await runTask.value
            throw error
        }
    }

    /// Stops accepting connections, lets responses in flight end (within the grace given to
    /// `start`) and returns when the server is down. Idempotent.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await runTask.value
    }

    /// Returns when the server has stopped (after a signal or ``stop()``).
    public func waitUntilStopped() async {
        await runTask.value
    }

    /// Runs `body` on the loopback executor and blocks the calling thread until it ends:
    /// the bridge for synchronous callers (the command line's `startBlocking`, `stopBlocking`).
    /// Do not call it from async code.
    public static func blocking<Value: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () async throws(Failure) -> Value
    ) throws(Failure) -> Value {
        let result = NIOLockedValueBox<Result<Value, Failure>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: LoopbackExecutor.shared) {
            let outcome: Result<Value, Failure>
            do throws(Failure) {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            result.withLockedValue { $0 = outcome }
            done.signal()
        }
        done.wait()
        guard let outcome = result.withLockedValue({ $0 }) else {
            preconditionFailure("the blocking task signalled without a result")
        }
        return try outcome.get()
    }

    /// NIO's bind errors say `bind(descriptor:ptr:bytes:): Address already in use (errno: 98)`: keep the reason.
    static func bindFailureReason(_ error: any Error) -> String {
        let text = String(describing: error)
        if let colon = text.range(of: "): ") {
            return String(text[colon.upperBound...]).replacingOccurrences(of: " (errno: ", with: ", errno ").replacingOccurrences(of: ")", with: "")
        }
        return text
    }
}

/// Why a loopback server did not start. Each server words these for its own callers.
public enum LoopbackServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The port is not 0…65535.
    case badPort(Int)
    /// Binding failed (the port is taken, the address is not configured); the reason as NIO gave it.
    case cannotListen(reason: String)
    /// The server ended before it was listening.
    case stoppedBeforeListening

    public var description: String {
        switch self {
        case .badPort(let port): "\(port) is not a TCP port; give 0 (any free port) to 65535."
        case .cannotListen(let reason): "Cannot listen (\(reason))."
        case .stoppedBeforeListening: "The server stopped before it was listening."
        }
    }
}

/// Hands the bound port (or the failure to bind) from the server task to `start`.
final class PortHandOff: Sendable {
    private enum State: Sendable {
        case waiting(CheckedContinuation<Int, any Error>?)
        case done(Result<Int, LoopbackServerError>)
    }

    private let state = NIOLockedValueBox<State>(.waiting(nil))

    /// The first call wins; later ones are ignored.
    func resolve(_ result: Result<Int, LoopbackServerError>) {
        let continuation: CheckedContinuation<Int, any Error>? = state.withLockedValue { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    func wait() async throws(LoopbackServerError) -> Int {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let ready: Result<Int, LoopbackServerError>? = state.withLockedValue { state in
                    switch state {
                    case .waiting:
                        state = .waiting(continuation)
                        return nil
                    case .done(let result):
                        return result
                    }
                }
                if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
            }
        } catch let error as LoopbackServerError {
            throw error
        } catch {
            throw .cannotListen(reason: "\(error)")
        }
    }
}

/// Runs the servers' tasks on Dispatch threads, not the Swift concurrency pool: on a
/// small machine that pool has as many threads as cores, and a caller that blocks one
/// (the CLI waiting on Chromium, a test waiting on a child process) must not starve the
/// server it is talking to. Dispatch's global queues add threads when blocked.
public final class LoopbackExecutor: TaskExecutor, @unchecked Sendable {
    public static let shared = LoopbackExecutor()
    private let queue = DispatchQueue(label: "exhibit.loopback", attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
