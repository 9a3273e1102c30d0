import PageAnalysis

/// What the capture entry itself says about an HTML page: its title and whether it
/// is a login page (a password field, recorded as `access_restricted`, IV.B.8).
///
/// The rest of the page analysis (text, selectors, links, media) is derived data:
/// the index computes it from the WARC record when a reading command next runs
/// (docs/capture.md), so the seal does not wait for it. These two facts are found
/// without analysing the whole page, with the same results as the full analysis:
/// - the title is the one libxml2 reports for the page cut after the first
///   `</title>`: a streaming parse of that prefix sees the same events up to
///   there, so it opens and fills the same first title element;
/// - a password field needs an `<input type=password>`; a page whose bytes hold no
///   "password" (in any letter case) and no character reference in a `type`
///   attribute cannot have one once it is decoded. Any other page, and any page in
///   an encoding that is not ASCII-compatible (UTF-16, UTF-32), is analysed whole.
struct PageFacts: Sendable, Equatable {
    var title: String?
    var passwordField: Bool

    init(title: String?, passwordField: Bool) {
        self.title = title
        self.passwordField = passwordField
    }

    init(_ page: AnalyzedPage) {
        self.init(title: page.title, passwordField: page.hasPasswordField)
    }

    /// The facts of `html`, served from `url` with the given Content-Type header.
    init(html: [UInt8], url: String, contentType: String?) {
        let charset = CharsetDecision(bytes: html, contentType: contentType)
        let label = charset.decodingLabel.lowercased()
        let asciiCompatible = !label.hasPrefix("utf-16") && !label.hasPrefix("utf-32")
        guard asciiCompatible, !Self.mayHoldPasswordField(html) else {
            self.init(AnalyzedPage(html: html, url: url, contentType: contentType))
            return
        }
        if ["utf-8", "windows-125", "iso-8859-", "us-ascii"].contains(where: label.hasPrefix),
           let title = html.withUnsafeBufferPointer({ Self.plainTitle($0, from: charset.bomLength) }) {
            self.init(title: title, passwordField: false)
            return
        }
        guard let titleStart = Self.find(Self.titleOpen, in: html, from: 0) else {
            // No title element without a `<title` tag.
            self.init(title: nil, passwordField: false)
            return
        }
        guard let close = Self.find(Self.titleClose, in: html, from: titleStart),
              let end = html[close...].firstIndex(of: UInt8(ascii: ">")) else {
            self.init(AnalyzedPage(html: html, url: url, contentType: contentType))
            return
        }
        // The charset decision reads the first 1024 bytes: the prefix keeps them.
        let cut = max(end + 1, min(html.count, 1024))
        let head = AnalyzedPage(html: Array(html[..<cut]), url: url, contentType: contentType)
        if head.title == nil, Self.find(Self.titleOpen, in: html, from: end) != nil {
            // The first `<title` was not the title element (a comment, a script, an
            // SVG title): only the whole page says which one is.
            self.init(AnalyzedPage(html: html, url: url, contentType: contentType))
            return
        }
        self.init(title: head.title, passwordField: false)
    }

