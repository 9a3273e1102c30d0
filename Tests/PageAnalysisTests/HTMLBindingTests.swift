import PageAnalysis
import Testing

/// The libxml2 binding through the opaque C shim (DESIGN §13): a page is parsed
/// by libxml2, its events read in C and handed to Swift as plain strings, without
/// any Swift module seeing libxml2's headers; URIs resolve with libxml2's resolver.
@Suite("libxml2 binding: the analysis parse")
struct HTMLBindingTests {
    private static func analyse(_ html: String, url: String = "https://example.org/") -> AnalyzedPage {
        AnalyzedPage(html: Array(html.utf8), url: url, contentType: "text/html")
    }

    @Test func titleAttributesAndTextReachSwift() {
        let page = Self.analyse("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>  Threats
               posted   here </title><meta name="description" content="A notice"></head>
            <body><h1 id="top">Notice</h1>
            <p class="post">First <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow">link</a> text</p>
            <img src="/media/photo.jpg" alt="A photo"></body></html>
            """)
        #expect(page.title == "Threats posted here")
        #expect(page.description == "A notice")
        // The entity in the attribute is decoded once.
        #expect(page.links == ["https://example.org/a?b=1&c=2"])
        #expect(page.media == ["https://example.org/media/photo.jpg"])
        // Head text is not visible text; the heading and the paragraph are blocks.
        #expect(page.text == "Notice\nFirst link text")
    }

    @Test func decodesUTF8Text() {
        let page = Self.analyse("<html><head><meta charset=\"utf-8\"><title>Café – ünïcode</title></head><body><p>€ 5</p></body></html>")
        #expect(page.title == "Café – ünïcode")
        #expect(page.text == "€ 5")
    }

    @Test func brokenMarkupIsRecovered() {
        let page = Self.analyse("<html><head><title>Broken</head><body><p>one<p>two<div><b>bold</i></div><table><tr><td>cell</table></span>tail")
        #expect(page.title == "Broken")
        #expect(page.text == "one\ntwo\nbold\ncell\ntail")
    }

    @Test func fragmentWithoutHtmlElementIsRead() {
        let page = Self.analyse("<p>just a paragraph")
        #expect(page.text == "just a paragraph")
        #expect(page.title == nil)
    }

    @Test func emptyAndBinaryInputGiveEmptyPages() {
        for bytes: [UInt8] in [[], [0, 0, 0xFF, 0xFE, 0x3C, 0x00]] {
            let page = AnalyzedPage(html: bytes, url: "https://example.org/", contentType: nil)
            #expect(page.title == nil)
            #expect(page.links.isEmpty)
            #expect(page.selectors.isEmpty)
        }
    }

    @Test func deepNestingDoesNotExhaustTheStack() {
        let depth = 20_000
        let html = "<p>top</p>" + String(repeating: "<div>", count: depth) + "deep" + String(repeating: "</div>", count: depth)
        // Past libxml2's depth limit the parse stops, as its tree builder does.
        #expect(Self.analyse(html).text == "top")
    }

    /// A charset label libxml2 does not know is ignored and the bytes read as
    /// UTF-8, as a tree parse did: not guessed to be Latin-1.
    @Test(arguments: ["utf8mb4", "x-user-defined", "none"])
    func unknownCharsetLabelsLeaveUTF8(label: String) {
        let page = Self.analyse("<html><head><meta charset=\"\(label)\"><title>Café – München</title></head><body><p>Straße, jörg</p></body></html>")
        #expect(page.title == "Café – München")
        #expect(page.text == "Straße, jörg")
    }

    /// Text the parser hands over while no element is open (here the stray "<"
    /// of a JSP directive, before libxml2 opens the implied elements) had no
    /// node to go in, in a tree, and is not visible text; what follows it is.
    @Test func textOutsideEveryElementIsNotVisibleText() {
        let page = Self.analyse("<%@ page language=\"java\" %>\n<html><body><p>Call +44 20 7946 0958</p></body></html>")
        #expect(page.text == "%@ page language=\"java\" %>\nCall +44 20 7946 0958")
        #expect(page.selectors.first { $0.kind == .phone }?.offset == 32)
    }

    /// libxml2 hands a script over in pieces of 1,000 bytes; a JSON-LD block
    /// that starts under the 1 MiB limit is kept whole, as its one text node was.
    @Test func aLongJSONLDBlockIsKeptWhole() {
        let json = #"{"articleBody":""# + String(repeating: "x", count: 1_500_000) + #"","datePublished":"2023-05-06"}"#
        let page = Self.analyse(#"<html><head><script type="application/ld+json">"# + json + "</script></head><body>b</body></html>")
        #expect(page.publishedTime == "2023-05-06")
    }

    @Test func referencesResolveWithLibxml2() {
        #expect(HTMLParser.resolve("../b/c?d#e", against: "https://example.org/x/y/z.html") == "https://example.org/x/b/c?d#e")
        #expect(HTMLParser.resolve("//cdn.example.net/i.png", against: "http://example.org/") == "http://cdn.example.net/i.png")
        // Spaces are percent-encoded first, as browsers do.
        #expect(HTMLParser.resolve("a b.html", against: "https://example.org/") == "https://example.org/a%20b.html")
    }
}
