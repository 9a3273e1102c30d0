public import ChainOfCustody
import Foundation
import HTTPTypes
import Hummingbird
import LoopbackServer
import WARC
import NIOConcurrencyHelpers
import NIOCore

/// A loopback-only web server that answers from a case's WARC files and from
/// nothing else: it has no HTTP client, so a URL that was not captured gets a
/// 404 "not captured" page and never a live fetch.
///
/// Two request forms reach the same archive:
/// - route form, pywb-like: `GET /replay/20261201104255/http://example.org/a.html`;
/// - proxy form, as a browser sends to an HTTP proxy: `GET http://example.org/a.html HTTP/1.1`,
///   answered with the capture nearest to ``defaultTimestamp``. `CONNECT` (https through a
///   proxy) is refused with 403: https pages are replayed through the route form (the renderer
///   rewrites them with Chromium's Fetch domain).
///
/// ```
/// let server = try await ReplayServer.start(archive: archive)   // 127.0.0.1, a free port
/// print(server.baseURL)                                          // http://127.0.0.1:41234
/// await server.stop()
/// ```
public final class ReplayServer: Sendable {
    /// One request as the replay server answered it.
    public struct LogEntry: Sendable, Equatable, CustomStringConvertible {
        public enum Form: String, Sendable {
            /// `/replay/<time>/<url>` from a viewer.
            case route
            /// `/replay/<time>/<url>` from the renderer's browser (Fetch-rewritten).
            case browser
            /// Absolute-form request target, as to an HTTP proxy.
            case proxy
            /// `CONNECT host:443`: refused.
            case connect
            /// Anything else (the index page, unknown paths).
            case other
        }

        public var method: String
        /// The archived URL asked for (route and proxy forms), else the request target.
        public var url: String
        public var form: Form
        public var status: Int
        /// The response record served, when the answer came from the WARC.
        public var recordID: String?

        /// Whether the answer was an archived response.
        public var answeredFromWARC: Bool { recordID != nil }

        public var description: String {
            "\(method) \(url) [\(form.rawValue)] → \(status)\(recordID.map { " from \($0)" } ?? "")"
        }
    }

    /// The address the server listens on.
    public var host: String { server.host.address }
    /// The bound port (the free one chosen when started with port 0).
    public var port: Int { server.port }
    /// Proxy-form requests are answered with the capture nearest to this time (nil: the latest).
    public let defaultTimestamp: String?
    private let log: NIOLockedValueBox<[LogEntry]>
    private let server: LoopbackServer

    private init(server: LoopbackServer, defaultTimestamp: String?, log: NIOLockedValueBox<[LogEntry]>) {
        self.server = server
        self.defaultTimestamp = defaultTimestamp
        self.log = log
    }

    /// `http://HOST:PORT`, without a trailing slash.
    public var baseURL: String { server.baseURL }

    /// The route-form address of a capture: `<base>/replay/<timestamp>/<url>`.
    public func replayURL(_ url: String, timestamp: String) -> String {
        "\(baseURL)/replay/\(timestamp)/\(url)"
    }

    /// Every request answered so far, in order (a snapshot).
    public func requests() -> [LogEntry] {
        log.withLockedValue { $0 }
    }

    /// Whether a request's Host names this machine's loopback: an address literal in
    /// 127.0.0.0/8, `::1`, or the name `localhost` (a Host header, unlike a bind address,
    /// is only compared, never resolved).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || LoopbackHost(host) != nil
            || (host.hasPrefix("[") && host.hasSuffix("]") && LoopbackHost(String(host.dropFirst().dropLast())) != nil)
    }

    /// Starts serving `archive` on `host` (an address literal in 127.0.0.0/8 or `::1`; see
    /// ``LoopbackHost``) and `port` (0: a free port, reported in ``port``). Returns once the
    /// server listens.
    public static func start(archive: ReplayArchive, host: String = "127.0.0.1", port: Int = 0,
                             defaultTimestamp: String? = nil) async throws(ExhibitError) -> ReplayServer {
        guard let loopback = LoopbackHost(host) else {
            throw ExhibitError(.usage, "Refused to listen on \(host): replay binds to loopback only (an address literal in 127.0.0.0/8, or ::1).")
        }
        guard (0...65535).contains(port) else {
            throw ExhibitError(.usage, "\(port) is not a TCP port; give 0 (any free port) to 65535.")
        }
        let log = NIOLockedValueBox<[LogEntry]>([])
        let selfPort = NIOLockedValueBox<Int?>(nil)
        let responder = ReplayResponder(archive: archive, defaultTimestamp: defaultTimestamp, log: log, selfPort: selfPort)
        do throws(LoopbackServerError) {
            let server = try await LoopbackServer.start(
                responder: responder, host: loopback, port: port, name: "Exhibit-Replay", gracefulShutdown: .seconds(3),
                onBound: { bound in selfPort.withLockedValue { $0 = bound } })
            return ReplayServer(server: server, defaultTimestamp: defaultTimestamp, log: log)
        } catch {
            switch error {
            case .stoppedBeforeListening, .badPort:
                throw ExhibitError(.storage, "The replay server stopped before it was listening.")
            case .cannotListen(let reason):
                throw ExhibitError(.storage, "The replay server could not listen on \(host) port \(port): \(reason).")
            }
        }
    }

    /// ``start(archive:host:port:defaultTimestamp:)`` for synchronous callers: blocks the
    /// calling thread until the server listens. Do not call it from async code.
    public static func startBlocking(archive: ReplayArchive, host: String = "127.0.0.1", port: Int = 0,
                                     defaultTimestamp: String? = nil) throws(ExhibitError) -> ReplayServer {
        try LoopbackServer.blocking { () async throws(ExhibitError) -> ReplayServer in
            try await start(archive: archive, host: host, port: port, defaultTimestamp: defaultTimestamp)
        }
    }

    /// Stops accepting connections, lets responses in flight end, returns when down.
    public func stop() async {
        await server.stop()
    }

    /// ``stop()`` for synchronous callers.
    public func stopBlocking() {
        LoopbackServer.blocking { [self] () async -> Void in await self.stop() }
    }
}

