import Dispatch
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// The fixture site itself, checked with /usr/bin/curl (an independent HTTP client).
@Suite("fixture site", .serialized)
struct FixtureSiteSmokeTests {
    struct CurlResult {
        var status: Int32
        var headers: [(String, String)]
        var statusLine: String
        var body: Data
        var stderr: String
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.last { $0.0.lowercased() == name.lowercased() }?.1 }
        func headers(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
    }

    /// Runs curl; headers come from `-D` (the last response's, for -L), the body from `-o`.
    static func curl(_ arguments: [String]) throws -> CurlResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fixture-smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let headerFile = directory.appendingPathComponent("headers").path
        let bodyFile = directory.appendingPathComponent("body").path
        let finished = try ChildProcess("/usr/bin/curl", ["-s", "-S", "--max-time", "30", "-D", headerFile, "-o", bodyFile] + arguments).run()
        let rawHeaders = (try? String(contentsOfFile: headerFile, encoding: .isoLatin1)) ?? ""
        // With -L the header file holds every hop; keep the last block.
        let blocks = rawHeaders.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }
        let lines = (blocks.last ?? "").components(separatedBy: "\r\n")
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return CurlResult(
            status: finished.status, headers: headers, statusLine: lines.first ?? "",
            body: (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data(),
            stderr: finished.stderrText)
    }

    static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, stdout: Data) {
        let finished = try ChildProcess(tool, arguments, stdin: Array(stdin ?? Data())).run()
        return (finished.status, Data(finished.stdout))
    }

    static func rawBodyLength(port: Int, request: String) throws -> String {
        let script = """
            import socket
            s = socket.create_connection(("127.0.0.1", \(port)))
            s.sendall(b"\(request)")
            d = b""
            while True:
                c = s.recv(65536)
                if not c: break
                d += c
            print(len(d.split(b"\\r\\n\\r\\n", 1)[1]))
            """
        let result = try run("/usr/bin/python3", ["-c", script])
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("static files: content types, lengths, bytes, HEAD, traversal and 404")
    func staticFiles() async throws {
        let directory = try #require(FixtureSite.defaultSiteDirectory)
        #expect(directory.hasSuffix("/Fixtures/site"))
        let site = try await FixtureSite.start(siteDirectory: directory)
        #expect(site.host == "127.0.0.1")
        #expect(site.port > 0)
        #expect(site.baseURL == "http://127.0.0.1:\(site.port)")

        let index = try Self.curl([site.baseURL + "/"])
        #expect(index.statusLine.hasPrefix("HTTP/1.1 200"))
        #expect(index.header("Content-Type") == "text/html")
        let indexBytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.html"))
        #expect(index.body == indexBytes)
        #expect(index.header("Content-Length") == "\(indexBytes.count)")
        #expect(index.header("Transfer-Encoding") == nil)

        let legacy = try Self.curl([site.baseURL + "/legacy-1252.html"])
        #expect(legacy.header("Content-Type") == "text/html")  // no charset: the meta tag decides
        #expect(legacy.body == (try Data(contentsOf: URL(fileURLWithPath: directory + "/legacy-1252.html"))))

        for (path, type) in [("/media/banner.png", "image/png"), ("/media/clip.mp4", "video/mp4"),
                             ("/media/sound.mp3", "audio/mpeg"), ("/robots.txt", "text/plain"),
                             ("/private/secret.html", "text/html")] {
            let result = try Self.curl([site.baseURL + path])
            #expect(result.statusLine.hasPrefix("HTTP/1.1 200"), "\(path)")
            #expect(result.header("Content-Type") == type, "\(path)")
            #expect(result.body == (try Data(contentsOf: URL(fileURLWithPath: directory + path))), "\(path)")
        }

        let head = try Self.curl(["-I", site.baseURL + "/media/banner.png"])
        #expect(head.statusLine.hasPrefix("HTTP/1.1 200"))
        #expect(head.header("Content-Length") == "16143")
        #expect(head.text.hasPrefix("HTTP/1.1 200"))  // with -I, curl writes the headers as the output
        #expect(!head.text.contains("PNG"))
        // On the wire: a HEAD response carries no body bytes.
        let raw = try Self.rawBodyLength(port: site.port, request: "HEAD /media/banner.png HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n")
        #expect(raw == "0")

        for path in ["/../Package.swift", "/media/../../Package.swift", "/%2e%2e/Package.swift", "/media/%2E%2E/%2e%2e/Package.swift"] {
            let result = try Self.curl(["--path-as-is", site.baseURL + path])
            #expect(result.statusLine.hasPrefix("HTTP/1.1 404"), "\(path): \(result.statusLine)")
        }
        let missing = try Self.curl([site.baseURL + "/no-such-page.html"])
        #expect(missing.statusLine.hasPrefix("HTTP/1.1 404"))
        #expect(missing.header("Content-Type") == "text/html")
        #expect(missing.text.contains("<html>"))
        let directoryRedirect = try Self.curl([site.baseURL + "/media"])
        #expect(directoryRedirect.statusLine.hasPrefix("HTTP/1.1 301"))
        #expect(directoryRedirect.header("Location") == "/media/")
        let post = try Self.curl(["-X", "POST", site.baseURL + "/index.html"])
        #expect(post.statusLine.hasPrefix("HTTP/1.1 405"))

        // Every request is logged, 404s included, in order.
        let log = site.requests()
        #expect(log.count == 16)
        #expect(log.first?.method == "GET")
        #expect(log.first?.uri == "/")
        #expect(log.first?.host == "127.0.0.1")
        #expect(log.first?.header("host") == "127.0.0.1:\(site.port)")
        #expect(log.first?.headers.first?.0 == "Host")
        #expect(log.contains { $0.method == "HEAD" && $0.uri == "/media/banner.png" })
        #expect(log.contains { $0.uri == "/../Package.swift" })
        #expect(log.contains { $0.uri == "/no-such-page.html" })
        #expect(log.last?.method == "POST")
        await site.stop()
        await site.stop()  // idempotent
        let refused = try Self.curl([site.baseURL + "/"])
        #expect(refused.status == 7)  // couldn't connect
    }

    @Test("test routes: redirects, loop, chunked, gzip, statuses, slow, bytes, pages, headers, login")
    func testRoutes() async throws {
        let site = try await FixtureSite.start(siteDirectory: nil)
        defer { site.stopBlocking() }
        let base = site.baseURL

        #expect(try Self.curl([base + "/"]).statusLine.hasPrefix("HTTP/1.1 404"))  // no site directory

        let hop = try Self.curl([base + "/test/redirect/3"])
        #expect(hop.statusLine.hasPrefix("HTTP/1.1 302"))
        #expect(hop.header("Location") == "/test/redirect/2")
        let before = site.requests().count
        let chain = try Self.curl(["-L", base + "/test/redirect/3"])
        #expect(chain.statusLine.hasPrefix("HTTP/1.1 200"))
        #expect(chain.text == "<html><head><title>Redirect end</title></head><body>end of chain</body></html>")
        #expect(site.requests().dropFirst(before).map(\.uri) == ["/test/redirect/3", "/test/redirect/2", "/test/redirect/1", "/test/redirect/0"])

        let loop = try Self.curl(["-L", "--max-redirs", "5", base + "/test/loop"])
        #expect(loop.status == 47)  // too many redirects
        #expect(loop.header("Location") == "/test/loop")

        let target = base + "/test/status/200"
        let to = try Self.curl([base + "/test/redirect-to?url=" + target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!])
        #expect(to.statusLine.hasPrefix("HTTP/1.1 302"))
        #expect(to.header("Location") == target)

        let chunked = try Self.curl(["--raw", base + "/test/chunked"])
        #expect(chunked.header("Transfer-Encoding") == "chunked")
        #expect(chunked.header("Content-Length") == nil)
        #expect(chunked.text.contains("\r\n0\r\n\r\n"))  // --raw: the framing is visible
        let dechunked = try Self.curl([base + "/test/chunked"])
        #expect(dechunked.text.contains("<title>Chunked page</title>"))
        #expect(dechunked.header("Content-Type") == "text/html")

        let gzip = try Self.curl([base + "/test/gzip"])
        #expect(gzip.header("Content-Encoding") == "gzip")
        #expect(gzip.header("Content-Type") == "text/html")
        #expect(gzip.header("Content-Length") == "\(gzip.body.count)")
        #expect(Array(gzip.body.prefix(2)) == [0x1f, 0x8b])
        let gunzipped = try Self.run("/usr/bin/gzip", ["-d", "-c"], stdin: gzip.body)
        #expect(gunzipped.status == 0)
        #expect(String(decoding: gunzipped.stdout, as: UTF8.self).contains("<title>Gzip page</title>"))
        let test = try Self.run("/usr/bin/gzip", ["-t"], stdin: gzip.body)
        #expect(test.status == 0)
        let compressed = try Self.curl(["--compressed", base + "/test/gzip"])
        #expect(compressed.text.contains("<title>Gzip page</title>"))

        let unauthorized = try Self.curl([base + "/test/status/401"])
        #expect(unauthorized.statusLine.hasPrefix("HTTP/1.1 401 Unauthorized"))
        #expect(unauthorized.header("WWW-Authenticate") == "Basic realm=\"test\"")
        #expect(unauthorized.header("Content-Type") == "text/html")
        for code in [403, 404, 500, 503, 418, 299, 599] {
            let result = try Self.curl([base + "/test/status/\(code)"])
            #expect(result.statusLine.hasPrefix("HTTP/1.1 \(code)"), "\(code): \(result.statusLine)")
            #expect(result.header("WWW-Authenticate") == nil)
        }
        let noContent = try Self.curl([base + "/test/status/204"])
        #expect(noContent.statusLine.hasPrefix("HTTP/1.1 204"))
        #expect(noContent.body.isEmpty)

        let clock = ContinuousClock()
        let start = clock.now
        let slow = try Self.curl([base + "/test/slow?bytes=4000&interval_ms=100&chunk=1000"])
        let slowTime = clock.now - start
        #expect(slow.body.count == 4000)
        #expect(slow.header("Content-Length") == "4000")
        #expect(slowTime >= .milliseconds(280), "\(slowTime)")

        let bytes = try Self.curl([base + "/test/bytes?n=200000"])
        #expect(bytes.header("Content-Type") == "application/octet-stream")
        #expect(bytes.header("Content-Length") == "200000")
        #expect(bytes.body.count == 200000)
        #expect(bytes.body.enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: $0.offset) })
        let huge = try Self.curl(["-I", base + "/test/bytes?n=5368709120"])  // 5 GiB, HEAD only
        #expect(huge.header("Content-Length") == "5368709120")
        #expect(try Self.rawBodyLength(port: site.port, request: "HEAD /test/bytes?n=5368709120 HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n") == "0")
        // Stream 256 MiB through and count it (the server never holds it: 64 KiB pieces).
        let counted = try Self.run("/bin/sh", ["-c", "/usr/bin/curl -s '\(base)/test/bytes?n=268435456' | wc -c"])
        #expect(String(decoding: counted.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "268435456")

        let page = try Self.curl([base + "/test/pages/7?count=10"])
        #expect(page.text.contains("<title>Page 7</title>"))
        for link in ["/test/pages/8?count=10", "/test/pages/9?count=10", "/test/pages/0?count=10"] {
            #expect(page.text.contains("href=\"\(link)\""))
        }
        #expect(page.body.count > 2000)
        #expect(try Self.curl([base + "/test/pages/10?count=10"]).statusLine.hasPrefix("HTTP/1.1 404"))

        let echo = try Self.curl(["-H", "X-Probe: one", "-A", "Exhibit/test", base + "/test/echo-headers"])
        #expect(echo.header("Content-Type") == "text/plain")
        #expect(echo.text.hasPrefix("Host: 127.0.0.1:\(site.port)\n"))
        #expect(echo.text.contains("X-Probe: one\n"))
        #expect(echo.text.contains("User-Agent: Exhibit/test\n"))
        #expect(!echo.text.lowercased().contains("authorization"))
        let logged = try #require(site.requests().last)
        #expect(logged.uri == "/test/echo-headers")
        #expect(logged.header("x-probe") == "one")

        let login = try Self.curl([base + "/test/login"])
        #expect(login.text.contains("<form"))
        #expect(login.text.contains("type=\"password\""))

        #expect(try Self.curl([base + "/test/nothing"]).statusLine.hasPrefix("HTTP/1.1 404"))
        #expect(site.requests().allSatisfy { $0.host == "127.0.0.1" })
    }

    @Test("a stall does not block other requests, and stop does not wait for it")
    func stall() async throws {
        let site = try await FixtureSite.start(siteDirectory: nil)
        let clock = ContinuousClock()
        let start = clock.now
        let stalled = try ChildProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", site.baseURL + "/test/stall?seconds=15"]).start()
        // The quick request proves something only once the stall is in flight, so wait
        // for the site to have read it (a fixed sleep let the test pass without that).
        let inFlight = await poll(until: { site.requests().contains { $0.uri == "/test/stall?seconds=15" } }, timeout: .seconds(30))
        guard inFlight else {
            Issue.record("the stalled request did not reach the site within 30 s")
            stalled.killAndWait()
            await site.stop()
            return
        }
        let quick = try Self.curl([site.baseURL + "/test/status/200"])
        #expect(quick.statusLine.hasPrefix("HTTP/1.1 200"))
        // Answered while the stall is still in flight (not a wall-clock bound, which a
        // loaded machine running the suite in parallel can miss). The stall is long: a
        // loaded machine once took over 4 s to start the quick request's curl.
        #expect(stalled.isRunning, "the quick request waited for the stall")
        let code = try await stalled.waitAsync(timeout: .seconds(60))
        #expect(code.stdoutText == "200", "curl: \(code.status) \(code.stderrText)")
        #expect(clock.now - start >= .seconds(15))

        // A long stall in flight: stop returns promptly anyway.
        let longStall = try ChildProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", site.baseURL + "/test/stall?seconds=60"],
                                         stdout: .discard, stderr: .discard).start()
        let longInFlight = await poll(until: { site.requests().last?.uri == "/test/stall?seconds=60" }, timeout: .seconds(30))
        #expect(longInFlight, "the 60 s stall did not reach the site within 30 s")
        let stopStart = clock.now
        await site.stop()
        #expect(clock.now - stopStart < .seconds(10), "stop took \(clock.now - stopStart)")
        let ended = try await longStall.waitAsync(timeout: .seconds(90))
        #expect(!ended.timedOut, "curl still waited for the stalled answer after the site stopped")
    }

    @Test("two sites on 127.0.0.1 and 127.0.0.2 keep separate logs; blocking start and stop")
    func twoHosts() async throws {
        let one = try await FixtureSite.start(host: "127.0.0.1", siteDirectory: nil)
        let two = try await FixtureSite.start(host: "127.0.0.2", siteDirectory: nil)
        #expect(two.baseURL == "http://127.0.0.2:\(two.port)")
        let result = try Self.curl([two.baseURL + "/test/status/200"])
        #expect(result.statusLine.hasPrefix("HTTP/1.1 200"))
        #expect(one.requests().isEmpty)
        #expect(two.requests().count == 1)
        #expect(two.requests().first?.host == "127.0.0.2")
        #expect(two.requests().first?.uri == "/test/status/200")
        // The 127.0.0.1 site does not answer on 127.0.0.2.
        #expect(try Self.curl(["http://127.0.0.2:\(one.port)/test/status/200"]).status == 7)
        #expect(one.requests().isEmpty)
        await one.stop()
        await two.stop()

        await #expect(throws: (any Error).self) { try await FixtureSite.start(host: "0.0.0.0", siteDirectory: nil) }
        // The one loopback rule: a literal, never a name the resolver decides.
        await #expect(throws: (any Error).self) { try await FixtureSite.start(host: "localhost", siteDirectory: nil) }
        await #expect(throws: (any Error).self) { try await FixtureSite.start(siteDirectory: "/no/such/directory") }

        // The synchronous API, from a plain thread as the CLI uses it.
        let outcome: (Bool, Int32) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let site = try FixtureSite.startBlocking(host: "127.0.0.3", siteDirectory: FixtureSite.defaultSiteDirectory)
                    let page = try Self.curl([site.baseURL + "/article.html"])
                    site.stopBlocking()
                    site.stopBlocking()
                    continuation.resume(returning: (page.text.contains("<title>Night market video"), page.status))
                } catch {
                    continuation.resume(returning: (false, -1))
                }
            }
        }
        #expect(outcome.0)
        #expect(outcome.1 == 0)
        // A port in use is an error, not a hang.
        let taken = try await FixtureSite.start(siteDirectory: nil)
        await #expect(throws: (any Error).self) { try await FixtureSite.start(port: taken.port, siteDirectory: nil) }
        await taken.stop()
    }
}
