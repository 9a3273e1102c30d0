import PageAnalysis
import Testing

/// The libxml2 binding through the opaque C shim (DESIGN §13): a document is parsed,
/// walked and freed without any Swift module seeing libxml2's headers.
@Suite("libxml2 binding: HTMLDocument")
struct HTMLBindingTests {
    private static func elements(of document: HTMLDocument) -> [String] {
        var names: [String] = []
        document.forEachElement { name, _ in names.append(name) }
        return names
    }

    private static func texts(of document: HTMLDocument) -> [(parent: String, text: String)] {
        var texts: [(String, String)] = []
        document.forEachText { parent, text in texts.append((parent, text)) }
        return texts
    }

    @Test func parsesTitleElementsAttributesAndText() throws {
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>  Threats
               posted   here </title></head>
            <body><h1 id="top">Notice</h1>
            <p class="post">First <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow">link</a> text</p>
            <img src="/media/photo.jpg" alt="A photo"></body></html>
            """
        let document = try HTMLDocument(bytes: Array(html.utf8), baseURL: "https://example.org/")
        #expect(document.title == "Threats posted here")

        let names = Self.elements(of: document)
        #expect(names == ["html", "head", "meta", "title", "body", "h1", "p", "a", "img"])

        var attributes: [String: [String: String]] = [:]
        document.forEachElement { name, attribute in
            var found: [String: String] = [:]
            for key in ["lang", "charset", "id", "class", "href", "rel", "src", "alt", "missing"] {
                if let value = attribute(key) { found[key] = value }
            }
            attributes[name] = found
        }
        #expect(attributes["html"] == ["lang": "en"])
        #expect(attributes["h1"] == ["id": "top"])
        #expect(attributes["p"] == ["class": "post"])
        // The entity in the attribute is decoded once.
        #expect(attributes["a"] == ["href": "https://example.org/a?b=1&c=2", "rel": "nofollow"])
        #expect(attributes["img"] == ["src": "/media/photo.jpg", "alt": "A photo"])

        let texts = Self.texts(of: document).filter { !$0.text.allSatisfy(\.isWhitespace) }
        #expect(texts.map(\.parent) == ["title", "h1", "p", "a", "p"])
        #expect(texts.map(\.text).dropFirst() == ["Notice", "First ", "link", " text"])
    }

    @Test func decodesUTF8Text() throws {
        let html = "<html><head><meta charset=\"utf-8\"><title>Café – ünïcode</title></head><body><p>€ 5</p></body></html>"
        let document = try HTMLDocument(bytes: Array(html.utf8))
        #expect(document.title == "Café – ünïcode")
        #expect(Self.texts(of: document).contains { $0.parent == "p" && $0.text == "€ 5" })
    }

    @Test func brokenMarkupIsRecovered() throws {
        let html = "<html><head><title>Broken</head><body><p>one<p>two<div><b>bold</i></div><table><tr><td>cell</table></span>tail"
        let document = try HTMLDocument(bytes: Array(html.utf8))
        let names = Self.elements(of: document)
        #expect(names.first == "html")
        #expect(names.filter { $0 == "p" }.count == 2)
        for expected in ["body", "div", "b", "td"] {
            #expect(names.contains(expected), "\(expected) missing from \(names)")
        }
        let texts = Self.texts(of: document).map(\.text).joined(separator: "|")
        for expected in ["one", "two", "bold", "cell", "tail"] {
            #expect(texts.contains(expected), "\(expected) missing from \(texts)")
        }
    }

    @Test func fragmentWithoutHtmlElementGetsOne() throws {
        let document = try HTMLDocument(bytes: Array("<p>just a paragraph".utf8))
        let names = Self.elements(of: document)
        #expect(names.first == "html")
        #expect(names.contains("p"))
        #expect(document.title == nil)
    }

    @Test func emptyAndBinaryInputDoNotCrash() {
        // Either outcome is fine (an empty document or an error); the process must survive.
        if let document = try? HTMLDocument(bytes: []) {
            #expect(document.title == nil)
            _ = Self.elements(of: document)
        }
        if let document = try? HTMLDocument(bytes: [0, 0, 0xFF, 0xFE, 0x3C, 0x00]) {
            _ = Self.elements(of: document)
            _ = Self.texts(of: document)
        }
    }

    @Test func deepNestingDoesNotExhaustTheStack() throws {
        let depth = 20_000
        let html = String(repeating: "<div>", count: depth) + "deep" + String(repeating: "</div>", count: depth)
        let document = try HTMLDocument(bytes: Array(html.utf8))
        #expect(Self.elements(of: document).filter { $0 == "div" }.count > 0)
    }
}