/// Answers every request from the archive (see ``ReplayServer``).
struct ReplayResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let archive: ReplayArchive
    let defaultTimestamp: String?
    let log: NIOLockedValueBox<[ReplayServer.LogEntry]>
    /// The bound port, set before the first request is answered.
    let selfPort: NIOLockedValueBox<Int?>

    /// Marks the renderer's own (Fetch-rewritten) requests, which get the browser policy.
    static let browserMarker = "X-Exhibit-Replay"
    static let browserMarkerName = HTTPField.Name(browserMarker)
    static let recordIDName = HTTPField.Name("X-Exhibit-Record-ID")
    static let captureTimeName = HTTPField.Name("X-Exhibit-Capture-Time")

    /// Headers that describe one connection, not the archived message (RFC 9110 §7.6.1),
    /// and the framing the replay recomputes.
    static let dropped: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "content-length",
    ]
    /// Headers that would change what the replay browser does beyond showing the page:
    /// kept for the record under `X-Archive-Orig-<name>`, as pywb does.
    static let renamed: Set<String> = [
        "content-security-policy", "content-security-policy-report-only", "strict-transport-security",
        "set-cookie", "alt-svc", "public-key-pins", "report-to", "nel", "refresh",
    ]

    /// A viewer's page may reach only the replay server itself ('self').
    static let viewerPolicy = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'; base-uri 'self'"
    /// In the renderer every http(s) request of the page is routed to the replay server (proxy
    /// and Fetch interception); the policy forbids every other scheme (ws:, ftp: …) and forms.
    static let browserPolicy = "default-src http: https: data: blob: 'unsafe-inline' 'unsafe-eval'; form-action 'none'"

    func respond(to request: Request, context: Context) async throws -> Response {
        let method = request.method
        if method == .connect {
            let target = request.head.authority ?? request.uri.string
            record(.init(method: "CONNECT", url: target, form: .connect, status: 403))
            var response = Self.page(.forbidden, "Not replayed", "https through the replay proxy is not replayed; Exhibit's renderer sends https requests to the route form /replay/&lt;time&gt;/&lt;url&gt;. No request leaves this machine.")
            response.headers[.connection] = "close"
            return response
        }
        let authority = request.head.authority ?? ""
        let target = request.uri.string
        if isSelf(authority) {
            if target.hasPrefix("/replay/") {
                let rest = target.dropFirst("/replay/".count)
                guard let slash = rest.firstIndex(of: "/") else {
                    return notCaptured(request, url: target, form: .route)
                }
                let timestamp = String(rest[..<slash])
                let url = ReplayArchive.repairScheme(String(rest[rest.index(after: slash)...]))
                let browser = Self.browserMarkerName.map { request.headers[$0] == "browser" } ?? false
                guard timestamp.count <= 14, timestamp.allSatisfy(\.isNumber) else {
                    return notCaptured(request, url: url, form: browser ? .browser : .route)
                }
                return serve(request, url: url, timestamp: timestamp, form: browser ? .browser : .route)
            }
            if target == "/" {
                record(.init(method: method.rawValue, url: target, form: .other, status: 200))
                return Self.indexPage(archive)
            }
            // A root-relative reference from a page viewed in route form (`/media/x.png` on
            // /replay/<time>/http://host/page) resolves against the replay server; the
            // Referer says which capture it belongs to.
            if let referer = request.headers[.referer], let range = referer.range(of: "/replay/") {
                let rest = referer[range.upperBound...]
                if let slash = rest.firstIndex(of: "/") {
                    let timestamp = String(rest[..<slash])
                    let page = ReplayArchive.repairScheme(String(rest[rest.index(after: slash)...]))
                    if let base = URL(string: page), let resolved = URL(string: target, relativeTo: base)?.absoluteString {
                        record(.init(method: method.rawValue, url: target, form: .other, status: 307))
                        var response = Self.page(.temporaryRedirect, "Moved", "See the archived copy.")
                        response.headers[.location] = "/replay/\(timestamp)/\(resolved)"
                        return response
                    }
                }
            }
            return notCaptured(request, url: target, form: .other)
        }
        // Proxy form: the request target named another host.
        return serve(request, url: "http://" + authority + target, timestamp: defaultTimestamp, form: .proxy)
    }

    private func isSelf(_ authority: String) -> Bool {
        guard let port = selfPort.withLockedValue({ $0 }) else { return true }
        if authority.isEmpty { return true }
        return ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)"].contains(authority.lowercased())
            || (authority.hasSuffix(":\(port)") && ReplayServer.isLoopback(String(authority.dropLast(":\(port)".count))))
    }

    private func serve(_ request: Request, url: String, timestamp: String?, form: ReplayServer.LogEntry.Form) -> Response {
        guard request.method == .get || request.method == .head else {
            return notCaptured(request, url: url, form: form)
        }
        guard let capture = archive.lookup(url, near: timestamp) else {
            return notCaptured(request, url: url, form: form)
        }
        let message: ReplayedMessage
        do {
            message = try archive.message(for: capture)
        } catch {
            record(.init(method: request.method.rawValue, url: url, form: form, status: 502))
            return Self.page(.badGateway, "Archive unreadable", HTMLText.escape(error.message))
        }
        var fields = HTTPFields()
        for (name, value) in message.headers {
            let lower = name.lowercased()
            if Self.dropped.contains(lower) { continue }
            let finalName = Self.renamed.contains(lower) ? "X-Archive-Orig-" + name : name
            guard let fieldName = HTTPField.Name(finalName) else { continue }
            var finalValue = value
            if lower == "location", let base = URL(string: capture.url),
               let absolute = URL(string: value, relativeTo: base)?.absoluteString {
                // Redirects replay as the redirects they were, to the archived target.
                finalValue = form == .route ? "/replay/\(capture.timestamp)/\(absolute)" : absolute
            }
            fields.append(HTTPField(name: fieldName, value: finalValue))
        }
        fields[.contentSecurityPolicy] = form == .route ? Self.viewerPolicy : Self.browserPolicy
        if let name = Self.recordIDName { fields[name] = message.recordID }
        if let name = Self.captureTimeName { fields[name] = message.date }
        fields[.contentLength] = String(message.body.count)
        let status = (200...599).contains(message.status) ? message.status : 502
        record(.init(method: request.method.rawValue, url: url, form: form, status: status, recordID: message.recordID))
        let response = Response(
            status: HTTPResponse.Status(code: status, reasonPhrase: message.reason),
            headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: message.body)))
        return request.method == .head ? response.createHeadResponse() : response
    }

    private func notCaptured(_ request: Request, url: String, form: ReplayServer.LogEntry.Form) -> Response {
        record(.init(method: request.method.rawValue, url: url, form: form, status: 404))
        var response = Self.page(.notFound, "Not captured", "\(HTMLText.escape(url)) was not captured in this case. The replay answers only from the case's WARC files and never fetches anything live.")
        response.headers[.contentSecurityPolicy] = Self.viewerPolicy
        return response
    }

    private func record(_ entry: ReplayServer.LogEntry) {
        log.withLockedValue { $0.append(entry) }
    }

    static func page(_ status: HTTPResponse.Status, _ title: String, _ text: String) -> Response {
        let html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(title)</title></head><body><h1>\(title)</h1><p>\(text)</p></body></html>\n"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: viewerPolicy],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func indexPage(_ archive: ReplayArchive) -> Response {
        var items = ""
        for capture in archive.captures {
            let href = "/replay/\(capture.timestamp)/\(capture.url)"
            items += "<li><a href=\"\(HTMLText.escape(href))\">\(HTMLText.escape(capture.url))</a> \(capture.timestamp)</li>"
        }
        return page(.ok, "Exhibit replay", "Captures of this case, answered from its WARC files only:</p><ul>\(items)</ul><p>")
    }
}
