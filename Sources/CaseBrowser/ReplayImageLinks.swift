import ChainOfCustody
import Foundation

/// Points the image addresses of a replayed HTML page at the browser's route
/// form, so the sandboxed replay frame shows the images that were captured,
/// from the WARC files.
///
/// Why rewrite: the frame is sandboxed without `allow-same-origin`, and a
/// document with an opaque origin sends no `Referer` (Chromium sends none
/// whatever its Referrer-Policy), so a root-relative `/media/x.png` or an
/// absolute `https://cdn…/x.png` cannot be traced back to the page that asked
/// for it. pywb solves the same problem the same way: the page it serves has
/// its URLs rewritten, the archived record does not.
///
/// What changes, and only in the copy sent to the frame: the values of `src`
/// and `srcset` (`img`, `source`, `input`), `poster` (`video`), `background`
/// (`body`, `table`, `td`, `th`) and `href` of `base`, when they resolve to an
/// http(s) URL, become `/cases/<ID>/artifacts/<A>/replay/<absolute URL>`,
/// double-quoted. Nothing else is touched: no script runs in the frame, so no
/// address built by script needs rewriting, and markup, text and every other
/// byte stay as archived. The scan works on bytes, so any ASCII-compatible
/// charset (UTF-8, Windows-1252, ISO-8859-x) is kept as it is.
///
/// ```
/// let shown = ReplayImageLinks.rewrite(body, pageURL: "http://example.org/a/page.html") { absolute in
///     ReplayLink.page(caseID: "OC-2026-0001", artifactID: "A-0003", url: absolute)
/// }
/// ```
enum ReplayImageLinks {
    /// Attributes rewritten, by element.
    static let attributes: [String: Set<String>] = [
        "img": ["src", "srcset"], "source": ["src", "srcset"], "input": ["src"], "video": ["poster"],
        "body": ["background"], "table": ["background"], "td": ["background"], "th": ["background"],
        "base": ["href"],
    ]

    /// Elements whose content is text up to their end tag (the HTML tokenizer's
    /// raw-text and RCDATA states): a `<` inside them starts no element.
    static let rawText: Set<String> = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"]

    /// The page with its image addresses pointed at `route` (which receives an
    /// absolute http(s) URL and returns the path to serve it from).
    static func rewrite(_ html: [UInt8], pageURL: String, route: (String) -> String) -> [UInt8] {
        guard var base = URL(string: pageURL) else { return html }
        var out: [UInt8] = []
        out.reserveCapacity(html.count + html.count / 8)
        var copied = 0
        var index = 0
        let count = html.count
        while index < count {
            guard html[index] == UInt8(ascii: "<"), index + 1 < count else { index += 1; continue }
            if html[index + 1] == UInt8(ascii: "!") {
                // A comment (or doctype): nothing inside is markup.
                let end = starts(html, at: index, with: "<!--") ? find(html, "-->", from: index + 4) : find(html, ">", from: index)
                index = end.map { $0 + 1 } ?? count
                continue
            }
            guard isLetter(html[index + 1]) else { index += 1; continue }
            let tag = readTag(html, from: index + 1)
            let rewritten = attributes[tag.name] ?? []
            for attribute in tag.attributes where rewritten.contains(attribute.name) {
                guard let value = attribute.value else { continue }
                let text = decodeEntities(String(decoding: html[value], as: UTF8.self))
                let replacement: String?
                if attribute.name == "srcset" {
                    replacement = rewriteSourceSet(text, base: base, route: route)
                } else {
                    replacement = absolute(text, base: base).map(route)
                }
                guard let replacement else { continue }
                if tag.name == "base", let resolved = absolute(text, base: base).flatMap({ URL(string: $0) }) {
                    // Later relative addresses resolve against the page's own base, as the browser's would have.
                    base = resolved
                }
                let span = attribute.quoted ? (value.lowerBound - 1)..<(value.upperBound + 1) : value
                out += html[copied..<span.lowerBound]
                out += Array("\"\(HTMLText.escape(replacement))\"".utf8)
                copied = span.upperBound
            }
            index = tag.end
            if rawText.contains(tag.name) {
                // Skip to the element's end tag.
                var search = index
                while let next = find(html, "</", from: search) {
                    if starts(html, at: next + 2, with: tag.name, caseInsensitive: true) { search = next; break }
                    search = next + 2
                }
                index = search
            }
        }
        out += html[copied...]
        return out
    }

