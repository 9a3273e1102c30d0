import Foundation
import Hummingbird
import LoopbackServer
import NIOConcurrencyHelpers

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
    public var host: String { server.host.address }
    /// The port the site listens on (the ephemeral port chosen when started with port 0).
    public var port: Int { server.port }

    private let server: LoopbackServer
    private let log: RequestLog
    private let stopping: StopFlag
    /// The version `/test/watched` serves (WatchedPage.swift).
    let watched: WatchedPage

    private init(server: LoopbackServer, log: RequestLog, stopping: StopFlag, watched: WatchedPage) {
        self.server = server
        self.log = log
        self.stopping = stopping
        self.watched = watched
    }

    /// `http://HOST:PORT`, without a trailing slash.
    public var baseURL: String { server.baseURL }

    /// Every request received so far, in arrival order (a snapshot; safe from any thread).
    public func requests() -> [LoggedRequest] {
        log.snapshot()
    }

    /// Starts serving on `host` (an address literal in 127.0.0.0/8 or `::1`; see ``LoopbackHost``)
    /// and `port` (0: an ephemeral port). Returns once the server listens. `siteDirectory` nil
    /// serves only the test routes.
    public static func start(host: String = "127.0.0.1", port: Int = 0, siteDirectory: String?) async throws -> FixtureSite {
        guard let loopback = LoopbackHost(host) else { throw FixtureSiteError.notLoopback(host) }
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
        let watched = WatchedPage()
        let responder = FixtureResponder(host: loopback.address, siteDirectory: directory, log: log, stopping: stopping, watched: watched)
        // Graceful shutdown lets a response in flight finish; past 3 s it becomes cancellation.
        let server = try await LoopbackServer.start(
            responder: responder, host: loopback, port: port, name: "Exhibit-Fixture", gracefulShutdown: .seconds(3))
        return FixtureSite(server: server, log: log, stopping: stopping, watched: watched)
    }

    /// ``start(host:port:siteDirectory:)`` for synchronous callers (the CLI's demo command):
    /// blocks the calling thread until the server listens. Do not call it from async code.
    public static func startBlocking(host: String = "127.0.0.1", port: Int = 0, siteDirectory: String?) throws -> FixtureSite {
        try LoopbackServer.blocking { () async throws -> FixtureSite in
            try await start(host: host, port: port, siteDirectory: siteDirectory)
        }
    }

    /// Stops the server: it stops accepting connections, lets responses in flight end (stalls and
    /// slow or streamed bodies are cut short) and returns when the server is down. Idempotent.
    public func stop() async {
        stopping.set()
        await server.stop()
    }

    /// ``stop()`` for synchronous callers. Do not call it from async code.
    public func stopBlocking() {
        LoopbackServer.blocking { [self] () async -> Void in await self.stop() }
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
}

/// Why the fixture site could not start.
public enum FixtureSiteError: Error, CustomStringConvertible, Sendable {
    case notLoopback(String)
    case badPort(Int)
    case noSiteDirectory(String)
    case stoppedBeforeListening

    public var description: String {
        switch self {
        case .notLoopback(let host): "The fixture site serves on loopback only (an address literal in 127.0.0.0/8, or ::1; not a name such as localhost), not on \(host)."
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
