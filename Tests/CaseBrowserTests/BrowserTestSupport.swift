import CaseBrowser
import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import Testing

/// A workspace with one online-crime case captured from the Fixtures site on
/// loopback (pages, an image, and a page whose title carries markup), and a
/// `render` entry with a real PNG screenshot and a PDF, written through the
/// library as `exhibit render` writes it.
struct BrowserFixture: Sendable {
    let ws: TestWorkspace
    let caseID: String
    /// Analyst and custodian: may read, verify and export.
    let actorID: String
    let artifacts: [BrowserArtifact]
    let screenshotSHA256: String
    let pdfSHA256: String
    /// The artifact the render was made from (the forum page).
    let renderedArtifact: String
    let hostileArtifact: String

    /// The page's title as text (what analysis extracts), and as it is written in the page's source.
    static let hostileTitle = "Wanted <script>alert('title')</script> & more"
    static let hostileTitleSource = "Wanted &lt;script&gt;alert('title')&lt;/script&gt; &amp; more"
    static let hostileCaseTitle = "Bicycle thefts <script>alert('case')</script>"

    static func make() async throws -> BrowserFixture {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let hostileDirectory = TemporaryDirectory("exhibit-hostile-site")
            try Data("""
                <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(hostileTitleSource)</title></head>
                <body><h1>Hostile</h1><p>Call +1 972 555 0147.</p><img src="/nowhere.png"><script>document.title='ran'</script></body></html>
                """.utf8).write(to: URL(fileURLWithPath: hostileDirectory.child("hostile.html")))
            return try await withFixtureSite(siteDirectory: hostileDirectory.path) { hostile in

                let ws = try TestWorkspace("exhibit-browser")
                let registry = ActorRegistry(workspace: ws.workspace)
                let actorID = try registry.add(name: "Cam Custodian-Analyst", badge: "C-3", roles: [.analyst, .custodian], actingActor: ws.supervisorID).id
                let caseID = try ws.session().openCase(
                    category: "online-crime", title: hostileCaseTitle,
                    fields: ["subtype": "other", "complainant_reference": "R-<b>1</b>"]).id
                // A second case in another category, on legal hold, so the list has groups and flags.
                let missing = try ws.session().openCase(
                    category: "missing-person", title: "Missing teenager, Riverbend",
                    fields: ["subject_name": "A. Doe", "last_seen_date": "2026-03-14", "last_seen_place": "Elm Street bridge"]).id
                _ = try ws.session(ws.supervisorID).hold(missing, reason: "Preservation request PR-2026-114")
                var options = CaptureOptions(urls: [
                    site.baseURL + "/forum.html", site.baseURL + "/classifieds.html", site.baseURL + "/media/banner.png",
                    hostile.baseURL + "/hostile.html",
                ])
                options.allowNetworks = ["127.0.0.1/32"]
                options.allowReason = "test fixture on loopback"
                let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
                let report = try await Blocking.run { try job.run() }
                await site.stop()
                await hostile.stop()
                #expect(report.failed.isEmpty && report.refused.isEmpty)

                let entries = try ws.entries(caseID)
                let artifacts = BrowserArtifact.all(in: entries)
                #expect(artifacts.count == 4)
                let forum = try #require(artifacts.first { $0.url.hasSuffix("/forum.html") })
                let hostileArtifact = try #require(artifacts.first { $0.url.hasSuffix("/hostile.html") })
                let (png, pdf) = try writeRender(ws: ws, caseID: caseID, artifact: forum)
                return BrowserFixture(
                    ws: ws, caseID: caseID, actorID: actorID, artifacts: artifacts, screenshotSHA256: png, pdfSHA256: pdf,
                    renderedArtifact: forum.id, hostileArtifact: hostileArtifact.id)
            }
        }
    }

    /// Stores a PNG and a PDF as blobs and records them in a `render` entry
    /// shaped as `exhibit render` writes it (its own WARC file is left out:
    /// the entry would then name a file this test does not make).
    static func writeRender(ws: TestWorkspace, caseID: String, artifact: BrowserArtifact) throws -> (String, String) {
        let response = try #require(artifact.responseRecord)
        var files: [JSONValue] = []
        for (bytes, type, role) in [(CheckerboardPNG.bytes, "image/png", "screenshot"), (minimalPDF, "application/pdf", "pdf")] {
            let sha = Digest.sha256Hex(bytes)
            let relative = "blobs/sha256/\(sha.prefix(2))/\(sha)"
            let path = ws.caseDirectory(caseID) + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(bytes, to: path)
            var file: [String: JSONValue] = [
                "path": .string(relative), "sha256": .string(sha), "size": .integer(Int64(bytes.count)),
                "media_type": .string(type), "role": .string(role),
            ]
            if role == "screenshot" { file["width"] = .integer(96); file["height"] = .integer(64) }
            files.append(.object(file))
        }
        let subject: JSONValue = .object([
            "source": .object([
                "url": .string(artifact.url), "record_id": .string(response.id), "warc": .string(artifact.warcFile ?? ""),
                "offset": .integer(response.offset ?? 0), "capture_time": .string(artifact.time),
                "block_digest": .string(response.blockDigest ?? ""), "payload_sha256": .string(artifact.sha256 ?? ""),
            ]),
            "files": .array(files),
            "renderer": .object(["name": .string("chromium"), "version": .string("test")]),
        ])
        let session = try ws.session()
        try session.store.append(LedgerDraft(action: "render", subject: subject), to: caseID, signer: try session.signer())
        return (Digest.sha256Hex(CheckerboardPNG.bytes), Digest.sha256Hex(minimalPDF))
    }

    static let minimalPDF = Array("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".utf8)

    func start(_ actor: String? = nil) async throws -> BrowserServer {
        try await BrowserServer.start(workspace: ws.workspace, actorID: actor ?? actorID, port: 0)
    }

    /// The ledger entries appended since `count` entries.
    func entries(after count: Int) throws -> [LedgerEntry] {
        Array(try ws.entries(caseID).dropFirst(count))
    }
}

