import ChainOfCustody
import Foundation

// The report's small pieces of HTML (table rows, labels, sizes, shell words), and its two ways
// of escaping text with the shared escaper.

extension CaseReport {
    /// A row of a facts table: the heading (escaped, unless `headingIsHTML`) and a value that is already HTML.
    public static func row(_ heading: String, _ valueHTML: String, headingIsHTML: Bool = false) -> String {
        "<tr><th>\(headingIsHTML ? heading : text(heading))</th><td>\(valueHTML)</td></tr>\n"
    }

    /// A numbered section: `<section id>` and its heading around `body`, or around one
    /// muted sentence, `empty`, when the section has nothing to show.
    static func section(_ id: String, _ heading: String, empty: String?, _ body: () -> String) -> String {
        var out = "<section id=\"\(id)\">\n<h2>\(heading)</h2>\n"
        out += empty.map { "<p>\(notRecorded($0))</p>\n" } ?? body()
        return out + "</section>\n"
    }

    /// A table with a heading row (plain words, escaped) and `rows`, already HTML
    /// (`<tr>…</tr>` lines): the report's tables and the case browser's share it.
    public static func table(_ headings: [String], class name: String? = nil, rows: String) -> String {
        var out = "<table\(name.map { " class=\"\($0)\"" } ?? "")>\n<thead><tr>"
        for heading in headings { out += "<th>\(text(heading))</th>" }
        return out + "</tr></thead>\n<tbody>\n" + rows + "</tbody>\n</table>\n"
    }

    /// A verification's findings as a list, or "Findings: none."; the report's section
    /// and the browser's result page say it alike.
    public static func findingsList(_ findings: [String], intro: String) -> String {
        guard !findings.isEmpty else { return "<p>Findings: none.</p>\n" }
        var out = "<p>\(text(intro))</p>\n<ul class=\"findings\">\n"
        for finding in findings { out += "<li>\(text(finding))</li>\n" }
        return out + "</ul>\n"
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

    /// HTML-escapes a value from the evidence for use in text or in a quoted attribute:
    /// ``HTMLText/escape(_:marks:url:multiline:)`` with boxed marks, which the report's
    /// style sheet draws (`.cc`).
    public static func text(_ value: String, multiline: Bool = false, url: Bool = false) -> String {
        HTMLText.escape(value, marks: .boxed, url: url, multiline: multiline)
    }

    /// ``text(_:multiline:url:)`` for places that cannot hold markup: attribute values
    /// and `<title>`. Marks are written as plain `[U+XXXX]` there, because a `<span>`
    /// inside a quoted attribute would end the attribute at its own quotes.
    public static func plain(_ value: String) -> String {
        HTMLText.escape(value, marks: .bracketed, url: true)
    }
}
