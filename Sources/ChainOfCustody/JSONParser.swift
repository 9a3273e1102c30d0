/// A recursive-descent parser over a byte array; one instance parses one document.
/// The cursor and the readers the selective parse shares (JSONSelectiveParsing.swift)
/// are module-internal; everything else is private to this file.
struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    /// Whether everything read so far is exactly as RFC 8785 writes it: no
    /// whitespace, members in UTF-16 order, minimal escapes, integers only (a float
    /// counts as not canonical: its shortest form is not checked here).
    private(set) var isCanonical = true
    /// With `recordsMembers`: where each member of the top-level object has its value.
    private(set) var topLevelMembers: [String: Range<Int>] = [:]
    var recordsMembers = false
    /// The plain keys of the objects a selective parse is in, innermost last (``ObjectKeys``):
    /// one array for all, not one per object (a provenance graph has some 150,000).
    var plainKeys: [Range<Int>] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else {
            throw failure("unexpected data after the JSON value")
        }
        return value
    }

    // MARK: Values

    /// Parses the value starting at `position`; `depth` counts the containers around it.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard let byte = peek() else {
            throw failure("unexpected end of input, expected a value")
        }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw failure("unexpected \(describe(byte)), expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        try checkDepth(depth)
        position += 1  // "{"
        var members: [String: JSONValue] = [:]
        var previous: String?
        if closesAtOnce(UInt8(ascii: "}")) { return .object(members) }
        while true {
            try expectKey()
            let keyOffset = position
            let key = try parseString()
            // Checked before the value is parsed so the error points at the offending key.
            guard members[key] == nil else {
                throw JSONError(message: "duplicate object key \(String(reflecting: key))", offset: keyOffset)
            }
            try expectColon()
            if recordsMembers {
                if let previous, !previous.utf16.lexicographicallyPrecedes(key.utf16) { isCanonical = false }
                previous = key
            }
            let valueStart = position
            members[key] = try parseValue(depth: depth)
            if recordsMembers, depth == 1 { topLevelMembers[key] = valueStart..<position }
            if try closesAfterItem(UInt8(ascii: "}"), else: "expected ',' or '}' in object") { return .object(members) }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        try checkDepth(depth)
        position += 1  // "["
        var elements: [JSONValue] = []
        if closesAtOnce(UInt8(ascii: "]")) { return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            if try closesAfterItem(UInt8(ascii: "]"), else: "expected ',' or ']' in array") { return .array(elements) }
        }
    }

    /// Before an object's key: past any whitespace, at its opening quote.
    @inline(__always)
    mutating func expectKey() throws(JSONError) {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else {
            throw failure("expected a string as object key")
        }
    }

    /// After an object's key: past the colon and the whitespace around it, at the value.
    @inline(__always)
    mutating func expectColon() throws(JSONError) {
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else {
            throw failure("expected ':' after object key")
        }
        position += 1
        skipWhitespace()
    }

    /// Just past an opening bracket: whether `close` follows (consumed), the empty container.
    @inline(__always)
    mutating func closesAtOnce(_ close: UInt8) -> Bool {
        skipWhitespace()
        guard peek() == close else { return false }
        position += 1
        return true
    }

    /// After a member or an element: true at `close`, false at a comma (either consumed);
    /// anything else is the error `message`.
    @inline(__always)
    mutating func closesAfterItem(_ close: UInt8, else message: String) throws(JSONError) -> Bool {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: ","):
            position += 1
            return false
        case close:
            position += 1
            return true
        default:
            throw failure(message)
        }
    }

    func checkDepth(_ depth: Int) throws(JSONError) {
        guard depth <= JSONValue.maximumNestingDepth else {
            throw failure("arrays and objects nested deeper than \(JSONValue.maximumNestingDepth) levels")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let start = position
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for byte in expected {
            guard peek() == byte else {
                throw JSONError(message: "invalid literal, expected '\(literal)'", offset: start)
            }
            position += 1
        }
    }

    // MARK: Numbers

    /// Parses `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` exactly as RFC 8259 §6.
    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = position
        var hasFractionOrExponent = false
        if peek() == UInt8(ascii: "-") {
            position += 1
        }
        guard let first = peek(), isDigit(first) else {
            throw failure("expected a digit in number")
        }
        position += 1
        if first == UInt8(ascii: "0") {
            if let next = peek(), isDigit(next) {
                throw JSONError(message: "leading zeros are not allowed in numbers", offset: start)
            }
        } else {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            hasFractionOrExponent = true
            position += 1
            guard let next = peek(), isDigit(next) else {
                throw failure("expected a digit after the decimal point")
            }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            hasFractionOrExponent = true
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                position += 1
            }
            guard let next = peek(), isDigit(next) else {
                throw failure("expected a digit in the exponent")
            }
            skipDigits()
        }

        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if !hasFractionOrExponent, let integer = Int64(text) {
            if text == "-0" { isCanonical = false }
            return .integer(integer)
        }
        isCanonical = false
        // The standard library's conversion is correctly rounded; it yields infinity for
        // magnitudes beyond Double, which I-JSON (RFC 7493) and RFC 8785 cannot carry.
        guard let double = Double(text), double.isFinite else {
            throw JSONError(message: "number \(text) is outside the range of an IEEE 754 double", offset: start)
        }
        return .number(double)
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) {
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Strings

    mutating func parseString() throws(JSONError) -> String {
        let start = position
        position += 1  // opening quote
        // Most strings are printable ASCII without escapes: found whole in one pass and
        // made into a String straight from the input, with no byte-by-byte copy (a ledger
        // or a 26 MB provenance graph is mostly such strings). Anything else is read below.
        var end = position
        while end < bytes.count, bytes[end] >= 0x20, bytes[end] < 0x80, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") {
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        var utf8 = Array(bytes[position..<end])
        position = end
        while true {
            guard let byte = peek() else {
                throw JSONError(message: "unterminated string", offset: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                // Every byte appended below was validated, so decoding never repairs anything.
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0x00..<0x20:
                throw failure("unescaped control character \(describe(byte)) in string")
            case 0x20..<0x80:
                utf8.append(byte)
                position += 1
            default:
                try copyMultiByteScalar(into: &utf8)
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONError) {
        let escapeStart = position
        position += 1  // backslash
        guard let byte = peek() else {
            throw JSONError(message: "unterminated escape sequence", offset: escapeStart)
        }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): utf8.append(0x22)
        case UInt8(ascii: "\\"): utf8.append(0x5C)
        case UInt8(ascii: "/"):
            isCanonical = false
            utf8.append(0x2F)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            let hexStart = position
            let unit = try parseHex4()
            // RFC 8785 writes \u only for the controls without a short escape, in lowercase.
            if unit >= 0x20 || [0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(unit)
                || bytes[hexStart..<position].contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") }) {
                isCanonical = false
            }
            let scalarValue: UInt32
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate only means something as the first half of a pair.
                guard peek() == UInt8(ascii: "\\"), peek(offset: 1) == UInt8(ascii: "u") else {
                    throw JSONError(message: "lone high surrogate in \\u escape", offset: escapeStart)
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONError(message: "high surrogate not followed by a low surrogate", offset: escapeStart)
                }
                scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            case 0xDC00...0xDFFF:
                throw JSONError(message: "lone low surrogate in \\u escape", offset: escapeStart)
            default:
                scalarValue = unit
            }
            // Surrogates were excluded above, so every remaining value is a valid scalar.
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw JSONError(message: "invalid Unicode scalar in \\u escape", offset: escapeStart)
            }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            throw JSONError(message: "invalid escape sequence '\\\(describe(byte))'", offset: escapeStart)
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        let start = position
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else {
                throw JSONError(message: "truncated \\u escape", offset: start)
            }
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONError(message: "expected four hexadecimal digits in \\u escape", offset: start)
            }
            value = value << 4 | UInt32(nibble)
            position += 1
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence against Unicode's table of well-formed byte
    /// sequences (Table 3-7), which rules out overlong forms, encoded surrogates and values
    /// above U+10FFFF, then copies it.
    private mutating func copyMultiByteScalar(into utf8: inout [UInt8]) throws(JSONError) {
        let lead = bytes[position]
        let length: Int
        let secondByteRange: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: (length, secondByteRange) = (2, 0x80...0xBF)
        case 0xE0: (length, secondByteRange) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, secondByteRange) = (3, 0x80...0xBF)
        case 0xED: (length, secondByteRange) = (3, 0x80...0x9F)
        case 0xF0: (length, secondByteRange) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, secondByteRange) = (4, 0x80...0xBF)
        case 0xF4: (length, secondByteRange) = (4, 0x80...0x8F)
        default:
            throw failure("invalid UTF-8 byte \(describe(lead))")
        }
        guard position + length <= bytes.count else {
            throw failure("truncated UTF-8 sequence")
        }
        guard secondByteRange.contains(bytes[position + 1]) else {
            throw failure("invalid UTF-8 sequence")
        }
        for index in (position + 2)..<(position + length) where !(0x80...0xBF).contains(bytes[index]) {
            throw failure("invalid UTF-8 sequence")
        }
        utf8.append(contentsOf: bytes[position..<(position + length)])
        position += length
    }

    // MARK: Helpers

    func peek(offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func skipWhitespace() {
        while let byte = peek(),
              byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            position += 1
            isCanonical = false
        }
    }

    func failure(_ message: String) -> JSONError {
        JSONError(message: message, offset: position)
    }

    /// Names a byte for an error message: printable ASCII as itself, anything else in hex.
    private func describe(_ byte: UInt8) -> String {
        if byte > 0x20 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
