import ChainOfCustody
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Answers every request: logs it first, then serves a test route or a static file.
struct FixtureResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let host: String
    let siteDirectory: String?
    let log: RequestLog
    let stopping: StopFlag
    let watched: WatchedPage

    func respond(to request: Request, context: Context) async throws -> Response {
        log.append(Self.logged(request, host: host))
        let response = try await route(request)
        return request.method == .head ? response.createHeadResponse() : response
    }

    /// The request as received. HTTPTypes moves the first Host header into `authority`; it is put
    /// back in front so the log shows what the client sent.
    static func logged(_ request: Request, host: String) -> LoggedRequest {
        var headers: [(String, String)] = []
        if let authority = request.head.authority { headers.append(("Host", authority)) }
        for field in request.headers { headers.append((field.name.rawName, field.value)) }
        return LoggedRequest(method: request.method.rawValue, uri: request.uri.string, headers: headers, host: host)
    }

    private func route(_ request: Request) async throws -> Response {
        let path = request.uri.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        if segments.first == "test" {
            return try await testRoute(Array(segments.dropFirst()), request)
        }
        guard request.method == .get || request.method == .head else {
            var response = Self.page(.methodNotAllowed, title: "Method not allowed", body: "Only GET and HEAD are served here.")
            response.headers[.allow] = "GET, HEAD"
            return response
        }
        return staticFile(path)
    }

    // MARK: Static files

    private func staticFile(_ rawPath: String) -> Response {
        guard let siteDirectory else { return Self.notFound() }
        guard let path = rawPath.removingPercentEncoding, path.hasPrefix("/"), !path.contains("\0") else {
            return Self.notFound()
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        // Path traversal: refuse any ".." (also percent-encoded, decoded above) outright.
        if components.contains(where: { $0 == ".." }) { return Self.notFound() }
        var filePath = siteDirectory + path
        if path.hasSuffix("/") { filePath += "index.html" }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: filePath, isDirectory: &isDirectory) else { return Self.notFound() }
        if isDirectory.boolValue {
            // A directory named without its slash: send the client to the slash form, as web servers do.
            return Self.redirect(to: rawPath + "/", status: .movedPermanently)
        }
        guard let data = FileManager.default.contents(atPath: filePath) else { return Self.notFound() }
        return Response(
            status: .ok,
            headers: [.contentType: Self.contentType(forPath: filePath)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// Content-Type by extension. HTML gets no charset parameter: legacy-1252.html must be
    /// decoded from its own `<meta charset>`.
    static func contentType(forPath path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        switch name[name.index(after: dot)...].lowercased() {
        case "html", "htm": return "text/html"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "svg": return "image/svg+xml"
        case "ico": return "image/x-icon"
        case "mp4": return "video/mp4"
        case "webm": return "video/webm"
        case "mp3": return "audio/mpeg"
        case "txt": return "text/plain"
        case "css": return "text/css"
        case "js": return "application/javascript"
        case "json": return "application/json"
        case "xml": return "application/xml"
        case "pdf": return "application/pdf"
        default: return "application/octet-stream"
        }
    }

    // MARK: Test routes

    private func testRoute(_ segments: [String], _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        func int(_ name: String) -> Int? { query[Substring(name)].flatMap { Int($0) } }

        switch (segments.first ?? "", segments.count) {
        case ("redirect", 2):
            guard let n = Int(segments[1]), n >= 0 else { return Self.notFound() }
            if n == 0 {
                return Self.html(.ok, "<html><head><title>Redirect end</title></head><body>end of chain</body></html>")
            }
            return Self.redirect(to: "/test/redirect/\(n - 1)")

        case ("loop", 1):
            return Self.redirect(to: "/test/loop")

        case ("redirect-to", 1):
            guard let target = query["url"].map(String.init), !target.isEmpty else {
                return Self.page(.badRequest, title: "Bad request", body: "redirect-to needs ?url=")
            }
            return Self.redirect(to: target)

        case ("chunked", 1):
            return Self.chunkedPage()

        case ("gzip", 1):
            return Response(
                status: .ok,
                headers: [.contentType: "text/html", .contentEncoding: "gzip", .vary: "Accept-Encoding"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.gzipBody))
            )

        case ("status", 2):
            guard let code = Int(segments[1]), (200...599).contains(code) else {
                return Self.page(.badRequest, title: "Bad request", body: "status takes a code from 200 to 599")
            }
            return Self.status(code)

        case ("stall", 1):
            let seconds = query["seconds"].flatMap { Double($0) } ?? 5
            guard seconds.isFinite, seconds >= 0 else {
                return Self.page(.badRequest, title: "Bad request", body: "stall takes ?seconds=S")
            }
            guard await pause(.milliseconds(Int64(seconds * 1000))) else { throw CancellationError() }
            return Self.page(.ok, title: "Stalled", body: "This response waited \(seconds) seconds before it was sent.")

        case ("slow", 1):
            let bytes = int("bytes") ?? 100_000
            let interval = int("interval_ms") ?? 100
            let chunk = int("chunk") ?? 1_000
            guard bytes >= 0, interval >= 0, chunk > 0 else {
                return Self.page(.badRequest, title: "Bad request", body: "slow takes ?bytes=N&interval_ms=I&chunk=K")
            }
            return slowBody(bytes: bytes, interval: interval, chunk: chunk)

        case ("bytes", 1):
            let n = int("n") ?? 1_048_576
            guard n >= 0 else { return Self.page(.badRequest, title: "Bad request", body: "bytes takes ?n=N") }
            return patternBody(n)

        case ("pages", 2):
            let count = int("count") ?? 10
            guard count > 0, let index = Int(segments[1]), (0..<count).contains(index) else { return Self.notFound() }
            return Self.html(.ok, Self.pagesPage(index, count: count))

        case ("echo-headers", 1):
            let lines = Self.logged(request, host: host).headers.map { "\($0.0): \($0.1)\n" }.joined()
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: lines)))

        case ("login", 1):
            return Self.html(.ok, Self.loginPage)

        case ("watched", 1):
            return watched.response()

        case ("screening", 2):
            return screeningPage(segments[1])

        default:
            return Self.notFound()
        }
    }

    /// Pages of Fixtures/site/screening served with the headers a static file cannot
    /// have: no Content-Type, or a Content-Encoding (Fixtures/tools/generate_screening_files.py).
    private func screeningPage(_ name: String) -> Response {
        let pages: [String: (file: String, contentType: String?, contentEncoding: String?)] = [
            "no-content-type": ("no-content-type.html", nil, nil),
            "gzip-twice": ("gzip-twice.html.gz.gz", "text/html", "gzip, gzip"),
            "deflate-raw": ("deflate-raw.html.deflate", "text/html", "deflate"),
            "zstd": ("zstd.html.zst", "text/html", "zstd"),
        ]
        guard let page = pages[name], let siteDirectory,
              let data = FileManager.default.contents(atPath: siteDirectory + "/screening/" + page.file) else { return Self.notFound() }
        var headers = HTTPFields()
        if let type = page.contentType { headers[.contentType] = type }
        if let encoding = page.contentEncoding { headers[.contentEncoding] = encoding }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Waits for `duration` unless the site stops first (then returns false).
    private func pause(_ duration: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while clock.now < deadline {
            if stopping.isSet || Task.isCancelled { return false }
            let step = min(Duration.milliseconds(50), deadline - clock.now)
            try? await Task.sleep(for: step)
        }
        return !stopping.isSet
    }

    private func slowBody(bytes: Int, interval: Int, chunk: Int) -> Response {
        let stopping = self.stopping
        let body = ResponseBody(contentLength: bytes) { writer in
            let clock = ContinuousClock()
            var sent = 0
            while sent < bytes {
                if stopping.isSet { throw CancellationError() }
                let length = min(chunk, bytes - sent)
                var buffer = ByteBufferAllocator().buffer(capacity: length)
                for offset in sent..<(sent + length) { buffer.writeInteger(UInt8(97 + offset % 26)) }
                try await writer.write(buffer)
                sent += length
                if sent < bytes && interval > 0 {
                    let deadline = clock.now + .milliseconds(interval)
                    while clock.now < deadline {
                        if stopping.isSet { throw CancellationError() }
                        try await Task.sleep(for: min(.milliseconds(50), deadline - clock.now))
                    }
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }

    /// N bytes of the pattern 00 01 … FF 00 01 …, streamed in 64 KiB pieces (never held whole).
    private func patternBody(_ n: Int) -> Response {
        let stopping = self.stopping
        let body = ResponseBody(contentLength: n) { writer in
            var remaining = n
            while remaining > 0 {
                if stopping.isSet { throw CancellationError() }
                let length = min(remaining, Self.patternPiece.readableBytes)
                try await writer.write(Self.patternPiece.getSlice(at: Self.patternPiece.readerIndex, length: length)!)
                remaining -= length
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }

    static let patternPiece: ByteBuffer = ByteBuffer(bytes: (0..<65_536).map { UInt8(truncatingIfNeeded: $0) })

    private static func chunkedPage() -> Response {
        let parts = [
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Chunked page</title></head>\n<body>\n",
            "<h1>Chunked page</h1>\n<p>This body was sent with Transfer-Encoding: chunked, in several writes.</p>\n",
            "<p>The second paragraph arrived in a chunk of its own.</p>\n",
            "<p><a href=\"/test/redirect/0\">end of a redirect chain</a></p>\n</body></html>\n",
        ]
        // No content length: the HTTP/1.1 encoder frames the body as chunked, one chunk per write.
        let body = ResponseBody { writer in
            for (index, part) in parts.enumerated() {
                if index > 0 { try await Task.sleep(for: .milliseconds(5)) }
                try await writer.write(ByteBuffer(string: part))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/html"], body: body)
    }

    static let gzipHTML = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>Gzip page</title></head>
        <body><h1>Gzip page</h1>
        <p>This page was sent with Content-Encoding: gzip. A capture stores the compressed bytes as transferred;
        a reader decompresses them to see this text.</p>
        </body></html>

        """

    static let gzipBody: [UInt8] = Gzip.compress(Array(gzipHTML.utf8))

    private static func status(_ code: Int) -> Response {
        let status = HTTPResponse.Status(code: code, reasonPhrase: reasonPhrase(code))
        if code == 204 || code == 304 {
            var response = Response(status: status)
            response.headers[.contentLength] = nil
            return response
        }
        var response = page(status, title: "\(code) \(status.reasonPhrase)".trimmingCharacters(in: .whitespaces), body: "Test status \(code).")
        if code == 401 { response.headers[.wwwAuthenticate] = "Basic realm=\"test\"" }
        return response
    }

    static func reasonPhrase(_ code: Int) -> String {
        switch code {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 418: "I'm a teapot"
        case 429: "Too Many Requests"
        case 451: "Unavailable For Legal Reasons"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }

    static func pagesPage(_ index: Int, count: Int) -> String {
        let links = (1...3).map { step -> String in
            let target = (index + step) % count
            return "<li><a href=\"/test/pages/\(target)?count=\(count)\">Page \(target)</a></li>"
        }.joined(separator: "\n")
        let paragraph = """
            Page \(index) of \(count) is one of many generated pages for crawl tests. It links to three other \
            pages, so that a crawl from any page reaches every page in a few hops, and it carries enough text to \
            look like a small article: the council met on Tuesday, the library extended its hours, and the \
            Spring Festival committee asked for volunteers to staff the night market and the lantern parade.
            """
        let text = (1...5).map { "<p>\(paragraph) (paragraph \($0))</p>" }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Page \(index)</title></head>
            <body>
            <h1>Page \(index)</h1>
            <ul>
            \(links)
            </ul>
            \(text)
            </body></html>

            """
    }

    static let loginPage = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>Sign in</title></head>
        <body>
        <h1>Sign in</h1>
        <form method="post" action="/test/login">
        <label>User name <input type="text" name="username" autocomplete="username"></label>
        <label>Password <input type="password" name="password" autocomplete="current-password"></label>
        <button type="submit">Sign in</button>
        </form>
        </body></html>

        """

    // MARK: Responses

    static func html(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func page(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        html(status, "<!DOCTYPE html>\n<html><head><title>\(HTMLText.escape(title))</title></head><body><h1>\(HTMLText.escape(title))</h1><p>\(HTMLText.escape(body))</p></body></html>\n")
    }

    static func notFound() -> Response {
        page(.notFound, title: "Not found", body: "There is nothing at this address.")
    }

    static func redirect(to location: String, status: HTTPResponse.Status = .found) -> Response {
        var response = page(status, title: "Redirect", body: "This page has moved to \(location).")
        response.headers[.location] = location
        return response
    }
}
