import Foundation
import PageAnalysis

/// Bytes as the words screening reads (DESIGN §23, policy IV.B.6): which bodies are
/// words at all, their charset decoded, and a second reading of markup and JSON as a
/// browser shows them. ``ScreeningContent`` in CaseIndex reads a capture's WARC records,
/// undoes their transfer and content codings, and hands the bytes to these.
public enum ScreeningDecoding {
    /// What a body can be read as, or why it cannot: the reason is a clause of a
    /// `needs-review` sentence ("it is image/png content, which screening cannot …").
    public enum Outcome<T> {
        case success(T)
        case failure(String)
    }

    // MARK: Kinds

    public enum Kind { case markup, json, text }

    /// `text/html; charset=utf-8` → `text/html`.
    public static func mediaType(_ contentType: String) -> String {
        String(contentType.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Which bodies are words. An image is never judged by its words: a photo of a
    /// religious symbol has none (SVG included, which can draw one).
    public static func classify(mime: String, body: [UInt8]) -> Outcome<Kind> {
        if mime.isEmpty {
            // No Content-Type: browsers sniff, and so does screening. Text is read as
            // text (HTML when it looks like markup); anything else waits for a person.
            if let binary = binaryKind(body) { return .failure("it has no Content-Type and holds \(binary) data, which screening cannot judge as text") }
            let start = body.prefix(512).drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
            return .success(start.first == UInt8(ascii: "<") ? .markup : .text)
        }
        let kind: Kind
        if mime == "text/html" || mime == "application/xhtml+xml" || mime == "text/xml" || mime == "application/xml"
            || (mime.hasSuffix("+xml") && !mime.hasPrefix("image/")) {
            kind = .markup
        } else if mime == "application/json" || mime.hasSuffix("+json") || mime == "text/json" {
            kind = .json
        } else if mime.hasPrefix("text/") || ["application/javascript", "application/ecmascript", "application/x-javascript",
                                                "application/x-www-form-urlencoded", "application/rss", "application/atom"].contains(mime) {
            kind = .text
        } else {
            return .failure("it is \(mime) content, which screening cannot judge as text")
        }
        // A body declared as text that is not: a reader's browser may sniff it into
        // an image or a document.
        if let binary = binaryKind(body) { return .failure("it is declared \(mime) but holds \(binary) data, which screening cannot judge as text") }
        return .success(kind)
    }

    /// The kind of binary data `body` starts with (signatures of the WHATWG MIME
    /// sniffing standard and common documents), or "binary" for NUL bytes outside
    /// UTF-16; nil for text.
    static func binaryKind(_ body: [UInt8]) -> String? {
        let signatures: [(String, [UInt8])] = [
            ("PNG", [0x89, 0x50, 0x4E, 0x47]), ("JPEG", [0xFF, 0xD8, 0xFF]), ("GIF", Array("GIF8".utf8)),
            ("PDF", Array("%PDF-".utf8)), ("ZIP", [0x50, 0x4B, 0x03, 0x04]), ("WebP/RIFF", Array("RIFF".utf8)),
            ("BMP", Array("BM".utf8)), ("ICO", [0x00, 0x00, 0x01, 0x00]), ("gzip", [0x1F, 0x8B]),
            ("MP3", Array("ID3".utf8)), ("Ogg", Array("OggS".utf8)), ("Matroska/WebM", [0x1A, 0x45, 0xDF, 0xA3]),
            ("OLE document", [0xD0, 0xCF, 0x11, 0xE0]), ("PostScript", Array("%!PS".utf8)), ("zstd", [0x28, 0xB5, 0x2F, 0xFD]),
        ]
        for (name, signature) in signatures where body.starts(with: signature) { return name }
        if body.count > 8, body[4...7].elementsEqual(Array("ftyp".utf8)) { return "MP4/ISO media" }
        let window = body.prefix(8192)
        let utf16 = body.starts(with: [0xFF, 0xFE]) || body.starts(with: [0xFE, 0xFF])
        if !utf16, window.contains(0) { return "binary" }
        return nil
    }

    // MARK: Charsets

    /// The body as text: the Content-Type's charset, else a byte-order mark, else (for
    /// HTML) a `<meta>` declaration, else UTF-8 when it is valid, else windows-1252 —
    /// the fallback browsers use.
    public static func decodeCharset(_ body: [UInt8], contentType: String?, html: Bool) -> Outcome<String> {
        let decision = CharsetDecision(bytes: body, contentType: contentType)
        let bytes = Array(body.dropFirst(decision.bomLength))
        var label = decision.declared
        if decision.source == "meta", !html { label = nil }
        if decision.bomLength > 0 { label = decision.decodingLabel }
        guard let label else {
            if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
            return transcode(bytes, from: "WINDOWS-1252").map { .success($0) } ?? .success(String(decoding: bytes, as: UTF8.self))
        }
        switch label {
        case "utf-8", "utf8", "unicode-1-1-utf-8":
            return .success(String(decoding: bytes, as: UTF8.self))
        case "iso-8859-1", "latin1", "l1", "us-ascii", "ascii", "iso_8859-1", "cp1252", "windows-1252", "x-cp1252":
            // WHATWG Encoding: these labels all mean windows-1252.
            return transcode(bytes, from: "WINDOWS-1252").map { .success($0) }
                ?? .failure("its charset \"\(label)\" cannot be decoded")
        default:
            return transcode(bytes, from: label.uppercased()).map { .success($0) }
                ?? .failure("its charset \"\(label)\" is one screening cannot decode")
        }
    }

    /// `bytes` converted from `charset` with iconv; bytes that are not valid in that
    /// charset become U+FFFD. nil when iconv does not know the charset.
    static func transcode(_ bytes: [UInt8], from charset: String) -> String? {
        let converter = iconv_open("UTF-8", charset)
        guard converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 2)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = bytes
        input.withUnsafeMutableBufferPointer { inBuffer in
            guard let base = inBuffer.baseAddress else { return }
            var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(base).assumingMemoryBound(to: CChar.self)
            var inLeft = inBuffer.count
            while inLeft > 0 {
                var produced = 0
                var failed = false
                chunk.withUnsafeMutableBufferPointer { outBuffer in
                    var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuffer.count
                    let status = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    produced = outBuffer.count - outLeft
                    failed = status == -1 && errno != E2BIG
                }
                output.append(contentsOf: chunk[0..<produced])
                if failed {
                    // An invalid or incomplete sequence: one replacement character, skip a byte.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    inPointer = inPointer.map { $0 + 1 }
                    inLeft -= 1
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: Text of heads and markup

    /// An HTTP head: UTF-8 where valid, else Latin-1 (RFC 9110 §5.5, obs-text).
    public static func text(ofHead head: [UInt8]) -> String {
        String(validating: head, as: UTF8.self) ?? String(head.map { Character(Unicode.Scalar($0)) })
    }

    public static func lossyText(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? transcode(bytes, from: "WINDOWS-1252") ?? String(decoding: bytes, as: UTF8.self)
    }

    /// A metadata record's fields without the peer certificates: base64 DER, which
    /// holds no words, only chance letter runs that look like lexicon terms.
    public static func metadataText(_ block: [UInt8]) -> String {
        var kept: [Substring] = []
        var skipping = false
        for line in lossyText(block).split(separator: "\r\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                if !skipping { kept.append(line) }
                continue
            }
            skipping = line.lowercased().hasPrefix("peer-certificate:")
            if !skipping { kept.append(line) }
        }
        return kept.joined(separator: "\n")
    }

    /// Elements a browser renders inside a word: removing their tags joins the
    /// letters either side (`preg<b>nant</b>`). Every other tag separates words.
    static let inlineElements: Set<String> = [
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark",
        "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
    ]

    /// HTML or XML with its tags and comments removed and character references
    /// decoded: the words as a reader sees them. Works on the UTF-8 bytes (markup is
    /// ASCII), so a 64 MiB page costs one copy, not an array of scalars.
    public static func withoutMarkup(_ source: String) -> String {
        var source = source
        return source.withUTF8 { bytes -> String in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var i = 0
            let count = bytes.count
            while i < count {
                let byte = bytes[i]
                if byte == UInt8(ascii: "<") {
                    if starts(bytes, at: i, "<!--") {
                        let end = find(bytes, "-->", from: i + 4) ?? count
                        i = min(count, end + 3)
                        continue
                    }
                    let next = i + 1 < count ? bytes[i + 1] : 0
                    if isASCIILetter(next) || next == UInt8(ascii: "/") || next == UInt8(ascii: "!") || next == UInt8(ascii: "?") {
                        var end = i + 1
                        while end < count, bytes[end] != UInt8(ascii: ">") { end += 1 }
                        var j = next == UInt8(ascii: "/") ? i + 2 : i + 1
                        var name: [UInt8] = []
                        while j < end, isASCIILetter(bytes[j]) || (bytes[j] >= 0x30 && bytes[j] <= 0x39) {
                            name.append(bytes[j] | 0x20)
                            j += 1
                        }
                        if !inlineElements.contains(String(decoding: name, as: UTF8.self)) { out.append(0x20) }
                        i = min(count, end + 1)
                        continue
                    }
                }
                if byte == UInt8(ascii: "&"), let (decoded, length) = characterReference(bytes, at: i) {
                    out.append(contentsOf: decoded.utf8)
                    i += length
                    continue
                }
                out.append(byte)
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func isASCIILetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    static func starts(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, _ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index + length <= bytes.count else { return false }
        for k in 0..<length where bytes[index + k] != literal.utf8Start[k] { return false }
        return true
    }

    static func find(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString, from start: Int) -> Int? {
        var i = start
        while i < bytes.count {
            if starts(bytes, at: i, literal) { return i }
            i += 1
        }
        return nil
    }

    /// Named references a page uses for ordinary words (Latin letters with accents,
    /// punctuation, invisible characters); the others are left as written.
    static let namedReferences: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}", "shy": "\u{AD}",
        "zwj": "\u{200D}", "zwnj": "\u{200C}", "lrm": "\u{200E}", "rlm": "\u{200F}", "ndash": "–", "mdash": "—",
        "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "hellip": "…", "middot": "·", "hyphen": "‐",
        "aacute": "á", "eacute": "é", "iacute": "í", "oacute": "ó", "uacute": "ú", "agrave": "à", "egrave": "è",
        "igrave": "ì", "ograve": "ò", "ugrave": "ù", "acirc": "â", "ecirc": "ê", "icirc": "î", "ocirc": "ô",
        "ucirc": "û", "auml": "ä", "euml": "ë", "iuml": "ï", "ouml": "ö", "uuml": "ü", "atilde": "ã", "otilde": "õ",
        "ntilde": "ñ", "ccedil": "ç", "szlig": "ß", "aring": "å", "oslash": "ø", "aelig": "æ",
        "Aacute": "Á", "Eacute": "É", "Iacute": "Í", "Oacute": "Ó", "Uacute": "Ú", "Ntilde": "Ñ", "Ccedil": "Ç",
        "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü",
    ]

    /// The character reference at `index` (`&#97;`, `&#x61;`, `&eacute;`) and its length in bytes.
    static func characterReference(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (String, Int)? {
        var end = index + 1
        while end < bytes.count, end - index <= 32, bytes[end] != UInt8(ascii: ";") {
            let byte = bytes[end]
            guard isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "#") else { return nil }
            end += 1
        }
        guard end < bytes.count, bytes[end] == UInt8(ascii: ";"), end > index + 1 else { return nil }
        let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[(index + 1)..<end]), as: UTF8.self)
        if name.hasPrefix("#") {
            let digits = name.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            guard let value, let scalar = Unicode.Scalar(value) else { return nil }
            return (String(Character(scalar)), end - index + 1)
        }
        guard let named = namedReferences[name] else { return nil }
        return (named, end - index + 1)
    }

    /// JSON text with its `\uXXXX` escapes decoded (surrogate pairs joined), so that
    /// `"pregn\u0061nt"` reads as it displays. On the UTF-8 bytes, like ``withoutMarkup(_:)``.
    public static func jsonUnescaped(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes -> String in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            func hex(at index: Int) -> UInt32? {
                guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                return UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[(index + 2)..<(index + 6)]), as: UTF8.self), radix: 16)
            }
            var i = 0
            while i < bytes.count {
                if let high = hex(at: i) {
                    if (0xD800...0xDBFF).contains(high), let low = hex(at: i + 6), (0xDC00...0xDFFF).contains(low),
                       let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                        out.append(contentsOf: String(Character(scalar)).utf8)
                        i += 12
                        continue
                    }
                    if let scalar = Unicode.Scalar(high) {
                        out.append(contentsOf: String(Character(scalar)).utf8)
                        i += 6
                        continue
                    }
                }
                out.append(bytes[i])
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
