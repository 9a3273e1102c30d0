// RFC 8785 JSON Canonicalization Scheme (JCS) serialisation of JSONValue.
//
// The canonical bytes are what gets hashed and signed, so every choice here is fixed by the
// RFC rather than by taste: no whitespace, members sorted by UTF-16 code units, minimal string
// escaping, and numbers written exactly as ECMAScript's Number.prototype.toString writes them.

extension JSONValue {
    /// The RFC 8785 (JCS) canonical UTF-8 encoding of this value.
    ///
    /// Object members are sorted by the UTF-16 code units of their keys; no whitespace is
    /// written; strings escape only `"`, `\` and control characters below U+0020 (using `\b`,
    /// `\f`, `\n`, `\r`, `\t` where they exist and lowercase `\u00xx` otherwise); every other
    /// character, including `/` and all non-ASCII, is written literally as UTF-8.
    /// ``integer(_:)`` is written as plain decimal, and ``number(_:)`` exactly as ECMAScript's
    /// `Number.prototype.toString` writes it (shortest round-trip digits; `-0` becomes `0`).
    ///
    /// - Throws: ``JSONError`` for a NaN or infinite ``number(_:)``, which JSON cannot carry,
    ///   and for arrays and objects nested deeper than the parser accepts (512 levels), so
    ///   that canonical output can always be read back.
    public func canonicalBytes() throws(JSONError) -> [UInt8] {
        var writer = CanonicalWriter()
        try writer.write(self, depth: 0)
        return writer.output
    }

    /// The RFC 8785 (JCS) canonical form of this value as a string; see ``canonicalBytes()``.
    ///
    /// - Throws: ``JSONError`` under the same conditions as ``canonicalBytes()``.
    public func canonicalString() throws(JSONError) -> String {
        // The writer only ever emits valid UTF-8, so decoding never repairs anything.
        String(decoding: try canonicalBytes(), as: UTF8.self)
    }

    /// ``canonicalBytes()`` for a value about to be stored, hashed or signed, where a
    /// failure is a storage error: "`failure`: <the JSON error>."
    ///
    /// ```swift
    /// let line = try entry.json.canonicalBytes(orThrow: "A ledger entry cannot be written as canonical JSON")
    /// ```
    public func canonicalBytes(orThrow failure: @autoclosure () -> String) throws(ExhibitError) -> [UInt8] {
        do {
            return try canonicalBytes()
        } catch {
            throw ExhibitError(.storage, "\(failure()): \(error).")
        }
    }
}

/// Accumulates the canonical encoding of one value.
struct CanonicalWriter {
    private(set) var output: [UInt8] = []

    mutating func write(_ value: JSONValue, depth: Int) throws(JSONError) {
        switch value {
        case .null:
            append("null")
        case .bool(let flag):
            append(flag ? "true" : "false")
        case .integer(let integer):
            append(String(integer))
        case .number(let double):
            append(try ECMAScriptNumberFormatter.string(for: double))
        case .string(let string):
            writeString(string)
        case .array(let elements):
            try checkDepth(depth + 1)
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 {
                    output.append(UInt8(ascii: ","))
                }
                try write(element, depth: depth + 1)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            try checkDepth(depth + 1)
            // RFC 8785 §3.2.3: order by UTF-16 code units, which differs from Swift's String
            // ordering and from code point order for characters above U+FFFF.
            let keys = members.keys.sorted(by: Self.precedes)
            output.append(UInt8(ascii: "{"))
            for (index, key) in keys.enumerated() {
                if index > 0 {
                    output.append(UInt8(ascii: ","))
                }
                writeString(key)
                output.append(UInt8(ascii: ":"))
                // Every key came from `members`, so the lookup cannot fail.
                if let member = members[key] {
                    try write(member, depth: depth + 1)
                }
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private func checkDepth(_ depth: Int) throws(JSONError) {
        guard depth <= JSONValue.maximumNestingDepth else {
            throw JSONError(message: "arrays and objects nested deeper than \(JSONValue.maximumNestingDepth) levels cannot be canonicalised")
        }
    }

    /// RFC 8785 member order: whether `first` sorts before `second` by UTF-16 code units.
    /// Compared by UTF-8 bytes, which order as code points do, up to the first byte that
    /// differs; only when that starts a character from U+E000 up (lead byte 0xEE or above),
    /// where UTF-16 puts surrogate pairs before U+E000–U+FFFF, is UTF-16 asked. Keys are
    /// sorted in every object of every canonical form (each ledger entry, a certificate).
    static func precedes(_ first: String, _ second: String) -> Bool {
        var (a, b) = (first.utf8.makeIterator(), second.utf8.makeIterator())
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?) where x == y: continue
            case (let x?, let y?):
                if x >= 0xEE || y >= 0xEE { return first.utf16.lexicographicallyPrecedes(second.utf16) }
                return x < y
            }
        }
    }

