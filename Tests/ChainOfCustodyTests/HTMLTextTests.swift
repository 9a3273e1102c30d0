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

    /// The escaper scalar by scalar, as it was written before it worked on UTF-8 bytes:
    /// the oracle for the byte version, with the table of marked scalars spelled out.
    static func reference(_ value: String, marks: HTMLText.Marks, url: Bool, multiline: Bool) -> String {
        func isMark(_ v: UInt32) -> Bool {
            switch v {
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF: return true
            case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B...0x200F, 0x2060...0x2064,
                 0x3164, 0xFFA0, 0xFFF9...0xFFFB: return url
            default: return false
            }
        }
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n" where multiline: out += "\n"
            case "\r" where multiline: continue
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                let code = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                switch marks {
                case .boxed where isMark(scalar.value): out += "<span class=\"cc\">U+\(code)</span>"
                case .bracketed where isMark(scalar.value): out += "[U+\(code)]"
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    @Test("every scalar up to U+3200 and from U+FE00 to U+FFFF, and scalars of four bytes, escape as scalar by scalar, in every mode")
    func sameAsScalarByScalar() {
        let scalars = (Array(0...0x3200) + Array(0xFE00...0xFFFF) + [0x1F642, 0x10FFFF, 0xE0001])
            .compactMap { Unicode.Scalar(UInt32($0)) }
        // Each scalar between two letters, so runs before and after it are copied too.
        var texts = scalars.map { "a" + String(Character($0)) + "b" }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &generator) { text.append(scalars.randomElement(using: &generator)!) }
            texts.append(String(text))
        }
        texts += ["", "&", "\r\n", "plain ascii only", "\u{202E}\u{202E}"]
        for marks in [HTMLText.Marks.none, .boxed, .bracketed] {
            for url in [false, true] {
                for multiline in [false, true] {
                    let differing = texts.filter {
                        HTMLText.escape($0, marks: marks, url: url, multiline: multiline) != Self.reference($0, marks: marks, url: url, multiline: multiline)
                    }
                    #expect(differing.isEmpty, "marks \(marks) url \(url) multiline \(multiline): \(differing.prefix(5).map { Array($0.unicodeScalars.map(\.value)) })")
                }
            }
        }
    }
}
