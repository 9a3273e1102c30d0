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
        var value = value
        return value.withUTF8 { escape(utf8: $0, marks: marks, url: url, multiline: multiline) }
    }

    /// `escape` over the string's UTF-8, copying the runs between the bytes that need
    /// something else: a bundle's report and court sheets escape every captured title and
    /// URL, and appending scalar by scalar to a `String` was 10 % of an export's CPU.
    private static func escape(utf8 bytes: UnsafeBufferPointer<UInt8>, marks: Marks, url: Bool, multiline: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var run = 0  // start of the bytes not yet copied
        var index = 0
        func copyRun(upTo end: Int) {
            if run < end { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<end])) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            // Swift strings hold valid UTF-8: a lead byte says how long its scalar is.
            let length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
            let replacement: [UInt8]?
            switch byte {
            case UInt8(ascii: "&"): replacement = Self.amp
            case UInt8(ascii: "<"): replacement = Self.lt
            case UInt8(ascii: ">"): replacement = Self.gt
            case UInt8(ascii: "\""): replacement = Self.quot
            case UInt8(ascii: "'"): replacement = Self.apos
            case 0x0A where multiline: replacement = nil
            case 0x0D where multiline: replacement = []  // CRLF and LF read alike
            default:
                // Only controls (ASCII) and, above ASCII, scalars whose UTF-8 begins with
                // C2 (C1 controls, soft hyphen) or a three-byte lead can be marks.
                guard marks != .none, byte < 0x20 || byte == 0x7F || byte == 0xC2 || (0xCD...0xEF).contains(byte) else {
                    replacement = nil
                    break
                }
                let scalar = Self.scalar(bytes, at: index, length: length)
                guard shownAsMark(scalar, url: url) else {
                    replacement = nil
                    break
                }
                replacement = Array((marks == .boxed ? "<span class=\"cc\">U+\(hex4(scalar))</span>" : "[U+\(hex4(scalar))]").utf8)
            }
            if let replacement {
                copyRun(upTo: index)
                out += replacement
                run = index + length
            }
            index += length
        }
        copyRun(upTo: bytes.count)
        return String(decoding: out, as: UTF8.self)
    }

    private static let amp = Array("&amp;".utf8), lt = Array("&lt;".utf8), gt = Array("&gt;".utf8)
    private static let quot = Array("&quot;".utf8), apos = Array("&#39;".utf8)

    /// The Unicode scalar value of the `length`-byte UTF-8 sequence at `index`.
    private static func scalar(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, length: Int) -> UInt32 {
        let lead = UInt32(bytes[index])
        switch length {
        case 1: return lead
        case 2: return (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
        case 3: return (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F)
        default:
            return (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12 | UInt32(bytes[index + 2] & 0x3F) << 6
                | UInt32(bytes[index + 3] & 0x3F)
        }
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
