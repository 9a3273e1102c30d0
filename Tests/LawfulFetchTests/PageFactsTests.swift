import FixtureServer
import Foundation
@testable import LawfulFetch
import PageAnalysis
import Testing

/// The capture entry's title and password field come from a light look at the page
/// (issue 25); they must be what the full analysis says, page for page.
@Suite("Page facts at capture")
struct PageFactsTests {
    static var fixtures: String {
        get throws {
            let site = try #require(FixtureSite.defaultSiteDirectory)
            return (site as NSString).deletingLastPathComponent
        }
    }

    /// Every HTML file of the fixture site and the analysis corpus, with its Content-Type.
    static func corpus() throws -> [(name: String, html: [UInt8], contentType: String?)] {
        let root = try fixtures
        var pages: [(String, [UInt8], String?)] = []
        for folder in ["site", "analysis", "fuzz"] {
            let directory = root + "/" + folder
            guard let walker = FileManager.default.enumerator(atPath: directory) else { continue }
            for case let name as String in walker where name.hasSuffix(".html") || name.hasSuffix(".htm") {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
                var contentType: String? = "text/html"
                let spec = directory + "/" + (name as NSString).deletingPathExtension + ".json"
                if let data = FileManager.default.contents(atPath: spec),
                   let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                    contentType = json["content_type"] as? String
                }
                pages.append((folder + "/" + name, bytes, contentType))
            }
        }
        return pages
    }

    static func expectSame(_ html: [UInt8], contentType: String? = "text/html", _ name: String) {
        let url = "http://127.0.0.2/page.html"
        let full = AnalyzedPage(html: html, url: url, contentType: contentType)
        let light = PageFacts(html: html, url: url, contentType: contentType)
        #expect(light == PageFacts(full), "\(name): light \(light), full title \(String(describing: full.title)) password \(full.hasPasswordField)")
    }

    @Test("the fixture pages get the full analysis's title and password field")
    func corpusAgrees() throws {
        let pages = try Self.corpus()
        #expect(pages.count > 40, "\(pages.count) pages")
        for page in pages { Self.expectSame(page.html, contentType: page.contentType, page.name) }
        // The corpus has login pages and titled pages, so both facts were compared.
        #expect(pages.contains { AnalyzedPage(html: $0.html, url: "http://x/", contentType: $0.contentType).hasPasswordField })
    }

    @Test("pages built to mislead a light look get the full analysis's answer")
    func trickyPages() {
        let filler = String(repeating: "<p>Plain paragraph of filler text.</p>\n", count: 60)
        let cases: [(String, String, String?)] = [
            ("title in a comment first", "<html><head><!-- <title>Old</title> --><title>Real</title></head><body>\(filler)</body></html>", "text/html"),
            ("title in a script first", "<html><head><script>var t='<title>Fake</title>';</script><title>Real</title></head></html>", "text/html"),
            ("svg title first", "<html><body><svg><title>Icon</title></svg><title>Late</title>\(filler)</body></html>", "text/html"),
            ("no title", "<html><body>\(filler)</body></html>", "text/html"),
            ("unclosed title", "<html><head><title>Never closed", "text/html"),
            ("entities and spaces", "<title>  Caf&eacute; &amp;\n  Bar  </title>\(filler)", "text/html"),
            ("meta charset after the title", "<html><head><title>Caf\u{E9}</title><meta charset=\"windows-1252\"></head><body>\(filler)</body></html>", nil),
            ("title after 1024 bytes", "<html><head><meta charset=\"iso-8859-1\">\(filler)<title>Far down</title></head></html>", nil),
            ("password field", "<form><input type=\"PASSWORD\" name=p></form><title>Sign in</title>", "text/html"),
            ("password type by reference", "<title>Sign in</title><form><input type=\"&#112;assword\" name=p></form>", "text/html"),
            ("unquoted reference", "<title>Sign in</title><form><input type=pass&#119;ord name=p></form>", "text/html"),
            ("the word only", "<title>Reset your password</title><p>Forgot your password?</p>", "text/html"),
            ("two titles", "<title>First</title><title>Second</title>", "text/html"),
            ("upper-case tags", "<HTML><HEAD><TITLE>Shouting</TITLE></HEAD></HTML>", "text/html"),
            ("empty title", "<title></title><p>x</p>", "text/html"),
            ("blank title", "<title> \t\r\n </title><p>x</p>", "text/html"),
            ("plain head", "<!DOCTYPE html>\n<html lang=en><head><meta charset=\"utf-8\"/><meta name=viewport content='width=device-width'>\n<link rel=stylesheet href=/s.css><title>\n  Forum thread 7\t- Site\r\n</title></head>", "text/html"),
            ("plain head without a title", "<!doctype html><html><head><meta charset=utf-8></head>", "text/html"),
            ("longer end tag", "<html><head><title>A</titlex> B</title></head>", "text/html"),
            ("public doctype", "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"x.dtd\"><html><head><title>Old school</title>", "text/html"),
            ("style first", "<html><head><style>title{}</style><title>Styled</title>", "text/html"),
            ("quote in a plain value", "<html><head><meta content=it's><title>Quoted</title>", "text/html"),
            ("markup in the title", "<head><title>A <b>bold</b> title</title>", "text/html"),
            ("non-ASCII title", "<head><meta charset=utf-8><title>Caf\u{E9} \u{2014} menu</title>", "text/html"),
            ("shift_jis ascii title", "<head><title>Yen \\ and tilde ~</title>", "text/html; charset=Shift_JIS"),
        ]
        for (name, html, contentType) in cases {
            // ISO-8859-1 bytes for the pages that declare a legacy charset, UTF-8 for the others.
            let bytes = contentType == nil ? html.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } : Array(html.utf8)
            Self.expectSame(bytes, contentType: contentType, name)
        }
        // The plain head is read from the bytes; the others go to libxml2.
        func plain(_ html: String) -> String?? { Array(html.utf8).withUnsafeBufferPointer { PageFacts.plainTitle($0, from: 0) } }
        #expect(plain("<!doctype html><html><head><meta charset=utf-8><title> Forum\n thread </title>") == .some("Forum thread"))
        #expect(plain("<html><head><meta charset=utf-8></head>") == .some(nil))
        #expect(plain("<html><head><style>title{}</style><title>Styled</title>") == nil)
        #expect(plain("<head><title>A &amp; B</title>") == nil)
        // UTF-16 bytes do not hold "password" as ASCII: the page is analysed whole.
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in "<title>Login</title><input type=password>".utf16 { utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        Self.expectSame(utf16, contentType: "text/html", "utf-16le login page")
        #expect(PageFacts(html: utf16, url: "http://x/", contentType: "text/html").passwordField)
    }
}
