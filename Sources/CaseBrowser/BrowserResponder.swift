import CaseBundle
import CaseManagement
import CaseReplay
import ChainOfCustody
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Answers every request of the case browser: checks that it is addressed to
/// this server (the DNS-rebinding guard), routes it, and for the two form
/// posts checks that it comes from one of this server's own pages (the CSRF
/// guard).
///
/// Routes:
/// - `GET /` the case list; `GET /assets/browser.css` the style sheet;
/// - `GET /cases/<ID>[?url=…&type=…&status=…&q=…&page=N&timeline=N]`,
///   `/cases/<ID>/artifacts/<A>`, `…/<A>/replay`, `…/<A>/replay/<URL>` (the
///   page and its resources from the WARC files, route form),
///   `/cases/<ID>/blobs/<sha256>`: evidence, each a recorded `view`;
/// - `POST /cases/<ID>/verify`, `POST /cases/<ID>/export` (format bagit|wacz),
///   answered with 303 to `/cases/<ID>/results/<key>`, the result page.
struct BrowserResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let browsing: CaseBrowsing
    /// Random per server: every form carries it, every post must return it.
    let csrfToken: String
    /// The Host values this server answers to (`127.0.0.1:PORT`, …).
    let authorityBox: AuthorityBox
    var authorities: Set<String> { authorityBox.current }
    let results: ResultStore
    let exports: SerialQueue

    /// Every HTML page's policy: nothing but this server's style sheet,
    /// images and frames; forms post only here; no page may be framed (so the
    /// Verify and Export buttons cannot be clickjacked).
    static let pagePolicy = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    /// The replay frame's policy: a sandbox (no scripts, an opaque origin) in
    /// which nothing can be fetched from the live web.
    static let replayPolicy = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    /// The replay policy for the route form, with images allowed only under the
    /// frame's own prefix (`http://127.0.0.1:PORT/cases/<ID>/artifacts/<A>/replay/`,
    /// CSP3 path matching): a captured page's `<img src="/cases/…/blobs/…">` can then
    /// not make this server record views of anything but the replay it belongs to.
    /// Names that are not plain (letters, digits, `-`, `.`, `:`, `[`, `]`) get the
    /// general replay policy: nothing from the request is ever spliced into a header
    /// unchecked.
    static func routePolicy(caseID: String, artifact: String, authority: String) -> String {
        let plain = { (text: String) in
            !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-.:[]".unicodeScalars.contains($0)) }
        }
        guard plain(caseID), plain(artifact), plain(authority) else { return replayPolicy }
        return "sandbox; default-src 'none'; img-src http://\(authority)/cases/\(caseID)/artifacts/\(artifact)/replay/ data:; style-src 'unsafe-inline'"
    }

    /// Blobs other than PDF: shown by the browser, never run.
    static let blobPolicy = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"

    func respond(to request: Request, context: Context) async throws -> Response {
        guard let authority = request.head.authority?.lowercased(), authorities.contains(authority) else {
            return errorResponse(.misdirectedRequest, "This server answers only requests addressed to \(authorities.sorted().first.map { "http://\($0)/" } ?? "its own address") (a guard against DNS rebinding).")
        }
        let path = request.uri.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        switch request.method {
        case .get:
            return await get(segments, request)
        case .post:
            return await post(segments, request)
        default:
            var response = errorResponse(.methodNotAllowed, "Only GET and POST are served here.")
            response.headers[.allow] = "GET, POST"
            return response
        }
    }

    // MARK: GET

    private func get(_ segments: [String], _ request: Request) async -> Response {
        let agency = browsing.workspace.info.agency
        switch segments.count {
        case 1 where segments[0] == "":
            return await page { () throws(ExhibitError) in
                BrowserPages.caseList(try browsing.caseList(), agency: agency)
            }
        case 2 where segments == ["assets", "browser.css"]:
            return Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "no-cache", .xContentTypeOptions: "nosniff"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: BrowserPages.styleSheet)))
        case 2 where segments[0] == "cases":
            let caseID = segments[1]
            let token = csrfToken
            let query = CasePageQuery(fields: CasePageQuery.fields(fromQuery: request.uri.query ?? ""))
            return await page { () throws(ExhibitError) in
                BrowserPages.casePage(try browsing.casePage(caseID, query: query), agency: agency, csrfToken: token)
            }
        case 4 where segments[0] == "cases" && segments[2] == "artifacts":
            let (caseID, artifact) = (segments[1], segments[3])
            return await page { () throws(ExhibitError) in
                BrowserPages.artifactPage(try browsing.artifactPage(caseID, artifact: artifact), agency: agency)
            }
        case 5 where segments[0] == "cases" && segments[2] == "artifacts" && segments[4] == "replay":
            return await replay(caseID: segments[1], artifact: segments[3])
        case 6... where segments[0] == "cases" && segments[2] == "artifacts" && segments[4] == "replay":
            // The archived URL is everything after the prefix, query included, as sent.
            let prefix = "/cases/\(segments[1])/artifacts/\(segments[3])/replay/"
            guard request.uri.string.hasPrefix(prefix) else { return errorResponse(.notFound, "There is no such page.") }
            let url = ReplayArchive.repairScheme(String(request.uri.string.dropFirst(prefix.count)))
            return await replay(caseID: segments[1], artifact: segments[3], url: url, authority: request.head.authority ?? "")
        case 4 where segments[0] == "cases" && segments[2] == "blobs":
            return await blob(caseID: segments[1], sha256: segments[3])
        case 4 where segments[0] == "cases" && segments[2] == "results":
            guard let result = results.get(segments[3], caseID: segments[1]) else {
                return errorResponse(.notFound, "No such result: results are kept only while this server runs; the case's ledger records every verify and export.")
            }
            return htmlResponse(.ok, result)
        default:
            return errorResponse(.notFound, "There is no such page.")
        }
    }

    /// A replayed page in route form, or one of its resources: the archived
    /// response, under the replay frame's sandbox policy.
    private func replay(caseID: String, artifact: String, url: String, authority: String) async -> Response {
        let browsing = self.browsing
        return await respond({ () throws(ExhibitError) in try browsing.replay(caseID, artifact: artifact, url: url) }) { replay in
            var headers = Self.commonHeaders
            if let target = replay.redirect {
                // An archived redirect replays as a redirect to the archived target's route form.
                headers[.location] = ReplayLink.page(caseID: caseID, artifactID: artifact, url: target)
                headers[.contentType] = "text/plain; charset=utf-8"
                return Response(status: .temporaryRedirect, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "See the archived target.\n")))
            }
            headers[.contentType] = Self.safeContentType(replay.contentType)
            if let coding = replay.contentEncoding?.trimmingCharacters(in: .whitespaces).lowercased(),
               ["gzip", "x-gzip", "deflate", "br"].contains(coding) {
                // The body is as the server sent it; the browser undoes its coding.
                headers[.contentEncoding] = coding
            }
            headers[.contentSecurityPolicy] = Self.routePolicy(caseID: caseID, artifact: artifact, authority: authority)
            headers[.xFrameOptions] = "SAMEORIGIN"
            headers[.xDNSPrefetchControl] = "off"
            let status = (200...599).contains(replay.status) ? replay.status : 502
            return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: replay.body)))
        }
    }

    private func replay(caseID: String, artifact: String) async -> Response {
        let browsing = self.browsing
        return await respond({ () throws(ExhibitError) in try browsing.replay(caseID, artifact: artifact) }) { replay in
            var headers = Self.commonHeaders
            headers[.contentType] = Self.safeContentType(replay.contentType)
            headers[.contentSecurityPolicy] = Self.replayPolicy
            headers[.xFrameOptions] = "SAMEORIGIN"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: replay.body)))
        }
    }

    private func blob(caseID: String, sha256: String) async -> Response {
        let browsing = self.browsing
        return await respond({ () throws(ExhibitError) in try browsing.blob(caseID, sha256: sha256) }) { blob in
            var headers = Self.commonHeaders
            let type = Self.essence(blob.mediaType)
            if type == "application/pdf" {
                // Chromium's PDF viewer does not run in a sandboxed document; a PDF runs no page script anyway.
                headers[.contentType] = type
                headers[.contentDisposition] = "inline; filename=\"\(sha256.lowercased()).pdf\""
            } else if Self.displayableBlobTypes.contains(type) {
                headers[.contentType] = type
                headers[.contentSecurityPolicy] = Self.blobPolicy
            } else {
                // Anything else (SVG, HTML, scripts) is downloaded, never rendered here.
                headers[.contentType] = "application/octet-stream"
                headers[.contentDisposition] = "attachment; filename=\"\(sha256.lowercased())\""
                headers[.contentSecurityPolicy] = Self.blobPolicy
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: blob.bytes)))
        }
    }

    static let displayableBlobTypes: Set<String> = [
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif", "image/x-icon",
        "video/mp4", "video/webm", "audio/mpeg", "audio/ogg", "audio/wav",
    ]

    // MARK: POST

    private func post(_ segments: [String], _ request: Request) async -> Response {
        guard segments.count == 3, segments[0] == "cases", ["verify", "export"].contains(segments[2]) else {
            return errorResponse(.notFound, "There is no such form.")
        }
        let caseID = segments[1]
        var request = request
        let form: [String: String]
        do {
            form = Self.parseForm(try await request.collectBody(upTo: 16 * 1024))
        } catch {
            return errorResponse(.badRequest, "The form could not be read (at most 16 KiB).")
        }
        if let refusal = crossSiteRefusal(request, form: form) {
            browsing.notices("Refused a form post to \(request.uri.path): \(refusal)")
            return errorResponse(.forbidden, refusal)
        }
        let browsing = self.browsing
        let agency = browsing.workspace.info.agency
        let build: @Sendable () throws(ExhibitError) -> String
        if segments[2] == "verify" {
            build = { () throws(ExhibitError) in
                let (report, entry) = try browsing.verify(caseID)
                let actor = try browsing.session().actor
                return BrowserPages.verificationPage(caseID: caseID, report: report, entry: entry, actor: actor, agency: agency)
            }
        } else {
            guard let format = form["format"].flatMap(CaseExport.Format.init(rawValue:)) else {
                return errorResponse(.badRequest, "Choose the export format: bagit or wacz.")
            }
            let exports = self.exports
            build = { () throws(ExhibitError) in
                // One export at a time: two in the same second must not pick the same free name.
                try exports.run { () throws(ExhibitError) in
                    let result = try browsing.export(caseID, format: format)
                    let actor = try browsing.session().actor
                    return BrowserPages.exportPage(caseID: caseID, result: result, actor: actor, agency: agency)
                }
            }
        }
        return await respond(build) { page in
            let key = results.put(page, caseID: caseID)
            // Post/redirect/get: reloading the result page does not run the action again.
            var headers = Self.commonHeaders
            headers[.location] = "/cases/\(caseID)/results/\(key)"
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .seeOther, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "See /cases/\(caseID)/results/\(key)\n")))
        }
    }

    /// Nil when the post comes from one of this server's pages: it carries the
    /// server's token, and the browser's Origin and Sec-Fetch-Site headers,
    /// when sent, name this server. Otherwise the one sentence saying why not.
    func crossSiteRefusal(_ request: Request, form: [String: String]) -> String? {
        if let origin = request.headers[.origin]?.lowercased() {
            let ours = authorities.contains { "http://" + $0 == origin }
            guard ours else { return "The form was posted from another site (\(origin)); use the buttons on this server's own pages." }
        }
        if let site = request.headers[values: .secFetchSite].first?.lowercased(), site != "same-origin" {
            return "The form was posted from another site (Sec-Fetch-Site: \(site)); use the buttons on this server's own pages."
        }
        guard let token = form["csrf"], Self.constantTimeEqual(token, csrfToken) else {
            return "The form does not carry this server's token (it is from an older server or another site); reload the case page and try again."
        }
        return nil
    }

    // MARK: Responses

    private func page(_ build: @escaping @Sendable () throws(ExhibitError) -> String) async -> Response {
        await respond(build) { html in htmlResponse(.ok, html) }
    }

    /// Runs blocking work off the event loop (``blocking(_:)``) and answers with
    /// what `answer` makes of its result, or with the error page its error calls for.
    private func respond<T: Sendable>(
        _ work: @escaping @Sendable () throws(ExhibitError) -> T, _ answer: (T) -> Response
    ) async -> Response {
        switch await Self.blocking(work) {
        case .success(let value): return answer(value)
        case .failure(let error): return errorResponse(error)
        }
    }

    static var commonHeaders: HTTPFields {
        [.xContentTypeOptions: "nosniff", .referrerPolicy: "no-referrer", .cacheControl: "no-store"]
    }

    func htmlResponse(_ status: HTTPResponse.Status, _ html: String) -> Response {
        var headers = Self.commonHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = Self.pagePolicy
        headers[.xFrameOptions] = "DENY"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func errorResponse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        htmlResponse(status, BrowserPages.errorPage(status: status.code, reason: status.reasonPhrase, message: message))
    }

    /// Exhibit's error codes as HTTP statuses: refused (exit 4) is 403.
    func errorResponse(_ error: ExhibitError) -> Response {
        let status: HTTPResponse.Status
        switch BrowserError.kind(of: error) {
        case .notFound: status = .notFound
        case .unprocessable: status = .unprocessableContent
        case nil:
            switch error.code {
            case .notPermitted: status = .forbidden
            case .usage: status = .badRequest
            default: status = .internalServerError
            }
        }
        if status == .internalServerError { browsing.notices(error.message) }
        return errorResponse(status, error.message)
    }

    // MARK: Helpers

    /// Runs blocking work (ledger appends, WARC reads, verification, export)
    /// on a Dispatch thread, not on the Swift concurrency pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(ExhibitError) -> T) async -> Result<T, ExhibitError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(ExhibitError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// The archived Content-Type, if it is a well-formed `type/subtype` with
    /// at most a charset; anything else (a hostile header) becomes octet-stream.
    static func safeContentType(_ value: String?) -> String {
        let type = essence(value)
        guard !type.isEmpty, isToken(type, allowingSlash: true), type.split(separator: "/").count == 2 else {
            return "application/octet-stream"
        }
        if let value, let range = value.lowercased().range(of: "charset=") {
            let charset = value[range.upperBound...].prefix { $0 != ";" }.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            if !charset.isEmpty, charset.count <= 40, isToken(charset, allowingSlash: false) { return "\(type); charset=\(charset)" }
        }
        return type
    }

    static func essence(_ value: String?) -> String {
        (value ?? "").split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    private static func isToken(_ text: String, allowingSlash: Bool) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)))
                || (allowingSlash && scalar == "/")
        }
    }

    /// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte.
    static func parseForm(_ buffer: ByteBuffer) -> [String: String] {
        CasePageQuery.fields(fromQuery: String(buffer: buffer))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// Result pages of verify and export, kept in memory for the redirect that
/// follows the post (the ledger keeps the record for good). Keys are random;
/// the oldest are dropped past 200.
final class ResultStore: @unchecked Sendable {
    private let lock = NSLock()
    private var pages: [(key: String, caseID: String, html: String)] = []

    func put(_ html: String, caseID: String) -> String {
        let key = Hex.encode(OpenSSL.randomBytes(16))
        lock.withLock {
            pages.append((key, caseID, html))
            if pages.count > 200 { pages.removeFirst(pages.count - 200) }
        }
        return key
    }

    func get(_ key: String, caseID: String) -> String? {
        lock.withLock { pages.first { $0.key == key && $0.caseID == caseID }?.html }
    }
}

/// Runs one body at a time.
final class SerialQueue: @unchecked Sendable {
    private let lock = NSLock()

    func run<T>(_ body: () throws(ExhibitError) -> T) throws(ExhibitError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

extension HTTPField.Name {
    // Literal, valid field names: the initialiser cannot fail on them.
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let xDNSPrefetchControl = HTTPField.Name("X-DNS-Prefetch-Control")!
}
