/// Makes text from evidence, a bundle or a user safe to show on a terminal
/// (DESIGN §16 "Terminal output is inert").
///
/// A zip entry named `ESC[1A ESC[2K…` would otherwise move the cursor up and erase
/// the line above it — the `NOT INTACT` summary verify has just printed — and a
/// title with a right-to-left override reads backwards. Every C0 control (CR, LF
/// and TAB included: inside one field they are not layout), DEL, every C1 control
/// and the bidi embeddings, overrides and isolates are written as Swift spells them
/// in a string literal, so what reaches the terminal is text, never an instruction:
///
///     InertText.escape("a\u{1B}[2K\r\n")  // #"a\u{1B}[2K\u{D}\u{A}"#: backslashes, no ESC
///     InertText.escape("café 日本 🙂")     // unchanged
///
/// `--json` output does not go through this: JSON has its own escaping and must
/// round-trip the exact string.
enum InertText {
    /// `text` with every scalar that `needsEscape` accepts written as `\u{HEX}`
    /// (upper-case hex, no leading zeros: ESC is `\u{1B}`); everything else as it was.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                escaped.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    /// C0 (U+0000–U+001F), DEL (U+007F), C1 (U+0080–U+009F), and the bidi controls
    /// that reorder what follows them: U+202A–U+202E (embeddings, overrides, pop) and
    /// U+2066–U+2069 (isolates, pop).
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
