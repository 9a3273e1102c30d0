@testable import ExhibitCLI
import Testing

/// `InertText.escape` (DESIGN §16 "Terminal output is inert"): every C0 and C1
/// control, DEL and bidi override is written as `\u{HEX}`; everything else,
/// including ordinary Unicode, passes unchanged.
@Suite("inert terminal text")
struct InertTextTests {
    private static func hex(_ value: UInt32) -> String {
        "\\u{" + String(value, radix: 16, uppercase: true) + "}"
    }

    @Test("every C0 control (CR, LF and TAB too), DEL and every C1 control is escaped as \\u{HEX}")
    func controls() throws {
        for value in Array(UInt32(0x00)...0x1F) + [0x7F] + Array(UInt32(0x80)...0x9F) {
            let scalar = try #require(Unicode.Scalar(value))
            #expect(InertText.escape(String(scalar)) == Self.hex(value), "U+\(String(value, radix: 16))")
            #expect(InertText.escape("a\(scalar)b") == "a" + Self.hex(value) + "b")
        }
        #expect(InertText.escape("\u{1B}") == #"\u{1B}"#)
        #expect(InertText.escape("\t") == #"\u{9}"#)
        #expect(InertText.escape("\u{7F}") == #"\u{7F}"#)
        #expect(InertText.escape("\u{9B}") == #"\u{9B}"#)
    }

    @Test("the bidi embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069 are escaped")
    func bidi() throws {
        for value in Array(UInt32(0x202A)...0x202E) + Array(UInt32(0x2066)...0x2069) {
            let scalar = try #require(Unicode.Scalar(value))
            #expect(InertText.escape("x\(scalar)y") == "x" + Self.hex(value) + "y")
        }
        #expect(InertText.escape("invoice\u{202E}fdp.exe") == #"invoice\u{202E}fdp.exe"#)
    }

    @Test("ordinary text and Unicode pass unchanged, neighbours of the escaped ranges included")
    func ordinary() {
        for text in ["", "plain ASCII ~!@#$%^&*()_+ 0123456789", "café", "cafe\u{301}", "日本", "🙂", "👩‍👩‍👧", "שלום", "مرحبا",
                     "\u{A0}non-breaking", "\u{A1}¡", "\u{2029}", "\u{202F}", "\u{2065}", "\u{206A}", #"a \u{1B} already spelled out"#] {
            #expect(InertText.escape(text) == text, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test("an attack line: ESC[2K CR LF inside a title comes out as one visible line")
    func attack() {
        let escaped = InertText.escape("T\u{1B}[1A\u{1B}[2K\r\nX — 日本 🙂")
        #expect(escaped == #"T\u{1B}[1A\u{1B}[2K\u{D}\u{A}X — 日本 🙂"#)
        // A CR LF pair is one Character in Swift; it is still two escapes.
        #expect(InertText.escape("\r\n") == #"\u{D}\u{A}"#)
    }

    @Test("no scalar from U+0000 to U+2FFF survives escaping as a control or bidi override")
    func nothingSurvives() {
        let all = String(String.UnicodeScalarView((0...0x2FFF).compactMap(Unicode.Scalar.init)))
        let escaped = InertText.escape(all)
        #expect(!escaped.unicodeScalars.contains(where: InertText.needsEscape))
        #expect(escaped.unicodeScalars.count == all.unicodeScalars.count
            + (UInt32(0)...0x1F).map { Self.hex($0).count - 1 }.reduce(0, +)
            + (UInt32(0x7F)...0x9F).map { Self.hex($0).count - 1 }.reduce(0, +)
            + (Array(UInt32(0x202A)...0x202E) + Array(UInt32(0x2066)...0x2069)).map { Self.hex($0).count - 1 }.reduce(0, +))
    }
}