    /// `srcset`: comma-separated candidates, each a URL and an optional descriptor.
    /// Values holding a `data:` URL (which may hold commas) are left alone.
    static func rewriteSourceSet(_ value: String, base: URL, route: (String) -> String) -> String? {
        guard !value.lowercased().contains("data:") else { return nil }
        var candidates: [String] = []
        for candidate in value.split(separator: ",") {
            let parts = candidate.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            guard let first = parts.first else { continue }
            guard let absolute = absolute(String(first), base: base) else { return nil }
            candidates.append(([route(absolute)] + parts.dropFirst().map(String.init)).joined(separator: " "))
        }
        return candidates.isEmpty ? nil : candidates.joined(separator: ", ")
    }

    /// The absolute http(s) URL an attribute value names, or nil (`data:`,
    /// fragments, other schemes, values that do not parse).
    static func absolute(_ value: String, base: URL) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let url = URL(string: trimmed, relativeTo: base)?.absoluteURL,
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return nil }
        return url.absoluteString
    }

    struct Tag {
        var name: String
        /// Attribute names (lowercase) and the byte range of their values, without quotes.
        var attributes: [(name: String, value: Range<Int>?, quoted: Bool)]
        /// The index after the tag's `>`.
        var end: Int
    }

    /// Reads a start tag from its name (`index` is just after `<`), as the HTML
    /// tokenizer does: attribute names end at space, `/`, `=` or `>`; values are
    /// quoted with `"` or `'`, or run to the next space or `>`.
    static func readTag(_ html: [UInt8], from start: Int) -> Tag {
        let count = html.count
        var index = start
        while index < count, !isSpace(html[index]), html[index] != UInt8(ascii: ">"), html[index] != UInt8(ascii: "/") { index += 1 }
        let name = String(decoding: html[start..<index], as: UTF8.self).lowercased()
        var attributes: [(name: String, value: Range<Int>?, quoted: Bool)] = []
        while index < count {
            while index < count, isSpace(html[index]) || html[index] == UInt8(ascii: "/") { index += 1 }
            guard index < count, html[index] != UInt8(ascii: ">") else { break }
            let nameStart = index
            index += 1
            while index < count, !isSpace(html[index]), ![UInt8(ascii: "="), UInt8(ascii: ">"), UInt8(ascii: "/")].contains(html[index]) { index += 1 }
            let attributeName = String(decoding: html[nameStart..<index], as: UTF8.self).lowercased()
            while index < count, isSpace(html[index]) { index += 1 }
            guard index < count, html[index] == UInt8(ascii: "=") else {
                attributes.append((attributeName, nil, false))
                continue
            }
            index += 1
            while index < count, isSpace(html[index]) { index += 1 }
            guard index < count else { break }
            let quote = html[index]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                let valueStart = index + 1
                guard let close = html[valueStart...].firstIndex(of: quote) else { index = count; break }
                attributes.append((attributeName, valueStart..<close, true))
                index = close + 1
            } else {
                let valueStart = index
                while index < count, !isSpace(html[index]), html[index] != UInt8(ascii: ">") { index += 1 }
                attributes.append((attributeName, valueStart..<index, false))
            }
        }
        return Tag(name: name, attributes: attributes, end: min(count, index + 1))
    }

    /// Character references in an attribute value: the named ones URLs meet, and numeric ones.
    static func decodeEntities(_ value: String) -> String {
        guard value.contains("&") else { return value }
        var out = ""
        var rest = Substring(value)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semicolon = after.prefix(10).firstIndex(of: ";") else {
                out += "&"
                rest = after
                continue
            }
            let name = String(after[..<semicolon])
            var decoded: String?
            switch name {
            case "amp": decoded = "&"
            case "quot": decoded = "\""
            case "apos": decoded = "'"
            case "lt": decoded = "<"
            case "gt": decoded = ">"
            default:
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    decoded = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if name.hasPrefix("#") {
                    decoded = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
            }
            if let decoded {
                out += decoded
                rest = after[after.index(after: semicolon)...]
            } else {
                out += "&"
                rest = after
            }
        }
        return out + rest
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    static func starts(_ html: [UInt8], at index: Int, with text: String, caseInsensitive: Bool = false) -> Bool {
        let bytes = Array(text.utf8)
        guard index >= 0, index + bytes.count <= html.count else { return false }
        for (offset, byte) in bytes.enumerated() {
            let found = html[index + offset]
            if caseInsensitive ? (found | 0x20) != (byte | 0x20) : found != byte { return false }
        }
        return true
    }

    static func find(_ html: [UInt8], _ text: String, from start: Int) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, start < html.count else { return nil }
        var index = start
        while index + bytes.count <= html.count {
            guard let next = html[index...].firstIndex(of: first) else { return nil }
            if next + bytes.count > html.count { return nil }
            if starts(html, at: next, with: text) { return next }
            index = next + 1
        }
        return nil
    }
}