    /// Writes the canonical object of string and integer members given in canonical order
    /// (a ledger entry's chained fields), as ``write(_:depth:)`` writes it.
    mutating func writeObject(_ members: [(key: StaticString, value: MemberValue)]) {
        output.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            assert(index == 0 || Self.precedes("\(members[index - 1].key)", "\(member.key)"), "members out of canonical order")
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: UnsafeBufferPointer(start: member.key.utf8Start, count: member.key.utf8CodeUnitCount))
            append("\":")
            switch member.value {
            case .string(let text): writeString(text)
            case .integer(let number): append(String(number))
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// A member value ``writeObject(_:)`` writes.
    enum MemberValue {
        case string(String)
        case integer(Int64)

        /// The same value as a ``JSONValue``.
        var json: JSONValue {
            switch self {
            case .string(let text): .string(text)
            case .integer(let number): .integer(number)
            }
        }
    }

    /// RFC 8785 §3.2.2.2: the minimal escaping of ECMAScript's JSON.stringify. The runs
    /// between bytes that need an escape are copied whole: byte by byte, this was most of
    /// the canonical writing that hashes every ledger entry.
    private mutating func writeString(_ string: String) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var run = 0
            for index in bytes.indices where bytes[index] < 0x20 || bytes[index] == 0x22 || bytes[index] == 0x5C {
                output.append(contentsOf: bytes[run..<index])
                writeEscape(bytes[index])
                run = index + 1
            }
            output.append(contentsOf: bytes[run...])
        }
        output.append(UInt8(ascii: "\""))
    }

    /// The escape of a quote, a backslash or a control character.
    private mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case 0x22: append("\\\"")
        case 0x5C: append("\\\\")
        case 0x08: append("\\b")
        case 0x0C: append("\\f")
        case 0x0A: append("\\n")
        case 0x0D: append("\\r")
        case 0x09: append("\\t")
        default:
            append("\\u00")
            output.append(Self.lowercaseHexDigits[Int(byte >> 4)])
            output.append(Self.lowercaseHexDigits[Int(byte & 0x0F)])
        }
    }

    private static let lowercaseHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }
}

/// Formats a `Double` the way ECMAScript's Number::toString does (ECMA-262 §6.1.6.1.20),
/// as RFC 8785 §3.2.2.3 requires.
enum ECMAScriptNumberFormatter {
    static func string(for value: Double) throws(JSONError) -> String {
        guard value.isFinite else {
            throw JSONError(message: "\(value) cannot be represented in JSON (RFC 8785 §3.2.2.3)")
        }
        // Covers -0 as well: ECMAScript writes both zeros as "0".
        if value == 0 {
            return "0"
        }
        let (digits, pointPosition) = shortestDigits(of: value.magnitude)
        let sign = value < 0 ? "-" : ""
        return sign + layOut(digits: digits, pointPosition: pointPosition)
    }

    /// Applies ECMAScript's layout rules to digits d1…dk and n, where the value is 0.d1…dk × 10^n.
    private static func layOut(digits: [UInt8], pointPosition n: Int) -> String {
        let k = digits.count
        let digitText = String(decoding: digits, as: UTF8.self)
        if k <= n && n <= 21 {
            // An integer below 10^21: all digits, padded with zeros, never a ".0".
            return digitText + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            let integerPart = String(decoding: digits[..<n], as: UTF8.self)
            let fractionPart = String(decoding: digits[n...], as: UTF8.self)
            return integerPart + "." + fractionPart
        }
        if -6 < n && n <= 0 {
            return "0." + String(repeating: "0", count: -n) + digitText
        }
        let exponent = n - 1
        let exponentText = (exponent < 0 ? "-" : "+") + String(exponent.magnitude)
        let leading = String(decoding: digits[..<1], as: UTF8.self)
        if k == 1 {
            return leading + "e" + exponentText
        }
        return leading + "." + String(decoding: digits[1...], as: UTF8.self) + "e" + exponentText
    }

    /// The shortest digits that round-trip to `magnitude` (positive, finite, non-zero) and the
    /// position n of the decimal point relative to them (value = 0.d1…dk × 10^n).
    ///
    /// Swift's `description` already finds the shortest round-trip digits, choosing the closest
    /// candidate as ECMAScript does, but lays them out its own way ("1e-05", "1.0",
    /// "9.007199254740992e+15"). Reading back only its digits and exponent keeps the digit
    /// choice and leaves the layout to ``layOut(digits:pointPosition:)``.
    private static func shortestDigits(of magnitude: Double) -> (digits: [UInt8], pointPosition: Int) {
        let text = magnitude.description
        var digits: [UInt8] = []
        var pointIndex: Int?
        var exponent = 0
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                // Int accepts both "+15" and "-05".
                exponent = Int(String(decoding: utf8, as: UTF8.self)) ?? 0
                break
            }
            if byte == UInt8(ascii: ".") {
                pointIndex = digits.count
            } else {
                digits.append(byte)
            }
        }
        var pointPosition = (pointIndex ?? digits.count) + exponent
        // "0.0001" and "1.0" carry zeros that are not significant digits.
        while digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
        }
        return (digits, pointPosition)
    }
}
