import ChainOfCustody
import Testing

/// The one HTML escaper (issue 17): what the bundle report, the case browser, the
/// replay server, the PDF banner and the fixture site write around hostile text.
@Suite("HTMLText: the shared HTML escaper")
struct HTMLTextTests {
    @Test("the five HTML characters become references; everything else is kept")
    func fiveCharacters() {
        #expect(HTMLText.escape(#"<a href="x" title='y'>Tom & Jerry</a>"#)
            == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;")
        #expect(HTMLText.escape("café 日本 🙂 \u{202E}\n") == "café 日本 🙂 \u{202E}\n")
    }

    /// Foundation's `replacingOccurrences(of:with:)` compares grapheme clusters, so the
    /// escapers it replaced left `"` unescaped when a combining mark followed it: an
    /// attribute value could be closed from the evidence.
    @Test("a quote or bracket followed by a combining mark is escaped all the same")
    func combiningMarks() {
        let hostile = "x\"\u{301} onmouseover=alert(1) <\u{301}b>&\u{301}'\u{301}"
        let escaped = HTMLText.escape(hostile)
        #expect(escaped == "x&quot;\u{301} onmouseover=alert(1) &lt;\u{301}b&gt;&amp;\u{301}&#39;\u{301}")
        #expect(!escaped.unicodeScalars.contains { "\"<>'".unicodeScalars.contains($0) }, "\(escaped)")
    }

    @Test("controls and direction changes are boxed in content and bracketed in attributes; format characters only in URLs")
    func marks() {
        let value = "a\u{202E}b\u{1B}c\u{200B}d"
        #expect(HTMLText.escape(value, marks: .boxed)
            == "a<span class=\"cc\">U+202E</span>b<span class=\"cc\">U+001B</span>c\u{200B}d")
        #expect(HTMLText.escape(value, marks: .boxed, url: true)
            == "a<span class=\"cc\">U+202E</span>b<span class=\"cc\">U+001B</span>c<span class=\"cc\">U+200B</span>d")
        #expect(HTMLText.escape(value, marks: .bracketed, url: true) == "a[U+202E]b[U+001B]c[U+200B]d")
    }

    @Test("multiline keeps line feeds and drops carriage returns; otherwise both are marked")
    func lineBreaks() {
        #expect(HTMLText.escape("a\r\nb", marks: .boxed, multiline: true) == "a\nb")
        #expect(HTMLText.escape("a\r\nb", marks: .bracketed) == "a[U+000D][U+000A]b")
    }
}
