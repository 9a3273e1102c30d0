public import CaseManagement
public import ChainOfCustody
import Foundation
import Hummingbird
import LoopbackServer

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
    public var port: Int { server.port }
    /// The acting actor every page is shown to and recorded for.
    public let actorID: String
    /// `http://127.0.0.1:PORT/`.
    public var url: String { "http://\(address.urlHost):\(port)/" }

    private let server: LoopbackServer

    private init(address: LoopbackAddress, actorID: String, server: LoopbackServer) {
        self.address = address
        self.actorID = actorID
        self.server = server
    }

    /// Checks a port to listen on: 0 (a free port) to 65535.
    public static func checkPort(_ port: Int) throws(ExhibitError) {
        guard (0...65535).contains(port) else {
            throw ExhibitError(.usage, "The port to listen on is 0 (any free port) to 65535, not \(port); give another.", input: .listeningPort)
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

        do throws(LoopbackServerError) {
            let server = try await LoopbackServer.start(
                responder: responder, host: address.host, port: port, name: "Exhibit",
                gracefulShutdown: .seconds(5), handleSignals: handleSignals,
                // Known only now for port 0: the Host values requests must carry.
                onBound: { bound in authorities.set(Self.authorities(address, port: bound)) })
            return BrowserServer(address: address, actorID: browsing.actorID, server: server)
        } catch {
            switch error {
            case .stoppedBeforeListening, .badPort:
                throw ExhibitError(.storage, "The case browser stopped before it was listening.")
            case .cannotListen(let reason):
                throw ExhibitError(.storage, "Cannot listen on \(address.urlHost):\(port) (\(reason)); choose another port.", input: .listeningPort)
            }
        }
    }

    /// ``start(workspace:actorID:bind:port:handleSignals:notices:)`` for the
    /// synchronous command line: blocks the calling thread until the server listens.
    public static func startBlocking(
        workspace: Workspace, actorID: String?, bind: String = "127.0.0.1", port: Int = defaultPort,
        handleSignals: Bool = false, notices: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ExhibitError) -> BrowserServer {
        try LoopbackServer.blocking { () async throws(ExhibitError) -> BrowserServer in
            try await start(
                workspace: workspace, actorID: actorID, bind: bind, port: port, handleSignals: handleSignals, notices: notices)
        }
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// returns when the server is down. Idempotent.
    public func stop() async {
        await server.stop()
    }

    /// Returns when the server has stopped (after a signal or ``stop()``).
    public func waitUntilStopped() async {
        await server.waitUntilStopped()
    }

    /// ``waitUntilStopped()`` for synchronous callers: blocks the calling thread.
    public func waitUntilStoppedBlocking() {
        LoopbackServer.blocking { [self] () async -> Void in await self.waitUntilStopped() }
    }

    /// The Host header values a request to this server carries. `localhost` is
    /// accepted too: an attacker's page can make a browser connect here by DNS
    /// rebinding, but then its Host names the attacker's domain.
    static func authorities(_ address: LoopbackAddress, port: Int) -> Set<String> {
        var set: Set<String> = ["\(address.urlHost):\(port)"]
        if address.address == "127.0.0.1" || address.isIPv6 { set.insert("localhost:\(port)") }
        return set
    }
}

/// The Host values the server answers to, set once it has bound its port.
final class AuthorityBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: Set<String> = []

    func set(_ values: Set<String>) { lock.withLock { self.values = values } }
    var current: Set<String> { lock.withLock { values } }
}