/// BrowserArtifact's list from ledger entries (the public API).

/// A minimal HTTP/1.1 client over a plain socket to 127.0.0.1, so a test can
/// set any header (Host, Origin) and see every header of the answer.
struct HTTPReply: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }
}

enum LoopbackHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends one request to `url` (`http://127.0.0.1:PORT/path`) and reads the whole answer.
    static func request(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) async throws -> HTTPReply {
        try await Blocking.run { try send(method, url, headers: headers, body: body) }
    }

    static func get(_ url: String, headers: [(String, String)] = []) async throws -> HTTPReply {
        try await request("GET", url, headers: headers)
    }

    /// Posts a form (`application/x-www-form-urlencoded`).
    static func postForm(_ url: String, _ fields: [(String, String)], headers: [(String, String)] = []) async throws -> HTTPReply {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return try await request("POST", url, headers: headers + [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8))
    }

    static func send(_ method: String, _ url: String, headers: [(String, String)], body: [UInt8]) throws -> HTTPReply {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host,
              let port = components.port else { throw Failure(description: "not an http://HOST:PORT URL: \(url)") }
        let target = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath)
            + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw Failure(description: "not an IPv4 address: \(host)") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "cannot connect to \(host):\(port)") }
        var head = "\(method) \(target) HTTP/1.1\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { head += "Host: \(host):\(port)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write failed") }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "read failed or timed out") }
            answer += buffer[0..<n]
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = answer.indices.first(where: { answer[$0...].starts(with: separator) }) else {
            throw Failure(description: "no complete HTTP head in \(answer.count) bytes")
        }
        let lines = String(decoding: answer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var fields: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var payload = Array(answer[(end + 4)...])
        if fields.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            payload = dechunk(payload)
        }
        return HTTPReply(status: status, headers: fields, body: payload)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<(bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { break }
            out += bytes[start..<(start + size)]
            index = start + size + 2
        }
        return out
    }
}

/// Headless Chromium (Debian's `chromium`), as the report tests run it.
enum HeadlessChromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    typealias Finished = BoundedProcess.Finished

    /// A profile of its own each run (Chromium hands work to a running
    /// instance otherwise), and no background networking: the only server it
    /// talks to is the one under test.
    static func run(_ chromium: String, _ arguments: [String], timeout: Double = 90) async throws -> Finished {
        try await Blocking.run {
            let profile = TemporaryDirectory("exhibit-chromium")
            let common = [
                "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--proxy-server=direct://", "--proxy-bypass-list=*",
            ]
            return try withExtendedLifetime(profile) { try BoundedProcess.run(chromium, common + arguments, timeout: timeout) }
        }
    }
}
