import ChainOfCustody

/// Decides which character set a page's bytes are in, the way browsers do:
/// the HTTP header's charset, else a byte-order mark, else a `<meta>` declaration
/// within the first 1024 bytes (the HTML prescan). libxml2 then decodes with
/// iconv; Exhibit never transcodes the stored bytes themselves.
public struct CharsetDecision: Sendable, Equatable {
    /// The declared label, lower-cased (`windows-1252`, `shift_jis` …), or nil
    /// when the page declares none.
    public var declared: String?
    /// Where the declaration came from: `header`, `bom` or `meta`.
    public var source: String?
    /// Bytes of byte-order mark at the start of the body, skipped before parsing.
    public var bomLength: Int

    /// Sniffs `bytes` with the Content-Type header's value, if any.
    public init(bytes: [UInt8], contentType: String?) {
        let bom = Self.byteOrderMark(bytes)
        bomLength = bom?.length ?? 0
        bomLabel = bom?.label
        if let header = contentType.flatMap(Self.charset(inContentType:)) {
            declared = header
            source = "header"
        } else if let bom {
            declared = bom.label
            source = "bom"
        } else if let meta = Self.metaCharset(bytes) {
            declared = meta
            source = "meta"
        } else {
            declared = nil
            source = nil
        }
    }

    /// The encoding to hand libxml2: a BOM wins over any label (it cannot be
    /// wrong about the bytes that follow it); a page that declares nothing is
    /// read as UTF-8, which is what almost every undeclared page today is.
    public var decodingLabel: String {
        bomLabel ?? declared ?? "utf-8"
    }

    private var bomLabel: String?

    /// The charset parameter of a Content-Type value (`text/html; charset="UTF-8"`).
    public static func charset(inContentType value: String) -> String? {
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == "charset" else { continue }
            var label = pair[1].trimmingWhitespace()
            label = label.trimming("\"'")
            let cleaned = label.lowercased()
            if !cleaned.isEmpty, cleaned.utf8.allSatisfy(Self.isLabelByte) { return cleaned }
        }
        return nil
    }

    static func byteOrderMark(_ bytes: [UInt8]) -> (label: String, length: Int)? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return ("utf-8", 3) }
        if bytes.starts(with: [0xFF, 0xFE]) { return ("utf-16le", 2) }
        if bytes.starts(with: [0xFE, 0xFF]) { return ("utf-16be", 2) }
        return nil
    }

    static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
            || byte == 0x2E || byte == 0x3A
    }

    /// The HTML prescan, simplified: `<meta charset=…>` or `<meta http-equiv=
    /// "content-type" content="…; charset=…">` in the first 1024 bytes, outside
    /// comments.
    static func metaCharset(_ bytes: [UInt8]) -> String? {
        let window = Array(bytes.prefix(1024))
        var index = 0
        while index < window.count {
            if window[index] == UInt8(ascii: "<") {
                if window[index...].starts(with: Array("<!--".utf8)) {
                    index = Self.find(Array("-->".utf8), in: window, from: index + 4).map { $0 + 3 } ?? window.count
                    continue
                }
                let nameStart = index + 1
                var nameEnd = nameStart
                while nameEnd < window.count, Self.isAlpha(window[nameEnd]) { nameEnd += 1 }
                let name = String(decoding: window[nameStart..<nameEnd], as: UTF8.self).lowercased()
                let (attributes, end) = Self.attributes(window, from: nameEnd)
                if name == "meta" {
                    if let charset = attributes["charset"], !charset.isEmpty {
                        return charset.lowercased().trimmingWhitespace()
                    }
                    if attributes["http-equiv"]?.lowercased() == "content-type", let content = attributes["content"],
                       let charset = Self.charset(inContentType: content) {
                        return charset
                    }
                }
                index = max(end, index + 1)
            } else {
                index += 1
            }
        }
        return nil
    }

    /// Attributes of a tag starting at `start` (just after its name), up to `>`.
    private static func attributes(_ bytes: [UInt8], from start: Int) -> ([String: String], Int) {
        var result: [String: String] = [:]
        var index = start
        func skipSpace() { while index < bytes.count, Self.isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "/") { index += 1 } }
        while index < bytes.count {
            skipSpace()
            guard index < bytes.count, bytes[index] != UInt8(ascii: ">") else { return (result, index + 1) }
            let nameStart = index
            while index < bytes.count, !Self.isSpace(bytes[index]), bytes[index] != UInt8(ascii: "="),
                  bytes[index] != UInt8(ascii: ">") { index += 1 }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
            var value = ""
            if index < bytes.count, bytes[index] == UInt8(ascii: "=") {
                index += 1
                while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
                if index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                    let quote = bytes[index]
                    let valueStart = index + 1
                    index = valueStart
                    while index < bytes.count, bytes[index] != quote { index += 1 }
                    value = String(decoding: bytes[valueStart..<min(index, bytes.count)], as: UTF8.self)
                    index += 1
                } else {
                    let valueStart = index
                    while index < bytes.count, !Self.isSpace(bytes[index]), bytes[index] != UInt8(ascii: ">") { index += 1 }
                    value = String(decoding: bytes[valueStart..<index], as: UTF8.self)
                }
            }
            if !name.isEmpty, result[name] == nil { result[name] = value }
        }
        return (result, index)
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }
}
