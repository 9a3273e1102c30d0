import CaseManagement
import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import LawfulFetch
import WARC
import Testing

/// Captures from a real HTTP server on loopback, checked with the real
/// third-party validators (warcio, cdxj-indexer, pywb).
@Suite("Capture engine")
struct CaptureTests {
    static let loopback = ["127.0.0.1/32"]

    func capture(_ ws: TestWorkspace, _ caseID: String, _ urls: [String], configure: (inout CaptureOptions) -> Void = { _ in }) async throws -> CaptureReport {
        var options = CaptureOptions(urls: urls)
        options.allowNetworks = Self.loopback
        options.allowReason = "test fixture on loopback"
        configure(&options)
        let job = CaptureJob(session: try ws.session(), caseID: caseID, options: options)
        return try await Blocking.run { try job.run() }
    }

    func captureEntries(_ ws: TestWorkspace, _ caseID: String) throws -> [LedgerEntry] {
        try ws.entries(caseID).filter { ["capture", "capture-failed", "policy-refusal"].contains($0.action) }
    }

    func warcFiles(_ ws: TestWorkspace, _ caseID: String) throws -> [String] {
        let directory = ws.caseDirectory(caseID) + "/warc"
        return try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".warc.gz") }.sorted().map { directory + "/" + $0 }
    }

    @Test("the Fixtures site passes warcio check, warcio index and cdxj-indexer, and pywb replays the page")
    func validators() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase(media: true)
            let urls = ["/", "/article.html", "/forum.html", "/legacy-1252.html", "/test/chunked", "/test/gzip",
                        "/test/redirect/3", "/test/status/404", "/test/status/401", "/test/status/403", "/test/login"]
            let report = try await capture(ws, caseID, urls.map { site.baseURL + $0 })
            #expect(report.failed.isEmpty)
            #expect(report.refused.isEmpty)
            #expect(report.captured.filter { $0.role == "page" }.count == urls.count)
            #expect(report.captured.contains { $0.role == "media" && $0.url.hasSuffix("/media/banner.png") })

            let files = try warcFiles(ws, caseID)
            #expect(files.count == 1)
            let warc = try #require(files.first)
            let check = try Validators.run("warcio", ["check", "-v", warc])
            #expect(check.status == 0, "warcio check failed: \(check.output)")
            #expect(!check.output.contains("no digest to check"))
            let records = check.output.components(separatedBy: "WARC-Record-ID").count - 1
            #expect(records > 30)
            #expect(check.output.components(separatedBy: "digest pass").count - 1 == records)

            let index = try Validators.run("warcio", ["index", "-f", "warc-type,warc-target-uri,offset,length", warc])
            #expect(index.status == 0)
            let cdxj = try Validators.run("cdxj-indexer", [warc])
            #expect(cdxj.status == 0)
            #expect(cdxj.output.contains("/article.html"))

            // The ledger's offsets and lengths are warcio's.
            var warcioOffsets: [String: (String, String)] = [:]
            for line in index.output.split(separator: "\n") {
                let json = try JSONValue(parsing: String(line))
                if let offset = json["offset"]?.stringValue, let length = json["length"]?.stringValue {
                    warcioOffsets[offset] = (length, json["warc-type"]?.stringValue ?? "")
                }
            }
            for entry in try captureEntries(ws, caseID) {
                for record in entry.subject?["records"]?.arrayValue ?? [] {
                    let offset = String(record["offset"]?.intValue ?? -1)
                    #expect(warcioOffsets[offset]?.0 == String(record["length"]?.intValue ?? -1))
                    #expect(warcioOffsets[offset]?.1 == record["type"]?.stringValue)
                }
            }

            // pywb replays the page itself, not its metadata record.
            let pywbDirectory = TemporaryDirectory("pywb")
            #expect(try Validators.run("wb-manager", ["init", "evidence"], directory: pywbDirectory.path).status == 0)
            #expect(try Validators.run("wb-manager", ["add", "evidence", warc], directory: pywbDirectory.path).status == 0)
            let replay = try await Pywb.replay(directory: pywbDirectory.path, collection: "evidence", url: site.baseURL + "/article.html")
            #expect(replay.contains("<title>"), "pywb did not return the page: \(replay.prefix(300))")
            #expect(replay.contains("Riverbend") || replay.contains("article"))
            #expect(!replay.hasPrefix("ip:"))
        }
    }

    @Test("--media stores each media payload once in the blob store, byte for byte")
    func mediaBlobs() async throws {
        let siteDirectory = try #require(FixtureSite.defaultSiteDirectory)
        try await withFixtureSite(siteDirectory: siteDirectory) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase(media: false)
            let report = try await capture(ws, caseID, [site.baseURL + "/article.html", site.baseURL + "/"]) { $0.media = true }
            #expect(report.exitCode == nil)
            let media = try ws.entries(caseID).filter { $0.subject?["role"]?.stringValue == "media" }
            let banner = try #require(media.first { $0.subject?["url"]?.stringValue?.hasSuffix("/media/banner.png") == true })
            let blob = try #require(banner.subject?["blob"])
            let path = try #require(blob["path"]?.stringValue)
            let stored = try AtomicFile.read(ws.caseDirectory(caseID) + "/" + path)
            let original = try AtomicFile.read(siteDirectory + "/media/banner.png")
            #expect(stored == original)
            #expect(blob["sha256"]?.stringValue == Digest.sha256Hex(original))
            #expect(path == "blobs/sha256/\(Digest.sha256Hex(original).prefix(2))/\(Digest.sha256Hex(original))")
            // Video, audio and og:image were found too, each fetched once.
            let urls = media.compactMap { $0.subject?["url"]?.stringValue }
            #expect(urls.contains { $0.hasSuffix("/media/clip.mp4") })
            #expect(urls.contains { $0.hasSuffix("/media/sound.mp3") })
            #expect(Set(urls).count == urls.count)
            // Without --media on an online-crime case, no media is fetched.
            let plain = try ws.openCase(media: false)
            _ = try await capture(ws, plain, [site.baseURL + "/article.html"])
            #expect(try ws.entries(plain).filter { $0.subject?["role"]?.stringValue == "media" }.isEmpty)
        }
    }

    @Test("--depth 1 follows same-host links and obeys robots.txt beyond depth 0")
    func crawl() async throws {
        try await withFixtureSite(siteDirectory: try #require(FixtureSite.defaultSiteDirectory)) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let report = try await capture(ws, caseID, [site.baseURL + "/"]) {
                $0.depth = 1
                $0.delay = 0.01
            }
            #expect(report.exitCode == nil, "\(report.failed) \(report.refused)")
            let pages = try ws.entries(caseID).filter { $0.action == "capture" }.compactMap { $0.subject?["url"]?.stringValue }
            #expect(pages.contains(site.baseURL + "/article.html"))
            #expect(pages.contains(site.baseURL + "/robots.txt"))
            #expect(!pages.contains { $0.contains("/private/") })
            #expect(report.skippedByRobots.contains { $0.contains("/private/secret.html") })
            #expect(!site.requests().contains { $0.uri.contains("/private/") })
            // Links to other hosts are not followed.
            #expect(!site.requests().isEmpty)
            #expect(pages.allSatisfy { $0.hasPrefix(site.baseURL) })
        }
    }

    @Test("redirects, chunked, gzip, error statuses and access restriction are recorded as transferred")
    func recordsAsTransferred() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let base = site.baseURL
            let report = try await capture(ws, caseID, [
                base + "/test/redirect/3", base + "/test/loop", base + "/test/chunked", base + "/test/gzip",
                base + "/test/status/404", base + "/test/status/401", base + "/test/status/403", base + "/test/login",
            ])
            #expect(report.exitCode == .captureFailed)  // the loop
            let entries = try captureEntries(ws, caseID)
            func entry(_ path: String) throws -> JSONValue {
                try #require(entries.first { $0.subject?["url"]?.stringValue == base + path }?.subject)
            }
            let redirect = try entry("/test/redirect/3")
            #expect(redirect["final_url"]?.stringValue == base + "/test/redirect/0")
            #expect(redirect["redirects"]?.intValue == 3)
            #expect(redirect["status"]?.intValue == 200)
            #expect(redirect["records"]?.arrayValue?.count == 12)

            let loop = try #require(entries.first { $0.subject?["url"]?.stringValue == base + "/test/loop" })
            #expect(loop.action == "capture-failed")
            #expect(loop.subject?["reason"]?.stringValue?.contains("more than 10 redirects") == true)

            #expect(try entry("/test/status/404")["status"]?.intValue == 404)
            #expect(try entry("/test/status/404")["access_restricted"]?.boolValue == false)
            #expect(try entry("/test/status/401")["access_restricted"]?.boolValue == true)
            #expect(try entry("/test/status/403")["access_restricted"]?.boolValue == true)
            #expect(try entry("/test/login")["access_restricted"]?.boolValue == true)

            let warc = try #require(try warcFiles(ws, caseID).first)
            let records = try WARCReader(path: warc, keepBlocksUpTo: 1 << 20).records()
            let chunked = try #require(records.first { $0.type == "response" && $0.targetURI == base + "/test/chunked" })
            let chunkedText = String(decoding: chunked.block ?? [], as: UTF8.self)
            #expect(chunkedText.lowercased().contains("transfer-encoding: chunked"))
            #expect(chunked.field("WARC-Payload-Digest") == nil)
            let chunkedMeta = try #require(records.first { $0.type == "metadata" && $0.targetURI == base + "/test/chunked" })
            #expect(String(decoding: chunkedMeta.block ?? [], as: UTF8.self).contains("payload-sha256-dechunked: "))

            let gzip = try #require(records.first { $0.type == "response" && $0.targetURI == base + "/test/gzip" })
            let gzipBlock = gzip.block ?? []
            let split = try #require(Self.headerEnd(gzipBlock))
            #expect(String(decoding: gzipBlock[..<split], as: UTF8.self).lowercased().contains("content-encoding: gzip"))
            let body = Array(gzipBlock[split...])
            #expect(body.starts(with: [0x1f, 0x8b]))  // stored compressed, as transferred
            #expect(gzip.field("WARC-Payload-Digest") == "sha256:" + Digest.sha256Hex(body))

            let check = try Validators.run("warcio", ["check", "-v", warc])
            #expect(check.status == 0, "\(check.output)")
            #expect(!check.output.contains("no digest to check"))

            // Nothing outside the job: no Authorization, no Cookie.
            for request in site.requests() {
                #expect(!request.headers.contains { ["authorization", "cookie"].contains($0.0.lowercased()) })
            }
        }
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    @Test("limits: a body over --max-bytes and a stalled server fail with reasons, leaving nothing partial")
    func limits() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let big = site.baseURL + "/test/bytes?n=200000"
            let stall = site.baseURL + "/test/stall?seconds=4"
            let ok = site.baseURL + "/test/status/200"
            let report = try await capture(ws, caseID, [big, stall, ok]) {
                $0.maxBytes = 50_000
                $0.timeout = 1
            }
            #expect(report.exitCode == .captureFailed)
            let entries = try captureEntries(ws, caseID)
            let bigEntry = try #require(entries.first { $0.subject?["url"]?.stringValue == big })
            #expect(bigEntry.action == "capture-failed")
            #expect(bigEntry.subject?["reason"]?.stringValue?.contains("exceeded the body-size limit of") == true)
            let stallEntry = try #require(entries.first { $0.subject?["url"]?.stringValue == stall })
            #expect(stallEntry.action == "capture-failed")
            #expect(stallEntry.subject?["reason"]?.stringValue?.contains("timed out") == true)
            // The timeout is the stall's: the site read the request and was still holding it.
            #expect(site.requests().contains { $0.uri == "/test/stall?seconds=4" }, "\(site.requests())")
            let warc = try #require(try warcFiles(ws, caseID).first)
            let records = try WARCReader(path: warc).records()
            #expect(!records.contains { $0.targetURI == big || $0.targetURI == stall })
            #expect(records.contains { $0.targetURI == ok && $0.type == "response" })
            // No spool or temporary file is left behind.
            #expect(CaseRecovery.temporaryFiles(in: ws.caseDirectory(caseID)).isEmpty)
        }
    }

    @Test("200 pages at concurrency 8: 200 capture entries and one WARC whose record count matches")
    func manyPages() async throws {
        try await withFixtureSite(siteDirectory: nil) { site in
            let ws = try TestWorkspace()
            let caseID = try ws.openCase()
            let urls = (0..<200).map { site.baseURL + "/test/pages/\($0)?count=200" }
            let report = try await capture(ws, caseID, urls) { $0.concurrency = 8 }
            #expect(report.exitCode == nil)
            let entries = try ws.entries(caseID).filter { $0.action == "capture" }
            #expect(entries.count == 200)
            #expect(Set(entries.compactMap { $0.subject?["url"]?.stringValue }) == Set(urls))
            let files = try warcFiles(ws, caseID)
            #expect(files.count == 1)
            let records = try WARCReader(path: files[0]).records()
            #expect(records.count == 1 + 200 * 3)
            let listed = entries.reduce(0) { $0 + ($1.subject?["records"]?.arrayValue?.count ?? 0) }
            #expect(listed == 600)
            let verification = try CaseVerification.verify(
                directory: ws.caseDirectory(caseID), keyFor: CaseVerification.workspaceKeys(forCaseDirectory: ws.caseDirectory(caseID)))
            #expect(verification.intact, "\(verification.findings.map(\.line))")
        }
    }
}

/// Replays one URL through pywb's `wayback` server on loopback.
enum Pywb {
    static func replay(directory: String, collection: String, url: String) async throws -> String {
        let log = directory + "/wayback.log"
        // A random port may be taken (the server then exits at once): up to three ports are tried.
        for _ in 0..<3 {
            let port = Int.random(in: 20000...40000)
            // pywb's server never starts listening under the signal mask the test runner's
            // children inherit: the runner clears it.
            let process = try ChildProcess(try Validators.path(of: "wayback"), ["-p", String(port), "-b", "127.0.0.1"],
                                           directory: directory, stdout: .file(log), stderr: .sameAsStdout, clearsSignalMask: true).start()
            defer { process.killAndWait() }
            let target = "http://127.0.0.1:\(port)/\(collection)/mp_/\(url)"
            var page: String?
            // pywb takes a while to start on a loaded machine (the whole suite runs in parallel).
            _ = try await poll(until: {
                let result = try Command.run("/usr/bin/curl", ["-s", "-f", target])
                if result.status == 0 { page = result.output }
                return page != nil || !process.isRunning
            }, timeout: .seconds(120), interval: .milliseconds(250))
            if let page { return page }
            if process.isRunning { break }
        }
        return "pywb did not answer; its log: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
