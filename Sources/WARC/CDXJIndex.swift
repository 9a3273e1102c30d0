public import ChainOfCustody
import Foundation

/// A CDXJ index of WARC files, line for line what `cdxj-indexer --sort` writes
/// (pywb's and ReplayWeb.page's index format): `SURT TIMESTAMP JSON`, one line per
/// response record, sorted.
public enum CDXJIndex {
    /// The sorted index lines (each ending in "\n") of the WARC files, each named in
    /// the index by `name` (its file name inside the archive).
    public static func lines(of files: [(path: String, name: String)]) throws(ExhibitError) -> [String] {
        var lines: [String] = []
        for file in files {
            try WARCReader(path: file.path).forEachRecord { (record) throws(ExhibitError) in
                guard record.type == "response", let url = record.targetURI, let date = record.field("WARC-Date") else { return }
                var members: [(String, String)] = [("url", url)]
                let head = record.httpHead ?? []
                if let contentType = HTTPHead.firstValue(of: "content-type", in: head) {
                    let mime = contentType.split(whereSeparator: { $0 == ";" || $0.isWhitespace }).first.map(String.init) ?? ""
                    members.append(("mime", mime))
                }
                if let status = HTTPHead.statusCode(in: head) { members.append(("status", status)) }
                if let digest = record.field("WARC-Payload-Digest") {
                    members.append(("digest", digest))
                } else if let sha1 = record.httpPayloadSHA1 {
                    members.append(("digest", "sha1:" + base32(sha1)))
                }
                members.append(("length", String(record.length)))
                members.append(("offset", String(record.offset)))
                members.append(("filename", file.name))
                let json = "{" + members.map { "\(pythonJSON($0.0)): \(pythonJSON($0.1))" }.joined(separator: ", ") + "}"
                lines.append("\(surt(url)) \(timestamp(date)) \(json)\n")
            }
        }
        // Python sorts str by code point, which UTF-8 byte order preserves.
        return lines.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `2026-12-01T10:42:55.982417Z` → `20261201104255`.
    static func timestamp(_ date: String) -> String {
        String(date.filter(\.isNumber).prefix(14))
    }

    /// The Sort-friendly URI Reordering Transform, as Python's `surt` package does
    /// it by default for ordinary http(s) URLs: scheme dropped, lower-cased, host
    /// labels reversed and comma-separated (`www.` dropped), a default port
    /// dropped and any other kept, `)` then the path without a trailing slash and
    /// the query with its parameters sorted, fragment dropped.
    public static func surt(_ url: String) -> String {
        var rest = Substring(url.lowercased())
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let schemeName = url.lowercased().hasPrefix("https://") ? "https" : "http"
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var host = String(rest[..<authorityEnd])
        var pathAndQuery = String(rest[authorityEnd...])
        if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
        var port = ""
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
            port = String(host[host.index(after: colon)...])
            host = String(host[..<colon])
        }
        if (schemeName == "http" && port == "80") || (schemeName == "https" && port == "443") { port = "" }
        while host.hasSuffix(".") { host.removeLast() }
        var labels = host.split(separator: ".").map(String.init)
        if let first = labels.first, first.hasPrefix("www"), first.dropFirst(3).allSatisfy(\.isNumber), labels.count > 2 {
            labels.removeFirst()
        }
        var key = labels.reversed().joined(separator: ",")
        if !port.isEmpty { key += ":" + port }
        var query = ""
        if let question = pathAndQuery.firstIndex(of: "?") {
            query = String(pathAndQuery[pathAndQuery.index(after: question)...])
            pathAndQuery = String(pathAndQuery[..<question])
        }
        var path = pathAndQuery.isEmpty ? "/" : pathAndQuery
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        key += ")" + path
        let parameters = query.split(separator: "&").map(String.init).sorted()
        if !parameters.isEmpty { key += "?" + parameters.joined(separator: "&") }
        return key
    }

    /// A JSON string as Python's `json.dumps` writes it (ASCII only, `\uXXXX` escapes).
    static func pythonJSON(_ text: String) -> String {
        var output = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: output += "\\\""
            case 0x5C: output += "\\\\"
            case 0x0A: output += "\\n"
            case 0x0D: output += "\\r"
            case 0x09: output += "\\t"
            case 0x08: output += "\\b"
            case 0x0C: output += "\\f"
            case 0x20..<0x7F: output.unicodeScalars.append(Unicode.Scalar(unit)!)
            default:
                let hex = String(unit, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return output + "\""
    }

    /// RFC 4648 base32, as Python's `base64.b32encode` writes it.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer: UInt64 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt64(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt64(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt64(5 - bits)) & 31)]) }
        while output.count % 8 != 0 { output.append("=") }
        return output
    }
}
