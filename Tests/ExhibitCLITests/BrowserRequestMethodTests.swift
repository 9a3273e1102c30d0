import ChainOfCustody
import ExhibitTestSupport
import FixtureServer
import Foundation
import Testing

/// What a browser capture does with a script's own requests (DESIGN §17, issue 19,
/// docs/capture.md "What the page may send"): a POST is never sent — the page gets a
/// network error, the request list names the method and the body's length and sha256,
/// and the ledger has the refusal — and a read with the script's own headers is
/// fetched with Exhibit's headers only, which the WARC request record holds byte for byte.
@Suite("exhibit capture --browser: a script's POST and headers", .serialized)
struct BrowserRequestMethodTests {
    @Test("a script's POST is not sent and is recorded as refused; its GET goes out with Exhibit's headers, as the request record says")
    func postAndHeaders() async throws {
        try await withFixtureSite(host: "127.0.0.2", siteDirectory: BrowserCaptureTests.site) { site in
            let url = site.baseURL + "/js/post.html"
            let page = try await BrowserCaptureTests().capture(url)
            #expect(page.result.status == 0, "\(page.result.stderr)")

            // Nothing of the POST reached the site; the GET carried none of the script's headers.
            let logged = site.requests()
            #expect(!logged.contains { $0.method == "POST" || $0.uri.contains("posted=") }, "\(logged.map(\.description))")
            let read = try #require(logged.first { $0.uri.hasSuffix("/js/contacts.json") }, "\(logged.map(\.description))")
            #expect(!read.headers.contains { ["x-requested-with", "authorization"].contains($0.0.lowercased()) }, "\(read.headers)")

            // The refusal: in the ledger, naming the page, and in the page's request list with the body's digest.
            let posted = site.baseURL + "/test/status/200?posted=comment"
            let refusals = try page.entries("policy-refusal")
            let refusal = try #require(refusals.first { $0.subject?["url"]?.stringValue == posted }, "\(refusals.map { $0.subject?["url"]?.stringValue ?? "" })")
            #expect(refusal.subject?["page"]?.stringValue == url)
            #expect(refusal.subject?["reason"]?.stringValue?.contains("POST") == true, "\(refusal.subject?["reason"]?.stringValue ?? "")")
            let records = try HTTPSCaptureTests.WARCDump.records(try page.warcPath())
            let list = try #require(records.first { $0.targetURI == "urn:exhibit:requests:" + url })
            let requests = try JSONValue(parsing: list.block)["requests"]?.arrayValue ?? []
            let post = try #require(requests.first { $0["url"]?.stringValue == posted }, "\(list.block)")
            let body = "comment=postmarker-body&token=abc123"
            #expect(post["method"]?.stringValue == "POST")
            #expect(post["outcome"]?.stringValue == "refused")
            #expect(post["body_length"]?.intValue == Int64(body.utf8.count), "\(post)")
            #expect(post["body_sha256"]?.stringValue == Digest.sha256Hex(Array(body.utf8)), "\(post)")

            // No record claims the POST was sent; the GET's request record is what the site received.
            #expect(!records.contains { $0.targetURI == posted })
            let head = try Self.requestHead(try page.warcPath(), target: site.baseURL + "/js/contacts.json")
            #expect(head.hasPrefix("GET /js/contacts.json HTTP/1.1\r\n"), "\(head)")
            let sentNames = head.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
                .compactMap { $0.split(separator: ":").first.map { $0.lowercased() } }
            let receivedNames = read.headers.map { $0.0.lowercased() }
            #expect(sentNames == receivedNames, "sent \(sentNames), received \(receivedNames)")

            // The page itself saw the refusal as a network error, and its read as data.
            #expect(!(try page.search("postmarker-blocked")).isEmpty)
            #expect(!(try page.search("postmarker-read")).isEmpty)
            #expect((try page.search("postmarker-sent")).isEmpty)
            try page.expectValid()
        }
    }

    /// The request line and header fields of the WARC request record for `target`, as
    /// warcio reads them.
    static func requestHead(_ warc: String, target: String) throws -> String {
        let script = """
            import sys
            from warcio.archiveiterator import ArchiveIterator
            with open(sys.argv[1], "rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type == "request" and record.rec_headers.get_header("WARC-Target-URI") == sys.argv[2]:
                        sys.stdout.write(record.http_headers.to_str())
                        break
            """
        let result = try Validators.run("python3", ["-c", script, warc, target])
        guard result.status == 0 else { throw HTTPSCaptureTests.TestFailure("warcio could not read \(warc): \(result.output)") }
        return result.output
    }
}
