/// Escaping for the HTML that Exhibit writes around text from evidence or from people:
/// captured URLs and titles, case fields, findings, messages.
///
/// One escaper serves every page Exhibit makes — the bundle report, the case browser,
/// the replay server, the banner of a rendered PDF and the fixture site — so that no
/// page escapes less than another. It lives in ChainOfCustody, the one module all of
/// them import.
///
/// It always escapes the five characters HTML gives meaning to (`&`, `<`, `>`, `"`,
/// `'`), so its output is safe in element content and in a quoted attribute value. With
/// `marks`, it also makes visible what a reader could otherwise not see: C0 and C1
/// controls (except line breaks when `multiline`) and the bidirectional embeddings,
/// overrides and isolates, which can reorder the text around them (a "right-to-left
/// override" makes `evil.com/txt.exe` read differently). With `url`, zero-width and
/// other invisible format characters are marked too; in titles they are left alone,
/// because scripts such as Persian use them in ordinary text.
///
/// ```swift
/// HTMLText.escape("Tom's <b>")                          // Tom&#39;s &lt;b&gt;
/// HTMLText.escape("a\u{202E}b", marks: .boxed)          // a<span class="cc">U+202E</span>b
/// HTMLText.escape("a\u{200B}b", marks: .bracketed, url: true)  // a[U+200B]b
/// ```
public enum HTMLText {
    /// How invisible and direction-changing characters are shown.
    public enum Marks: Sendable {
        /// Left as they are, where the text need only be kept out of the markup (the
        /// replay server's pages, a PDF banner, the fixture site).
        case none
        /// As `<span class="cc">U+XXXX</span>`, for element content; the page styles `.cc`.
        case boxed
        /// As `[U+XXXX]`, for attribute values and `<title>`, which cannot hold markup: a
        /// `<span>` inside a quoted attribute would end the attribute at its own quotes.
        case bracketed
    }

    /// `value` escaped for element content or a quoted attribute value.
    ///
    /// - Parameters:
    ///   - marks: how controls and direction-changing characters are shown.
    ///   - url: the value is an address: invisible format characters are marked too.
    ///   - multiline: line feeds are kept and carriage returns dropped (CRLF and LF read
    ///     alike); otherwise both are controls like any other.
    public static func escape(_ value: String, marks: Marks = .none, url: Bool = false, multiline: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n" where multiline: out += "\n"
            case "\r" where multiline: continue  // CRLF and LF read alike
            default:
                switch marks {
                case .boxed where shownAsMark(scalar.value, url: url):
                    out += "<span class=\"cc\">U+\(hex4(scalar.value))</span>"
                case .bracketed where shownAsMark(scalar.value, url: url):
                    out += "[U+\(hex4(scalar.value))]"
                default:
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func shownAsMark(_ value: UInt32, url: Bool) -> Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F: return true          // C0 and C1 controls, DEL
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi embeddings, overrides, isolates
        case 0xFEFF: return true                            // byte order mark / zero-width no-break space
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B...0x200F, 0x2060...0x2064,
             0x3164, 0xFFA0, 0xFFF9...0xFFFB:
            return url                                      // invisible in print; spoofing aids in an address
        default: return false
        }
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
