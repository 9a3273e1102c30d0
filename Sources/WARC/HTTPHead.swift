import ChainOfCustody

/// Reading values out of a raw HTTP response head.
package enum HTTPHead {
    /// The last field of that name (after the status line), its value trimmed of
    /// spaces and tabs.
    package static func value(of name: String, in head: [UInt8]) -> String? {
        var found: String?
        forEachField(named: name, in: head) { found = $0; return true }
        return found
    }

    /// The first field of that name: what warcio and pywb read when a head repeats one.
    package static func firstValue(of name: String, in head: [UInt8]) -> String? {
        var found: String?
        forEachField(named: name, in: head) { found = $0; return false }
        return found
    }

    /// Calls `visit` with the value of each field named `name` (ASCII case
    /// ignored), line by line over the bytes, until it returns false. Lines are
    /// split at CRLF only, as the head is recorded. These run for every field
    /// of every response, so they avoid decoding the whole head and Foundation's
    /// string splitting, which were a tenth of a capture's time.
    private static func forEachField(named name: String, in head: [UInt8], _ visit: (String) -> Bool) {
        let wanted = Array(name.lowercased().utf8)
        head.withUnsafeBufferPointer { bytes in
            var start = 0
            var first = true
            while start <= bytes.count {
                var end = start
                while end + 1 < bytes.count, !(bytes[end] == 13 && bytes[end + 1] == 10) { end += 1 }
                if end + 1 >= bytes.count { end = bytes.count }
                defer { start = end + 2 }
                if first { first = false; continue }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
                let fieldName = UnsafeBufferPointer(rebasing: line[..<colon])
                guard matches(fieldName, wanted) else { continue }
                let value = String(decoding: UnsafeBufferPointer(rebasing: line[(colon + 1)...]), as: UTF8.self)
                if !visit(value.trimming(" \t")) { return }
            }
        }
    }

    /// A field name against a lower-case name; a name that is not ASCII is
    /// compared as Unicode lower case, as before.
    private static func matches(_ field: UnsafeBufferPointer<UInt8>, _ wanted: [UInt8]) -> Bool {
        guard field.allSatisfy({ $0 < 0x80 }) else {
            return String(decoding: field, as: UTF8.self).lowercased() == String(decoding: wanted, as: UTF8.self)
        }
        guard field.count == wanted.count else { return false }
        for (byte, expected) in zip(field, wanted) where (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != expected {
            return false
        }
        return true
    }

    /// The status code as written in an `HTTP/…` status line (`"200"`).
    package static func statusCode(in head: [UInt8]) -> String? {
        let line = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        guard line.hasPrefix("HTTP/") else { return nil }
        let parts = line.split(separator: " ")
        return parts.count > 1 ? String(parts[1]) : nil
    }
}
