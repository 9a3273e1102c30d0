import Foundation

// The report's small pieces of HTML (table rows, labels, sizes, shell words) and its escaper.

extension CaseReport {
    static func row(_ heading: String, _ valueHTML: String, headingIsHTML: Bool = false) -> String {
        "<tr><th>\(headingIsHTML ? heading : text(heading))</th><td>\(valueHTML)</td></tr>\n"
    }

    static func pre(_ commands: String) -> String {
        "<pre>\(text(commands, multiline: true))</pre>\n"
    }

    static func notRecorded(_ words: String) -> String {
        "<span class=\"muted\">\(text(words))</span>"
    }

    static func actorNames(_ facts: BundleFacts) -> [String: String] {
        Dictionary(facts.actors.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    static func actorLabel(_ id: String, names: [String: String]) -> String {
        let code = "<span class=\"mono\">\(text(id))</span>"
        return names[id].map { "\(code) \(text($0))" } ?? code
    }

    /// The fragment id of an artifact's block: only letters, digits and `-` survive, so
    /// the id is valid and the same in the `id` and in the timeline's `href`.
    static func anchor(_ artifactID: String) -> String {
        "artifact-" + String(artifactID.unicodeScalars.map { scalar -> Character in
            let value = scalar.value
            let plain = (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
            return plain ? Character(scalar) : "-"
        })
    }

    /// Reason phrases for the statuses a capture meets most; others show the number alone.
    private static let reasonPhrases: [Int: String] = [
        200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
        301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
        307: "Temporary Redirect", 308: "Permanent Redirect",
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        406: "Not Acceptable", 408: "Request Timeout", 410: "Gone", 429: "Too Many Requests",
        451: "Unavailable For Legal Reasons",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout",
    ]

    static func statusLabel(_ status: Int) -> String {
        guard let phrase = reasonPhrases[status] else { return "\(status)" }
        return "\(status) <span class=\"muted\">\(phrase)</span>"
    }

    /// `12,345 bytes (12.1 KiB)`, computed with integers so that no locale or
    /// floating-point formatting can change the bytes of the report.
    static func sizeLabel(_ size: Int64) -> String {
        var label = "\(grouped(size)) \(size == 1 ? "byte" : "bytes")"
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        if let (unit, name) = units.first(where: { size >= $0.0 }) {
            label += " (\(size / unit).\((size % unit) * 10 / unit) \(name))"
        }
        return label
    }

    /// Thousands separated by commas, whatever the machine's locale.
    static func grouped(_ number: Int64) -> String {
        let digits = String(number.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return number < 0 ? "-" + out : out
    }

    /// A word for a shell command line: left bare when it is made of characters no shell
    /// treats specially, single-quoted otherwise, so a command copied from the report
    /// never runs anything hidden in a name.
    static func shellWord(_ word: String) -> String {
        let safe = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
            let value = scalar.value
            return (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
                || "._/-+:=@,".unicodeScalars.contains(scalar)
        }
        return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A URL, as text: never a link (following it would contact the server), in
    /// monospace, and with the invisible characters that could make it look like
    /// another address shown as marks.
    static func url(_ value: String) -> String {
        "<span class=\"mono wrap\">\(text(value, url: true))</span>"
    }

    /// HTML-escapes a value from the evidence for use in text or in a quoted attribute.
    ///
    /// Beyond the five characters HTML gives meaning to, it makes visible what a reader
    /// could otherwise not see: C0 and C1 controls (except line breaks when `multiline`)
    /// and the bidirectional embeddings, overrides and isolates, which can reorder the
    /// text around them (a "right-to-left override" makes `evil.com/txt.exe` read
    /// differently). In URLs, zero-width and other invisible format characters are
    /// marked too; in titles they are left alone, because scripts such as Persian use
    /// them in ordinary text.
    public static func text(_ value: String, multiline: Bool = false, url: Bool = false) -> String {
        escape(value, multiline: multiline, url: url, markup: true)
    }

    /// ``text(_:multiline:url:)`` for places that cannot hold markup: attribute values
    /// and `<title>`. Marks are written as plain `[U+XXXX]` there, because a `<span>`
    /// inside a quoted attribute would end the attribute at its own quotes.
    public static func plain(_ value: String) -> String {
        escape(value, multiline: false, url: true, markup: false)
    }

    private static func escape(_ value: String, multiline: Bool, url: Bool, markup: Bool) -> String {
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
                if shownAsMark(scalar.value, url: url) {
                    out += markup ? "<span class=\"cc\">U+\(hex4(scalar.value))</span>" : "[U+\(hex4(scalar.value))]"
                } else {
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