    /// The title of a page whose head is plain: before `<title>` only white space, a
    /// doctype and `<html>`, `<head>`, `</head>`, `<meta>`, `<link>` or `<base>` tags (attribute values
    /// quoted or plain), and inside it only printable ASCII and white space, no markup and
    /// no character reference. `.some(nil)`: such a page without a title; nil: the page is
    /// not that plain, and libxml2 decides. In an ASCII-compatible encoding those bytes are
    /// the characters libxml2 reports, and the title is white-space collapsed as
    /// `AnalyzedPage` does it.
    static func plainTitle(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> String?? {
        let count = bytes.count
        var index = start
        func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }
        /// The offset after the `>` that ends the tag whose name ends at `from`; nil for a
        /// tag that is not plain (a `<` inside, a quote not opening a value, no end).
        func tagEnd(_ from: Int) -> Int? {
            var at = from
            var afterEquals = false
            while at < count {
                let byte = bytes[at]
                if byte == UInt8(ascii: ">") { return at + 1 }
                if byte == UInt8(ascii: "<") { return nil }
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    guard afterEquals else { return nil }
                    at += 1
                    while at < count, bytes[at] != byte { at += 1 }
                    guard at < count else { return nil }
                    afterEquals = false
                } else if byte == UInt8(ascii: "=") {
                    afterEquals = true
                } else if !isSpace(byte) {
                    afterEquals = false
                }
                at += 1
            }
            return nil
        }
        while true {
            while index < count, isSpace(bytes[index]) { index += 1 }
            guard index < count else { return .some(nil) }
            guard bytes[index] == UInt8(ascii: "<"), index + 1 < count else { return nil }
            var nameEnd = index + 1
            if bytes[nameEnd] == UInt8(ascii: "!") || bytes[nameEnd] == UInt8(ascii: "/") { nameEnd += 1 }
            while nameEnd < count, (lower(bytes[nameEnd]) >= 0x61 && lower(bytes[nameEnd]) <= 0x7A) || (bytes[nameEnd] >= 0x30 && bytes[nameEnd] <= 0x39) {
                nameEnd += 1
            }
            guard nameEnd < count, isSpace(bytes[nameEnd]) || bytes[nameEnd] == UInt8(ascii: ">") || bytes[nameEnd] == UInt8(ascii: "/") else { return nil }
            let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[(index + 1)..<nameEnd]).map(lower), as: UTF8.self)
            guard let end = tagEnd(nameEnd) else { return nil }
            if name == "title" {
                var text: [UInt8] = []
                var at = end
                while at < count, bytes[at] != UInt8(ascii: "<") {
                    let byte = bytes[at]
                    guard (byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "&")) || isSpace(byte) else { return nil }
                    text.append(byte)
                    at += 1
                }
                // The text must end at `</title`; anything else inside is markup.
                guard at + 7 < count, (0..<7).allSatisfy({ lower(bytes[at + $0]) == titleClose[$0] }),
                      bytes[at + 7] == UInt8(ascii: ">") || isSpace(bytes[at + 7]) else { return nil }
                let collapsed = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
                return .some(collapsed.isEmpty ? nil : collapsed)
            }
            guard ["!doctype", "html", "head", "/head", "meta", "link", "base"].contains(name) else { return nil }
            index = end
        }
    }

    /// HTML's white space (tab, line feed, form feed, carriage return, space).
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D }

    static let titleOpen = Array("<title".utf8)
    static let titleClose = Array("</title".utf8)
    static let password = Array("password".utf8)
    static let type = Array("type".utf8)

    /// Whether the bytes could decode to a password field: "password" anywhere, or a
    /// `type` attribute whose value holds a character reference (`type="&#112;assword"`).
    ///
    /// Both words are looked for at a pair of letters that is rare in text ("sw" of
    /// "password", "yp" of "type", either case), eight positions at a time: this scan
    /// reads every byte of every page a capture takes, and byte by byte it was the
    /// largest cost after deflate on the thread that compresses.
    static func mayHoldPasswordField(_ bytes: [UInt8]) -> Bool {
        let password = Self.password, type = Self.type
        return bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            func matches(_ word: [UInt8], at index: Int) -> Bool {
                guard index >= 0, index + word.count <= count else { return false }
                for offset in 0..<word.count where buffer[index + offset] | 0x20 != word[offset] { return false }
                return true
            }
            /// Whether the pair starting at `index` is the "sw" of "password", or the "yp"
            /// of a `type` attribute whose value holds a character reference.
            func candidate(_ index: Int) -> Bool {
                guard index + 1 < count else { return false }
                let pair = (buffer[index] | 0x20, buffer[index + 1] | 0x20)
                if pair == (UInt8(ascii: "s"), UInt8(ascii: "w")) { return matches(password, at: index - 3) }
                guard pair == (UInt8(ascii: "y"), UInt8(ascii: "p")), matches(type, at: index - 1) else { return false }
                var at = index + 3
                while at < count, isSpace(buffer[at]) { at += 1 }
                guard at < count, buffer[at] == UInt8(ascii: "=") else { return false }
                at += 1
                while at < count, isSpace(buffer[at]) { at += 1 }
                var quote: UInt8?
                if at < count, buffer[at] == UInt8(ascii: "\"") || buffer[at] == UInt8(ascii: "'") {
                    quote = buffer[at]
                    at += 1
                }
                while at < count {
                    let value = buffer[at]
                    if let quote { if value == quote { break } } else if isSpace(value) || value == UInt8(ascii: ">") { break }
                    if value == UInt8(ascii: "&") { return true }
                    at += 1
                }
                return false
            }
            guard let base = buffer.baseAddress else { return false }
            let raw = UnsafeRawPointer(base)
            let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, lower: UInt64 = 0x2020_2020_2020_2020
            /// 0x80 in each byte of `word` that is zero, 0 in the others (no carries between bytes).
            func zeroBytes(_ word: UInt64) -> UInt64 { ~(((word & lows) &+ lows) | word | lows) }
            func spread(_ byte: UInt8) -> UInt64 { UInt64(byte) &* 0x0101_0101_0101_0101 }
            let (s, w, y, p) = (spread(UInt8(ascii: "s")), spread(UInt8(ascii: "w")), spread(UInt8(ascii: "y")), spread(UInt8(ascii: "p")))
            var index = 0
            while index + 9 <= count {
                // Byte k of `first` and of `second` are the pair starting at index + k.
                let first = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) | lower
                let second = raw.loadUnaligned(fromByteOffset: index + 1, as: UInt64.self) | lower
                let pairs = (zeroBytes(first ^ s) & zeroBytes(second ^ w)) | (zeroBytes(first ^ y) & zeroBytes(second ^ p))
                if pairs != 0 {
                    for at in index..<(index + 8) where candidate(at) { return true }
                }
                index += 8
            }
            for at in index..<count where candidate(at) { return true }
            return false
        }
    }

    /// The first offset at or after `from` where `needle` (lower-case ASCII) occurs,
    /// ignoring ASCII letter case.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        let upper = first >= 0x61 && first <= 0x7A ? first - 0x20 : first
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            var index = from
            let last = buffer.count - needle.count
            while index <= last {
                let byte = buffer[index]
                if byte == first || byte == upper {
                    var matched = true
                    for offset in 1..<needle.count {
                        var candidate = buffer[index + offset]
                        if candidate >= 0x41 && candidate <= 0x5A { candidate += 0x20 }
                        if candidate != needle[offset] { matched = false; break }
                    }
                    if matched { return index }
                }
                index += 1
            }
            return nil
        }
    }
}
